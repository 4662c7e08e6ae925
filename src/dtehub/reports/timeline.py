"""What happened to one document, read from the tables that hold it (the web app's document page): its
payments, credit and debit notes, reminders, webhook events and the audit log's entries about it.
Every query filters by the company, so another company's document has no timeline at all."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dtehub.models import (
    AuditEvent,
    EmailMessage,
    Note,
    Payment,
    PaymentAllocation,
    User,
    WebhookDelivery,
    WebhookEvent,
)
from dtehub.models.webhook_delivery import DeliveryState

LIMIT = 100
"""At most this many rows of each kind (the newest): a page, not an export."""


class PaymentLine(NamedTuple):
    id: int
    paid_on: date
    created_at: datetime
    currency: str
    amount_cents: int
    allocated_cents: int
    method_id: int | None
    status: int
    reconciled_at: datetime | None


def payments(session: Session, company_id: int, document_id: int) -> list[PaymentLine]:
    """The payments that go to the document, with what each gives it."""
    rows = session.execute(
        select(
            Payment.id,
            Payment.paid_on,
            Payment.created_at,
            Payment.currency,
            Payment.amount_cents,
            PaymentAllocation.amount_cents,
            Payment.method_id,
            Payment.status,
            Payment.reconciled_at,
        )
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(Payment.company_id == company_id, PaymentAllocation.document_id == document_id)
        .order_by(Payment.id.desc())
        .limit(LIMIT)
    ).all()
    return [PaymentLine._make(row) for row in rows]


class NoteLine(NamedTuple):
    id: int
    code: int
    number: str
    issue_date: date
    created_at: datetime
    currency: str
    total_cents: int
    gloss: str


def notes(session: Session, company_id: int, document_id: int) -> list[NoteLine]:
    """The credit and debit notes linked to the document."""
    rows = session.execute(
        select(
            Note.id,
            Note.code,
            Note.number,
            Note.issue_date,
            Note.created_at,
            Note.currency,
            Note.total_cents,
            Note.gloss,
        )
        .where(Note.company_id == company_id, Note.document_id == document_id)
        .order_by(Note.id.desc())
        .limit(LIMIT)
    ).all()
    return [NoteLine._make(row) for row in rows]


class ReminderLine(NamedTuple):
    id: int
    kind: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    recipients: str | None
    last_error: str | None


def reminders(session: Session, company_id: int, document_id: int) -> list[ReminderLine]:
    """The reminders of the outbox about the document, whatever their status."""
    rows = session.execute(
        select(
            EmailMessage.id,
            EmailMessage.kind,
            EmailMessage.status,
            EmailMessage.created_at,
            EmailMessage.sent_at,
            EmailMessage.recipients,
            EmailMessage.last_error,
        )
        .where(EmailMessage.company_id == company_id, EmailMessage.document_id == document_id)
        .order_by(EmailMessage.id.desc())
        .limit(LIMIT)
    ).all()
    return [ReminderLine._make(row) for row in rows]


class WebhookLine(NamedTuple):
    id: int
    type: str
    created_at: datetime
    delivered: int
    pending: int
    failed: int


def webhook_events(session: Session, company_id: int, document_id: int) -> list[WebhookLine]:
    """The document's webhook events (``document.*``) and how their deliveries stand."""

    def count(state: DeliveryState) -> Any:
        return func.coalesce(func.sum(case((WebhookDelivery.state == state, 1), else_=0)), 0)

    rows = session.execute(
        select(
            WebhookEvent.id,
            WebhookEvent.type,
            WebhookEvent.created_at,
            count(DeliveryState.DELIVERED),
            count(DeliveryState.PENDING),
            count(DeliveryState.FAILED),
        )
        .outerjoin(WebhookDelivery, WebhookDelivery.event_id == WebhookEvent.id)
        .where(
            WebhookEvent.company_id == company_id,
            WebhookEvent.document_id == document_id,
        )
        .group_by(WebhookEvent.id, WebhookEvent.type, WebhookEvent.created_at)
        .order_by(WebhookEvent.id.desc())
        .limit(LIMIT)
    ).all()
    return [WebhookLine(row[0], row[1], row[2], int(row[3]), int(row[4]), int(row[5])) for row in rows]


class AuditLine(NamedTuple):
    id: int
    created_at: datetime
    actor: str
    action: str
    user_email: str | None
    token_id: int | None
    summary: dict[str, Any]


def audit_entries(session: Session, company_id: int, document_id: int) -> list[AuditLine]:
    """The audit log's entries about the document (``object_type`` document), with who made them."""
    rows = session.execute(
        select(
            AuditEvent.id,
            AuditEvent.created_at,
            AuditEvent.actor,
            AuditEvent.action,
            User.email,
            AuditEvent.token_id,
            AuditEvent.summary,
        )
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(
            AuditEvent.company_id == company_id,
            AuditEvent.object_type == "document",
            AuditEvent.object_id == document_id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(LIMIT)
    ).all()
    return [AuditLine(row[0], row[1], row[2], row[3], row[4], row[5], row[6] or {}) for row in rows]
