from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId

NOT_SYNCED = date(9999, 12, 31)
"""``sii_issue_date`` of a document that did not come from the SII sync: no start date makes it history."""

SII_ISSUE_COMMENT = "Issue date of a document synced from SII (history before the start), else 9999-12-31"


class OpenBalance(Base):
    """The open documents of a company per (currency, due date, SII issue date): how many and their
    amount due (hundredths).

    Kept exact by database triggers on ``documents`` (migration 0027), whatever writes the rows; a group
    with no open document left is deleted. The dashboard's owed, overdue, windows and aging buckets and the
    portfolio add up these rows instead of the open documents. ``sii_issue_date`` is the issue date of a
    document synced from SII and :data:`NOT_SYNCED` for any other, so ``sii_issue_date >= the company's
    collectionsStartDate`` leaves history out (``dtehub.documents.history``) whatever that date is now.
    """

    __tablename__ = "open_balances"
    __table_args__ = {"sqlite_with_rowid": False}

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    due_date: Mapped[date] = mapped_column(primary_key=True)
    sii_issue_date: Mapped[date] = mapped_column(primary_key=True, comment=SII_ISSUE_COMMENT)
    documents: Mapped[int] = mapped_column(BigInteger)
    due_cents: Mapped[int] = mapped_column(BigInteger)
