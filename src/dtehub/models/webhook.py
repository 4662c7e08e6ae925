from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk, JsonColumn


class Webhook(Base):
    """An endpoint of the company's own systems that receives the events it subscribed to.

    The signing secret is shown once, when the webhook is created; it is stored only encrypted
    (AES-GCM under a key derived from ``DTEHUB_SECRET_KEY``, see :mod:`dtehub.webhooks.signing`).
    """

    __tablename__ = "webhooks"
    __table_args__ = (
        Index("ix_webhooks_company_id", "company_id", "id"),
        {"sqlite_autoincrement": True},  # ids are never reused
    )

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JsonColumn, comment="The event types it receives")
    secret_encrypted: Mapped[bytes] = mapped_column(
        LargeBinary, comment="AES-GCM: 12-byte nonce, then ciphertext and tag"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
