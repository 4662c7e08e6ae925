from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, Cents, IdPk, JsonColumn

UPLOADING = "uploading"
"""A request's claim on the document: made before SII is asked, replaced by the upload's outcome."""
PENDING = "pending"
ACCEPTED = "accepted"
REJECTED = "rejected"

STANDING_WHERE = "sii_state IN ('uploading', 'pending', 'accepted')"
"""The cessions that stand: at most one per document."""


class DocumentCession(Base):
    """A cession of a document the company issued, made through SII's RTC (createCesion): to whom, for how
    much, the electronic cession file (AEC) as it was uploaded, SII's track id and what SII said of it.

    ``sii_state`` is ``uploading`` while a request holds the document's claim (the row is made before SII
    is asked; no file, no track id yet), ``pending`` from the upload until SII's verdict, then ``accepted``
    (SII registered the cession: the document is ceded) or ``rejected`` (``sii_message`` says why, in words).
    A document has at most one cession that is uploading, pending or accepted: the partial unique index
    ``ux_document_cessions_standing`` holds it, whatever two requests do at once.
    """

    __tablename__ = "document_cessions"
    __table_args__ = (
        Index("ix_document_cessions_company_document", "company_id", "document_id", "id"),
        Index("ix_document_cessions_sii_state", "sii_state", "id"),
        Index(
            "ux_document_cessions_standing",
            "document_id",
            unique=True,
            sqlite_where=text(STANDING_WHERE),
            postgresql_where=text(STANDING_WHERE),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(BigId, ForeignKey("documents.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(SmallInteger, comment="SeqCesion: 1 for the issuer's own cession")
    assignee_rut: Mapped[str] = mapped_column(String(12))
    assignee_name: Mapped[str] = mapped_column(String(100))
    assignee_address: Mapped[str] = mapped_column(String(80))
    assignee_email: Mapped[str] = mapped_column(String(80))
    amount_cents: Mapped[Cents]
    last_due_date: Mapped[date] = mapped_column(comment="UltimoVencimiento")
    contact: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn, default=None)
    declaration: Mapped[str] = mapped_column(Text, default="", comment="DeclaracionJurada as signed")
    ceded_at: Mapped[datetime] = mapped_column(comment="TmstCesion")
    signed_by: Mapped[str] = mapped_column(String(12), comment="The certificate holder's RUT")
    aec: Mapped[bytes] = mapped_column(LargeBinary, comment="The AEC file as uploaded, byte for byte")
    track_id: Mapped[int] = mapped_column(BigInteger, comment="SII's TRACKID of the upload")
    sii_state: Mapped[str] = mapped_column(
        String(10), default="pending", comment="uploading | pending | accepted | rejected"
    )
    sii_code: Mapped[str] = mapped_column(String(8), default="", comment="SII's ESTADO_ENVIO (EOK, RCS...)")
    sii_message: Mapped[str] = mapped_column(Text, default="", comment="What SII said, in words")
    sii_checked_at: Mapped[datetime | None] = mapped_column(default=None, comment="When SII was last asked")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
