from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId


class PaymentAllocation(Base):
    """The part of a payment that goes to one document (hundredths of the payment's currency).

    A document with allocations cannot be deleted: deleteDocument locks the document and refuses it.
    ``document_id`` cascades only so that deleting a company (documents and payments alike) works
    whichever order the database cascades in.
    """

    __tablename__ = "payment_allocations"
    __table_args__ = (Index("ix_payment_allocations_document_id", "document_id"),)

    payment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("payments.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger)
