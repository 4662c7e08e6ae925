from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk


class DeliveryState(enum.IntEnum):
    PENDING = 0
    DELIVERED = 1
    FAILED = 2


class WebhookDelivery(Base):
    """One event to one webhook: the durable outbox row a delivery worker claims, posts and settles.

    A pending delivery is due when ``next_attempt_at`` has passed. Claiming it moves ``next_attempt_at``
    to the end of the claim's lease and sets a fresh ``lease_token``: should the worker die, the
    delivery is due again once the lease is over, and a late answer of the old claim changes nothing.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
        Index("ix_webhook_deliveries_event_id", "event_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IdPk]
    webhook_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_events.id", ondelete="CASCADE"))
    state: Mapped[DeliveryState] = mapped_column(SmallInteger, default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(255), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
