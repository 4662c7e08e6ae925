"""Payments: create, reconcile or discard them; their documents' ledger follows.

A document's paidAmount, paidDate, amountDue and status are recomputed by its ledger
(:mod:`dtehub.documents.ledger`) from the allocations of its reconciled payments, never incremented.

Two payments racing for the same document never over-settle it: the ledger locks the documents
involved before what they owe is checked (PostgreSQL ``SELECT … FOR UPDATE`` in id order); on SQLite
only one transaction writes at a time and one that read a snapshot another has changed fails and is
run again by its unit of work, so its checks see the winner's payment.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from dtehub.clients import repository as clients_repository
from dtehub.documents import ledger
from dtehub.documents import service as documents_service
from dtehub.errors import (
    AllocationExceedsDue,
    AllocationExceedsPayment,
    AmbiguousDocument,
    CurrencyMismatch,
    DocumentOfAnotherClient,
    DocumentVoided,
    DuplicateAllocation,
    MissingParameter,
    NotFound,
    Unprocessable,
)
from dtehub.kit.dates import format_datetime, today_in_santiago, utcnow
from dtehub.kit.money import format_cents
from dtehub.kit.pagination import PageRequest
from dtehub.models import Client, Document, DocumentState, Payment, PaymentStatus
from dtehub.models.document import NO_CODE
from dtehub.payments import repository
from dtehub.payments.filters import PaymentFilters, PaymentOrderBy
from dtehub.payments.methods import PAYMENT_METHODS, method_name
from dtehub.payments.repository import AllocationRow
from dtehub.payments.schemas import (
    STATUS_NAMES,
    AllocatedDocument,
    AllocationIn,
    AllocationOut,
    PaymentClient,
    PaymentCreate,
    PaymentMethodOut,
    PaymentOut,
    PaymentUpdate,
)
from dtehub.portal.links import Links
from dtehub.reminders import queue as reminders
from dtehub.webhooks import events
from dtehub.webhooks.events import EventType


def payment_methods() -> list[PaymentMethodOut]:
    return [PaymentMethodOut(id=str(id_), name=name) for id_, name in PAYMENT_METHODS.items()]


# --- reading --------------------------------------------------------------------------------------


def require(session: Session, company_id: int, payment_id: int, *, for_update: bool = False) -> Payment:
    payment = repository.get(session, company_id, payment_id, for_update=for_update)
    if payment is None:
        raise NotFound(f"payment {payment_id} not found", field="id")
    return payment


def _view(payment: Payment, client: Client, allocations: Sequence[AllocationRow]) -> PaymentOut:
    allocated = sum(row.amount_cents for row in allocations)
    return PaymentOut(
        id=str(payment.id),
        created_at=format_datetime(payment.created_at),
        paid_on=payment.paid_on.isoformat(),
        currency=payment.currency,
        amount=payment.amount_cents,
        unallocated_amount=payment.amount_cents - allocated,
        description=payment.description,
        bank_code=payment.bank_code,
        account_number=payment.account_number,
        payment_method=method_name(payment.method_id),
        payment_method_id=str(payment.method_id) if payment.method_id is not None else None,
        transaction_code=payment.transaction_code,
        document_number=allocations[0].number if allocations else None,
        comments=payment.comments,
        status=int(payment.status),
        status_name=STATUS_NAMES[PaymentStatus(payment.status)],
        reconciled_at=format_datetime(payment.reconciled_at) if payment.reconciled_at else None,
        updated_at=format_datetime(payment.updated_at),
        client=PaymentClient(id=str(client.id), name=client.name, tax_id=client.tax_id),
        documents=[
            AllocationOut(
                amount=row.amount_cents,
                document=AllocatedDocument(
                    id=str(row.document_id), number=row.number, code=row.code if row.code != NO_CODE else None
                ),
            )
            for row in allocations
        ],
        files=[],
    )


def present(session: Session, company_id: int, payment: Payment) -> PaymentOut:
    """The payment as getPayment shows it."""
    client = clients_repository.get(session, company_id, payment.client_id)
    assert client is not None  # a payment's client is its company's, and clients are never deleted
    return _view(
        payment, client, repository.allocations_of(session, company_id, [payment.id]).get(payment.id, [])
    )


def list_payments(
    session: Session,
    company_id: int,
    filters: PaymentFilters,
    *,
    order_by: PaymentOrderBy,
    descending: bool,
    page: PageRequest,
) -> tuple[list[PaymentOut], int]:
    rows, total = repository.list_page(
        session,
        company_id,
        filters,
        order_by=order_by,
        descending=descending,
        offset=page.offset,
        limit=page.per_page,
    )
    allocations = repository.allocations_of(session, company_id, [payment.id for payment, _ in rows])
    return [_view(payment, client, allocations.get(payment.id, [])) for payment, client in rows], total


# --- what documents can take ---------------------------------------------------------------------


def _check_can_take(
    session: Session,
    company_id: int,
    documents: Sequence[Document],
    amounts: dict[int, int],
    fields: dict[int, str],
    payment_id: int,
) -> None:
    """Refuse an allocation to a voided document, or of more than the document owes counting the
    reconciled payments other than ``payment_id`` (0 for a new payment)."""
    owed_by = ledger.owed_without(session, company_id, documents, payment_id)
    for document in documents:
        field = fields[document.id]
        if document.state == DocumentState.VOIDED:
            raise DocumentVoided(
                f"document {document.number} is voided (Anulada): it takes no payments",
                field=field,
            )
        owed = owed_by[document.id]
        if amounts[document.id] > owed:
            raise AllocationExceedsDue(
                f"document {document.number} owes {format_cents(owed)} {document.currency}: "
                f"{format_cents(amounts[document.id])} is more than that",
                field=field,
            )


# --- creating ------------------------------------------------------------------------------------


def _client_of(session: Session, company_id: int, data: PaymentCreate) -> Client:
    if data.client_id is None and data.client_tax_id is None:
        raise MissingParameter("give clientId or clientTaxId", field="clientId")
    if data.client_id is not None:
        client = clients_repository.get(session, company_id, data.client_id)
        if client is None:
            raise NotFound(f"client {data.client_id} not found", field="clientId")
        if data.client_tax_id is not None and data.client_tax_id != client.tax_id:
            raise Unprocessable(
                f"clientId {data.client_id} is not the client {data.client_tax_id}", field="clientTaxId"
            )
        return client
    assert data.client_tax_id is not None
    client = clients_repository.get_by_tax_id(session, company_id, data.client_tax_id)
    if client is None:
        raise NotFound(f"client {data.client_tax_id} not found", field="clientTaxId")
    return client


def _document_id(session: Session, company_id: int, item: AllocationIn, index: int) -> int:
    if item.id is not None:
        return item.id
    assert item.number is not None
    found = repository.documents_by_number(session, company_id, item.number, item.code)
    if not found:
        raise NotFound(f"document {item.number} not found", field=f"documents[{index}].number")
    if len(found) > 1:
        raise AmbiguousDocument(
            f"several documents {item.number} exist; give code (or id)",
            field=f"documents[{index}].code",
        )
    return found[0]


def create_payment(session: Session, company_id: int, data: PaymentCreate, links: Links) -> Payment:
    client = _client_of(session, company_id, data)
    amounts: dict[int, int] = {}
    fields: dict[int, str] = {}
    for index, item in enumerate(data.documents):
        document_id = _document_id(session, company_id, item, index)
        if document_id in amounts:
            raise DuplicateAllocation(
                f"document {document_id} is listed twice; give it once with the whole amount",
                field=f"documents[{index}]",
            )
        amounts[document_id] = item.amount
        fields[document_id] = f"documents[{index}].amount"
    if sum(amounts.values()) > data.amount:
        raise AllocationExceedsPayment(
            f"the documents' amounts add up to {format_cents(sum(amounts.values()))}, "
            f"more than the payment's {format_cents(data.amount)}",
            field="documents",
        )
    documents = ledger.lock(session, company_id, amounts)
    found = {d.id for d in documents}
    for document_id in amounts:
        if document_id not in found:  # another company's document answers as a missing one
            raise NotFound(
                f"document {document_id} not found", field=fields[document_id].replace("amount", "id")
            )
    for document in documents:
        if document.client_id != client.id:
            raise DocumentOfAnotherClient(
                f"document {document.number} belongs to another client",
                field=fields[document.id],
            )
        if document.currency != data.currency:
            raise CurrencyMismatch(
                f"document {document.number} is in {document.currency}, the payment in {data.currency}",
                field=fields[document.id],
            )
    _check_can_take(session, company_id, documents, amounts, fields, payment_id=0)

    now = utcnow()
    status = PaymentStatus(data.status)
    reconciled = status == PaymentStatus.RECONCILED
    payment = Payment(
        company_id=company_id,
        client_id=client.id,
        paid_on=data.paid_on,
        currency=data.currency,
        amount_cents=data.amount,
        method_id=data.payment_method_id,
        description=data.description,
        bank_code=data.bank_code,
        account_number=data.account_number,
        transaction_code=data.transaction_code,
        comments=data.comments,
        status=status,
        reconciled_at=now if reconciled else None,
        reconciled_on=today_in_santiago(now) if reconciled else None,
        created_at=now,
        created_on=today_in_santiago(now),
        updated_at=now,
    )
    repository.add(session, payment, amounts)
    changed = ledger.recompute(session, company_id, documents, ledger.Source.PAYMENTS) if reconciled else []
    _record_events(session, company_id, "payment.created", payment, changed, links)
    if reconciled:
        reminders.payment_received(session, company_id, payment.id)
    return payment


def _record_events(
    session: Session,
    company_id: int,
    event_type: EventType,
    payment: Payment,
    changed_documents: list[int],
    links: Links,
) -> None:
    """The payment's event, then ``document.updated`` for the documents whose amounts it changed."""
    subscriptions = events.Subscriptions(session, company_id)
    if webhook_ids := subscriptions.webhooks_for(event_type):
        view = present(session, company_id, payment).model_dump(mode="json", by_alias=True)
        events.record(session, company_id, event_type, [view], webhook_ids)
    documents_service.record_events(session, subscriptions, "document.updated", changed_documents, links)


# --- updating ------------------------------------------------------------------------------------

_TEXT_FIELDS = ("description", "bank_code", "account_number", "transaction_code", "comments")


def update_payment(session: Session, company_id: int, data: PaymentUpdate, links: Links) -> Payment:
    """Change the free-text fields and the method, and reconcile (1), discard (2) or set back to
    pending (0): reconciling re-checks what each document owes now."""
    payment = require(session, company_id, data.id, for_update=True)
    changed_fields = False
    for name in _TEXT_FIELDS:
        value = getattr(data, name)
        if value is not None and value != getattr(payment, name):
            setattr(payment, name, value)
            changed_fields = True
    if data.payment_method_id is not None and data.payment_method_id != payment.method_id:
        payment.method_id = data.payment_method_id
        changed_fields = True

    changed_documents: list[int] = []
    became_reconciled = False
    if data.status is not None and data.status != payment.status:
        status = PaymentStatus(data.status)
        allocations = repository.allocations_of(session, company_id, [payment.id]).get(payment.id, [])
        amounts = {row.document_id: row.amount_cents for row in allocations}
        documents = ledger.lock(session, company_id, amounts)
        if status == PaymentStatus.RECONCILED:
            fields = {row.document_id: f"documents[{i}].amount" for i, row in enumerate(allocations)}
            _check_can_take(session, company_id, documents, amounts, fields, payment_id=payment.id)
            now = utcnow()
            payment.reconciled_at, payment.reconciled_on = now, today_in_santiago(now)
            became_reconciled = True
        else:
            payment.reconciled_at = payment.reconciled_on = None
        payment.status = status
        changed_documents = ledger.recompute(session, company_id, documents, ledger.Source.PAYMENTS)
        changed_fields = True

    if changed_fields:
        payment.updated_at = utcnow()
        session.flush()
        _record_events(session, company_id, "payment.updated", payment, changed_documents, links)
    if became_reconciled:
        reminders.payment_received(session, company_id, payment.id)
    return payment
