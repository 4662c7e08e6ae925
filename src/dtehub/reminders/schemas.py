"""The outbox as the API shows it (getEmails, getEmail)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from dtehub.kit.dates import format_datetime
from dtehub.kit.schema import ApiModel
from dtehub.models import EmailMessage, MessageStatus


class EmailOut(ApiModel):
    id: str
    kind: str = Field(
        description="newDocument, soonToExpire, expired, newPayment, creditDebitNote, debtSummary or "
        "cessionNotice"
    )
    status: str = Field(
        description="pending, claimed, sending, sent, failed (gave up after the retries), skipped (nothing "
        "to send, e.g. a client without contacts: see lastError) or unknown (the run sending it stopped; "
        "never sent again by itself)"
    )
    day: date = Field(description="The Santiago day the reminder is for")
    client_id: str
    document_id: str | None
    subject_id: str = Field(description="The document, note, payment or client the reminder is about")
    recipients: list[str]
    sender: str | None = Field(serialization_alias="from")
    reply_to: str | None
    subject: str | None
    attachment: str | None = Field(description="The attached PDF's file name")
    attempts: int
    next_attempt_at: str | None = Field(description="When a pending message is tried next")
    last_error: str | None
    created_at: str
    sent_at: str | None

    @classmethod
    def fields_of(cls, row: EmailMessage) -> dict[str, object]:
        return {
            "id": str(row.id),
            "kind": row.kind,
            "status": row.status,
            "day": row.reminder_day,
            "client_id": str(row.client_id),
            "document_id": str(row.document_id) if row.document_id is not None else None,
            "subject_id": str(row.subject_id),
            "recipients": row.recipients.split("\n") if row.recipients else [],
            "sender": row.sender,
            "reply_to": row.reply_to,
            "subject": row.subject,
            "attachment": row.attachment_name,
            "attempts": row.attempts,
            "next_attempt_at": (
                format_datetime(row.next_attempt_at) if row.status == MessageStatus.PENDING else None
            ),
            "last_error": row.last_error,
            "created_at": format_datetime(row.created_at),
            "sent_at": format_datetime(row.sent_at) if row.sent_at is not None else None,
        }

    @classmethod
    def of(cls, row: EmailMessage) -> EmailOut:
        return cls.model_validate(cls.fields_of(row))


class EmailDetailOut(EmailOut):
    message_id: str | None = Field(description="The Message-ID header")
    text: str | None = Field(description="The plain-text part")
    html: str | None = Field(description="The HTML part")

    @classmethod
    def of(cls, row: EmailMessage) -> EmailDetailOut:
        return cls.model_validate(
            {**cls.fields_of(row), "message_id": row.message_id, "text": row.text_body, "html": row.html_body}
        )
