"""Every query of the reminders: what is due, the outbox's claims and outcomes, the API's listings.

The outbox's state changes are single conditional statements (``UPDATE … WHERE status = … AND
claimed_by = …``), so two runs racing for a row cannot both win it, on SQLite (one writer at a time)
as on PostgreSQL (row locks; ``FOR UPDATE SKIP LOCKED`` lets overlapping claims pass each other).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    Update,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from dtehub.db import lock_for_transaction
from dtehub.documents.history import collected, history_flag
from dtehub.kit.dates import SANTIAGO, today_in_santiago
from dtehub.kit.sql import claimable, insert_on_conflict, on_postgresql
from dtehub.models import (
    Client,
    Company,
    Contact,
    Document,
    DocumentCession,
    DocumentSource,
    DocumentState,
    EmailMessage,
    MessageStatus,
    Note,
    NoteSource,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    ReminderKind,
)

OUTBOX = cast(Table, EmailMessage.__table__)

# The payments tables, read as plain columns for the messages that tell of a payment.
PAYMENTS = cast(Table, Payment.__table__)
ALLOCATIONS = cast(Table, PaymentAllocation.__table__)
PAYMENT_RECONCILED = PaymentStatus.RECONCILED
_CHUNK = 500


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _count(result: Any) -> int:
    """Rows an UPDATE or INSERT touched (never negative)."""
    return max(int(result.rowcount), 0)


# --- what is due -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    kind: ReminderKind
    subject_id: int
    day: date
    client_id: int
    document_id: int | None


def companies(session: Session, company_id: int | None) -> list[Company]:
    query = select(Company).order_by(Company.id)
    if company_id is not None:
        query = query.where(Company.id == company_id)
    return list(session.scalars(query))


def _collected(start: date | None) -> Any:
    """Documents that are not history for a company whose collections start on ``start``."""
    return collected(Document.source, Document.issue_date, start)


def documents_due_on(
    session: Session, company_id: int, due_dates: Sequence[date], flag: Any, start: date | None
) -> list[tuple[int, int]]:
    """(document id, client id) of the company's open documents due on one of ``due_dates`` whose
    client has ``flag`` on; never history (``start``: the company's collectionsStartDate)."""
    found: list[tuple[int, int]] = []
    for dates in _chunks(sorted(due_dates)):
        rows = session.execute(
            select(Document.id, Document.client_id)
            .join(Client, Client.id == Document.client_id)
            .where(
                Document.company_id == company_id,
                Document.state == DocumentState.OPEN,
                Document.due_cents > 0,
                Document.due_date.in_(dates),
                flag.is_(True),
                _collected(start),
            )
        )
        found.extend((row.id, row.client_id) for row in rows)
    return found


def new_documents(
    session: Session, company_id: int, since: date, day: date, start: date | None
) -> list[Row[Any]]:
    """Documents created from ``since`` to ``day`` that ask for the new-document reminder: ``send: 1``,
    or their client's ``newDocument`` flag while they are open and not yet due (an import of old,
    paid or overdue documents notifies nobody) and not history."""
    return list(
        session.execute(
            select(Document.id, Document.client_id, Document.created_on)
            .join(Client, Client.id == Document.client_id)
            .where(
                Document.company_id == company_id,
                Document.created_on >= since,
                Document.created_on <= day,
                or_(
                    Document.send_requested.is_(True),
                    and_(
                        Client.remind_new_document.is_(True),
                        Document.state == DocumentState.OPEN,
                        Document.due_date >= day,
                        _collected(start),
                    ),
                ),
            )
        )
    )


def new_notes(
    session: Session, company_id: int, since: date, day: date, start: date | None
) -> list[Row[Any]]:
    """Notes created from ``since`` to ``day`` for a document in dtehub, whose client gets new documents;
    never a note that is history itself."""
    return list(
        session.execute(
            select(Note.id, Note.client_id, Note.document_id, Note.created_on)
            .join(Client, Client.id == Note.client_id)
            .where(
                Note.company_id == company_id,
                Note.created_on >= since,
                Note.created_on <= day,
                Note.document_id.is_not(None),
                Client.remind_new_document.is_(True),
                collected(Note.source, Note.issue_date, start),
            )
        )
    )


def santiago_start(day: date) -> datetime:
    return datetime.combine(day, time(), SANTIAGO)


def reconciled_payments(
    session: Session, company_id: int, since: date, day: date
) -> list[tuple[int, int, date]]:
    """(payment id, client id, Santiago day it was reconciled) of the payments reconciled from ``since``
    to ``day`` whose client has ``newPayment`` on."""
    rows = session.execute(
        select(PAYMENTS.c.id, PAYMENTS.c.client_id, PAYMENTS.c.reconciled_at)
        .join(Client, Client.id == PAYMENTS.c.client_id)
        .where(
            PAYMENTS.c.company_id == company_id,
            PAYMENTS.c.status == PAYMENT_RECONCILED,
            PAYMENTS.c.reconciled_at >= santiago_start(since),
            PAYMENTS.c.reconciled_at < santiago_start(day + timedelta(days=1)),
            Client.remind_new_payment.is_(True),
        )
    )
    return [(row.id, row.client_id, today_in_santiago(row.reconciled_at)) for row in rows]


def clients_owing(session: Session, company_id: int, start: date | None) -> list[int]:
    """Clients with ``debtSummary`` on that owe something on an open document that is not history.

    ``IN (the owing clients)`` rather than a correlated ``EXISTS``: SQLite ran the latter through the
    (company, state) index, scanning the company's open documents once per client (14 s for 5,000
    clients of 100,000 documents); the set is read once this way (0.1 s), a hashed semi-join on
    PostgreSQL."""
    owing = select(Document.client_id).where(
        Document.company_id == company_id,
        Document.state == DocumentState.OPEN,
        Document.due_cents > 0,
        _collected(start),
    )
    return list(
        session.scalars(
            select(Client.id)
            .where(
                Client.company_id == company_id, Client.remind_debt_summary.is_(True), Client.id.in_(owing)
            )
            .order_by(Client.id)
        )
    )


def existing_keys(
    session: Session, company_id: int, kind: ReminderKind, subject_ids: Sequence[int]
) -> set[tuple[int, date]]:
    keys: set[tuple[int, date]] = set()
    for ids in _chunks(sorted(set(subject_ids))):
        rows = session.execute(
            select(EmailMessage.subject_id, EmailMessage.reminder_day).where(
                EmailMessage.company_id == company_id,
                EmailMessage.kind == kind.value,
                EmailMessage.subject_id.in_(ids),
            )
        )
        keys.update((row.subject_id, row.reminder_day) for row in rows)
    return keys


def insert_reminders(
    session: Session, company_id: int, candidates: Sequence[Candidate], now: datetime
) -> int:
    """Add the reminders that are not in the outbox yet; one that another run added meanwhile is
    left alone (the unique key decides). Returns how many this call added."""
    by_kind: dict[ReminderKind, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_kind[candidate.kind].append(candidate)
    new: list[dict[str, Any]] = []
    for kind, group in by_kind.items():
        present = existing_keys(session, company_id, kind, [c.subject_id for c in group])
        new.extend(
            {
                "company_id": company_id,
                "client_id": c.client_id,
                "document_id": c.document_id,
                "kind": c.kind.value,
                "subject_id": c.subject_id,
                "reminder_day": c.day,
                "status": MessageStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for c in group
            if (c.subject_id, c.day) not in present
        )
    if not new:
        return 0
    added = 0
    for rows in _chunks(new):
        statement = insert_on_conflict(session, OUTBOX).on_conflict_do_nothing().returning(OUTBOX.c.id)
        result = session.execute(statement, list(rows))
        added += len(result.all())
    return added


def document_for_queue(session: Session, company_id: int, document_id: int) -> Any:
    return session.execute(
        select(
            Document.id,
            Document.client_id,
            Document.created_on,
            Document.state,
            Document.due_date,
            Document.due_cents,
            Client.remind_new_document,
            history_flag(Document.source, Document.issue_date, Company.collections_start_date).label(
                "history"
            ),
        )
        .join(Client, Client.id == Document.client_id)
        .join(Company, Company.id == Document.company_id)
        .where(Document.company_id == company_id, Document.id == document_id)
    ).one_or_none()


def note_for_queue(session: Session, company_id: int, note_id: int) -> Any:
    return session.execute(
        select(
            Note.id,
            Note.client_id,
            Note.document_id,
            Note.created_on,
            Client.remind_new_document,
            history_flag(Note.source, Note.issue_date, Company.collections_start_date).label("history"),
        )
        .join(Client, Client.id == Note.client_id)
        .join(Company, Company.id == Note.company_id)
        .where(Note.company_id == company_id, Note.id == note_id)
    ).one_or_none()


def payment_for_queue(session: Session, company_id: int, payment_id: int) -> Any:
    return session.execute(
        select(PAYMENTS.c.id, PAYMENTS.c.client_id, PAYMENTS.c.reconciled_at, Client.remind_new_payment)
        .join(Client, Client.id == PAYMENTS.c.client_id)
        .where(PAYMENTS.c.company_id == company_id, PAYMENTS.c.id == payment_id)
    ).one_or_none()


# --- the outbox's life -----------------------------------------------------------------------------


def expired_sending(session: Session, now: datetime) -> list[tuple[int, str | None, str | None]]:
    """(id, Message-ID, the run's claim) of the rows left ``sending`` by a run that died (lease expired)."""
    rows = session.execute(
        select(OUTBOX.c.id, OUTBOX.c.message_id, OUTBOX.c.claimed_by)
        .where(OUTBOX.c.status == MessageStatus.SENDING.value, OUTBOX.c.lease_expires_at < now)
        .order_by(OUTBOX.c.id)
    )
    return [(row.id, row.message_id, row.claimed_by) for row in rows]


def _abandoned(ids: Sequence[int], now: datetime) -> Update:
    """An update of those of ``ids`` still ``sending`` under an expired lease (their run died)."""
    return update(OUTBOX).where(
        OUTBOX.c.id.in_(ids),
        OUTBOX.c.status == MessageStatus.SENDING.value,
        OUTBOX.c.lease_expires_at < now,
    )


def mark_handed_over(session: Session, message_ids: Sequence[int], now: datetime) -> list[int]:
    """Rows left ``sending`` by a run that died, whose message the transport shows it handed over:
    ``sent``. Returns those changed (not those another run settled meanwhile)."""
    changed: list[int] = []
    for ids in _chunks(sorted(message_ids)):
        result = session.execute(
            _abandoned(ids, now)
            # sent right after it was marked sending (the file's rename follows that commit at once)
            .values(
                status=MessageStatus.SENT.value,
                sent_at=OUTBOX.c.last_attempt_at,
                last_error=None,
                lease_expires_at=None,
            )
            .returning(OUTBOX.c.id)
        )
        changed.extend(result.scalars())
    return changed


def mark_not_handed_over(session: Session, message_ids: Sequence[int], now: datetime) -> int:
    """Rows left ``sending`` by a run that died, whose message the transport shows it never handed
    over: ``pending`` again, due now (their rendered message, Message-ID included, stays)."""
    changed = 0
    for ids in _chunks(sorted(message_ids)):
        result = session.execute(
            _abandoned(ids, now).values(
                status=MessageStatus.PENDING.value,
                next_attempt_at=now,
                lease_expires_at=None,
                last_error="the run sending it stopped before handing it over",
            )
        )
        changed += _count(result)
    return changed


def expire_sending(session: Session, now: datetime) -> int:
    """Rows left ``sending`` by a run that died (lease expired): their outcome is unknown."""
    result = session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.status == MessageStatus.SENDING.value, OUTBOX.c.lease_expires_at < now)
        .values(
            status=MessageStatus.UNKNOWN.value,
            last_error="the run sending it stopped before it knew the outcome; not sent again",
        )
    )
    return _count(result)


def claim(
    session: Session, run_id: str, now: datetime, lease: timedelta, limit: int, company_id: int | None
) -> list[int]:
    """Take up to ``limit`` due rows (or rows whose claim expired) for ``run_id``, until ``now + lease``."""
    due = or_(
        and_(OUTBOX.c.status == MessageStatus.PENDING.value, OUTBOX.c.next_attempt_at <= now),
        and_(OUTBOX.c.status == MessageStatus.CLAIMED.value, OUTBOX.c.lease_expires_at < now),
    )
    candidates = select(OUTBOX.c.id).where(due).order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id).limit(limit)
    if company_id is not None:
        candidates = candidates.where(OUTBOX.c.company_id == company_id)
    result = session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(claimable(candidates, "due")), due)
        .values(status=MessageStatus.CLAIMED.value, claimed_by=run_id, lease_expires_at=now + lease)
        .returning(OUTBOX.c.id)
    )
    return sorted(result.scalars())


def messages_by_ids(session: Session, ids: Sequence[int]) -> list[EmailMessage]:
    return list(
        session.scalars(select(EmailMessage).where(EmailMessage.id.in_(ids)).order_by(EmailMessage.id))
    )


def mark_sending(
    session: Session,
    run_id: str,
    now: datetime,
    lease: timedelta,
    contents: dict[int, dict[str, Any]],
) -> set[int]:
    """Those of ``contents``' rows still ours are being sent, from now, with their rendered message
    (when they have one to store): committed before the hand-over to the transport. Returns their ids.

    One conditional ``UPDATE … RETURNING`` takes the rows (on PostgreSQL it also locks them until the
    commit), then one executemany stores the contents of those taken."""
    taken: set[int] = set()
    for ids in _chunks(sorted(contents)):
        result = session.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.id.in_(ids),
                OUTBOX.c.status == MessageStatus.CLAIMED.value,
                OUTBOX.c.claimed_by == run_id,
            )
            .values(
                status=MessageStatus.SENDING.value,
                attempts=OUTBOX.c.attempts + 1,
                last_attempt_at=now,
                lease_expires_at=now + lease,
            )
            .returning(OUTBOX.c.id)
        )
        taken.update(result.scalars())
    _store_contents(session, {i: c for i, c in contents.items() if i in taken and c})
    return taken


def _store_contents(session: Session, contents: dict[int, dict[str, Any]]) -> None:
    """Write each row's columns (rows of this run, in the transaction that changed their state)."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for message_id, values in contents.items():
        by_columns[tuple(sorted(values))].append({"row_id": message_id, **values})
    for columns, rows in by_columns.items():
        statement = (
            update(OUTBOX)
            .where(OUTBOX.c.id == bindparam("row_id"))
            .values({column: bindparam(column) for column in columns})
        )
        session.connection().execute(statement, rows)


def mark_skipped(
    session: Session, message_id: int, run_id: str, reason: str, content: dict[str, Any]
) -> bool:
    result = session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.id == message_id,
            OUTBOX.c.status == MessageStatus.CLAIMED.value,
            OUTBOX.c.claimed_by == run_id,
        )
        .values(status=MessageStatus.SKIPPED.value, last_error=reason, lease_expires_at=None, **content)
    )
    return _count(result) == 1


def finish(session: Session, message_ids: Sequence[int], run_id: str, values: dict[str, Any]) -> list[int]:
    """Record the outcome of this run's sends, the same for all of ``message_ids`` (also when,
    meanwhile, another run called them unknown). Returns the ids recorded."""
    recorded: list[int] = []
    for ids in _chunks(sorted(message_ids)):
        result = session.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.id.in_(ids),
                OUTBOX.c.claimed_by == run_id,
                OUTBOX.c.status.in_([MessageStatus.SENDING.value, MessageStatus.UNKNOWN.value]),
            )
            .values(lease_expires_at=None, **values)
            .returning(OUTBOX.c.id)
        )
        recorded.extend(result.scalars())
    return recorded


# --- what a message says ---------------------------------------------------------------------------


_Row = TypeVar("_Row", Document, Note, Client, Company)


def _by_ids(session: Session, model: type[_Row], ids: Iterable[int]) -> dict[int, _Row]:
    wanted = sorted(set(ids))
    found: dict[int, _Row] = {}
    for chunk in _chunks(wanted):
        found.update((row.id, row) for row in session.scalars(select(model).where(model.id.in_(chunk))))
    return found


def documents_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Document]:
    return _by_ids(session, Document, ids)


def notes_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Note]:
    return _by_ids(session, Note, ids)


def clients_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Client]:
    return _by_ids(session, Client, ids)


def companies_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Company]:
    return _by_ids(session, Company, ids)


def emails_by_client(session: Session, client_ids: Iterable[int]) -> dict[int, list[str]]:
    wanted = sorted(set(client_ids))
    found: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(wanted):
        rows = session.execute(
            select(Contact.client_id, Contact.email)
            .where(Contact.client_id.in_(chunk), Contact.email != "")
            .order_by(Contact.id)
        )
        for row in rows:
            if row.email not in found[row.client_id]:
                found[row.client_id].append(row.email)
    return found


def open_documents_by_client(session: Session, client_ids: Iterable[int]) -> dict[int, list[Document]]:
    """What each client owes, as its debt summary lists it: open documents with something due, never
    history (its company's collectionsStartDate as it is now)."""
    wanted = sorted(set(client_ids))
    found: dict[int, list[Document]] = defaultdict(list)
    for chunk in _chunks(wanted):
        rows = session.scalars(
            select(Document)
            .join(Company, Company.id == Document.company_id)
            .where(
                Document.client_id.in_(chunk),
                Document.state == DocumentState.OPEN,
                Document.due_cents > 0,
                collected(Document.source, Document.issue_date, Company.collections_start_date),
            )
            .order_by(Document.due_date, Document.id)
        )
        for document in rows:
            found[document.client_id].append(document)
    return found


def payment(session: Session, company_id: int, payment_id: int) -> Any:
    return session.execute(
        select(
            PAYMENTS.c.id,
            PAYMENTS.c.client_id,
            PAYMENTS.c.paid_on,
            PAYMENTS.c.currency,
            PAYMENTS.c.amount_cents,
            PAYMENTS.c.status,
        ).where(PAYMENTS.c.company_id == company_id, PAYMENTS.c.id == payment_id)
    ).one_or_none()


def payment_allocations(session: Session, payment_id: int) -> list[tuple[int, int]]:
    """(document id, amount in cents) the payment settled."""
    rows = session.execute(
        select(ALLOCATIONS.c.document_id, ALLOCATIONS.c.amount_cents)
        .where(ALLOCATIONS.c.payment_id == payment_id)
        .order_by(ALLOCATIONS.c.document_id)
    )
    return [(row.document_id, row.amount_cents) for row in rows]


# --- the API -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailFilters:
    status: str | None = None
    kind: str | None = None
    document_id: int | None = None
    client_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def email_conditions(company_id: int, filters: EmailFilters) -> list[ColumnElement[bool]]:
    """The outbox's rows the filters name, of the company only."""
    conditions = [EmailMessage.company_id == company_id]
    if filters.status is not None:
        conditions.append(EmailMessage.status == filters.status)
    if filters.kind is not None:
        conditions.append(EmailMessage.kind == filters.kind)
    if filters.document_id is not None:
        conditions.append(EmailMessage.document_id == filters.document_id)
    if filters.client_id is not None:
        conditions.append(EmailMessage.client_id == filters.client_id)
    if filters.since is not None:
        conditions.append(EmailMessage.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(EmailMessage.created_at < filters.until)
    return conditions


def list_page(
    session: Session, company_id: int, filters: EmailFilters, *, offset: int, limit: int
) -> tuple[list[EmailMessage], int]:
    conditions = email_conditions(company_id, filters)
    total = session.scalar(select(func.count()).select_from(EmailMessage).where(*conditions)) or 0
    if offset >= total:
        return [], total
    rows = session.scalars(
        select(EmailMessage)
        .where(*conditions)
        .order_by(EmailMessage.created_at.desc(), EmailMessage.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


def get(session: Session, company_id: int, message_id: int) -> EmailMessage | None:
    return session.scalars(
        select(EmailMessage).where(EmailMessage.company_id == company_id, EmailMessage.id == message_id)
    ).one_or_none()


def release(session: Session, message_id: int, run_id: str, values: dict[str, Any]) -> bool:
    """Give back a claimed row that could not be prepared (with the outcome of that attempt)."""
    result = session.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.id == message_id,
            OUTBOX.c.status == MessageStatus.CLAIMED.value,
            OUTBOX.c.claimed_by == run_id,
        )
        .values(lease_expires_at=None, **values)
    )
    return _count(result) == 1


def documents_with_source(session: Session, document_ids: Iterable[int]) -> set[int]:
    """Those of ``document_ids`` stored with their XML (whose PDF can be printed)."""
    found: set[int] = set()
    for ids in _chunks(sorted(set(document_ids))):
        found.update(
            session.scalars(select(DocumentSource.document_id).where(DocumentSource.document_id.in_(ids)))
        )
    return found


def notes_with_source(session: Session, note_ids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    for ids in _chunks(sorted(set(note_ids))):
        found.update(session.scalars(select(NoteSource.note_id).where(NoteSource.note_id.in_(ids))))
    return found


def document_source(session: Session, document_id: int) -> bytes | None:
    return session.scalar(select(DocumentSource.content).where(DocumentSource.document_id == document_id))


def note_source(session: Session, note_id: int) -> bytes | None:
    return session.scalar(select(NoteSource.content).where(NoteSource.note_id == note_id))


def serialize_queueing(session: Session, company_id: int) -> None:
    """Make the transactions that queue a company's reminders take turns from their first read.

    PostgreSQL: an advisory lock. SQLite: a write first (matching nothing) takes the database's write
    lock, waiting for it; a transaction that read first and wrote later would instead fail at once
    ("database is locked") when another run wrote in between.
    """
    if on_postgresql(session):
        lock_for_transaction(session, f"reminders:{company_id}")
    else:
        session.execute(update(OUTBOX).where(OUTBOX.c.id == -1).values(attempts=OUTBOX.c.attempts))


def cession(session: Session, company_id: int, cession_id: int) -> DocumentCession | None:
    query = select(DocumentCession).where(
        DocumentCession.company_id == company_id, DocumentCession.id == cession_id
    )
    return session.scalars(query).first()
