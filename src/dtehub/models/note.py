from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.kit.secrets import new_link_key
from dtehub.models.base import Base, BigId, Cents, IdPk
from dtehub.models.sii_state import SiiStated
from dtehub.models.xml_checks import XmlChecked

CREDIT_NOTE_CODES = frozenset({61, 112})
DEBIT_NOTE_CODES = frozenset({56, 111})
NOTE_CODES = CREDIT_NOTE_CODES | DEBIT_NOTE_CODES


class NoteReason(enum.IntEnum):
    """``CodRef`` of the note's reference: what the note does to the document it names."""

    VOIDS = 1  # anula: a credit note with it voids the document
    CORRECTS_TEXT = 2  # corrige texto: moves no money
    CORRECTS_AMOUNTS = 3  # corrige montos


class Note(XmlChecked, SiiStated, Base):
    """A credit or debit note (SII 61/112, 56/111), stored with the reference that names its document.

    ``document_id`` is set when that document is in dtehub (same company, ``ref_code`` + ``ref_number``);
    a note that arrives first is linked when its document arrives. Amounts are hundredths of CLP.
    """

    __tablename__ = "notes"
    __table_args__ = (
        UniqueConstraint("company_id", "code", "number"),
        Index("ix_notes_company_issue", "company_id", "issue_date", "id"),
        Index("ix_notes_company_reference", "company_id", "ref_code", "ref_number"),
        Index("ix_notes_document_id", "document_id"),
        Index("ix_notes_client_id", "client_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(BigId, ForeignKey("clients.id", ondelete="RESTRICT"))
    document_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="SET NULL"), default=None
    )
    code: Mapped[int] = mapped_column(SmallInteger, comment="SII type: 61/112 credit, 56/111 debit")
    number: Mapped[str] = mapped_column(String(40), comment="Folio")
    number_sort: Mapped[int] = mapped_column(BigInteger, default=0)
    issue_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3), default="CLP")
    net_cents: Mapped[Cents]
    taxes_cents: Mapped[Cents]
    total_cents: Mapped[Cents]
    ref_code: Mapped[str | None] = mapped_column(String(10), default=None, comment="TpoDocRef it names")
    ref_number: Mapped[str | None] = mapped_column(String(40), default=None, comment="FolioRef it names")
    reason: Mapped[int | None] = mapped_column(SmallInteger, default=None, comment="CodRef 1, 2 or 3")
    gloss: Mapped[str] = mapped_column(String(255), default="", comment="RazonRef")
    notes: Mapped[str] = mapped_column(Text, default="")
    portal_key: Mapped[str] = mapped_column(String(43), default=new_link_key)
    # No Python default: a row written without one leaves the column out of its INSERT.
    source: Mapped[str | None] = mapped_column(
        String(8),
        comment="How it came in (Origin: api, import, mipyme, sii, demo); null: before 0015",
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_on: Mapped[date] = mapped_column(comment="created_at's Santiago day, for dateBy=2")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_credit(self) -> bool:
        return self.code in CREDIT_NOTE_CODES

    @property
    def moves_money(self) -> bool:
        return self.reason != NoteReason.CORRECTS_TEXT
