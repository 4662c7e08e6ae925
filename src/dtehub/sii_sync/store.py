"""One tax period of SII's Registro de Ventas stored as documents and notes (in the caller's unit of work).

- A document or note dtehub does not have is created **from the register's row** (``source: "sii"``)
  through the one insert
  path of each (:func:`dtehub.documents.service.new_document_row` / ``insert_documents``,
  :func:`dtehub.notes.service.new_note_row` / ``insert_notes``): type, folio, issue date, amounts, the
  customer (matched by RUT, created when new, its details never overwritten by the register's name). A
  note is linked to the document its reference names, now or when that document arrives, as the DTE
  path does, and the ledger recomputes the documents whose notes changed.
- One dtehub has is matched by (type, folio); its amounts are never overwritten by SII's row: a
  disagreement is reported in the run's messages, in words, for a person to check, shows on the document
  (or note) in its ``sii.disagreements`` (the register's total and issue date are kept with SII's states
  and compared when read), and is kept as an ``xmlChecks`` problem (``sii_register``) when it has its XML.
- SII's states (reception, acuse de recibo, claim, the receiver's event) are written on both, created
  and matched (:mod:`dtehub.sii_sync.states`); a document whose ``sii`` object changed is updated
  (``document.updated``).

Amounts in the register are whole pesos; dtehub keeps hundredths. ``net`` is the affected and exempt
amounts together and ``taxes`` the rest of the total (VAT and any other tax), as for a DTE.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from dtehub.clients import service as clients_service
from dtehub.clients.schemas import ClientFields
from dtehub.companies import service as companies_service
from dtehub.documents import ledger
from dtehub.documents import service as documents_service
from dtehub.documents.sii_states import SiiFacts, disagreements, tacit_acceptance_key
from dtehub.dte.document_types import dte_type_name
from dtehub.dte.pipeline import CheckedDte
from dtehub.errors import DtehubError
from dtehub.ingest import repository as ingest_repository
from dtehub.ingest import service as ingest_service
from dtehub.ingest.attach import DISAGREES, REGISTER_CHECK
from dtehub.kit.dates import today_in_santiago
from dtehub.models import Document, Note, Origin
from dtehub.models.note import NOTE_CODES
from dtehub.notes import repository as notes_repository
from dtehub.notes import service as notes_service
from dtehub.notes.service import NoteTarget
from dtehub.portal.links import Links
from dtehub.sii_sync import repository, states
from dtehub.webhooks import events as webhook_events

RECEIVABLES = frozenset({33, 34, 43, 46, 110})
"""The register's electronic documents that dtehub keeps as documents; with :data:`NOTE_CODES` the types
synced (boletas are monthly totals in the register, never documents)."""
SYNCED_CODES = tuple(sorted(RECEIVABLES | NOTE_CODES))
"""Every type the sync keeps (:func:`is_synced`)."""
BATCH = 1000
"""Rows per insert statement."""
XML_BATCH = 200
"""XMLs per call of the DTE store (as ``dtehub import`` stores them)."""


def is_synced(code: int) -> bool:
    """A type the sync keeps: a receivable or a note (boletas are monthly totals in the register)."""
    return code in RECEIVABLES or code in NOTE_CODES


class RegisterRow(states.StatedRow, Protocol):
    """A document of the register as the RCV client reads it (:class:`dtehub.sii.rcv.RcvDocument`)."""

    @property
    def type_code(self) -> int: ...
    @property
    def folio(self) -> int: ...
    @property
    def exempt(self) -> int: ...
    @property
    def net(self) -> int: ...
    @property
    def customer_rut(self) -> str: ...
    @property
    def customer_name(self) -> str: ...
    @property
    def reference(self) -> tuple[int, int] | None: ...


@dataclass
class Stored:
    """What storing a period did: new documents and notes by (type, folio), and what a person should know."""

    documents: dict[tuple[int, str], int] = field(default_factory=dict)
    notes: dict[tuple[int, str], int] = field(default_factory=dict)
    existing_documents: dict[tuple[int, str], int] = field(default_factory=dict)
    existing_notes: dict[tuple[int, str], int] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    updated_documents: list[int] = field(default_factory=list)
    updated_notes: list[int] = field(default_factory=list)
    """Those dtehub had whose SII states changed."""
    tacit_by_days: set[int] = field(default_factory=set)
    """Documents among them tacitly accepted by their days alone (SII's facts as they were)."""

    @property
    def created(self) -> int:
        return len(self.documents) + len(self.notes)

    @property
    def updated(self) -> int:
        return len(self.updated_documents) + len(self.updated_notes)


def _cents(row: RegisterRow) -> tuple[int, int, int]:
    """(net, taxes, total) in hundredths: net counts the exempt amount, as a DTE's does."""
    net = (row.net + row.exempt) * 100
    total = row.total * 100
    return net, total - net, total


def _key(row: RegisterRow) -> tuple[int, str]:
    return row.type_code, str(row.folio)


def _target(row: RegisterRow) -> NoteTarget | None:
    if row.reference is None:
        return None
    code, folio = row.reference
    if not code or not folio:
        return None
    return NoteTarget(code=str(code), number=str(folio), reason=None, reason_text="")


def store_period(
    session: Session, company_id: int, rows: Sequence[RegisterRow], links: Links, now: datetime
) -> Stored:
    """Create what is new among ``rows`` and compare what dtehub has; nothing is committed here."""
    kept = [row for row in rows if is_synced(row.type_code)]
    by_key: dict[tuple[int, str], RegisterRow] = {}
    for row in kept:
        by_key.setdefault(_key(row), row)  # the register lists a document once; a repeat is ignored
    documents = {key: row for key, row in by_key.items() if key[0] not in NOTE_CODES}
    notes = {key: row for key, row in by_key.items() if key[0] in NOTE_CODES}
    stored = Stored()
    if not by_key:
        return stored

    # The documents these rows are or name, locked before anything is read (PostgreSQL).
    named: list[tuple[str | int, str]] = [(code, number) for code, number in documents]
    named += [(t.code, t.number) for t in map(_target, notes.values()) if t is not None and t.linkable]
    ledger.lock_arrivals(session, company_id, named)

    company = companies_service.require(session, company_id)
    have_documents = ingest_repository.digests_by_key(
        session, ingest_repository.DOCUMENTS, company_id, set(documents)
    )
    have_notes = ingest_repository.digests_by_key(session, ingest_repository.NOTES, company_id, set(notes))
    stored.existing_documents = {key: found[0] for key, found in have_documents.items()}
    stored.existing_notes = {key: found[0] for key, found in have_notes.items()}
    disagreements = list(_disagreements(session, company_id, documents, notes, stored))
    stored.messages += [message for _, _, message in disagreements]
    _keep_on_records(session, company_id, disagreements)
    changes = states.update_states(
        session, "documents", company_id, documents, stored.existing_documents, now
    )
    stored.updated_documents, stored.tacit_by_days = changes.ids, changes.by_days
    stored.updated_notes = states.update_states(
        session, "notes", company_id, notes, stored.existing_notes, now
    ).ids

    new_documents = [row for key, row in documents.items() if key not in have_documents]
    new_notes = [row for key, row in notes.items() if key not in have_notes]
    receivers = [
        (row.customer_rut, ClientFields(name=row.customer_name.strip()[:255]), False)
        for row in (*new_documents, *new_notes)
    ]
    clients = clients_service.upsert_receivers(session, company_id, receivers) if receivers else {}

    document_rows = []
    for row in new_documents:
        client = clients[row.customer_rut]
        net, taxes, total = _cents(row)
        document_rows.append(
            documents_service.new_document_row(
                company_id,
                client.id,
                code=row.type_code,
                number=str(row.folio),
                issue_date=row.issue_date,
                due_date=documents_service.default_due_date(row.issue_date, client, company),
                currency="CLP",
                total_cents=total,
                taxes_cents=taxes,
                net_cents=net,
                now=now,
                source=Origin.SII,
                sii=states.facts_of(row, now),
            )
        )
    document_ids = [
        document_id
        for start in range(0, len(document_rows), BATCH)
        for document_id in documents_service.insert_documents(
            session, company_id, document_rows[start : start + BATCH]
        )
    ]
    stored.documents = dict(zip((_key(row) for row in new_documents), document_ids, strict=True))

    # Notes link to the documents they name: those just created, or already stored.
    arrived = {(str(code), number): i for (code, number), i in stored.documents.items()}
    targets = {_key(row): _target(row) for row in new_notes}
    wanted = {(t.code, t.number) for t in targets.values() if t is not None and t.linkable} - set(arrived)
    by_reference = arrived | notes_repository.documents_by_reference(session, company_id, wanted)
    affected: set[int] = set()
    note_rows = []
    for row in new_notes:
        target = targets[_key(row)]
        document_id = by_reference.get((target.code, target.number)) if target and target.linkable else None
        if document_id is not None:
            affected.add(document_id)
        net, taxes, total = _cents(row)
        note_rows.append(
            notes_service.new_note_row(
                company_id,
                clients[row.customer_rut].id,
                code=row.type_code,
                number=str(row.folio),
                issue_date=row.issue_date,
                net_cents=net,
                taxes_cents=taxes,
                total_cents=total,
                target=target,
                document_id=document_id,
                now=now,
                source=Origin.SII,
                sii=states.facts_of(row, now),
            )
        )
    note_ids = [
        note_id
        for start in range(0, len(note_rows), BATCH)
        for note_id in notes_service.insert_notes(session, company_id, note_rows[start : start + BATCH])
    ]
    stored.notes = dict(zip((_key(row) for row in new_notes), note_ids, strict=True))

    # Notes stored earlier that were waiting for one of the new documents.
    for note in notes_repository.waiting_for(session, company_id, set(arrived)):
        document_id = arrived[(note.ref_code or "", note.ref_number or "")]
        note.document_id = document_id
        affected.add(document_id)
    changed = ledger.lock_and_recompute(session, company_id, affected, ledger.Source.NOTES)

    subscriptions = webhook_events.Subscriptions(session, company_id)
    today = today_in_santiago(now)
    documents_service.record_events(
        session, subscriptions, "document.created", document_ids, links, today=today
    )
    notes_service.record_created(session, subscriptions, note_ids, links)
    created = set(document_ids)
    # Each updated document once: its SII states changed, or its notes did. A tacit acceptance by days
    # alone is announced once, by this sync or the daily sweep, whichever sees it first.
    updated = list(dict.fromkeys([*stored.updated_documents, *(i for i in changed if i not in created)]))
    plain = [i for i in updated if i not in stored.tacit_by_days]
    tacit = [i for i in updated if i in stored.tacit_by_days]
    documents_service.record_events(session, subscriptions, "document.updated", plain, links, today=today)
    documents_service.record_events(
        session,
        subscriptions,
        "document.updated",
        tacit,
        links,
        today=today,
        dedupe_keys=[tacit_acceptance_key(i) for i in tacit],
    )
    return stored


def _disagreements(
    session: Session,
    company_id: int,
    documents: dict[tuple[int, str], RegisterRow],
    notes: dict[tuple[int, str], RegisterRow],
    stored: Stored,
) -> Iterable[tuple[str, int, str]]:
    """(kind, id, message) for each difference of a document's or note's total or issue date from SII's
    row (dtehub's stay as they are: they came from the DTE or from a person)."""
    for kind, rows, have in (
        ("documents", documents, stored.existing_documents),
        ("notes", notes, stored.existing_notes),
    ):
        if not have:
            continue
        ours = repository.amounts_of(session, kind, company_id, list(have.values()))
        for key, record_id in have.items():
            total_cents, issue_date = ours[record_id]
            row = rows[key]
            name = f"{dte_type_name(row.type_code).capitalize()} {row.folio}"
            register = SiiFacts(sii_total_cents=row.total * 100, sii_issue_date=row.issue_date)
            for found in disagreements(register, total_cents, issue_date):
                yield kind, record_id, f"{name}: {found['message']}"


def _keep_on_records(
    session: Session, company_id: int, disagreements: Sequence[tuple[str, int, str]]
) -> None:
    """A disagreement with SII's register stays on a document or note that has its XML as a problem of its
    ``xmlChecks`` too (``check: "sii_register"``), once: a verdict on that XML. Every document shows the
    current ones in its ``sii.disagreements``."""
    for kind in ("documents", "notes"):
        ids = sorted({record_id for of, record_id, _ in disagreements if of == kind})
        records = repository.with_xml(session, kind, company_id, ids) if ids else {}
        for of, record_id, message in disagreements:
            if of == kind and record_id in records:
                _keep(records[record_id], message)


def _keep(record: Document | Note, message: str) -> None:
    problems = record.xml_problems or []
    if any(p.get("check") == REGISTER_CHECK and p.get("message") == message for p in problems):
        return
    record.xml_problems = [*problems, {"check": REGISTER_CHECK, "code": DISAGREES, "message": message}]


def store_xmls(
    session: Session, company_id: int, xmls: Sequence[CheckedDte], links: Links
) -> tuple[int, list[str]]:
    """Store the signed XMLs MIPYME had for the register's documents through the one DTE store, which
    attaches each to the document or note created from the register (nothing is committed here); (how
    many attached, what a person should know: disagreements with the register, refusals)."""
    attached = 0
    messages: list[str] = []
    for start in range(0, len(xmls), XML_BATCH):
        batch = xmls[start : start + XML_BATCH]
        incoming = [ingest_service.Incoming(checked, source=Origin.SII) for checked in batch]
        for checked, outcome in zip(
            batch, ingest_service.store_many(session, company_id, incoming, links), strict=True
        ):
            name = f"{dte_type_name(checked.fields.code).capitalize()} {checked.fields.folio}"
            if isinstance(outcome, DtehubError):
                messages.append(f"{name}: its XML from SII's MIPYME portal was refused: {outcome.message}")
            elif outcome.attached or outcome.created:
                attached += 1
                messages += outcome.disagreements
    return attached, messages
