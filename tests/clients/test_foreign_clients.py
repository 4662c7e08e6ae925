"""Export clients are named by their own tax code: every place that takes a client's tax id finds them."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant

PERU_RUC = "20100047218"


async def _foreign_document(tenant: Tenant) -> dict[str, str]:
    client = (
        await tenant.post("/v1/createClient", {"name": "Lima SAC", "taxId": PERU_RUC, "country": "Perú"})
    ).json()
    body = {
        "clientId": client["id"],
        "number": "9",
        "issueDate": "2024-05-02",
        "total": "100",
        "taxes": "0",
        "code": 110,
        "currency": "USD",
    }
    document = (await tenant.post("/v1/createDocument", body)).json()
    assert document["clientTaxId"] == PERU_RUC
    return document


async def test_documents_filter_by_a_foreign_tax_code(tenant: Tenant) -> None:
    document = await _foreign_document(tenant)

    listed = (await tenant.get("/v1/getDocuments", clientTaxId=PERU_RUC)).json()

    assert [item["id"] for item in listed["items"]] == [document["id"]]


async def test_get_client_and_contacts_by_a_foreign_tax_code(tenant: Tenant) -> None:
    await _foreign_document(tenant)

    client = await tenant.get("/v1/getClient", taxId=PERU_RUC)
    contact = await tenant.post("/v1/createContact", {"clientTaxId": PERU_RUC, "email": "pagos@lima.pe"})
    contacts = await tenant.get("/v1/getContacts", clientTaxId=PERU_RUC)

    assert client.status_code == 200
    assert client.json()["country"] == "Perú"
    assert contact.status_code == 200
    assert contacts.json()["records"]["totalRecords"] == 1


async def test_delete_a_foreign_clients_document(tenant: Tenant) -> None:
    document = await _foreign_document(tenant)

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": PERU_RUC, "number": "9"})

    assert response.json() == {"id": document["id"], "msg": "Documento eliminado."}


@pytest.mark.parametrize("value", ["76453707-5", "76.453.707-5", "not a rut", "x" * 40])
async def test_a_wrong_rut_or_a_text_without_digits_is_refused(tenant: Tenant, value: str) -> None:
    response = await tenant.get("/v1/getDocuments", clientTaxId=value)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "clientTaxId"
