"""The portal's own queries: a page's notes, sources and the customer page's lists and totals. The
objects a link names are read by id (the service checks their keys) and their company and client
through those domains' repositories; everything here is read through that company (and client)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dtehub.documents.history import collected
from dtehub.models import Client, Document, DocumentSource, DocumentState, Note, NoteSource

PENDING_LIMIT = 500
"""A customer page lists at most this many pending documents (the oldest due first)..."""
OTHERS_LIMIT = 100
"""...and this many settled or voided ones (the latest first); its totals always count them all."""


# A link names its object by id alone (its key is the credential), unlike the API, which scopes by company.
def document(session: Session, document_id: int) -> Document | None:
    return session.get(Document, document_id)


def client(session: Session, client_id: int) -> Client | None:
    return session.get(Client, client_id)


def note(session: Session, note_id: int) -> Note | None:
    return session.get(Note, note_id)


def document_source_fields(session: Session, document_id: int) -> tuple[bool, dict[str, Any] | None]:
    """Whether the document's XML is stored, and the fields read from it (never the XML itself)."""
    query = select(DocumentSource.fields).where(DocumentSource.document_id == document_id)
    found = session.execute(query).first()
    return (False, None) if found is None else (True, found.fields)


def note_content(session: Session, note_id: int) -> bytes | None:
    query = select(NoteSource.content).where(NoteSource.note_id == note_id)
    return session.execute(query).scalar_one_or_none()


def notes_of_document(session: Session, document: Document) -> list[tuple[Note, bool]]:
    """The document's credit and debit notes issued to the document's own client, in the order they
    were issued, each with whether its XML is stored. A note names its document by type and folio
    only: one issued to another customer with a mistaken folio must not show on this customer's page."""
    query = (
        select(Note, NoteSource.note_id.is_not(None))
        .outerjoin(NoteSource, NoteSource.note_id == Note.id)
        .where(
            Note.company_id == document.company_id,
            Note.document_id == document.id,
            Note.client_id == document.client_id,
        )
        .order_by(Note.issue_date, Note.id)
    )
    return [(found, bool(has_xml)) for found, has_xml in session.execute(query)]


@dataclass(frozen=True)
class CurrencyTotals:
    """What a customer owes in one currency, over all its documents of the company."""

    currency: str
    owed_cents: int
    overdue_cents: int
    pending_count: int
    other_count: int


def _collected(collections_start: date | None) -> ColumnElement[bool]:
    """The documents the company collects with dtehub: history (see :mod:`dtehub.documents.history`)
    is left out of the client page, as it is of the debt summary that links to it."""
    return collected(Document.source, Document.issue_date, collections_start)


def client_totals(
    session: Session, company_id: int, client_id: int, today: date, collections_start: date | None
) -> list[CurrencyTotals]:
    """Per currency: the amount due on open documents, the part of it past its due date (before today
    in Santiago, as the status says) and how many documents are pending and settled or voided."""
    is_open = Document.state == DocumentState.OPEN
    query = (
        select(
            Document.currency,
            func.coalesce(func.sum(Document.due_cents).filter(is_open), 0),
            func.coalesce(func.sum(Document.due_cents).filter(is_open & (Document.due_date < today)), 0),
            func.count().filter(is_open),
            func.count().filter(~is_open),
        )
        .where(
            Document.company_id == company_id,
            Document.client_id == client_id,
            _collected(collections_start),
        )
        .group_by(Document.currency)
        .order_by(Document.currency)
    )
    return [
        CurrencyTotals(str(currency), int(owed), int(overdue), int(pending), int(others))
        for currency, owed, overdue, pending, others in session.execute(query)
    ]


def pending_documents(
    session: Session, company_id: int, client_id: int, limit: int, collections_start: date | None
) -> Sequence[Document]:
    """Open documents (Vencida, then Por vencer): the earliest due first."""
    query = (
        select(Document)
        .where(
            Document.company_id == company_id,
            Document.client_id == client_id,
            Document.state == DocumentState.OPEN,
            _collected(collections_start),
        )
        .order_by(Document.due_date, Document.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def other_documents(
    session: Session, company_id: int, client_id: int, limit: int, collections_start: date | None
) -> Sequence[Document]:
    """Settled and voided documents: the most recently issued first."""
    query = (
        select(Document)
        .where(
            Document.company_id == company_id,
            Document.client_id == client_id,
            Document.state != DocumentState.OPEN,
            _collected(collections_start),
        )
        .order_by(Document.issue_date.desc(), Document.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()
