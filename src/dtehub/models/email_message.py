from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk


class ReminderKind(enum.StrEnum):
    """What a reminder is about; the names of the client's ``sendReminders`` flags where one applies."""

    NEW_DOCUMENT = "newDocument"
    SOON_TO_EXPIRE = "soonToExpire"
    EXPIRED = "expired"
    NEW_PAYMENT = "newPayment"
    CREDIT_DEBIT_NOTE = "creditDebitNote"
    DEBT_SUMMARY = "debtSummary"
    CESSION_NOTICE = "cessionNotice"
    """SII registered a cession of the document: whom the debtor pays from now on (once per cession)."""


class MessageStatus(enum.StrEnum):
    """Where a message of the outbox stands.

    ``pending`` waits for ``next_attempt_at``; ``claimed`` is held by a run until ``lease_expires_at``
    (then any run may take it again); ``sending`` was committed right before the hand-over to the
    transport, ``sent`` right after. A ``sending`` row whose lease expired belonged to a run that died:
    whether it went out is not known, so it becomes ``unknown`` and is never sent again by itself.
    """

    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


class EmailMessage(Base):
    """The outbox: one row per reminder (subject, kind, day), unique, so that it goes out at most once.

    ``subject_id`` is the row the kind is about: a document (new document, soon to expire, expired),
    a note, a payment or a client (debt summary). The message is rendered when a run first takes the
    row and kept as sent (a retry sends the very same message); the attachment is a reference
    (``attachment_ref``), printed again when sent.
    """

    __tablename__ = "email_messages"
    __table_args__ = (
        UniqueConstraint("company_id", "kind", "subject_id", "reminder_day"),
        Index("ix_email_messages_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_email_messages_company_created", "company_id", "created_at", "id"),
        Index("ix_email_messages_company_client", "company_id", "client_id"),
        Index("ix_email_messages_company_document", "company_id", "document_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(BigId, ForeignKey("clients.id", ondelete="CASCADE"))
    document_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(
        BigInteger, comment="The document, note, payment or client (debt summary) the reminder is about"
    )
    reminder_day: Mapped[date] = mapped_column(comment="The Santiago day the reminder is for")
    status: Mapped[str] = mapped_column(String(10), default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(40), default=None)
    message_id: Mapped[str | None] = mapped_column(String(255), default=None, comment="Message-ID header")
    sender: Mapped[str | None] = mapped_column(String(512), default=None, comment="From header")
    reply_to: Mapped[str | None] = mapped_column(String(512), default=None)
    recipients: Mapped[str | None] = mapped_column(Text, default=None, comment="Addresses, one a line")
    subject: Mapped[str | None] = mapped_column(String(512), default=None)
    text_body: Mapped[str | None] = mapped_column(Text, default=None)
    html_body: Mapped[str | None] = mapped_column(Text, default=None)
    attachment_ref: Mapped[str | None] = mapped_column(
        String(64), default=None, comment="document:<id> or note:<id>: its PDF is attached"
    )
    attachment_name: Mapped[str | None] = mapped_column(String(128), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
