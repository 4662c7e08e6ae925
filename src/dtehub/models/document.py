from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.kit.secrets import new_link_key
from dtehub.models.base import Base, BigId, Cents, IdPk
from dtehub.models.sii_state import SiiStated
from dtehub.models.xml_checks import XmlChecked

NO_CODE = 0
"""Stored in ``code`` for a document created without an SII code (shown as ``null``)."""


class Origin(enum.StrEnum):
    """How a document or note came into dtehub (its ``source``)."""

    API = "api"  # createDocument, createDocumentFromXml
    IMPORT = "import"  # dtehub import
    MIPYME = "mipyme"  # mipyme_get_document with import
    SII = "sii"  # the SII sync, from the Registro de Ventas
    DEMO = "demo"  # dtehub demo
    RTC = "rtc"  # dtehub factoring sync-cessions: held, known from SII's RTC, no AEC yet


class DocumentState(enum.IntEnum):
    """Where a document stands regardless of the date; the status adds the due date to it."""

    OPEN = 0
    SETTLED = 1
    VOIDED = 4


OPEN_WHERE = f"state = {DocumentState.OPEN.value}"
"""The rows of ``ix_documents_open``."""


class Document(XmlChecked, SiiStated, Base):
    """A receivable: an invoice or similar document the company issued to a client, or one it holds
    (``held``): an invoice another company (``issuer_rut``) issued and ceded to it, collected from its
    debtor (the client) like any other.

    Amounts are hundredths of ``currency``. The credits, debits, payments, ``due_cents`` and ``state``
    follow from the document's notes and payments, recomputed by :mod:`dtehub.documents.ledger` alone;
    they are stored so that status filters and sorts run on indexes.
    """

    __tablename__ = "documents"
    __table_args__ = (
        # A held document (bought through a cession) keeps its issuer's RUT: two issuers' folios may meet.
        UniqueConstraint("company_id", "issuer_rut", "code", "number"),
        Index("ix_documents_company_issue", "company_id", "issue_date", "id", "created_on"),
        Index("ix_documents_company_created", "company_id", "created_at", "id"),
        Index("ix_documents_company_due", "company_id", "due_date", "id"),
        Index("ix_documents_company_number_sort", "company_id", "number_sort", "id"),
        Index("ix_documents_company_total", "company_id", "total_cents", "id"),
        Index("ix_documents_company_number", "company_id", "number"),
        Index("ix_documents_company_client_issue", "company_id", "client_id", "issue_date", "id"),
        Index("ix_documents_company_state_due", "company_id", "state", "due_date"),
        # status=2/3 (open, due before / from today) by issue date: the due date read from the index.
        Index("ix_documents_company_state_issue", "company_id", "state", "issue_date", "id", "due_date"),
        Index("ix_documents_company_currency_issue", "company_id", "currency", "issue_date", "id"),
        Index("ix_documents_company_code_issue", "company_id", "code", "issue_date", "id"),
        Index("ix_documents_client_id", "client_id"),
        Index("ix_documents_company_created_on", "company_id", "created_on", "id"),
        # The daily sweep's tacit acceptances, and siiState's ranges of receptions.
        Index("ix_documents_company_sii_received", "company_id", "sii_received_at"),
        # The open documents only (a tenth of a company's, or less), with what the web app's dashboard,
        # portfolio and lists of open documents add up: read from the index alone, never the table.
        Index(
            "ix_documents_open",
            "company_id",
            "currency",
            "due_date",
            "id",
            "client_id",
            "due_cents",
            "source",
            "issue_date",
            sqlite_where=text(OPEN_WHERE),
            postgresql_where=text(OPEN_WHERE),
        ),
        Index(
            "ix_documents_open_client",
            "company_id",
            "currency",
            "client_id",
            "due_cents",
            "due_date",
            "source",
            "issue_date",
            sqlite_where=text(OPEN_WHERE),
            postgresql_where=text(OPEN_WHERE),
        ),
        {"sqlite_autoincrement": True},  # ids are never reused
    )

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(BigId, ForeignKey("clients.id", ondelete="RESTRICT"))
    code: Mapped[int] = mapped_column(SmallInteger, default=NO_CODE, comment="SII type (TipoDTE); 0 = none")
    number: Mapped[str] = mapped_column(String(40), comment="Folio or number as given")
    number_sort: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="Numeric value of number for ordering; 0 when not numeric"
    )
    issue_date: Mapped[date]
    due_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3), default="CLP")
    net_cents: Mapped[Cents]
    taxes_cents: Mapped[Cents]
    total_cents: Mapped[Cents]
    credit_cents: Mapped[Cents]
    debit_cents: Mapped[Cents]
    paid_cents: Mapped[Cents]
    paid_date: Mapped[date | None] = mapped_column(default=None)
    due_cents: Mapped[Cents]
    voided: Mapped[bool] = mapped_column(default=False)
    state: Mapped[DocumentState] = mapped_column(SmallInteger, default=DocumentState.OPEN)
    purchase_order: Mapped[str] = mapped_column(String(255), default="")
    gloss: Mapped[str] = mapped_column(String(255), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    send_requested: Mapped[bool] = mapped_column(
        default=False, comment="The creator asked for the new-document reminder (send=1)"
    )
    portal_key: Mapped[str] = mapped_column(String(43), default=new_link_key)
    held: Mapped[bool] = mapped_column(
        default=False, comment="Bought through a cession (AEC): another company issued it, this one holds it"
    )
    issuer_rut: Mapped[str] = mapped_column(
        String(12),
        default="",
        comment="A held document's issuer (canonical RUT); '' when the company issued it",
    )
    issuer_name: Mapped[str] = mapped_column(String(100), default="", comment="A held document's issuer")
    # No Python default: a row written without one leaves the column out of its INSERT.
    source: Mapped[str | None] = mapped_column(
        String(8),
        comment="How it came in (Origin: api, import, mipyme, sii, demo); null: before 0015",
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_on: Mapped[date] = mapped_column(
        default=today_in_santiago, comment="The Santiago calendar day of created_at (dateBy=2 filters)"
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def number_sort_key(number: str) -> int:
    """Folios sort as numbers (9 before 10); other numbers sort first, by insertion."""
    # isascii: str.isdigit() also takes "²", which int() refuses.
    return int(number) if number.isascii() and number.isdigit() and len(number) <= 18 else 0
