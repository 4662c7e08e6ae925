from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk


class PaymentStatus(enum.IntEnum):
    """getPayments' ``status``: only a reconciled payment counts toward its documents' paidAmount."""

    PENDING = 0  # pending reconciliation
    RECONCILED = 1
    DISCARDED = 2


class Payment(Base):
    """Money received from a client, split over some of its documents (``payment_allocations``).

    ``amount_cents`` is hundredths of ``currency``; allocations may add up to less than it (the rest is
    unallocated), never to more. ``created_on`` and ``reconciled_on`` are Santiago days, for dateBy.
    """

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_company_paid_on", "company_id", "paid_on", "id"),
        Index("ix_payments_company_created_on", "company_id", "created_on", "id"),
        Index("ix_payments_company_reconciled_on", "company_id", "reconciled_on", "id"),
        Index("ix_payments_client_id", "client_id"),
        {"sqlite_autoincrement": True},  # ids are never reused
    )

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(BigId, ForeignKey("clients.id", ondelete="RESTRICT"))
    paid_on: Mapped[date] = mapped_column(comment="The payment's date (getPayments dateBy=1)")
    currency: Mapped[str] = mapped_column(String(3), default="CLP")
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    method_id: Mapped[int | None] = mapped_column(
        SmallInteger, default=None, comment="dtehub.payments.methods catalogue"
    )
    description: Mapped[str] = mapped_column(String(255), default="")
    bank_code: Mapped[str] = mapped_column(String(64), default="")
    account_number: Mapped[str] = mapped_column(String(64), default="")
    transaction_code: Mapped[str] = mapped_column(String(128), default="")
    comments: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PaymentStatus] = mapped_column(
        SmallInteger, default=PaymentStatus.RECONCILED, comment="0 pending, 1 reconciled, 2 discarded"
    )
    reconciled_at: Mapped[datetime | None] = mapped_column(default=None)
    reconciled_on: Mapped[date | None] = mapped_column(
        default=None, comment="reconciled_at's Santiago day (dateBy=3)"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_on: Mapped[date] = mapped_column(comment="created_at's Santiago day (dateBy=2)")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
