"""The reminders' outbox as the web app lists it (``/app/reminders``): each message with its client's
name and its document's number, read in one query per page, filtered by the company."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from dtehub.models import Client, Document, EmailMessage
from dtehub.reminders.repository import EmailFilters, email_conditions


class OutboxLine(NamedTuple):
    """A message of the outbox as the web app lists it: with its client's name and its document's."""

    id: int
    created_at: datetime
    kind: str
    status: str
    reminder_day: date
    attempts: int
    recipients: str | None
    subject: str | None
    last_error: str | None
    sent_at: datetime | None
    next_attempt_at: datetime
    client_id: int
    client_name: str
    client_tax_id: str
    document_id: int | None
    document_code: int | None
    document_number: str | None


def outbox_page(
    session: Session, company_id: int, filters: EmailFilters, *, offset: int, limit: int
) -> tuple[list[OutboxLine], int]:
    """A page of the outbox, newest first, in one query with the names beside (and its count)."""
    conditions = email_conditions(company_id, filters)
    total = session.scalar(select(func.count()).select_from(EmailMessage).where(*conditions)) or 0
    if offset >= total:
        return [], total
    rows = session.execute(
        select(
            EmailMessage.id,
            EmailMessage.created_at,
            EmailMessage.kind,
            EmailMessage.status,
            EmailMessage.reminder_day,
            EmailMessage.attempts,
            EmailMessage.recipients,
            EmailMessage.subject,
            EmailMessage.last_error,
            EmailMessage.sent_at,
            EmailMessage.next_attempt_at,
            EmailMessage.client_id,
            Client.name,
            Client.tax_id,
            EmailMessage.document_id,
            Document.code,
            Document.number,
        )
        .join(Client, and_(Client.id == EmailMessage.client_id, Client.company_id == company_id))
        .outerjoin(Document, and_(Document.id == EmailMessage.document_id, Document.company_id == company_id))
        .where(*conditions)
        .order_by(EmailMessage.created_at.desc(), EmailMessage.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [OutboxLine._make(row) for row in rows], total
