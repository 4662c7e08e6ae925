from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk


class WebhookEvent(Base):
    """Something that happened to a company's objects, recorded in the transaction of the change.

    ``data`` is the object as the API showed it then, kept as the JSON text that deliveries send.
    Events are recorded only for companies with a webhook subscribed to their type.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("public_id"),
        UniqueConstraint("company_id", "dedupe_key"),
        Index("ix_webhook_events_created_at", "created_at"),
        Index("ix_webhook_events_company_document", "company_id", "document_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IdPk]
    public_id: Mapped[str] = mapped_column(String(40), comment="evt_…, what receivers de-duplicate by")
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text, comment="The object as the API showed it (JSON text)")
    dedupe_key: Mapped[str | None] = mapped_column(
        String(128), default=None, comment="Makes the event once-only per company (the overdue sweep)"
    )
    document_id: Mapped[int | None] = mapped_column(
        BigInteger, default=None, comment="The document a document.* event is about (its page's timeline)"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
