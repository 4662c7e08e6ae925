"""totalRecords comes from a trigger-kept summary for the wide filters: it must always equal the number
of documents the same filters list, through creates, payments, voids and deletes."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dtehub.documents import ledger
from dtehub.kit.dates import today_in_santiago
from dtehub.models import Document, DocumentCount, DocumentTotal
from tests.conftest import Tenant

FILTERS: list[dict[str, str]] = [
    {},
    {"since": "2024-02-01"},
    {"until": "2024-02-01"},
    {"since": "2024-01-15", "until": "2024-03-01"},
    {"dateBy": "2", "since": today_in_santiago().isoformat()},
    {"dateBy": "2", "until": "2020-01-01"},
    {"status": "1"},
    {"status": "2"},
    {"status": "3"},
    {"status": "4"},
    {"code": "33"},
    {"code": "34"},
    {"currency": "USD"},
    {"currency": "clp"},
    {"code": "33", "currency": "CLP", "status": "1", "since": "2024-01-20"},
]


async def _listed(tenant: Tenant, params: dict[str, str]) -> tuple[int, int]:
    """(totalRecords, number of documents actually listed across all pages)."""
    first = (await tenant.get("/v1/getDocuments", resultsPerPage=100, **params)).json()
    listed = len(first["items"])
    for page in range(2, first["records"]["pages"] + 1):
        listed += len(
            (await tenant.get("/v1/getDocuments", resultsPerPage=100, page=page, **params)).json()["items"]
        )
    return first["records"]["totalRecords"], listed


async def _assert_counts_agree(tenant: Tenant) -> None:
    for params in FILTERS:
        total, listed = await _listed(tenant, params)
        assert total == listed, params


async def test_summary_counts_follow_every_change(
    tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    client = (await tenant.post("/v1/createClient", {"name": "Cliente", "taxId": "99999999-9"})).json()
    other_client = (
        await other_tenant.post("/v1/createClient", {"name": "Otro", "taxId": "99999999-9"})
    ).json()
    days = [f"2024-{month:02d}-{day:02d}" for month, day in itertools.product((1, 2, 3), (5, 20))]
    for n, (day, code, currency) in enumerate(itertools.product(days, (33, 34), ("CLP", "USD")), start=1):
        body = {
            "clientId": client["id"],
            "number": str(n),
            "issueDate": day,
            "total": "1190",
            "taxes": "190",
            "code": code,
            "currency": currency,
        }
        assert (await tenant.post("/v1/createDocument", body)).status_code == 200
    # The other company's documents never leak into this company's counts.
    body = {
        "clientId": other_client["id"],
        "number": "1",
        "issueDate": "2024-02-02",
        "total": "5",
        "taxes": "0",
    }
    assert (await other_tenant.post("/v1/createDocument", body)).status_code == 200
    await _assert_counts_agree(tenant)

    # Payments and voids change the state through an UPDATE: the summary follows.
    documents = (session.scalars(select(Document).where(Document.company_id == tenant.company_id))).all()
    for document in documents[::3]:
        document.paid_cents = document.total_cents
        ledger.rebalance(document)
    for document in documents[1::5]:
        document.voided = True
        ledger.rebalance(document)
    session.commit()
    await _assert_counts_agree(tenant)
    assert (await _listed(tenant, {"status": "1"}))[0] > 0
    assert (await _listed(tenant, {"status": "4"}))[0] > 0

    # A bulk UPDATE that bypasses the ORM is counted too (the triggers live in the database).
    session.execute(
        update(Document)
        .where(Document.company_id == tenant.company_id, Document.code == 34)
        .values(currency="EUR")
    )
    session.commit()
    await _assert_counts_agree(tenant)
    assert (await _listed(tenant, {"currency": "EUR"}))[0] == 12

    for number in ("1", "2", "7"):
        response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": "99999999-9", "number": number})
        assert response.status_code == 200
    await _assert_counts_agree(tenant)
    assert (await _listed(tenant, {}))[0] == 21

    for summary in (DocumentCount.__table__, DocumentTotal.__table__):
        summed = session.scalar(
            select(func.sum(summary.c.documents)).where(summary.c.company_id == tenant.company_id)
        )
        assert summed == 21
