"""The company's SII sync settings (siiSyncFrom, collectionsStartDate) and where each document came from."""

from __future__ import annotations

import base64
from datetime import date

import pytest

from dtehub.companies.service import sii_sync_from
from dtehub.kit.dates import today_in_santiago
from dtehub.models import Company
from dtehub.sii.emulator import TestCertificateAuthority
from tests.conftest import Tenant, assert_error
from tests.notes import credit_xml, invoice_xml, store

PASSWORD = "clave-del-certificado"


@pytest.fixture(scope="module")
def pfx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    ca = TestCertificateAuthority.load_or_create(tmp_path_factory.mktemp("settings-ca"))
    return ca.issue_person_certificate(rut="12345678-5", name="Juana Pérez", password=PASSWORD.encode())


def certificate_body(pfx: bytes) -> dict[str, str]:
    return {"certificate_pfx_base64": base64.b64encode(pfx).decode(), "certificate_password": PASSWORD}


def _month(day: date, back: int) -> str:
    months = day.year * 12 + day.month - 1 - back
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


async def test_by_default_a_sync_reads_the_last_12_months_and_nothing_is_history(tenant: Tenant) -> None:
    company = (await tenant.get("/v1/getCompany")).json()

    assert company["siiSyncFrom"] == _month(today_in_santiago(), 11)
    assert company["collectionsStartDate"] is None


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 7), date(2026, 1, 1)),
        (date(2026, 1, 31), date(2025, 2, 1)),
        (date(2026, 11, 1), date(2025, 12, 1)),
    ],
)
def test_the_default_start_is_the_month_eleven_months_before_this_one(today: date, expected: date) -> None:
    assert sii_sync_from(Company(rut="76453707-6", name="x"), today) == expected


async def test_sii_sync_from_is_a_setting(tenant: Tenant) -> None:
    response = await tenant.post("/v1/updateCompany", {"siiSyncFrom": "2025-01"})

    assert response.status_code == 200, response.text
    assert response.json()["siiSyncFrom"] == "2025-01"
    assert (await tenant.get("/v1/getCompany")).json()["siiSyncFrom"] == "2025-01"


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2025-13", 400),
        ("2025-00", 400),
        ("2025/01", 400),
        ("25-01", 400),
        ("2016-12", 400),
        ("9999-01", 422),  # well-formed, not yet begun
        (202501, 400),
    ],
)
async def test_a_sii_sync_from_that_is_not_a_past_tax_period_is_refused(
    tenant: Tenant, value: object, status: int
) -> None:
    response = await tenant.post("/v1/updateCompany", {"siiSyncFrom": value, "name": "Otro nombre"})

    assert_error(response, status, field="siiSyncFrom")
    shown = (await tenant.get("/v1/getCompany")).json()
    assert shown["name"] == "DUEMINT SPA"  # nothing changed
    assert shown["siiSyncFrom"] == _month(today_in_santiago(), 11)


async def test_the_first_certificate_starts_collections_today_and_the_date_stays_editable(
    tenant: Tenant, pfx: bytes
) -> None:
    added = await tenant.post("/v1/updateCompanySiiCertificate", certificate_body(pfx))
    assert added.json()["collectionsStartDate"] == today_in_santiago().isoformat()

    edited = await tenant.post("/v1/updateCompany", {"collectionsStartDate": "2024-03-01"})
    await tenant.delete("/v1/deleteCompanySiiCertificate", None)
    again = await tenant.post("/v1/updateCompanySiiCertificate", certificate_body(pfx))

    assert edited.json()["collectionsStartDate"] == "2024-03-01"
    assert again.json()["collectionsStartDate"] == "2024-03-01"  # only the first certificate sets it
    assert_error(await tenant.post("/v1/updateCompany", {"collectionsStartDate": "2024-02-30"}), 400)


async def test_each_document_and_note_says_where_it_came_from(tenant: Tenant) -> None:
    client = (await tenant.post("/v1/createClient", {"name": "Cliente", "taxId": "99999999-9"})).json()
    by_fields = await tenant.post(
        "/v1/createDocument",
        {"clientId": client["id"], "number": "F-1", "issueDate": "2024-01-10", "total": 1190, "taxes": 190},
    )
    from_xml = await store(tenant, invoice_xml(tenant, 10))
    note = await store(tenant, credit_xml(tenant, 5, 190, 10))

    assert by_fields.json()["source"] == "api"
    assert from_xml["source"] == "api"
    assert note["source"] == "api"
    listed = (await tenant.get("/v1/getDocuments")).json()["items"]
    assert {item["source"] for item in listed} == {"api"}
    assert (await tenant.get("/v1/getDocument", id=from_xml["id"])).json()["source"] == "api"
    assert (await tenant.get("/v1/getNote", id=note["id"])).json()["source"] == "api"
