"""Which reminders are due on a Santiago day, by the company's settings and each client's flags.

- soon to fall due: open documents due ``reminder_days_before`` days after the day (0: none);
- overdue: open documents due the day before, then every ``reminder_overdue_every`` days (0: only the
  first), for at most :data:`MAX_OVERDUE_DAYS` days;
- debt summary: on the company's day (a weekday, or a day of the month), each client that owes;
- new document, credit/debit note, payment received: those of the last :data:`EVENT_WINDOW_DAYS` days
  that have no reminder yet (the services queue them at once; this catches any that came another way,
  e.g. ``createDocumentFromXml`` with ``send: 1``).

Only open documents with something due get the due-date kinds: nothing for paid or voided ones. Never
history (:mod:`dtehub.documents.history`: synced from SII, issued before the company's
``collections_start_date``): no kind names it and no debt summary counts it.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from dtehub.models import Client, Company, ReminderKind
from dtehub.reminders import repository
from dtehub.reminders.repository import Candidate

MAX_OVERDUE_DAYS = 365
EVENT_WINDOW_DAYS = 7
SUMMARY_PERIODS = ("off", "weekly", "monthly")


def overdue_due_dates(day: date, every: int) -> list[date]:
    """The due dates whose overdue reminder falls on ``day``: the day before, then every ``every`` days."""
    first = day - timedelta(days=1)
    if every <= 0:
        return [first]
    return [first - timedelta(days=k * every) for k in range(MAX_OVERDUE_DAYS // every + 1)]


def summary_due(company: Company, day: date) -> bool:
    if company.debt_summary_period == "weekly":
        return day.isoweekday() == company.debt_summary_day
    if company.debt_summary_period == "monthly":
        return day.day == company.debt_summary_day
    return False


def due_reminders(session: Session, company: Company, day: date) -> list[Candidate]:
    found: list[Candidate] = []
    start = company.collections_start_date
    if company.reminder_days_before > 0:
        soon = day + timedelta(days=company.reminder_days_before)
        for document_id, client_id in repository.documents_due_on(
            session, company.id, [soon], Client.remind_soon_to_expire, start
        ):
            found.append(Candidate(ReminderKind.SOON_TO_EXPIRE, document_id, day, client_id, document_id))
    for document_id, client_id in repository.documents_due_on(
        session,
        company.id,
        overdue_due_dates(day, company.reminder_overdue_every),
        Client.remind_expired,
        start,
    ):
        found.append(Candidate(ReminderKind.EXPIRED, document_id, day, client_id, document_id))
    since = day - timedelta(days=EVENT_WINDOW_DAYS)
    for row in repository.new_documents(session, company.id, since, day, start):
        found.append(Candidate(ReminderKind.NEW_DOCUMENT, row.id, row.created_on, row.client_id, row.id))
    for row in repository.new_notes(session, company.id, since, day, start):
        found.append(
            Candidate(ReminderKind.CREDIT_DEBIT_NOTE, row.id, row.created_on, row.client_id, row.document_id)
        )
    for payment_id, client_id, reconciled_on in repository.reconciled_payments(
        session, company.id, since, day
    ):
        found.append(Candidate(ReminderKind.NEW_PAYMENT, payment_id, reconciled_on, client_id, None))
    if summary_due(company, day):
        for client_id in repository.clients_owing(session, company.id, start):
            found.append(Candidate(ReminderKind.DEBT_SUMMARY, client_id, day, client_id, None))
    return found
