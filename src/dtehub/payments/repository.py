"""Every query on payments and their allocations."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from dtehub.models import Client, Document, Payment, PaymentAllocation, PaymentStatus
from dtehub.payments.filters import PaymentDateBy, PaymentFilters, PaymentOrderBy


@dataclass(frozen=True)
class AllocationRow:
    payment_id: int
    amount_cents: int
    document_id: int
    number: str
    code: int


_DAY_COLUMNS = {
    PaymentDateBy.PAYMENT: Payment.paid_on,
    PaymentDateBy.CREATION: Payment.created_on,
    PaymentDateBy.RECONCILIATION: Payment.reconciled_on,
}
_ORDER_COLUMNS = {
    PaymentOrderBy.PAYMENT_DATE: Payment.paid_on,
    PaymentOrderBy.CREATION: Payment.created_at,
    PaymentOrderBy.AMOUNT: Payment.amount_cents,
}


def _conditions(company_id: int, filters: PaymentFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Payment.company_id == company_id,
        Payment.status == filters.status,
    ]
    day: Any = _DAY_COLUMNS[filters.date_by]
    if filters.since is not None:
        conditions.append(day >= filters.since)
    if filters.until is not None:
        conditions.append(day <= filters.until)
    if filters.currency is not None:
        conditions.append(Payment.currency == filters.currency)
    if filters.method_id is not None:
        conditions.append(Payment.method_id == filters.method_id)
    if filters.document_id is not None:
        conditions.append(
            exists().where(
                PaymentAllocation.payment_id == Payment.id,
                PaymentAllocation.document_id == filters.document_id,
            )
        )
    if filters.client_id is not None:
        conditions.append(Payment.client_id == filters.client_id)
    if filters.client_tax_id is not None:
        client_ids = select(Client.id).where(
            Client.company_id == company_id, Client.tax_id == filters.client_tax_id
        )
        conditions.append(Payment.client_id.in_(client_ids.scalar_subquery()))
    return conditions


def list_page(
    session: Session,
    company_id: int,
    filters: PaymentFilters,
    *,
    order_by: PaymentOrderBy,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[tuple[Payment, Client]], int]:
    """One page of payments with their clients, and how many match in all. Ties on the order column
    go by id, in the same direction, so that pages neither repeat nor skip a payment."""
    conditions = _conditions(company_id, filters)
    total = int(session.execute(select(func.count()).select_from(Payment).where(*conditions)).scalar_one())
    if offset >= total:
        return [], total
    column: Any = _ORDER_COLUMNS[order_by]
    ordering = (column.desc(), Payment.id.desc()) if descending else (column.asc(), Payment.id.asc())
    query = (
        select(Payment, Client)
        .join(Client, Client.id == Payment.client_id)
        .where(*conditions)
        .order_by(*ordering)
        .offset(offset)
        .limit(limit)
    )
    return [(payment, client) for payment, client in session.execute(query).all()], total


def get(session: Session, company_id: int, payment_id: int, *, for_update: bool = False) -> Payment | None:
    """The company's payment; ``for_update`` locks its row until commit (PostgreSQL; SQLite has one
    writer at a time anyway)."""
    query = select(Payment).where(Payment.company_id == company_id, Payment.id == payment_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def add(session: Session, payment: Payment, allocations: dict[int, int]) -> None:
    """Insert the payment and its allocations (document id → hundredths)."""
    session.add(payment)
    session.flush()
    session.add_all(
        PaymentAllocation(payment_id=payment.id, document_id=document_id, amount_cents=amount)
        for document_id, amount in allocations.items()
    )
    session.flush()


def allocations_of(
    session: Session, company_id: int, payment_ids: Collection[int]
) -> dict[int, list[AllocationRow]]:
    """Each of the company's payments' allocations with their documents' number and code, by document id."""
    if not payment_ids:
        return {}
    query = (
        select(
            PaymentAllocation.payment_id,
            PaymentAllocation.amount_cents,
            Document.id,
            Document.number,
            Document.code,
        )
        .join(Document, Document.id == PaymentAllocation.document_id)
        .where(Document.company_id == company_id, PaymentAllocation.payment_id.in_(payment_ids))
        .order_by(PaymentAllocation.payment_id, Document.id)
    )
    found: dict[int, list[AllocationRow]] = {}
    for payment_id, amount, document_id, number, code in session.execute(query):
        found.setdefault(payment_id, []).append(AllocationRow(payment_id, amount, document_id, number, code))
    return found


def documents_by_number(session: Session, company_id: int, number: str, code: int | None) -> list[int]:
    """Ids of the company's documents with this number (and code), at most a few."""
    query = select(Document.id).where(Document.company_id == company_id, Document.number == number)
    if code is not None:
        query = query.where(Document.code == code)
    return list(session.scalars(query.order_by(Document.id).limit(10)))


def reconciled_allocations(
    session: Session, company_id: int, document_ids: Collection[int]
) -> dict[int, list[tuple[date, int, int]]]:
    """For each of the company's documents, (payment date, payment id, hundredths) of the reconciled
    payments that go to it, in the order they were paid."""
    if not document_ids:
        return {}
    query = (
        select(PaymentAllocation.document_id, Payment.paid_on, Payment.id, PaymentAllocation.amount_cents)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(
            Payment.company_id == company_id,
            PaymentAllocation.document_id.in_(document_ids),
            Payment.status == PaymentStatus.RECONCILED,
        )
        .order_by(PaymentAllocation.document_id, Payment.paid_on, Payment.id)
    )
    found: dict[int, list[tuple[date, int, int]]] = {}
    for document_id, paid_on, payment_id, amount in session.execute(query):
        found.setdefault(document_id, []).append((paid_on, payment_id, amount))
    return found


def document_has_allocations(session: Session, company_id: int, document_id: int) -> bool:
    """Whether any of the company's payments, whatever its status, is allocated to the document."""
    query = (
        select(PaymentAllocation.payment_id)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.company_id == company_id, PaymentAllocation.document_id == document_id)
        .limit(1)
    )
    return session.execute(query).first() is not None


def clients_by_ids(session: Session, company_id: int, client_ids: Collection[int]) -> dict[int, Client]:
    query = select(Client).where(Client.company_id == company_id, Client.id.in_(client_ids))
    return {client.id: client for client in session.scalars(query)}
