from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId
from dtehub.models.open_balance import SII_ISSUE_COMMENT


class ClientBalance(Base):
    """The open documents of a company per (currency, client, SII issue date): how many and their amount
    due (hundredths). The dashboard's top debtors.

    Kept by the same triggers as ``OpenBalance`` (migration 0027); ``sii_issue_date`` as there. No client
    foreign key: the triggers write it from the document's, which has one.
    """

    __tablename__ = "client_balances"
    __table_args__ = {"sqlite_with_rowid": False}

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    client_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    sii_issue_date: Mapped[date] = mapped_column(primary_key=True, comment=SII_ISSUE_COMMENT)
    documents: Mapped[int] = mapped_column(BigInteger)
    due_cents: Mapped[int] = mapped_column(BigInteger)
