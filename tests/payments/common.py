"""Helpers for the payments tests: clients, documents and payments made through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Tenant, random_rut

FUTURE = "2099-12-31"


async def new_client(
    tenant: Tenant, tax_id: str | None = None, name: str = "CLIENTE PAGADOR"
) -> dict[str, Any]:
    response = await tenant.post("/v1/createClient", {"name": name, "taxId": tax_id or random_rut()})
    assert response.status_code == 200, response.text
    client: dict[str, Any] = response.json()
    return client


async def new_document(
    tenant: Tenant,
    client_id: str,
    number: str,
    total: int | str = 1000,
    *,
    due: str = FUTURE,
    code: int | None = 33,
    currency: str = "CLP",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "clientId": client_id,
        "number": number,
        "issueDate": "2019-01-10",
        "dueDate": due,
        "total": total,
        "taxes": 0,
        "currency": currency,
    }
    if code is not None:
        body["code"] = code
    response = await tenant.post("/v1/createDocument", body)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


async def pay(
    tenant: Tenant, client_id: str, amount: int | str, documents: list[dict[str, Any]], **fields: Any
) -> httpx.Response:
    body = {"date": "2024-02-01", "amount": amount, "clientId": client_id, "documents": documents, **fields}
    return await tenant.post("/v1/createPayment", body)


async def paid(
    tenant: Tenant, client_id: str, amount: int | str, documents: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    response = await pay(tenant, client_id, amount, documents, **fields)
    assert response.status_code == 200, response.text
    payment: dict[str, Any] = response.json()
    return payment


async def document_now(tenant: Tenant, document_id: str) -> dict[str, Any]:
    response = await tenant.get("/v1/getDocument", id=document_id)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def amounts(document: dict[str, Any]) -> tuple[str, str | None, str, int]:
    """(paidAmount, paidDate, amountDue, status) as getDocument shows them."""
    return document["paidAmount"], document["paidDate"], document["amountDue"], document["status"]


async def update(tenant: Tenant, payment_id: str, **fields: Any) -> httpx.Response:
    return await tenant.post("/v1/updatePayment", {"id": payment_id, **fields})
