"""Reminders by e-mail: a run queues what is due, then sends the outbox, each message at most once.

A run (``dtehub reminders run``, or the server's periodic job):

1. settles the rows a dead run left ``sending`` (their lease expired): ``unknown`` when they may have
   gone out (SMTP), so they are never sent again by themselves; with the ``.eml`` folder, which shows
   what was written, ``sent`` or ``pending`` again (:func:`recover`);
2. adds the reminders due on its Santiago day to the outbox (one row per document or client, kind and
   day: a unique key, so two runs add each once);
3. claims due rows in batches (a lease; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), renders those not
   yet rendered, and for each one commits ``sending`` (with the rendered message) right before handing
   it to the transport, then ``sent``. The ``sent`` of one message is committed together with the
   ``sending`` of the next, so a run that dies leaves at most one message whose outcome is unknown.
   The ``.eml`` folder takes a batch at a time (see :func:`_deliver`).

A send that fails is tried again after ``reminders_retry_seconds``, doubling each time, up to
``reminders_max_attempts`` sends; then the row is ``failed``. Services never commit: :func:`run` makes
its own units of work from a session factory.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dtehub.companies import service as companies_service
from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.documents.history import is_history
from dtehub.dte.pdf import PrintError, render_dte_pdf
from dtehub.errors import NotFound
from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.kit.pagination import PageRequest
from dtehub.mail.transport import FolderTransport, OutcomeUnknown, SendFailed, SmtpTransport, Transport
from dtehub.models import Client, Company, Document, EmailMessage, MessageStatus, ReminderKind
from dtehub.models.document import DocumentState
from dtehub.portal.links import Links
from dtehub.reminders import rendering, repository, selection
from dtehub.reminders.repository import EmailFilters
from dtehub.reminders.schemas import EmailDetailOut, EmailOut
from dtehub.webhooks.events import record_event, subscribers

log = logging.getLogger(__name__)

BATCH = 100
PAYMENT_RECONCILED = 1


def make_transport(settings: Settings) -> Transport:
    """SMTP when ``DTEHUB_SMTP_URL`` is set, else ``.eml`` files in ``DTEHUB_MAIL_FOLDER``."""
    if settings.smtp_url is not None and settings.smtp_url.get_secret_value():
        return SmtpTransport(
            settings.smtp_url.get_secret_value(),
            timeout=settings.smtp_timeout,
            ca_bundle=settings.smtp_ca_bundle,
        )
    return FolderTransport(Path(settings.mail_folder))


@dataclass
class RunSummary:
    day: date
    queued: int = 0
    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"reminders for {self.day.isoformat()}: {self.queued} queued, {self.sent} sent, "
            f"{self.skipped} skipped, {self.retrying} to retry, {self.failed} failed, "
            f"{self.unknown} unknown (a run stopped while sending)"
        )


def new_run_id(transport: Transport) -> str:
    """``<transport identity>:<host>:<pid>:<random>`` (at most 40 characters, the claim's column)."""
    return f"{transport.identity}:{socket.gethostname()[:10]}:{os.getpid()}:{secrets.token_hex(4)}"


def _claimed_through(run_id: str | None, transport: Transport) -> bool:
    return run_id is not None and run_id.split(":", 1)[0] == transport.identity


def queue_due(factory: sessionmaker[Session], day: date, now: datetime, company_id: int | None = None) -> int:
    """Add the reminders due on ``day`` to the outbox, one company per unit of work."""
    with unit_of_work(factory) as session:
        company_ids = [c.id for c in repository.companies(session, company_id)]
    added = 0
    for cid in company_ids:
        with unit_of_work(factory) as session:
            repository.serialize_queueing(session, cid)
            for company in repository.companies(session, cid):
                added += repository.insert_reminders(
                    session, company.id, selection.due_reminders(session, company, day), now
                )
    return added


def run(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    day: date | None = None,
    transport: Transport | None = None,
    company_id: int | None = None,
    clock: Callable[[], datetime] = utcnow,
    batch: int = BATCH,
) -> RunSummary:
    """Queue what is due on ``day`` (today in Santiago by default) and send everything the outbox has
    ready, for every company or only ``company_id``."""
    now = clock()
    day = day or today_in_santiago(now)
    summary = RunSummary(day)
    own_transport = transport is None
    transport = transport or make_transport(settings)
    try:
        summary.unknown = recover(factory, transport, now)
        summary.queued = queue_due(factory, day, now, company_id)
        send_outbox(
            factory, settings, summary, transport=transport, company_id=company_id, clock=clock, batch=batch
        )
    finally:
        if own_transport:
            transport.close()
    return summary


def recover(factory: sessionmaker[Session], transport: Transport, now: datetime) -> int:
    """Settle the rows a dead run left ``sending`` (their lease expired); returns how many became
    ``unknown``.

    When the transport the dead run wrote to can tell what happened (the same folder, on the same host,
    as the run's claim records: ``<id>.eml`` is there with the row's
    Message-ID, and whole, since files are renamed into place; or it is not there, and nothing takes
    files out of the folder), the row is ``sent`` (with its event), or ``pending`` again: it was never
    written, so writing it now is its first hand-over, not a second. Every other one may or may not
    have gone out (SMTP cannot be asked): ``unknown``, never sent again.

    A run still alive past its lease (stalled more than ``reminders_lease_seconds``) may yet write a
    file this decided was not written; the next run then writes the same message (stored, with its
    Message-ID) under the same name: the folder holds it once, and only the run holding the row's
    claim records it.
    """
    with unit_of_work(factory) as session:
        left = repository.expired_sending(session, now)
    outcomes = {
        # Only the destination the dead run wrote to can tell; any other (SMTP, another folder): unknown.
        row_id: transport.handed_over(f"{row_id:08d}", message_id)
        if _claimed_through(run, transport)
        else None
        for row_id, message_id, run in left
    }
    with unit_of_work(factory) as session:
        written = [row_id for row_id, outcome in outcomes.items() if outcome is True]
        settled = repository.mark_handed_over(session, written, now) if written else []
        for message in repository.messages_by_ids(session, settled) if settled else []:
            _record_sent_event(session, message)
        not_written = [row_id for row_id, outcome in outcomes.items() if outcome is False]
        again = repository.mark_not_handed_over(session, not_written, now) if not_written else 0
        if settled or again:
            log.info(
                "a run that stopped while writing: %s of its reminders recorded as sent, %s to send",
                len(settled),
                again,
            )
        return repository.expire_sending(session, now)


def send_outbox(
    factory: sessionmaker[Session],
    settings: Settings,
    summary: RunSummary,
    *,
    transport: Transport | None = None,
    company_id: int | None = None,
    clock: Callable[[], datetime] = utcnow,
    batch: int = BATCH,
) -> None:
    lease = timedelta(seconds=settings.reminders_lease_seconds)
    own_transport = transport is None
    transport = transport or make_transport(settings)
    run_id = new_run_id(transport)
    links = Links(settings.public_base)
    try:
        while True:
            with unit_of_work(factory) as session:
                ids = repository.claim(session, run_id, clock(), lease, batch, company_id)
            if not ids:
                break
            with unit_of_work(factory) as session:
                prepared = [_prepare(session, settings, links, m) for m in _load(session, ids)]
            _deliver(factory, settings, summary, transport, run_id, lease, prepared, clock)
    finally:
        if own_transport:
            transport.close()


# --- preparing a batch ---------------------------------------------------------------------------


@dataclass
class _Batch:
    """What a batch of messages needs, read in a few statements."""

    messages: list[EmailMessage]
    companies: dict[int, Company]
    clients: dict[int, Client]
    emails: dict[int, list[str]]
    documents: dict[int, Document]
    notes: dict[int, Any]
    open_documents: dict[int, list[Document]]
    documents_with_pdf: set[int]
    """The documents and notes stored with their XML, whose PDF is attached."""
    notes_with_pdf: set[int]


def _load(session: Session, ids: list[int]) -> list[tuple[EmailMessage, _Batch]]:
    messages = repository.messages_by_ids(session, ids)
    document_ids = {m.document_id for m in messages if m.document_id is not None}
    notes = repository.notes_by_ids(
        session, [m.subject_id for m in messages if m.kind == ReminderKind.CREDIT_DEBIT_NOTE]
    )
    summaries = [m.client_id for m in messages if m.kind == ReminderKind.DEBT_SUMMARY]
    unrendered = [m for m in messages if m.subject is None]
    loaded = _Batch(
        messages=messages,
        companies=repository.companies_by_ids(session, {m.company_id for m in messages}),
        clients=repository.clients_by_ids(session, {m.client_id for m in messages}),
        emails=repository.emails_by_client(session, {m.client_id for m in messages}),
        documents=repository.documents_by_ids(session, document_ids),
        notes=notes,
        open_documents=repository.open_documents_by_client(session, summaries) if summaries else {},
        documents_with_pdf=repository.documents_with_source(
            session, [m.document_id for m in unrendered if m.document_id is not None]
        ),
        notes_with_pdf=repository.notes_with_source(
            session, [m.subject_id for m in unrendered if m.kind == ReminderKind.CREDIT_DEBIT_NOTE]
        ),
    )
    return [(m, loaded) for m in messages]


@dataclass
class _Prepared:
    id: int
    company_id: int
    skip: str | None
    content: dict[str, Any]
    """Columns to store with the next state (the rendered message, the first time)."""
    message: EmailMessage
    attachment: tuple[str, bytes] | None = None
    error: str | None = None


_FLAGS = {
    ReminderKind.NEW_DOCUMENT: "remind_new_document",
    ReminderKind.SOON_TO_EXPIRE: "remind_soon_to_expire",
    ReminderKind.EXPIRED: "remind_expired",
    ReminderKind.NEW_PAYMENT: "remind_new_payment",
    ReminderKind.CREDIT_DEBIT_NOTE: "remind_new_document",
    ReminderKind.DEBT_SUMMARY: "remind_debt_summary",
}
"""The client's flag each kind obeys; the cession notice obeys none (it tells the debtor whom to pay)."""


def _prepare(
    session: Session, settings: Settings, links: Links, item: tuple[EmailMessage, _Batch]
) -> _Prepared:
    message, batch = item
    prepared = _Prepared(id=message.id, company_id=message.company_id, skip=None, content={}, message=message)
    try:
        _prepare_into(session, settings, links, message, batch, prepared)
    except Exception as exc:  # a message that cannot be rendered must not stop the others
        log.exception("reminder %s could not be prepared", message.id)
        prepared.error = f"could not be prepared: {type(exc).__name__}"
    return prepared


def _prepare_into(
    session: Session,
    settings: Settings,
    links: Links,
    message: EmailMessage,
    batch: _Batch,
    prepared: _Prepared,
) -> None:
    kind = ReminderKind(message.kind)
    company = batch.companies[message.company_id]
    client = batch.clients[message.client_id]
    document = batch.documents.get(message.document_id) if message.document_id is not None else None
    day = message.reminder_day
    explicit = kind == ReminderKind.NEW_DOCUMENT and document is not None and document.send_requested
    flag = _FLAGS.get(kind)
    if not explicit and flag is not None and not getattr(client, flag):
        prepared.skip = "el cliente desactivó este tipo de recordatorio"
    if kind in (ReminderKind.SOON_TO_EXPIRE, ReminderKind.EXPIRED) and (
        document is None or document.state != DocumentState.OPEN or document.due_cents <= 0
    ):
        prepared.skip = "el documento ya no tiene saldo por pagar"
    if kind == ReminderKind.NEW_DOCUMENT and document is None:
        prepared.skip = "el documento ya no existe"
    if _history(kind, company, document, batch.notes.get(message.subject_id), explicit):
        prepared.skip = HISTORY_SKIP
    attachment_ref: str | None = message.attachment_ref
    content = None
    if message.subject is None and prepared.skip is None:
        if kind in (ReminderKind.NEW_DOCUMENT, ReminderKind.SOON_TO_EXPIRE, ReminderKind.EXPIRED):
            assert document is not None
            has_pdf = document.id in batch.documents_with_pdf
            attachment_ref = f"document:{document.id}" if has_pdf else None
            name = rendering.file_name(document.code, document.number) if has_pdf else None
            content = rendering.document_reminder(
                kind,
                company,
                client,
                document,
                links.invoice_page(document.id, document.portal_key),
                day,
                name,
            )
        elif kind == ReminderKind.CREDIT_DEBIT_NOTE:
            note = batch.notes.get(message.subject_id)
            if note is None:
                prepared.skip = "la nota ya no existe"
            else:
                has_pdf = note.id in batch.notes_with_pdf
                attachment_ref = f"note:{note.id}" if has_pdf else None
                name = rendering.file_name(note.code, note.number) if has_pdf else None
                link = (
                    links.invoice_page(document.id, document.portal_key)
                    if document is not None
                    else links.client_page(client.id, client.portal_key)
                )
                content = rendering.note_reminder(company, client, note, document, link, name)
        elif kind == ReminderKind.CESSION_NOTICE:
            cession = repository.cession(session, company.id, message.subject_id)
            if document is None or cession is None or cession.sii_state != "accepted":
                prepared.skip = "la cesión ya no está registrada"
            else:
                link = links.invoice_page(document.id, document.portal_key)
                content = rendering.cession_notice(company, client, document, cession, link)
        elif kind == ReminderKind.NEW_PAYMENT:
            payment = repository.payment(session, company.id, message.subject_id)
            if payment is None or payment.status != PAYMENT_RECONCILED:
                prepared.skip = "el pago ya no está conciliado"
            else:
                allocations = repository.payment_allocations(session, payment.id)
                settled_documents = repository.documents_by_ids(session, [d for d, _ in allocations])
                settled = [(settled_documents[d], a) for d, a in allocations if d in settled_documents]
                content = rendering.payment_reminder(
                    company,
                    client,
                    payment.paid_on,
                    payment.amount_cents,
                    payment.currency,
                    settled,
                    links.client_page(client.id, client.portal_key),
                )
        else:
            owed = batch.open_documents.get(client.id, [])
            if not owed:
                prepared.skip = "el cliente no tiene saldo por pagar"
            else:
                content = rendering.debt_summary(
                    company, client, owed, links.client_page(client.id, client.portal_key), day
                )
    if content is not None:
        recipients = [e for e in batch.emails.get(client.id, []) if rendering.valid_address(e)]
        prepared.content = {
            "subject": content.subject,
            "text_body": content.text(),
            "html_body": content.html(),
            "recipients": "\n".join(recipients),
            "sender": rendering.sender(company, settings.mail_from),
            "reply_to": company.reply_to or None,
            "message_id": rendering.new_message_id(settings.mail_from),
            "attachment_ref": attachment_ref,
            "attachment_name": content.attachment_name,
        }
        if not recipients:
            prepared.skip = "el cliente no tiene contactos con e-mail"
    elif message.subject is not None and not message.recipients:
        prepared.skip = "el cliente no tiene contactos con e-mail"
    if prepared.skip is None and attachment_ref is not None:
        prepared.attachment = _attachment(
            session, company, attachment_ref, _stored(prepared, "attachment_name")
        )


HISTORY_SKIP = "documento histórico: emitido antes del inicio de la cobranza (collectionsStartDate)"
"""Why a reminder queued for a document that is history now is not sent."""


def _history(
    kind: ReminderKind, company: Company, document: Document | None, note: Any, explicit: bool
) -> bool:
    """Whether the message is about history as the company's collectionsStartDate stands now (an owner
    may have moved it since the message was queued). A new document someone asked to send is sent."""
    start = company.collections_start_date
    if kind == ReminderKind.CREDIT_DEBIT_NOTE:
        return note is not None and is_history(note.source, note.issue_date, start)
    if kind in (ReminderKind.SOON_TO_EXPIRE, ReminderKind.EXPIRED) or (
        kind == ReminderKind.NEW_DOCUMENT and not explicit
    ):
        return document is not None and is_history(document.source, document.issue_date, start)
    return False


def _stored(prepared: _Prepared, column: str) -> Any:
    return prepared.content[column] if column in prepared.content else getattr(prepared.message, column)


def _attachment(session: Session, company: Company, ref: str, name: str | None) -> tuple[str, bytes] | None:
    what, _, raw_id = ref.partition(":")
    content = (
        repository.document_source(session, int(raw_id))
        if what == "document"
        else repository.note_source(session, int(raw_id))
    )
    if content is None:
        return None
    try:
        pdf = render_dte_pdf(content, companies_service.print_settings(session, company))
    except PrintError as error:
        log.warning("%s cannot be printed (%s); the reminder goes without its PDF", ref, error.code)
        return None
    return (name or "documento.pdf", pdf)


# --- sending ---------------------------------------------------------------------------------------


def _retry_values(
    settings: Settings, attempts: int, now: datetime, error: str
) -> tuple[dict[str, Any], bool]:
    """The row after a failed attempt: pending again after a backoff, or failed at the limit."""
    if attempts >= settings.reminders_max_attempts:
        return {"status": MessageStatus.FAILED.value, "last_error": error}, False
    wait = settings.reminders_retry_seconds * 2 ** (attempts - 1)
    return {
        "status": MessageStatus.PENDING.value,
        "last_error": error,
        "next_attempt_at": now + timedelta(seconds=wait),
    }, True


def _deliver(
    factory: sessionmaker[Session],
    settings: Settings,
    summary: RunSummary,
    transport: Transport,
    run_id: str,
    lease: timedelta,
    prepared: list[_Prepared],
    clock: Callable[[], datetime],
) -> None:
    done: list[tuple[_Prepared, dict[str, Any]]] = []  # outcomes committed with the next state change

    # SMTP: one message at a time, its "sending" committed right before the hand-over (with the
    # previous message's "sent"), so a run that dies leaves at most one message unknown.
    # The .eml folder (an idempotent transport) takes the batch at once: one statement marks it
    # "sending", the files are written, one statement marks them "sent" (a commit per message would
    # take bench/reminders.py from 23 to 79 s). Still at most once: each file is renamed
    # into place whole under its row's id, so after a crash `recover` reads from the folder which of
    # the batch were written (sent, never rewritten) and which were not (pending again: their only
    # hand-over is still to come); and should a run stalled past its lease write a file that another
    # run wrote meanwhile, it is the same stored message under the same name: the folder holds it once.
    chunks = [prepared] if transport.idempotent else [[item] for item in prepared]
    for chunk in chunks:
        now = clock()
        contents: dict[int, dict[str, Any]] = {}
        with unit_of_work(factory) as session:
            _record(session, run_id, done)
            for item in chunk:
                if item.error is not None:
                    attempts = item.message.attempts + 1
                    values, again = _retry_values(settings, attempts, now, item.error)
                    repository.release(session, item.id, run_id, {**values, "attempts": attempts})
                    summary.retrying += again
                    summary.failed += not again
                elif item.skip is not None:
                    summary.skipped += repository.mark_skipped(
                        session, item.id, run_id, item.skip, item.content
                    )
                else:
                    contents[item.id] = item.content
            taken = repository.mark_sending(session, run_id, now, lease, contents) if contents else set()
            # a row not taken: another run took it over after our claim expired
        sent: list[_Prepared] = []
        for item in chunk:
            if item.id in taken and _send(settings, summary, transport, item, now, clock, done):
                sent.append(item)
        if sent:  # one outcome for the chunk: one statement records it
            outcome = {"status": MessageStatus.SENT.value, "sent_at": clock(), "last_error": None}
            done.extend((item, outcome) for item in sent)
    if done:
        with unit_of_work(factory) as session:
            _record(session, run_id, done)


def _record(session: Session, run_id: str, done: list[tuple[_Prepared, dict[str, Any]]]) -> None:
    """Store the outcomes of the sends in ``done`` (one statement per distinct outcome), with the
    ``reminder.sent`` event of each message sent for the companies that subscribe to it."""
    groups: dict[tuple[Any, ...], tuple[dict[str, Any], list[int]]] = {}
    for item, values in done:
        groups.setdefault(tuple(sorted(values.items())), (values, []))[1].append(item.id)
    recorded: set[int] = set()
    for values, ids in groups.values():
        if values["status"] == MessageStatus.SENT:
            recorded.update(repository.finish(session, ids, run_id, values))
        else:
            repository.finish(session, ids, run_id, values)
    subscribed: dict[int, bool] = {}
    for item, values in done:
        if item.id not in recorded:
            continue
        if item.company_id not in subscribed:
            subscribed[item.company_id] = bool(subscribers(session, item.company_id, "reminder.sent"))
        if subscribed[item.company_id]:
            shown = item.message
            for column, value in {**item.content, **values}.items():
                setattr(shown, column, value)
            shown.attempts += 1
            _record_sent_event(session, shown)
    done.clear()


def _record_sent_event(session: Session, message: EmailMessage) -> None:
    data = EmailOut.of(message).model_dump(mode="json", by_alias=True)
    record_event(session, message.company_id, "reminder.sent", data)


def _send(
    settings: Settings,
    summary: RunSummary,
    transport: Transport,
    item: _Prepared,
    now: datetime,
    clock: Callable[[], datetime],
    done: list[tuple[_Prepared, dict[str, Any]]],
) -> bool:
    """Hand ``item`` over; True when it went out (the caller records it), else its outcome is in ``done``."""
    attempts = item.message.attempts + 1
    mime = rendering.mime_message(
        message_id=_stored(item, "message_id"),
        sender=_stored(item, "sender"),
        reply_to=_stored(item, "reply_to"),
        recipients=_stored(item, "recipients").split("\n"),
        subject=_stored(item, "subject"),
        text=_stored(item, "text_body"),
        html=_stored(item, "html_body"),
        now=now,
        attachment=item.attachment,
    )
    try:
        transport.send(mime, f"{item.id:08d}")
    except OutcomeUnknown as exc:
        # It may have gone out: at most once means never again, and the outbox says so.
        done.append((item, {"status": MessageStatus.UNKNOWN.value, "last_error": str(exc)[:1000]}))
        summary.unknown += 1
        log.warning("reminder %s may or may not have been sent: %s", item.id, exc)
        return False
    except SendFailed as exc:
        values, again = _retry_values(settings, attempts, clock(), str(exc)[:1000])
        done.append((item, values))
        summary.retrying += again
        summary.failed += not again
        log.warning("reminder %s not sent (attempt %s): %s", item.id, attempts, exc)
        return False
    summary.sent += 1
    return True


# --- the API -------------------------------------------------------------------------------------


def list_emails(
    session: Session, company_id: int, filters: EmailFilters, page: PageRequest
) -> tuple[list[EmailOut], int]:
    rows, total = repository.list_page(session, company_id, filters, offset=page.offset, limit=page.per_page)
    return [EmailOut.of(row) for row in rows], total


def get_email(session: Session, company_id: int, message_id: int) -> EmailDetailOut:
    row = repository.get(session, company_id, message_id)
    if row is None:
        raise NotFound(f"e-mail {message_id} not found", field="id")
    return EmailDetailOut.of(row)
