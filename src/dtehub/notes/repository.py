"""Every query on credit and debit notes and their XML sources."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, func, select, update
from sqlalchemy.orm import Session

from dtehub.documents.filters import DateBy
from dtehub.kit.sql import insert_rows, key_in
from dtehub.models import Client, Company, Document, Note
from dtehub.models.note import CREDIT_NOTE_CODES, DEBIT_NOTE_CODES, NoteReason
from dtehub.notes.filters import NoteFilters, NoteOrderBy, NoteType

_ORDER_COLUMNS = {
    NoteOrderBy.ISSUE_DATE: Note.issue_date,
    NoteOrderBy.CREATION: Note.created_at,
    NoteOrderBy.NUMBER: Note.number_sort,
    NoteOrderBy.TOTAL: Note.total_cents,
}


def collections_start(session: Session, company_id: int) -> date | None:
    """The company's collectionsStartDate: its notes synced from SII before it are history."""
    return session.scalar(select(Company.collections_start_date).where(Company.id == company_id))


def _conditions(company_id: int, filters: NoteFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Note.company_id == company_id]
    day = Note.issue_date if filters.date_by == DateBy.ISSUE else Note.created_on
    if filters.since is not None:
        conditions.append(day >= filters.since)
    if filters.until is not None:
        conditions.append(day <= filters.until)
    if filters.type is not None:
        codes = CREDIT_NOTE_CODES if filters.type == NoteType.CREDIT else DEBIT_NOTE_CODES
        conditions.append(Note.code.in_(sorted(codes)))
    if filters.number is not None:
        conditions.append(Note.number == filters.number)
    if filters.code is not None:
        conditions.append(Note.code == filters.code)
    if filters.currency is not None:
        conditions.append(Note.currency == filters.currency)
    if filters.document_id is not None:
        conditions.append(Note.document_id == filters.document_id)
    if filters.client_id is not None:
        conditions.append(Note.client_id == filters.client_id)
    if filters.client_tax_id is not None:
        client_ids = select(Client.id).where(
            Client.company_id == company_id, Client.tax_id == filters.client_tax_id
        )
        conditions.append(Note.client_id.in_(client_ids.scalar_subquery()))
    return conditions


def count(session: Session, company_id: int, filters: NoteFilters) -> int:
    query = select(func.count()).select_from(Note).where(*_conditions(company_id, filters))
    return int(session.execute(query).scalar_one())


def list_page(
    session: Session,
    company_id: int,
    filters: NoteFilters,
    *,
    order_by: NoteOrderBy,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[tuple[Note, str]], int]:
    """One page of notes with their client's tax id, and how many match in all. Ties on the order
    column go by id, in the same direction, so that pages neither repeat nor skip a note."""
    total = count(session, company_id, filters)
    if offset >= total:
        return [], total
    column: Any = _ORDER_COLUMNS[order_by]
    ordering = (column.desc(), Note.id.desc()) if descending else (column.asc(), Note.id.asc())
    query = (
        select(Note, Client.tax_id)
        .join(Client, Client.id == Note.client_id)
        .where(*_conditions(company_id, filters))
        .order_by(*ordering)
        .offset(offset)
        .limit(limit)
    )
    return [(note, tax_id) for note, tax_id in session.execute(query).all()], total


def insert_notes(session: Session, company_id: int, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert a company's new notes that come without a DTE (every column but the id) in one statement;
    their ids, in order, read back by natural key."""
    if not rows:
        return []
    insert_rows(session, cast(Table, Note.__table__), rows)
    keys = {(row["code"], row["number"]) for row in rows}
    query = select(Note.code, Note.number, Note.id).where(
        Note.company_id == company_id, *key_in(Note.code, Note.number, keys)
    )
    ids = {(code, number): id_ for code, number, id_ in session.execute(query)}
    return [ids[(row["code"], row["number"])] for row in rows]


def get(session: Session, company_id: int, note_id: int) -> Note | None:
    return session.scalars(select(Note).where(Note.company_id == company_id, Note.id == note_id)).first()


def documents_by_reference(
    session: Session, company_id: int, references: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Ids of the company's documents that notes' references (TpoDocRef, FolioRef) name."""
    keys = {(int(code), number) for code, number in references if code.isascii() and code.isdigit()}
    if not keys:
        return {}
    query = select(Document.code, Document.number, Document.id).where(
        # A held document's notes are its issuer's: they never come in as this company's.
        Document.company_id == company_id,
        Document.held.is_(False),
        *key_in(Document.code, Document.number, keys),
    )
    rows = session.execute(query)
    return {(str(code), number): id_ for code, number, id_ in rows if (code, number) in keys}


def waiting_for(session: Session, company_id: int, references: set[tuple[str, str]]) -> list[Note]:
    """Notes not linked yet whose reference names one of these (code, number) documents."""
    if not references:
        return []
    query = select(Note).where(
        Note.company_id == company_id,
        Note.document_id.is_(None),
        *key_in(Note.ref_code, Note.ref_number, references),
    )
    return [note for note in session.scalars(query) if (note.ref_code, note.ref_number) in references]


def link_waiting_notes(session: Session, document: Document) -> int:
    """Link the notes that arrived before their document; returns how many."""
    result = session.execute(
        update(Note)
        .where(
            Note.company_id == document.company_id,
            Note.ref_code == str(document.code),
            Note.ref_number == document.number,
            Note.document_id.is_(None),
        )
        .values(document_id=document.id)
        # Notes already loaded in this unit of work (an import stores a note, then its invoice) must
        # see their link: the default synchronization updates them in memory.
    )
    return int(getattr(result, "rowcount", 0) or 0)


def note_totals_by_document(
    session: Session, company_id: int, document_ids: Collection[int]
) -> dict[int, tuple[int, int, bool]]:
    """(credits, debits, voided) of each of the company's documents' notes, for those that have any:
    text corrections (CodRef 2) move no money and a credit note that voids (CodRef 1) voids the document."""
    moves = Note.reason.is_(None) | (Note.reason != NoteReason.CORRECTS_TEXT)
    is_credit = Note.code.in_(CREDIT_NOTE_CODES)
    query = (
        select(
            Note.document_id,
            func.coalesce(func.sum(Note.total_cents).filter(moves & is_credit), 0),
            func.coalesce(func.sum(Note.total_cents).filter(moves & ~is_credit), 0),
            func.count().filter(is_credit & (Note.reason == NoteReason.VOIDS)),
        )
        .where(Note.company_id == company_id, Note.document_id.in_(document_ids))
        .group_by(Note.document_id)
    )
    totals: dict[int, tuple[int, int, bool]] = {}
    for document_id, credits, debits, voiding in session.execute(query):
        assert document_id is not None  # only linked notes were asked for
        totals[document_id] = (int(credits), int(debits), int(voiding) > 0)
    return totals


def by_ids(session: Session, company_id: int, note_ids: list[int]) -> list[Note]:
    query = (
        select(Note)
        .where(Note.company_id == company_id, Note.id.in_(note_ids))
        .order_by(Note.issue_date, Note.id)
    )
    return list(session.scalars(query))
