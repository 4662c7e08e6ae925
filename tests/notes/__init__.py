"""Credit and debit notes through the API; the helpers below send DTEs as a user's integration would."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Any

import httpx

from dtehub.kit.dates import today_in_santiago
from tests.conftest import Tenant
from tests.dte_factory import Reference, build_dte

CLIENT_RUT = "99999999-9"
ISSUED = date(2024, 1, 10)


async def upload(tenant: Tenant, content: bytes) -> httpx.Response:
    body = {"xml": base64.b64encode(content).decode("ascii")}
    return await tenant.post("/v1/createDocumentFromXml", body)


async def store(tenant: Tenant, content: bytes) -> dict[str, Any]:
    response = await upload(tenant, content)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def invoice_xml(
    tenant: Tenant,
    folio: int,
    total: int = 1190,
    *,
    code: int = 33,
    issue_date: date = ISSUED,
    due_date: date | None = None,
    receiver: str = CLIENT_RUT,
) -> bytes:
    """An invoice of the tenant's, due in 30 days from today unless told (so its status is 2)."""
    due = due_date or today_in_santiago() + timedelta(days=30)
    return build_dte(code, folio, tenant.rut, receiver, total, issue_date=issue_date, due_date=due)


def note_xml(
    tenant: Tenant,
    code: int,
    folio: int,
    total: int,
    *,
    ref_folio: int = 0,
    ref_code: int = 33,
    reason: int | None = 3,
    reason_text: str = "Corrige montos",
    issue_date: date = ISSUED,
    receiver: str = CLIENT_RUT,
    references: list[Reference] | None = None,
) -> bytes:
    """A note of the tenant's naming ``ref_code`` ``ref_folio`` (or the given references)."""
    refs: list[Reference] = (
        references if references is not None else [(ref_code, ref_folio, reason, reason_text)]
    )
    return build_dte(code, folio, tenant.rut, receiver, total, issue_date=issue_date, references=refs)


def credit_xml(tenant: Tenant, folio: int, total: int, ref_folio: int, **options: Any) -> bytes:
    return note_xml(tenant, 61, folio, total, ref_folio=ref_folio, **options)


def debit_xml(tenant: Tenant, folio: int, total: int, ref_folio: int, **options: Any) -> bytes:
    return note_xml(tenant, 56, folio, total, ref_folio=ref_folio, **options)


async def get_document(tenant: Tenant, document_id: str) -> dict[str, Any]:
    response = await tenant.get("/v1/getDocument", id=document_id)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def get_note(tenant: Tenant, note_id: str) -> dict[str, Any]:
    response = await tenant.get("/v1/getNote", id=note_id)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def list_notes(tenant: Tenant, **params: object) -> dict[str, Any]:
    response = await tenant.get("/v1/getNotes", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def balance(document: dict[str, Any]) -> tuple[str, str, str, str, int, str]:
    """What a user reads about what is owed on a document."""
    return (
        document["total"],
        document["amountCredit"],
        document["amountDebit"],
        document["amountDue"],
        document["status"],
        document["statusName"],
    )
