"""The columns that keep what SII's Registro de Ventas says of a document or note, shared by documents and
notes (written by the SII sync, :mod:`dtehub.sii_sync.states`; read back as the API's ``sii`` object and
the ``siiState`` filter by :mod:`dtehub.documents.sii_states`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column


class SiiStated:
    """SII's facts on a DTE as the last sync read them from the register. All null until a sync finds the
    document in SII's register (``sii_synced_at`` null: never synced). The state (received, accepted,
    tacitly accepted, claimed) is not stored: it follows from these facts and the day it is read, so a
    tacit acceptance shows the day it happens. Nor are the disagreements with the register: the register's
    total and issue date are kept, and compared with the document's own when it is read."""

    sii_received_at: Mapped[datetime | None] = mapped_column(
        default=None, comment="When SII received it (the register's detFecRecepcion)"
    )
    sii_accepted_at: Mapped[datetime | None] = mapped_column(
        default=None, comment="The customer's acuse de recibo (detFecAcuse)"
    )
    sii_claimed_at: Mapped[datetime | None] = mapped_column(
        default=None, comment="The customer's claim (detFecReclamado)"
    )
    sii_event_code: Mapped[str | None] = mapped_column(
        String(3), default=None, comment="The receiver's event (detEventoReceptor): A, C, P, R"
    )
    sii_event_description: Mapped[str | None] = mapped_column(
        String(120), default=None, comment="Its legend (detEventoReceptorLeyenda)"
    )
    sii_synced_at: Mapped[datetime | None] = mapped_column(
        default=None, comment="When a sync last read it in SII's register; null: never"
    )
    sii_total_cents: Mapped[int | None] = mapped_column(
        BigInteger, default=None, comment="The total the register lists (detMntTotal), hundredths"
    )
    sii_issue_date: Mapped[date | None] = mapped_column(
        default=None, comment="The issue date the register lists (detFchDoc)"
    )
