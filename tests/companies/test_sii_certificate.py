"""The company's SII certificate: checked at once, stored sealed, shown without a secret, opened only by
``load_company_certificate``."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import NoEncryption, pkcs12
from fastapi import FastAPI
from lxml import etree
from pydantic import SecretStr
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dtehub.companies.sii_certificate import OpenedCertificates, load_company_certificate
from dtehub.config import Settings
from dtehub.dte.signature import certificate_rut
from dtehub.dte.xmldsig import sign_document, verify_document
from dtehub.errors import SecretKeyMissing, SiiCertificateMissing, SiiCertificateSealedElsewhere
from dtehub.kit.sealing import Purpose, sealer
from dtehub.models import CompanySiiCertificate
from dtehub.sii.certificate import PersonCertificate, load_pfx
from dtehub.sii.emulator import TestCertificateAuthority
from tests.conftest import Tenant, assert_error

PASSWORD = "clave-del-certificado-7Qx"
HOLDER = "12345678-5"


@dataclass(frozen=True)
class Pfxs:
    valid: bytes
    expiring: bytes
    expired: bytes
    not_yet_valid: bytes
    without_rut: bytes
    legacy: bytes
    other_holder: bytes


@pytest.fixture(scope="module")
def pfxs(tmp_path_factory: pytest.TempPathFactory) -> Pfxs:
    ca = TestCertificateAuthority.load_or_create(tmp_path_factory.mktemp("certificate-ca"))
    password = PASSWORD.encode()

    def issue(rut: str = HOLDER, **options: object) -> bytes:
        return ca.issue_person_certificate(rut=rut, name="Juana Pérez", password=password, **options)  # type: ignore[arg-type]

    return Pfxs(
        valid=issue(),
        expiring=issue(valid_until=datetime.now(UTC) + timedelta(days=10, hours=2)),
        expired=issue(expired=True),
        not_yet_valid=issue(not_yet_valid=True),
        without_rut=issue(rut_in="none"),
        legacy=issue(legacy_rc2=True),
        other_holder=issue("11111111-1"),
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def body(pfx: bytes, password: str = PASSWORD) -> dict[str, str]:
    return {"certificate_pfx_base64": b64(pfx), "certificate_password": password}


async def test_a_company_without_a_certificate_shows_none(tenant: Tenant) -> None:
    assert (await tenant.get("/v1/getCompany")).json()["siiCertificate"] is None


async def test_a_certificate_is_checked_stored_sealed_and_shown_without_secrets(
    tenant: Tenant, pfxs: Pfxs, session: Session, settings: Settings
) -> None:
    response = await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.valid))

    assert response.status_code == 200, response.text
    shown = response.json()["siiCertificate"]
    assert shown["holderRut"] == HOLDER
    assert shown["holderName"] == "Juana Pérez"
    assert shown["warning"] is None
    assert set(shown) == {"holderRut", "holderName", "validUntil", "addedAt", "warning"}
    assert (await tenant.get("/v1/getCompany")).json()["siiCertificate"] == shown
    assert PASSWORD not in response.text

    row = session.scalars(select(CompanySiiCertificate)).one()
    assert PASSWORD.encode() not in row.sealed_pkcs12
    assert pfxs.valid[-200:] not in row.sealed_pkcs12
    opened = load_company_certificate(session, tenant.company_id, settings)
    assert opened.holder_rut == HOLDER
    assert opened.fingerprint == row.fingerprint
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", shown["validUntil"])


async def test_the_audit_log_names_the_holder_never_the_file_or_password(tenant: Tenant, pfxs: Pfxs) -> None:
    await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.valid))
    await tenant.delete("/v1/deleteCompanySiiCertificate", None)

    log = await tenant.get("/v1/getAuditLog")

    actions = [item["action"] for item in log.json()["items"]]
    assert actions[:2] == ["deleteCompanySiiCertificate", "updateCompanySiiCertificate"]
    added = log.json()["items"][1]
    assert added["summary"]["holderRut"] == HOLDER
    assert PASSWORD not in log.text
    assert b64(pfxs.valid)[:40] not in log.text


async def test_a_legacy_rc2_file_is_accepted(
    tenant: Tenant, pfxs: Pfxs, session: Session, settings: Settings
) -> None:
    response = await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.legacy))

    assert response.status_code == 200, response.text
    assert load_company_certificate(session, tenant.company_id, settings).holder_rut == HOLDER


async def test_a_new_certificate_replaces_the_old_one_with_a_fresh_seal(
    tenant: Tenant, pfxs: Pfxs, session: Session
) -> None:
    await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.valid))
    first = session.scalars(select(CompanySiiCertificate.sealed_pkcs12)).one()
    await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.valid))
    second = session.scalars(select(CompanySiiCertificate.sealed_pkcs12)).one()
    replaced = await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.other_holder))

    assert first[:12] != second[:12]  # a fresh nonce on every write
    assert replaced.json()["siiCertificate"]["holderRut"] == "11111111-1"
    assert len(session.scalars(select(CompanySiiCertificate)).all()) == 1


@pytest.mark.parametrize(
    ("which", "password", "code", "field"),
    [
        ("valid", "not-the-password", "certificate_unreadable", "certificate_password"),
        ("expired", PASSWORD, "certificate_expired", "certificate_pfx_base64"),
        ("not_yet_valid", PASSWORD, "certificate_not_yet_valid", "certificate_pfx_base64"),
        ("without_rut", PASSWORD, "certificate_without_rut", "certificate_pfx_base64"),
    ],
)
async def test_a_certificate_that_cannot_log_in_is_refused_and_nothing_changes(
    tenant: Tenant, pfxs: Pfxs, which: str, password: str, code: str, field: str
) -> None:
    await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.other_holder))

    response = await tenant.post("/v1/updateCompanySiiCertificate", body(getattr(pfxs, which), password))

    assert_error(response, 422, code, field)
    assert password not in response.text
    assert (await tenant.get("/v1/getCompany")).json()["siiCertificate"]["holderRut"] == "11111111-1"


PFX = "certificate_pfx_base64"


@pytest.mark.parametrize(
    ("sent", "status", "code", "field"),
    [
        ({PFX: "not base64!", "certificate_password": PASSWORD}, 400, "invalid_parameter", PFX),
        (
            {PFX: b64(b"hello, not a pfx"), "certificate_password": PASSWORD},
            422,
            "certificate_unreadable",
            PFX,
        ),
        ({PFX: "", "certificate_password": PASSWORD}, 422, "certificate_unreadable", PFX),
        ({PFX: "A" * 400_000, "certificate_password": PASSWORD}, 413, "file_too_large", PFX),
        ({"certificate_password": PASSWORD}, 400, "missing_parameter", PFX),
        ({PFX: "MA=="}, 400, "missing_parameter", "certificate_password"),
    ],
)
async def test_a_body_that_is_not_a_certificate_is_refused_clearly(
    tenant: Tenant, sent: dict[str, str], status: int, code: str, field: str
) -> None:
    response = await tenant.post("/v1/updateCompanySiiCertificate", sent)

    assert_error(response, status, code, field)
    assert PASSWORD not in response.text
    assert (await tenant.get("/v1/getCompany")).json()["siiCertificate"] is None


async def test_a_certificate_that_ends_within_30_days_shows_a_warning(tenant: Tenant, pfxs: Pfxs) -> None:
    response = await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.expiring))

    warning = response.json()["siiCertificate"]["warning"]
    assert warning.startswith("the SII certificate expires in 10 days")
    assert "updateCompanySiiCertificate" in warning


async def test_without_a_secret_key_certificates_answer_503_and_say_what_to_set(
    tenant: Tenant, pfxs: Pfxs, app: FastAPI, session: Session, settings: Settings
) -> None:
    await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.valid))
    without = settings.model_copy(update={"secret_key": None})
    app.state.settings = without
    try:
        response = await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.other_holder))
    finally:
        app.state.settings = settings

    assert_error(response, 503, "secret_key_missing")
    assert "DTEHUB_SECRET_KEY" in response.json()["error"]["message"]
    assert (await tenant.get("/v1/getCompany")).json()["siiCertificate"]["holderRut"] == HOLDER
    with pytest.raises(SecretKeyMissing):
        load_company_certificate(session, tenant.company_id, without)


async def test_deleting_forgets_the_certificate(
    tenant: Tenant, pfxs: Pfxs, session: Session, settings: Settings
) -> None:
    await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.valid))

    deleted = await tenant.delete("/v1/deleteCompanySiiCertificate", None)
    again = await tenant.delete("/v1/deleteCompanySiiCertificate", None)

    assert deleted.status_code == 200
    assert deleted.json()["siiCertificate"] is None
    assert_error(again, 404, "sii_certificate_missing")
    with pytest.raises(SiiCertificateMissing):
        load_company_certificate(session, tenant.company_id, settings)


async def test_a_sealed_certificate_opens_only_for_its_company_and_key(
    tenant: Tenant, other_tenant: Tenant, pfxs: Pfxs, session: Session, settings: Settings
) -> None:
    await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.valid))
    await other_tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.other_holder))
    mine = session.get(CompanySiiCertificate, tenant.company_id)
    theirs = session.get(CompanySiiCertificate, other_tenant.company_id)
    assert mine is not None
    assert theirs is not None
    assert (await other_tenant.get("/v1/getCompany")).json()["siiCertificate"]["holderRut"] == "11111111-1"

    theirs.sealed_pkcs12 = mine.sealed_pkcs12  # copied across companies: it must not open there
    session.flush()
    with pytest.raises(SiiCertificateSealedElsewhere):
        load_company_certificate(session, other_tenant.company_id, settings)
    rotated = settings.model_copy(update={"secret_key": SecretStr("another-key-" + "x" * 40)})
    with pytest.raises(SiiCertificateSealedElsewhere) as raised:
        load_company_certificate(session, tenant.company_id, rotated)
    assert "upload the certificate again" in raised.value.message


def test_the_sealed_file_is_written_again_without_the_uploaded_password(
    pfxs: Pfxs, session: Session, settings: Settings, tmp_path: Path
) -> None:
    """What is sealed is a PKCS#12 without a password: the upload's password is needed nowhere after."""
    from dtehub.companies.service import create_company
    from dtehub.companies.sii_certificate import store_certificate
    from dtehub.kit.sealing import Purpose, sealer

    company = create_company(session, rut="76192083-9", name="ACME", payment_term_days=30).company
    row = store_certificate(session, company.id, pfxs.valid, PASSWORD, settings)
    found = sealer(settings.secret_key, Purpose.SII_CERTIFICATE)
    assert found is not None
    plain = found.open(row.sealed_pkcs12, company.id)
    assert plain is not None
    from cryptography.hazmat.primitives.serialization import pkcs12

    key, certificate, _ = pkcs12.load_key_and_certificates(plain, None)
    assert key is not None
    assert certificate is not None
    # the webhook purpose's key does not open it
    other = sealer(settings.secret_key, Purpose.WEBHOOK_SECRET)
    assert other is not None
    assert other.open(row.sealed_pkcs12, company.id) is None


def _signed_by(certificate: PersonCertificate) -> str | None:
    """The holder's RUT of a signature made with ``certificate`` (a seed, as SII's login signs it)."""
    seed = etree.Element("getToken")
    etree.SubElement(seed, "Semilla").text = "012345678901"
    sign_document(seed, certificate.key, certificate.certificate)
    verdict = verify_document(seed)
    assert verdict.problem is None
    assert verdict.certificate is not None
    return certificate_rut(verdict.certificate)


async def test_an_opened_certificate_is_kept_in_memory_until_it_is_replaced_or_deleted(
    tenant: Tenant, pfxs: Pfxs, session: Session, settings: Settings
) -> None:
    await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.valid))
    first = load_company_certificate(session, tenant.company_id, settings)
    assert load_company_certificate(session, tenant.company_id, settings) is first  # not read again
    assert _signed_by(first) == HOLDER

    await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.other_holder))
    replaced = load_company_certificate(session, tenant.company_id, settings)
    assert replaced is not first
    assert _signed_by(replaced) == "11111111-1"

    await tenant.delete("/v1/deleteCompanySiiCertificate", None)
    with pytest.raises(SiiCertificateMissing):
        load_company_certificate(session, tenant.company_id, settings)


async def test_a_certificate_replaced_or_deleted_by_another_process_is_not_used_from_memory(
    tenant: Tenant, pfxs: Pfxs, session: Session, settings: Settings
) -> None:
    """Another server process changes the row without this process hearing of it: the sealed file's
    fingerprint (and the row's absence) decide, not what this process opened before."""
    await tenant.post("/v1/updateCompanySiiCertificate", body(pfxs.valid))
    assert _signed_by(load_company_certificate(session, tenant.company_id, settings)) == HOLDER
    found = sealer(settings.secret_key, Purpose.SII_CERTIFICATE)
    assert found is not None
    other = load_pfx(pfxs.other_holder, PASSWORD)
    plain = pkcs12.serialize_key_and_certificates(
        None,
        other.key,  # type: ignore[arg-type]
        other.certificate,
        None,
        NoEncryption(),
    )
    row = session.get(CompanySiiCertificate, tenant.company_id)
    assert row is not None

    row.sealed_pkcs12 = found.seal(plain, tenant.company_id)  # written elsewhere: no cache was told
    session.flush()
    assert _signed_by(load_company_certificate(session, tenant.company_id, settings)) == "11111111-1"

    session.execute(
        delete(CompanySiiCertificate).where(CompanySiiCertificate.company_id == tenant.company_id)
    )
    session.expire_all()
    with pytest.raises(SiiCertificateMissing):
        load_company_certificate(session, tenant.company_id, settings)


def test_opened_certificates_are_bounded_in_number_and_in_age(pfxs: Pfxs) -> None:
    now = [1000.0]
    opened = OpenedCertificates(entries=2, seconds=300, clock=lambda: now[0])
    certificate = load_pfx(pfxs.valid, PASSWORD)
    opened.put(1, b"sealed-1", certificate)
    opened.put(2, b"sealed-2", certificate)
    assert opened.get(1, b"sealed-1") is certificate
    assert opened.get(1, b"sealed-other") is None  # another file of the same company

    opened.put(3, b"sealed-3", certificate)  # over the bound: the least recently used (2) goes
    assert opened.get(2, b"sealed-2") is None
    assert opened.get(1, b"sealed-1") is certificate

    now[0] += 299
    assert opened.get(1, b"sealed-1") is certificate
    now[0] += 1  # its age is counted from when it was opened, not from its last use
    assert opened.get(1, b"sealed-1") is None
    opened.put(1, b"sealed-1b", certificate)
    opened.put(1, b"sealed-1c", certificate)  # a company's newer file replaces its older one
    assert opened.get(1, b"sealed-1b") is None
