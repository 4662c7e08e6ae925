"""Helpers of the getDocuments tests: documents built through the API, and what a listing shows."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from dtehub.documents import ledger
from dtehub.models import Document
from tests.conftest import Tenant

AMOUNT = re.compile(r"^\d+\.\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
AMOUNT_FIELDS = ("net", "taxes", "total", "paidAmount", "amountDue", "amountCredit", "amountDebit")


# --- building data through the API ---------------------------------------------------------------


async def new_client(tenant: Tenant, tax_id: str, name: str = "CLIENTE DE PRUEBA") -> dict[str, Any]:
    response = await tenant.post("/v1/createClient", {"name": name, "taxId": tax_id})
    assert response.status_code == 200, response.text
    return response.json()


async def new_document(
    tenant: Tenant,
    client_id: str,
    number: str,
    *,
    issue: date | str = "2024-01-10",
    due: date | str | None = None,
    total: str = "1190",
    taxes: str = "190",
    code: int | None = 33,
    currency: str = "CLP",
    tags: list[str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "clientId": client_id,
        "number": number,
        "issueDate": str(issue),
        "total": total,
        "taxes": taxes,
        "currency": currency,
        "tags": tags or [],
    }
    if due is not None:
        body["dueDate"] = str(due)
    if code is not None:
        body["code"] = code
    response = await tenant.post("/v1/createDocument", body)
    assert response.status_code == 200, response.text
    return response.json()


async def set_balance(
    session: Session,
    document_id: str,
    *,
    paid: int = 0,
    credit: int = 0,
    debit: int = 0,
    voided: bool = False,
) -> None:
    """Test setup only (there is no payments API yet): amounts in hundredths, straight on the row."""
    document = session.get(Document, int(document_id))
    assert document is not None
    document.paid_cents = paid
    document.credit_cents = credit
    document.debit_cents = debit
    document.voided = voided
    ledger.rebalance(document)
    session.commit()


async def listing(tenant: Tenant, **params: object) -> dict[str, Any]:
    response = await tenant.get("/v1/getDocuments", **params)
    assert response.status_code == 200, response.text
    return response.json()


def numbers(body: dict[str, Any]) -> list[str]:
    return [item["number"] for item in body["items"]]


def number_set(body: dict[str, Any]) -> set[str]:
    found = numbers(body)
    assert body["records"]["totalRecords"] == len(found)
    return set(found)
