"""``POST /V1/mipyme_get_document`` end to end: the API, the SII client and the SII emulator over real
TLS on loopback, for every status and every quirk of the portal."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import time
from typing import Any

import pytest

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.sii.emulator import Emulator
from dtehub.sii.sessions import SessionPool
from tests.conftest import FIXTURES, Tenant, served
from tests.mipyme.conftest import (
    CAPPED_COMPANY,
    COMPANY,
    CROWD,
    HOLDER,
    NEVER_MIPYME,
    NOTE_ISSUER,
    OTHER_COMPANY,
    PASSWORD,
    Certificates,
)

PATH = "/V1/mipyme_get_document"
FACTURA = (FIXTURES / "DTE--76399752-9--33--25568.xml").read_bytes()


def request(
    pfx: bytes, company: str = COMPANY, type_code: Any = 33, folio: Any = 25568, **extra: Any
) -> dict[str, Any]:
    return {
        "certificate_pfx_base64": base64.b64encode(pfx).decode(),
        "certificate_password": PASSWORD,
        "tax_id_code": company,
        "document_type_taxbureau": type_code,
        "document_number": folio,
        **extra,
    }


async def ask(tenant: Tenant, body: dict[str, Any], http_status: int, status: int) -> dict[str, Any]:
    response = await tenant.post(PATH, body)
    assert response.status_code == http_status, response.text
    answer: dict[str, Any] = response.json()
    assert answer["status"] == status, answer
    assert answer["message"]
    if status:
        assert answer["document"] is None
        assert answer["error"]["message"] == answer["message"]
    return answer


def dte_element(content: bytes) -> bytes:
    start = content.index(b"<DTE")
    end = content.index(b"</DTE>") + len(b"</DTE>")
    return content[start:end]


# --- success ----------------------------------------------------------------------------------------------


async def test_the_real_factura_comes_back_byte_for_byte_with_its_pdf(
    company: Tenant, certificates: Certificates
) -> None:
    answer = await ask(company, request(certificates.holder), 200, 0)
    document = answer["document"]
    assert {k: v for k, v in document.items() if k not in ("document_xml", "document_pdf", "xml_checks")} == {
        "tax_id_code": COMPANY,
        "document_type_taxbureau": 33,
        "document_number": 25568,
        "issue_date": "2019-03-29",
        "receiver_tax_id": "96874030-K",
        "receiver_name": "EMPRESAS LA POLAR S.A.",
        "total_amount": 230992,
        "sii_state": "Documento Emitido",
    }
    xml = base64.b64decode(document["document_xml"])
    assert xml.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert dte_element(xml) == dte_element(FACTURA)  # the signed bytes, unchanged
    assert document["xml_checks"]["signature"] == "valid"
    assert document["xml_checks"]["ted"] == "valid"
    assert base64.b64decode(document["document_pdf"]).startswith(b"%PDF")
    assert answer["document_id"] is None


async def test_without_pdf(company: Tenant, certificates: Certificates) -> None:
    answer = await ask(company, request(certificates.holder, include_pdf=False), 200, 0)
    assert answer["document"]["document_pdf"] is None


@pytest.mark.parametrize("which", ["holder_legacy", "holder_serial_only"])
async def test_legacy_rc2_files_and_a_rut_in_serial_number_log_in(
    company: Tenant, certificates: Certificates, which: str
) -> None:
    await ask(company, request(getattr(certificates, which), include_pdf=False), 200, 0)


async def test_a_holder_with_exactly_one_company_gets_the_launcher_and_it_works(
    company: Tenant, certificates: Certificates
) -> None:
    await ask(company, request(certificates.solo, include_pdf=False), 200, 0)


async def test_a_credit_note_of_another_company_and_the_type_and_folio_as_strings(
    company: Tenant, certificates: Certificates
) -> None:
    answer = await ask(company, request(certificates.holder, NOTE_ISSUER, "61", "110616"), 200, 0)
    assert (answer["document"]["document_type_taxbureau"], answer["document"]["document_number"]) == (
        61,
        110616,
    )


# --- certificate errors (2) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "says"),
    [
        ("expired", "expired on"),
        ("not_yet_valid", "is not valid until"),
        ("no_rut", "names no RUT"),
    ],
)
async def test_certificates_that_cannot_log_in(
    company: Tenant, certificates: Certificates, sii: Emulator, which: str, says: str
) -> None:
    logins = sii.logins
    answer = await ask(company, request(getattr(certificates, which)), 422, 2)
    assert says in answer["message"]
    assert sii.logins == logins  # refused before SII is asked


async def test_a_wrong_password_or_garbage(company: Tenant, certificates: Certificates) -> None:
    wrong = {**request(certificates.holder), "certificate_password": "not-the-password"}
    assert "wrong password" in (await ask(company, wrong, 422, 2))["message"]
    garbage = {**request(certificates.holder), "certificate_pfx_base64": "%%%"}
    assert (await ask(company, garbage, 400, 1))["error"]["field"] == "certificate_pfx_base64"
    not_pfx = request(b"just some text, not a certificate")
    assert "not a PKCS#12" in (await ask(company, not_pfx, 422, 2))["message"]


async def test_holders_not_authorized_for_the_company(company: Tenant, certificates: Certificates) -> None:
    not_listed = await ask(company, request(certificates.solo_other), 422, 2)
    assert f"{OTHER_COMPANY} only" in not_listed["message"]  # the launcher names the one company
    nobody = await ask(company, request(certificates.nobody), 422, 2)
    assert "no authorized user of any company" in nobody["message"]
    stranger = await ask(company, request(certificates.holder, "76086428-5"), 422, 2)
    assert "not an authorized user of 76086428-5" in stranger["message"]


# --- SII login errors (3) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "says"),
    [
        ("revoked", "SII error 35: the certificate of 12345678-5 has been revoked"),
        ("password_only", "SII error 33"),
        ("foreign", "refused the certificate of 12345678-5 in the TLS handshake (alert unknown_ca)"),
        ("unknown", "SII"),
    ],
)
async def test_sii_refuses_the_login(
    company: Tenant, certificates: Certificates, which: str, says: str
) -> None:
    answer = await ask(company, request(getattr(certificates, which)), 502, 3)
    assert says in answer["message"]


async def test_more_than_10_sessions(company: Tenant, certificates: Certificates, sii: Emulator) -> None:
    sii.faults.max_sessions_per_person = 0  # as if ten were open already
    answer = await ask(company, request(certificates.holder), 502, 3)
    assert answer["message"].startswith(f"SII error 27: more than 10 open sessions for {HOLDER}")


# --- not found (5) -------------------------------------------------------------------------------------


async def test_no_row_in_the_listing(company: Tenant, certificates: Certificates) -> None:
    # Folio 2556 lists 25568 too (the filter matches prefixes): only an exact row counts.
    answer = await ask(company, request(certificates.holder, folio=2556), 404, 5)
    assert "no document of type 33 with folio 2556" in answer["message"]
    await ask(company, request(certificates.holder, type_code=34), 404, 5)


async def test_sii_caps_downloads_at_20_documents(
    company: Tenant, certificates: Certificates, sii: Emulator
) -> None:
    await ask(company, request(certificates.holder, CAPPED_COMPANY, folio=7, include_pdf=False), 200, 0)
    sii.faults.download_ignores_folio = True  # 21 facturas match: SII's "Error al contribuyente"
    answer = await ask(company, request(certificates.holder, CAPPED_COMPANY, folio=7), 404, 5)
    assert "could not produce the XML" in answer["message"]


async def test_a_company_that_never_used_mipyme(company: Tenant, certificates: Certificates) -> None:
    await ask(company, request(certificates.holder, NEVER_MIPYME, folio=1), 404, 5)


# --- SII unavailable (4) -----------------------------------------------------------------------


async def test_sii_down(company: Tenant, certificates: Certificates, sii: Emulator) -> None:
    sii.faults.unavailable = True
    answer = await ask(company, request(certificates.holder), 503, 4)
    assert "HTTP 503" in answer["message"]


async def test_sii_slow_answers_status_4_within_the_deadline(
    company: Tenant, certificates: Certificates, sii: Emulator, sii_pool: SessionPool
) -> None:
    sii_pool.config = dataclasses.replace(sii_pool.config, timeout=1.0)
    sii.faults.delay_seconds = 5.0
    started = time.monotonic()
    # Someone of its own: SII completes the login dtehub gave up on, and that session stays open there.
    logins = sii.logins_of(CROWD[1])
    answer = await ask(company, request(certificates.crowd[1]), 503, 4)
    assert time.monotonic() - started < 2.5
    assert "did not answer" in answer["message"]
    # SII completes that login after the answer: wait for it, so that no later test sees it arrive.
    assert await asyncio.to_thread(sii.wait_for_logins, CROWD[1], logins + 1)


async def test_tls_hiccups_are_retried(company: Tenant, certificates: Certificates, sii: Emulator) -> None:
    sii.faults.handshake_failures = 2
    await ask(company, request(certificates.holder, include_pdf=False), 200, 0)


# --- sessions -------------------------------------------------------------------------------------------


async def test_a_session_is_reused_and_logged_out_at_the_end(
    company: Tenant, certificates: Certificates, sii: Emulator, sii_pool: SessionPool
) -> None:
    logins = sii.logins_of(HOLDER)
    for _ in range(3):
        await ask(company, request(certificates.holder, include_pdf=False), 200, 0)
    assert sii.logins_of(HOLDER) == logins + 1
    assert sii.open_sessions(HOLDER) == 1
    await sii_pool.aclose()
    assert sii.open_sessions(HOLDER) == 0


async def test_a_session_sii_expired_is_replaced(
    company: Tenant, certificates: Certificates, sii: Emulator
) -> None:
    await ask(company, request(certificates.holder, include_pdf=False), 200, 0)
    logins = sii.logins_of(HOLDER)
    sii.expire_sessions()  # the session dtehub keeps has expired at SII; the new one lives on
    await ask(company, request(certificates.holder, include_pdf=False), 200, 0)
    assert sii.logins_of(HOLDER) == logins + 1


# --- import --------------------------------------------------------------------------------------------


async def test_import_stores_the_document_in_the_tokens_company(
    company: Tenant, certificates: Certificates
) -> None:
    answer = await ask(company, request(certificates.holder, include_pdf=False, **{"import": True}), 200, 0)
    document_id = answer["document_id"]
    assert document_id
    stored = (await company.get("/v1/getDocument", id=document_id)).json()
    assert (stored["number"], stored["code"], stored["total"]) == ("25568", 33, "230992.00")
    assert stored["source"] == "mipyme"
    again = await ask(company, request(certificates.holder, include_pdf=False, **{"import": True}), 200, 0)
    assert again["document_id"] == document_id  # the very same XML: the same document


# --- secrets --------------------------------------------------------------------------------------------


async def test_no_secret_reaches_the_logs(
    company: Tenant, certificates: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = request(certificates.holder)
    await ask(company, body, 200, 0)
    await ask(company, {**body, "certificate_password": "otra-clave-secreta"}, 422, 2)
    await ask(company, request(certificates.revoked), 502, 3)
    logged = caplog.text
    for secret in (PASSWORD, "otra-clave-secreta", body["certificate_pfx_base64"][:64], "TOKEN="):
        assert secret not in logged


async def test_concurrent_requests_of_one_holder_stay_within_the_session_limit(
    sii_settings: Settings, committed_company: tuple[int, str], certificates: Certificates, sii: Emulator
) -> None:
    # A real server's unit of work (the test's shared session takes one request at a time).
    _, token = committed_company
    app = create_app(sii_settings)
    headers = {"Authorization": f"Bearer {token}"}
    body = request(certificates.crowd[0], include_pdf=False)
    async with served(app) as http:
        answers = await asyncio.gather(*(http.post(PATH, json=body, headers=headers) for _ in range(8)))
        assert [a.json()["status"] for a in answers] == [0] * 8
        assert 1 <= sii.peak_sessions(CROWD[0]) <= sii_settings.sii_max_sessions
    assert sii.open_sessions(CROWD[0]) == 0  # the server's shutdown logged every session out
    app.state.engine.dispose()


async def test_an_unreadable_ca_bundle_is_status_4_every_time_and_holds_no_session_slot(
    company: Tenant, certificates: Certificates, sii_pool: SessionPool
) -> None:
    sii_pool.config = dataclasses.replace(sii_pool.config, ca_bundle="/nonexistent/ca.pem")
    for _ in range(sii_pool.config.max_sessions_per_holder + 1):
        answer = await ask(company, request(certificates.holder), 503, 4)
        assert "DTEHUB_SII_CA_BUNDLE (/nonexistent/ca.pem) cannot be read" in answer["message"]
    assert sii_pool.open_sessions(HOLDER) == 0
