from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId


class DocumentCount(Base):
    """How many documents a company has per (issue day, creation day, code, currency, state).

    Kept exact by database triggers on ``documents`` (see the migrations), whatever writes the rows, so
    that getDocuments' ``totalRecords`` for the common wide filters is a sum over a few thousand rows
    instead of a count over a million.
    """

    __tablename__ = "document_counts"
    # Clustered on its key in SQLite, so summing a company's groups reads them in one sweep.
    __table_args__ = {"sqlite_with_rowid": False}

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    issue_date: Mapped[date] = mapped_column(primary_key=True)
    created_on: Mapped[date] = mapped_column(primary_key=True)
    code: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    state: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    documents: Mapped[int] = mapped_column(BigInteger, default=0)
