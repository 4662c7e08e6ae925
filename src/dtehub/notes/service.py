"""Credit and debit notes: stored from their DTE, linked to the document their reference names, and
feeding that document's amountCredit / amountDebit / amountDue / status.

The link is made from whichever side arrives second, and the document's ledger
(:mod:`dtehub.documents.ledger`) then recomputes it from all its notes, so the order of arrival never
changes the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from dtehub.clients import repository as clients_repository
from dtehub.documents import ledger
from dtehub.documents.sii_states import NOT_SYNCED, SiiFacts
from dtehub.dte.checks import xml_check_columns
from dtehub.dte.models import DteFields, DteReference
from dtehub.dte.pipeline import CheckedDte
from dtehub.errors import NotFound
from dtehub.kit.dates import today_in_santiago
from dtehub.kit.pagination import PageRequest
from dtehub.kit.secrets import new_link_key
from dtehub.models import Client, Document, Note, Origin
from dtehub.models.document import number_sort_key
from dtehub.notes import repository
from dtehub.notes.filters import NoteFilters, NoteOrderBy
from dtehub.notes.schemas import NoteOut
from dtehub.portal.links import Links
from dtehub.webhooks import events

RECEIVABLE_REFERENCE_CODES = frozenset({"33", "34", "39", "41", "43", "46", "110"})


@dataclass(frozen=True)
class NoteTarget:
    """The reference a note acts through: the document it names and what it does to it. Only a
    reference to a type dtehub keeps as a document is ``linkable``."""

    code: str
    number: str
    reason: int | None
    reason_text: str

    @property
    def linkable(self) -> bool:
        return self.code in RECEIVABLE_REFERENCE_CODES


_REF_CODE_LENGTH = 10  # notes.ref_code
_REF_NUMBER_LENGTH = 40  # notes.ref_number, and documents.number: a longer folio names no document


def _storable(reference: DteReference) -> bool:
    # FolioRef is free text in files that are not schema-valid: never let one overflow the column.
    return len(reference.document_type) <= _REF_CODE_LENGTH and len(reference.folio) <= _REF_NUMBER_LENGTH


def target_of(fields: DteFields) -> NoteTarget | None:
    """The first reference to one document of a type dtehub stores, else the first reference to a type
    it does not store (a purchase order, a guía: shown, never linked).

    A global reference (IndGlobal, a set of documents) or one to another taxpayer's document (RUTOtr)
    names none of the company's documents, and its TpoDocRef + FolioRef could match one of them: it is
    never the target.
    """
    references = [r for r in fields.references if _storable(r)]
    chosen = next(
        (
            r
            for r in references
            if r.document_type in RECEIVABLE_REFERENCE_CODES
            and r.folio
            and not r.global_reference
            and r.other_rut in (None, fields.issuer.rut)
        ),
        None,
    )
    chosen = chosen or next(
        (r for r in references if r.document_type not in RECEIVABLE_REFERENCE_CODES), None
    )
    if chosen is None:
        return None
    folio = chosen.folio
    if chosen.document_type in RECEIVABLE_REFERENCE_CODES and folio.isascii() and folio.isdigit():
        folio = str(int(folio))  # "000100" names folio 100, stored as "100"
    return NoteTarget(
        code=chosen.document_type,
        number=folio,
        reason=chosen.reason_code,
        reason_text=chosen.reason or "",
    )


def on_document_arrival(session: Session, document: Document) -> None:
    """Link the notes that were waiting for this document, and let them count."""
    if str(document.code) not in RECEIVABLE_REFERENCE_CODES:  # no code: no reference can name it
        return
    if repository.link_waiting_notes(session, document):
        ledger.lock_and_recompute(session, document.company_id, [document.id], ledger.Source.NOTES)


def note_row_from_dte(
    company_id: int,
    client: Client,
    checked: CheckedDte,
    target: NoteTarget | None,
    document_id: int | None,
    *,
    now: datetime,
    source: Origin = Origin.API,
) -> dict[str, object]:
    """A note DTE as the values of a new notes row, linked to ``document_id`` when its document is
    known: the caller has checked issuer, type, policy and that its type and folio are new."""
    fields = checked.fields
    number = str(fields.folio)
    net = fields.net_cents + fields.exempt_cents
    return {
        "company_id": company_id,
        "client_id": client.id,
        "document_id": document_id,
        "code": fields.code,
        "number": number,
        "number_sort": number_sort_key(number),
        "issue_date": fields.issue_date,
        "currency": "CLP",
        "net_cents": net,
        "taxes_cents": fields.total_cents - net,
        "total_cents": fields.total_cents,
        "ref_code": (target.code or None) if target else None,  # a missing TpoDocRef/FolioRef shows null
        "ref_number": (target.number or None) if target else None,
        "reason": target.reason if target else None,
        "gloss": (target.reason_text if target else "")[:255],
        "notes": fields.detail_notes,
        "portal_key": new_link_key(),
        "source": source.value,
        "created_at": now,
        "created_on": today_in_santiago(now),
        "updated_at": now,
        **xml_check_columns(checked.checks),
        **NOT_SYNCED.columns(),
    }


def new_note_row(
    company_id: int,
    client_id: int,
    *,
    code: int,
    number: str,
    issue_date: date,
    net_cents: int,
    taxes_cents: int,
    total_cents: int,
    target: NoteTarget | None,
    document_id: int | None,
    now: datetime,
    source: Origin,
    sii: SiiFacts = NOT_SYNCED,
) -> dict[str, object]:
    """Every column of a new notes row known without its DTE (SII's register names it): no detail
    lines, no XML verdicts, what SII's register says of it (``sii``); linked to ``document_id`` when its
    document is known."""
    return {
        "company_id": company_id,
        "client_id": client_id,
        "document_id": document_id,
        "code": code,
        "number": number,
        "number_sort": number_sort_key(number),
        "issue_date": issue_date,
        "currency": "CLP",
        "net_cents": net_cents,
        "taxes_cents": taxes_cents,
        "total_cents": total_cents,
        "ref_code": target.code if target else None,
        "ref_number": target.number if target else None,
        "reason": None,
        "gloss": "",
        "notes": "",
        "portal_key": new_link_key(),
        "source": source.value,
        "created_at": now,
        "created_on": today_in_santiago(now),
        "updated_at": now,
        **xml_check_columns(None),
        **sii.columns(),
    }


def insert_notes(session: Session, company_id: int, rows: list[dict[str, object]]) -> list[int]:
    """Notes without a DTE (rows from :func:`new_note_row`), one or hundreds at a time; their ids."""
    return repository.insert_notes(session, company_id, rows)


def require(session: Session, company_id: int, note_id: int) -> Note:
    note = repository.get(session, company_id, note_id)
    if note is None:
        raise NotFound(f"note {note_id} not found", field="id")
    return note


def present(session: Session, company_id: int, note: Note, links: Links) -> NoteOut:
    client = clients_repository.get(session, company_id, note.client_id)
    assert client is not None  # a note's client is the note's company's, and clients are never deleted
    return NoteOut.of(note, client.tax_id, links, repository.collections_start(session, company_id))


def record_created(
    session: Session, subscriptions: events.Subscriptions, note_ids: Iterable[int], links: Links
) -> None:
    """``note.created`` for new notes, each as getNote shows it, when the company has a webhook for it."""
    ids = list(note_ids)
    webhook_ids = subscriptions.webhooks_for("note.created") if ids else []
    if webhook_ids:
        company_id = subscriptions.company_id
        views = [
            present(session, company_id, require(session, company_id, note_id), links).model_dump(
                mode="json", by_alias=True
            )
            for note_id in ids
        ]
        events.record(session, company_id, "note.created", views, webhook_ids)


def list_notes(
    session: Session,
    company_id: int,
    filters: NoteFilters,
    *,
    order_by: NoteOrderBy,
    descending: bool,
    page: PageRequest,
    links: Links,
) -> tuple[list[NoteOut], int]:
    """One page of the company's notes as getNotes shows them, and how many match in all."""
    rows, total = repository.list_page(
        session,
        company_id,
        filters,
        order_by=order_by,
        descending=descending,
        offset=page.offset,
        limit=page.per_page,
    )
    start = repository.collections_start(session, company_id) if rows else None
    return [NoteOut.of(note, tax_id, links, start) for note, tax_id in rows], total


def renew_portal_key(session: Session, company_id: int, note_id: int) -> Note:
    """A new key for the note's PDF and XML links: the old links stop working at once."""
    note = require(session, company_id, note_id)
    note.portal_key = new_link_key()
    session.flush()
    return note
