"""Store checked DTEs: receivables as documents, credit and debit notes as notes.

Every way a DTE comes in (createDocumentFromXml, ``dtehub import``, SII retrieval) reads it with
:func:`dtehub.dte.pipeline.read_dte_file` and stores it here, so the same rules apply to all of them:
the issuer must be the company, the type one dtehub keeps, and the company's ``xmlPolicy`` decides
whether a verdict other than ``valid`` refuses it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dtehub.clients import service as clients_service
from dtehub.clients.schemas import ClientFields
from dtehub.companies import service as companies_service
from dtehub.documents import ledger
from dtehub.documents import service as documents_service
from dtehub.documents.schemas import RECEIVABLE_CODES
from dtehub.dte.pipeline import CheckedDte, XmlPolicy, policy_refusal, read_dte_file
from dtehub.errors import (
    Conflict,
    DtehubError,
    DteRefused,
    DteTooLarge,
    IssuerMismatch,
    TooManyDtes,
    UnsupportedDocumentType,
)
from dtehub.ingest import attach as attach_module
from dtehub.ingest import repository as ingest_repository
from dtehub.kit import base64
from dtehub.kit.dates import utcnow
from dtehub.kit.sql import EncodedJson
from dtehub.models import Company, Origin
from dtehub.models.note import NOTE_CODES
from dtehub.notes import repository as notes_repository
from dtehub.notes import service as notes_service
from dtehub.portal.links import Links
from dtehub.reminders import queue as reminders_queue
from dtehub.webhooks import events as webhook_events


class Kind(enum.StrEnum):
    DOCUMENT = "document"
    NOTE = "note"


@dataclass(frozen=True)
class Stored:
    """What a DTE became: a document or a note, by id; ``created`` is False when the very same XML
    was already stored (an idempotent retry or re-import) or when it ``attached`` to the row the SII
    sync had created from the Registro de Ventas (:mod:`dtehub.ingest.attach`), with the
    ``disagreements`` between the two, in words (also kept on the row as ``sii_register`` problems)."""

    kind: Kind
    id: int
    created: bool
    attached: bool = False
    disagreements: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Something was written: a new row, or an XML attached to a register-only one."""
        return self.created or self.attached


_TABLES = {Kind.DOCUMENT: ingest_repository.DOCUMENTS, Kind.NOTE: ingest_repository.NOTES}


@dataclass(frozen=True)
class Incoming:
    """A checked DTE to store, with the request's options: ``tax_id`` sends it to that client instead
    of its Receptor; ``send`` asks for the new-document reminder."""

    checked: CheckedDte
    tax_id: str | None = None
    send: bool = False
    source: Origin = Origin.API


def _in_xml(refused: DteRefused) -> DteRefused:
    """The refusal as the API answers it: the request's ``xml`` field is at fault."""
    refused.field = "xml"
    return refused


def decode_base64_xml(encoded: str, *, max_bytes: int) -> bytes:
    return base64.decode_field(
        encoded, field="xml", max_bytes=max_bytes, what="the XML", too_large=DteTooLarge
    )


def read_single_dte(content: bytes, *, max_bytes: int) -> CheckedDte:
    """The one DTE of a request body, checked; anything else is the refusal that says why."""
    try:
        # An envelope of several is refused before any of them is checked (milliseconds each).
        [outcome] = read_dte_file(content, max_bytes=max_bytes, max_dtes=1)
    except TooManyDtes as refused:  # more than the one a request carries: not a DTE it can read
        raise DteRefused(f"{refused.message}; send exactly one", field="xml") from None
    except DteRefused as refused:
        raise _in_xml(refused) from None
    if isinstance(outcome, DteRefused):
        raise _in_xml(outcome)
    return outcome


def store(
    session: Session,
    company_id: int,
    checked: CheckedDte,
    links: Links,
    *,
    tax_id: str | None = None,
    send: bool = False,
    source: Origin = Origin.API,
) -> Stored:
    """Store one DTE, or raise the error that refuses it (nothing is then written). ``links`` make the
    links of the objects in its webhook events."""
    [outcome] = store_many(
        session, company_id, [Incoming(checked, tax_id=tax_id, send=send, source=source)], links
    )
    if isinstance(outcome, DtehubError):
        raise outcome
    # One DTE through the API: its reminder is queued now, so the next send goes out with it. A bulk
    # import leaves them to the reminder run's look-back (a query per document would slow it down).
    if outcome.created and outcome.kind == Kind.DOCUMENT:
        reminders_queue.new_document(session, company_id, outcome.id, requested=send)
    elif outcome.created:
        reminders_queue.note_issued(session, company_id, outcome.id)
    return outcome


def _refusal(company: Company, item: Incoming, policy: XmlPolicy) -> DtehubError | None:
    fields = item.checked.fields
    if fields.issuer.rut != company.rut:
        return IssuerMismatch(
            f"the DTE was issued by {fields.issuer.rut}, not by this company ({company.rut})", field="xml"
        )
    if fields.code not in RECEIVABLE_CODES and fields.code not in NOTE_CODES:
        return UnsupportedDocumentType(
            f"document type {fields.code} is not a receivable or a note dtehub keeps", field="xml"
        )
    refused = policy_refusal(item.checked.checks, policy)
    return _in_xml(refused) if refused is not None else None


def _key(item: Incoming) -> tuple[int, str]:
    return item.checked.fields.code, str(item.checked.fields.folio)


def store_many(
    session: Session, company_id: int, items: Sequence[Incoming], links: Links
) -> list[Stored | DtehubError]:
    """Store DTEs together, each with the outcome it would have alone, in a few statements per batch
    (an import stores 200 at a time). A refused DTE writes nothing; the others are stored.

    Should the batch lose a race with another writer on a natural key, it is undone and each DTE is
    stored on its own, so every one still gets its own outcome.
    """
    try:
        with session.begin_nested():
            return _store_many(session, company_id, items, links)
    except IntegrityError:
        pass  # another writer stored one of these keys since they were read
    if len(items) > 1:
        # All the batch's locks at once, in order: one DTE at a time would take them out of order.
        ledger.lock_arrivals(session, company_id, _documents_named(items))
        return [outcome for item in items for outcome in store_many(session, company_id, [item], links)]
    try:
        with session.begin_nested():
            # The other writer's row is visible now: the very same XML is then an idempotent retry.
            return _store_many(session, company_id, items, links)
    except IntegrityError:
        code, number = _key(items[0])
        return [Conflict(f"DTE {number} (code {code}) already exists", field="xml")]


def _store_many(
    session: Session, company_id: int, items: Sequence[Incoming], links: Links
) -> list[Stored | DtehubError]:
    company = companies_service.require(session, company_id)
    policy = XmlPolicy(company.xml_policy)
    outcomes: list[Stored | DtehubError | None] = [_refusal(company, item, policy) for item in items]
    accepted = [i for i, outcome in enumerate(outcomes) if outcome is None]
    is_note = {i: items[i].checked.fields.code in NOTE_CODES for i in accepted}
    targets = {i: notes_service.target_of(items[i].checked.fields) for i in accepted if is_note[i]}

    # Every document these DTEs are or name, locked before anything is read (PostgreSQL).
    ledger.lock_arrivals(session, company_id, _documents_named([items[i] for i in accepted]))
    kinds = {i: Kind.NOTE if is_note[i] else Kind.DOCUMENT for i in accepted}
    stored = {
        kind: ingest_repository.digests_by_key(
            session, _TABLES[kind], company_id, {_key(items[i]) for i in accepted if kinds[i] == kind}
        )
        for kind in Kind
    }
    # Rows the SII sync created from the Registro de Ventas, without XML yet: an XML attaches to them.
    register_only = {
        kind: ingest_repository.register_only(
            session, _TABLES[kind], company_id, {i for i, digest in stored[kind].values() if digest is None}
        )
        for kind in Kind
    }
    new: list[int] = []
    attach: list[int] = []
    first_of: dict[tuple[Kind, tuple[int, str]], int] = {}  # a key seen earlier in this batch
    repeats: dict[int, int] = {}
    for i in accepted:
        kind, key, digest = kinds[i], _key(items[i]), items[i].checked.sha256
        earlier = first_of.get((kind, key))
        existing = stored[kind].get(key)
        if existing is not None and existing[0] not in register_only[kind]:
            existing_id, existing_digest = existing
            outcomes[i] = (
                Stored(kind, existing_id, created=False)
                if existing_digest == digest
                else _conflict(kind, key)
            )
        elif earlier is not None:
            if items[earlier].checked.sha256 == digest:
                repeats[i] = earlier
            else:
                outcomes[i] = _conflict(kind, key)
        else:
            first_of[(kind, key)] = i
            (new if existing is None else attach).append(i)

    receivers = {i: _receiver(items[i]) for i in (*new, *attach)}
    clients = clients_service.upsert_receivers(session, company_id, list(receivers.values()))
    now = utcnow()
    new_documents = [i for i in new if not is_note[i]]
    document_rows = [
        documents_service.document_row_from_dte(
            company,
            clients[receivers[i][0]],
            items[i].checked,
            send=items[i].send,
            now=now,
            source=items[i].source,
        )
        for i in new_documents
    ]
    document_ids = documents_service.insert_documents(session, company_id, document_rows)
    document_sources = [source_row(items[i].checked) for i in new_documents]
    ingest_repository.insert_sources(session, _TABLES[Kind.DOCUMENT], document_ids, document_sources)
    documents = dict(zip(new_documents, document_ids, strict=True))

    # Notes link to the documents they name: those of this batch, or already stored.
    arrived = {_reference_key(items[i]): documents[i] for i in new_documents}
    wanted = {(t.code, t.number) for t in targets.values() if t and t.linkable} - set(arrived)
    by_reference = arrived | notes_repository.documents_by_reference(session, company_id, wanted)
    new_notes = [i for i in new if is_note[i]]
    note_rows: list[dict[str, object]] = []
    affected: set[int] = set()
    for i in new_notes:
        target = targets[i]
        document_id = by_reference.get((target.code, target.number)) if target and target.linkable else None
        if document_id is not None:
            affected.add(document_id)
        client = clients[receivers[i][0]]
        checked = items[i].checked
        note_rows.append(
            notes_service.note_row_from_dte(
                company_id, client, checked, target, document_id, now=now, source=items[i].source
            )
        )
    sources = [source_row(items[i].checked) for i in new_notes]
    note_ids = ingest_repository.insert_many(session, _TABLES[Kind.NOTE], company_id, note_rows, sources)
    notes = dict(zip(new_notes, note_ids, strict=True))

    # Notes stored earlier that were waiting for one of the new documents, then the documents whose
    # notes changed: their amounts are recomputed from all their notes.
    for note in notes_repository.waiting_for(session, company_id, set(arrived)):
        document_id = arrived[(note.ref_code or "", note.ref_number or "")]
        note.document_id = document_id
        affected.add(document_id)

    # XMLs for rows the SII sync created from the register: the rows gain them (ingest.attach).
    ids = {kind: {key: found[0] for key, found in stored[kind].items()} for kind in Kind}
    arrivals = {
        i: attach_module.Arrival(ids[kinds[i]][_key(items[i])], items[i].checked, clients[receivers[i][0]])
        for i in attach
    }
    for kind in Kind:
        of_kind = [i for i in attach if kinds[i] == kind]
        ingest_repository.insert_sources(
            session,
            _TABLES[kind],
            [arrivals[i].id for i in of_kind],
            [source_row(items[i].checked) for i in of_kind],
        )
    said = attach_module.attach_documents(
        session, company, [arrivals[i] for i in attach if not is_note[i]], now=now
    )
    note_targets = {arrivals[i].id: targets[i] for i in attach if is_note[i]}
    note_links = {
        note_id: by_reference.get((target.code, target.number)) if target and target.linkable else None
        for note_id, target in note_targets.items()
    }
    relinked, said_of_notes = attach_module.attach_notes(
        session, company_id, [arrivals[i] for i in attach if is_note[i]], note_targets, note_links, now=now
    )
    affected |= relinked
    changed = ledger.lock_and_recompute(session, company_id, affected, ledger.Source.NOTES)
    subscriptions = webhook_events.Subscriptions(session, company_id)
    documents_service.record_events(session, subscriptions, "document.created", document_ids, links)
    notes_service.record_created(session, subscriptions, note_ids, links)
    created = set(document_ids)
    # The new ones' events show them with their notes; an attached document's shows its XML.
    updated = sorted({i for i in changed if i not in created} | set(said))
    documents_service.record_events(session, subscriptions, "document.updated", updated, links)
    for i in attach:
        kind, row_id = kinds[i], arrivals[i].id
        problems = (said_of_notes if kind == Kind.NOTE else said).get(row_id, [])
        outcomes[i] = Stored(kind, row_id, created=False, attached=True, disagreements=tuple(problems))

    for i, document_id in documents.items():
        outcomes[i] = Stored(Kind.DOCUMENT, document_id, created=True)
    for i, note_id in notes.items():
        outcomes[i] = Stored(Kind.NOTE, note_id, created=True)
    for i, earlier in repeats.items():
        first = outcomes[earlier]
        assert isinstance(first, Stored)
        outcomes[i] = Stored(first.kind, first.id, created=False)
    assert all(outcome is not None for outcome in outcomes)
    return cast(list[Stored | DtehubError], outcomes)


def _documents_named(items: Sequence[Incoming]) -> list[tuple[str | int, str]]:
    """(code, number) of the documents these DTEs are (receivables) or name (notes): their arrival locks."""
    named: list[tuple[str | int, str]] = []
    for item in items:
        fields = item.checked.fields
        if fields.code in NOTE_CODES:
            target = notes_service.target_of(fields)
            if target is not None and target.linkable:
                named.append((target.code, target.number))
        else:
            named.append(_key(item))
    return named


def _reference_key(item: Incoming) -> tuple[str, str]:
    """How a note's reference names this document: (TpoDocRef, FolioRef) as text."""
    return str(item.checked.fields.code), str(item.checked.fields.folio)


def source_row(checked: CheckedDte) -> dict[str, object]:
    """The row of a DTE's XML source: its bytes, their SHA-256 and its fields' JSON text, as the
    pipeline encoded it (in an import's worker), stored without encoding it again."""
    return {"content": checked.content, "sha256": checked.sha256, "fields": EncodedJson(checked.fields_text)}


def _conflict(kind: Kind, key: tuple[int, str]) -> Conflict:
    code, number = key
    return Conflict(f"{kind.value} {number} (code {code}) already exists", field="xml")


def _receiver(item: Incoming) -> tuple[str, ClientFields, bool]:
    """The client a DTE goes to: the request's ``taxId``, else its Receptor, whose details are kept
    up to date unless the DTE was sent to another client."""
    receiver = item.checked.fields.receiver
    # Cut to the columns' lengths: a file that breaks the schema may carry longer texts (lenient policy).
    fields = ClientFields(
        name=receiver.name[:255],
        activity=receiver.activity[:255],
        address=receiver.address[:255],
        comuna=receiver.comuna[:128],
        city=receiver.city[:128],
    )
    return item.tax_id or receiver.rut, fields, item.tax_id in (None, receiver.rut)
