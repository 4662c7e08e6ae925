from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId


class CollectedDay(Base):
    """The reconciled payments of a company per (currency, payment day): how many and their amount
    (hundredths). The dashboard's collected per month.

    Kept exact by database triggers on ``payments`` (migration 0027).
    """

    __tablename__ = "collected_days"
    __table_args__ = {"sqlite_with_rowid": False}

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    paid_on: Mapped[date] = mapped_column(primary_key=True)
    payments: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
