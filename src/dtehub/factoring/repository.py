"""Every query of the factoring domain, each filtered by the company."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dtehub.kit.sql import insert_rows
from dtehub.models import (
    Base,
    Company,
    Document,
    DocumentCession,
    DocumentHolding,
    DocumentSiiAcceptance,
    Note,
)

# The cessions' states are the model's (documents read them too), re-exported for the factoring modules.
from dtehub.models.document_cession import ACCEPTED as ACCEPTED
from dtehub.models.document_cession import PENDING as PENDING
from dtehub.models.document_cession import REJECTED as REJECTED
from dtehub.models.document_cession import UPLOADING as UPLOADING

_DOCUMENTS = Base.metadata.tables["documents"]


def acceptance(session: Session, company_id: int, document_id: int) -> DocumentSiiAcceptance | None:
    return session.scalars(
        select(DocumentSiiAcceptance).where(
            DocumentSiiAcceptance.company_id == company_id, DocumentSiiAcceptance.document_id == document_id
        )
    ).first()


def save_acceptance(session: Session, row: DocumentSiiAcceptance) -> DocumentSiiAcceptance:
    """Insert the row, or replace the stored one of its document."""
    stored = acceptance(session, row.company_id, row.document_id)
    if stored is None:
        session.add(row)
        session.flush()
        return row
    for name in ("received_at", "events", "events_listed", "cedibility_code", "cedibility_description",
                 "checked_at", "checked_by"):  # fmt: skip
        setattr(stored, name, getattr(row, name))
    session.flush()
    return stored


def notes_of(session: Session, company_id: int, document_id: int) -> list[Note]:
    """The credit and debit notes dtehub holds that refer to the document, oldest first."""
    query = select(Note).where(Note.company_id == company_id, Note.document_id == document_id)
    return list(session.scalars(query.order_by(Note.issue_date, Note.id)))


def document(session: Session, company_id: int, document_id: int) -> Document | None:
    query = select(Document).where(Document.company_id == company_id, Document.id == document_id)
    return session.scalars(query).first()


def document_by_key(session: Session, company_id: int, code: int, number: str) -> Document | None:
    query = select(Document).where(
        Document.company_id == company_id,
        Document.held.is_(False),
        Document.code == code,
        Document.number == number,
    )
    return session.scalars(query).first()


def company(session: Session, company_id: int) -> Company | None:
    return session.get(Company, company_id)


def company_by_rut(session: Session, rut: str) -> Company | None:
    return session.scalars(select(Company).where(Company.rut == rut)).first()


def held_document(
    session: Session, company_id: int, issuer_rut: str, code: int, number: str
) -> Document | None:
    """The document of another issuer that the company holds, by its natural key."""
    query = select(Document).where(
        Document.company_id == company_id,
        Document.held.is_(True),
        Document.issuer_rut == issuer_rut,
        Document.code == code,
        Document.number == number,
    )
    return session.scalars(query).first()


def insert_held_document(session: Session, company_id: int, row: dict[str, Any]) -> int:
    """Insert a held document (every column but the id) through the documents' one insert; its id."""
    insert_rows(session, _DOCUMENTS, [row])
    found = held_document(session, company_id, row["issuer_rut"], row["code"], row["number"])
    assert found is not None  # just inserted in this transaction
    return found.id


def holding(session: Session, company_id: int, document_id: int) -> DocumentHolding | None:
    query = select(DocumentHolding).where(
        DocumentHolding.company_id == company_id, DocumentHolding.document_id == document_id
    )
    return session.scalars(query).first()


def add_holding(session: Session, row: DocumentHolding) -> None:
    session.add(row)
    session.flush()


# --- cessions ---------------------------------------------------------------------------------------------


def cessions_by_id(
    session: Session, company_id: int, cession_ids: Sequence[int]
) -> dict[int, DocumentCession]:
    """The company's cessions of these ids, by their document (a document's last cession comes with its
    row: ``DocumentRow.last_cession_id``)."""
    if not cession_ids:
        return {}
    query = select(DocumentCession).where(
        DocumentCession.company_id == company_id, DocumentCession.id.in_(cession_ids)
    )
    return {row.document_id: row for row in session.scalars(query)}


def standing_cession(session: Session, company_id: int, document_id: int) -> DocumentCession | None:
    """The document's cession that is being uploaded, pending or accepted at SII (at most one), or None."""
    query = select(DocumentCession).where(
        DocumentCession.company_id == company_id,
        DocumentCession.document_id == document_id,
        DocumentCession.sii_state.in_((UPLOADING, PENDING, ACCEPTED)),
    )
    return session.scalars(query.order_by(DocumentCession.id.desc())).first()


def claim(session: Session, row: DocumentCession) -> bool:
    """Insert the claim ``row`` (state ``uploading``): False, with nothing inserted, when another cession of
    the document stands (the unique index refused it: a concurrent request claimed it first)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the savepoint is rolled back (and the row with it): the unit of work goes on
        if row in session:
            session.expunge(row)
        return False
    return True


def stale_claims(session: Session, before: datetime, limit: int) -> list[tuple[int, int]]:
    """(company id, cession id) of the claims made before ``before``, of every company, oldest first: the
    requests that made them stopped between the upload and its record (the follow-up settles each)."""
    query = (
        select(DocumentCession.company_id, DocumentCession.id)
        .where(DocumentCession.sii_state == UPLOADING, DocumentCession.created_at < before)
        .order_by(DocumentCession.id)
        .limit(limit)
    )
    return [(company_id, cession_id) for company_id, cession_id in session.execute(query)]


def release(session: Session, company_id: int, cession_id: int) -> bool:
    """Remove the claim (a cession still ``uploading``): True when there was one."""
    removed = session.execute(
        delete(DocumentCession).where(
            DocumentCession.company_id == company_id,
            DocumentCession.id == cession_id,
            DocumentCession.sii_state == UPLOADING,
        )
    )
    session.expire_all()
    return bool(getattr(removed, "rowcount", 0))


def cession(session: Session, company_id: int, cession_id: int) -> DocumentCession | None:
    query = select(DocumentCession).where(
        DocumentCession.company_id == company_id, DocumentCession.id == cession_id
    )
    return session.scalars(query).first()


def pending_cessions(session: Session, limit: int) -> list[tuple[int, int]]:
    """(company id, cession id) of the cessions SII has not decided on yet, oldest first, of every company:
    the background follow-up then reads each through its company."""
    query = (
        select(DocumentCession.company_id, DocumentCession.id)
        .where(DocumentCession.sii_state == PENDING)
        .order_by(DocumentCession.id)
        .limit(limit)
    )
    return [(company_id, cession_id) for company_id, cession_id in session.execute(query)]


def add_cession(session: Session, row: DocumentCession) -> DocumentCession:
    session.add(row)
    session.flush()
    return row
