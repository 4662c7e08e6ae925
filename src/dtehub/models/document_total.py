from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId


class DocumentTotal(Base):
    """How many documents a company has per (code, currency, state), whatever their dates.

    The coarse sibling of ``DocumentCount``, kept exact by the same database triggers: getDocuments'
    ``totalRecords`` without a date filter sums a dozen of these rows instead of thousands of days.
    """

    __tablename__ = "document_totals"
    __table_args__ = {"sqlite_with_rowid": False}

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    state: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    documents: Mapped[int] = mapped_column(BigInteger, default=0)
