from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId
from dtehub.models.open_balance import SII_ISSUE_COMMENT


class ClaimedBalance(Base):
    """The open documents of a company its customers claimed at SII (a claim date or SII's receiver event
    ``R``, as the SII sync recorded it: ``dtehub.documents.sii_states``), per (currency, SII issue date):
    how many and their amount due (hundredths). The dashboard's and portfolio's "claimed at SII".

    Kept exact by database triggers on ``documents`` (migration 0028); ``sii_issue_date`` as in
    ``OpenBalance``. Only the recorded claim is kept, which does not depend on the day it is read.
    """

    __tablename__ = "claimed_balances"
    __table_args__ = {"sqlite_with_rowid": False}

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    sii_issue_date: Mapped[date] = mapped_column(primary_key=True, comment=SII_ISSUE_COMMENT)
    documents: Mapped[int] = mapped_column(BigInteger)
    due_cents: Mapped[int] = mapped_column(BigInteger)
