"""Reminders that a change asks for at once, queued in the change's own transaction.

The time-driven kinds (soon to fall due, overdue, debt summary) are found by ``dtehub reminders run``
for its day; the kinds below follow a change, so the service making the change queues them here, and
the next run (or the server's periodic job) sends them. Each is one outbox row with a unique key, so
queuing twice (or a run finding it too) adds it once. This module only writes the outbox: rendering
and sending (PDFs, SMTP) belong to :mod:`dtehub.reminders.service`, which changes never need.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from dtehub.errors import DocumentNotOwing, NotFound
from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.models import DocumentState, ReminderKind
from dtehub.reminders import repository


def _queue_one(
    session: Session, company_id: int, kind: ReminderKind, subject_id: int, day: date, client_id: int,
    document_id: int | None,
) -> None:  # fmt: skip
    """One reminder into the outbox, unless it is there already (its unique key)."""
    repository.insert_reminders(
        session,
        company_id,
        [repository.Candidate(kind, subject_id, day, client_id, document_id)],
        utcnow(),
    )


def new_document(session: Session, company_id: int, document_id: int, *, requested: bool) -> None:
    """A document was created: queue its new-document reminder when ``requested`` (``send: 1``) or
    when its client's ``newDocument`` flag is on (for an open document not yet due, not history)."""
    session.flush()
    row = repository.document_for_queue(session, company_id, document_id)
    if row is None:
        return
    automatic = (
        row.remind_new_document
        and row.state == DocumentState.OPEN
        and row.due_date >= row.created_on
        and not row.history
    )
    if requested or automatic:
        _queue_one(
            session, company_id, ReminderKind.NEW_DOCUMENT, row.id, row.created_on, row.client_id, row.id
        )


def payment_received(session: Session, company_id: int, payment_id: int) -> None:
    """A payment became reconciled: queue its payment-received reminder (client flag ``newPayment``)."""
    session.flush()
    row = repository.payment_for_queue(session, company_id, payment_id)
    if row is None or not row.remind_new_payment:
        return
    day = today_in_santiago(row.reconciled_at) if row.reconciled_at is not None else today_in_santiago()
    _queue_one(session, company_id, ReminderKind.NEW_PAYMENT, row.id, day, row.client_id, None)


def note_issued(session: Session, company_id: int, note_id: int) -> None:
    """A credit or debit note was stored for a document in dtehub: queue its reminder (not for history)."""
    session.flush()
    row = repository.note_for_queue(session, company_id, note_id)
    if row is None or row.document_id is None or not row.remind_new_document or row.history:
        return
    _queue_one(
        session,
        company_id,
        ReminderKind.CREDIT_DEBIT_NOTE,
        row.id,
        row.created_on,
        row.client_id,
        row.document_id,
    )


def cession_registered(
    session: Session, company_id: int, cession_id: int, document_id: int, client_id: int
) -> None:
    """SII registered a cession of the document: queue the cession notice to its debtor's contacts, once
    (the cession is its subject)."""
    session.flush()
    _queue_one(
        session,
        company_id,
        ReminderKind.CESSION_NOTICE,
        cession_id,
        today_in_santiago(),
        client_id,
        document_id,
    )


def document_reminder(session: Session, company_id: int, document_id: int, day: date) -> ReminderKind | None:
    """Someone asked to remind the client of the document now: queue, for ``day``, the reminder its
    status calls for (overdue: ``expired``; not yet due: ``soonToExpire``), which the next send of the
    outbox renders and sends like any other (the client's switches and the document's balance decide
    then, as for every reminder). Answers the kind queued, or None when today's was queued already.
    A document that owes nothing has nothing to remind (:class:`DocumentNotOwing`)."""
    session.flush()
    row = repository.document_for_queue(session, company_id, document_id)
    if row is None:
        raise NotFound(f"document {document_id} not found", field="id")
    if row.state != DocumentState.OPEN or row.due_cents <= 0:
        raise DocumentNotOwing(f"document {document_id} owes nothing: there is nothing to remind")
    kind = ReminderKind.EXPIRED if row.due_date < day else ReminderKind.SOON_TO_EXPIRE
    added = repository.insert_reminders(
        session,
        company_id,
        [repository.Candidate(kind, row.id, day, row.client_id, row.id)],
        utcnow(),
    )
    return kind if added else None
