from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId


class IssuedTotal(Base):
    """The documents of a company that are not voided (open or settled) per (currency, issue date,
    synced from SII or not): how many and their total (hundredths). The dashboard's sales for the days
    sales outstanding; history is the rows ``from_sii = 1`` issued before the company's start.

    Kept exact by database triggers on ``documents`` (migration 0027).
    """

    __tablename__ = "issued_totals"
    __table_args__ = {"sqlite_with_rowid": False}

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    issue_date: Mapped[date] = mapped_column(primary_key=True)
    from_sii: Mapped[int] = mapped_column(
        SmallInteger, primary_key=True, autoincrement=False, comment="1: synced from SII"
    )
    documents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
