from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, Cents, JsonColumn


class DocumentHolding(Base):
    """How a company came to hold a document (``documents.held``): the electronic cession file (AEC) it
    received, byte for byte, the last cession in it and what dtehub's verification said of it.

    Kept apart from ``documents`` (as the DTE's XML is) so that listings never drag the file along.
    """

    __tablename__ = "document_holdings"
    __table_args__ = (Index("ix_document_holdings_company", "company_id", "document_id"),)

    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(SmallInteger, comment="SeqCesion of the cession to this company")
    assignor_rut: Mapped[str] = mapped_column(String(12), comment="Who ceded it to this company")
    assignor_name: Mapped[str] = mapped_column(String(100))
    amount_cents: Mapped[Cents] = mapped_column(comment="MontoCesion, in hundredths of pesos")
    last_due_date: Mapped[date | None] = mapped_column(comment="UltimoVencimiento")
    ceded_at: Mapped[datetime | None] = mapped_column(comment="TmstCesion (Santiago wall-clock time)")
    debtor_email: Mapped[str] = mapped_column(String(80), default="", comment="eMailDeudor")
    aec: Mapped[bytes] = mapped_column(LargeBinary, comment="The AEC file as received, byte for byte")
    aec_sha256: Mapped[str] = mapped_column(String(64))
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JsonColumn, comment="The verification's findings")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
