"""What the RCV client answers: typed records of SII's Registro de Ventas, amounts in whole pesos (int), times
aware in America/Santiago."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

ELECTRONIC_TYPES = frozenset({33, 34, 43, 46, 56, 61, 110, 111, 112})
"""Issued electronic documents the register details one by one (what a sync brings in)."""
BOLETA_TYPES = frozenset({35, 38, 39, 41, 47, 48})
"""Boletas and their kin: the register holds monthly totals of them, no documents."""

_PERIOD = re.compile(r"^(\d{4})-?(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    """A tax period (``ptributario``): a month. SII's register files a document under its issue month."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (2000 <= self.year <= 2999 and 1 <= self.month <= 12):
            raise ValueError(f"{self.year}-{self.month:02d} is not a tax period")

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-08`` or ``202608``."""
        found = _PERIOD.match(text.strip())
        if found is None:
            raise ValueError(f"{text!r} is not a period such as 2026-08")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    @property
    def code(self) -> str:
        """SII's ``YYYYMM``."""
        return f"{self.year:04d}{self.month:02d}"

    def previous(self) -> Period:
        return Period(self.year, self.month - 1) if self.month > 1 else Period(self.year - 1, 12)

    def next(self) -> Period:
        return Period(self.year, self.month + 1) if self.month < 12 else Period(self.year + 1, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class ReceiverEvent:
    """SII's ``detEventoReceptor`` and its legend: ``A`` accepted for not being claimed in time, ``C`` receipt
    granted by the receiver, ``P`` paid in cash, ``R`` claimed (LibreDTE's reading; SII documents none)."""

    code: str
    description: str | None


@dataclass(frozen=True)
class RcvDocument:
    """One issued document as SII's Registro de Ventas lists it."""

    period: Period
    type_code: int
    folio: int
    issue_date: date
    exempt: int
    net: int
    vat: int
    total: int
    customer_rut: str
    customer_name: str
    received_at: datetime
    """When SII received it."""
    accepted_at: datetime | None
    """The customer's acuse de recibo, when given."""
    claimed_at: datetime | None
    """The customer's claim (reclamo), when made."""
    event: ReceiverEvent | None
    """The receiver's event; the CSV export carries none."""
    reference: tuple[int, int] | None = None
    """(type, folio) of the document a note refers to, when SII gives one."""
    sii_id: int | None = None
    """SII's own row id (``detCodigo``), when SII gives one."""


@dataclass(frozen=True)
class RcvSummaryRow:
    """One document type of a period's summary (``getResumen``)."""

    type_code: int
    name: str
    count: int
    exempt: int
    net: int
    vat: int
    total: int
    detailed: bool
    """True when SII lists the documents one by one (``DET_ELE``); boletas are monthly totals only."""


@dataclass(frozen=True)
class RcvPeriod:
    """A period of the company's Registro de Ventas: the summary, every electronic document, and what was
    left out and why."""

    period: Period
    summary: list[RcvSummaryRow]
    documents: list[RcvDocument]
    skipped: dict[int, int] = field(default_factory=dict)
    """Types left out (boletas: monthly totals, no documents; paper documents): count per type."""
    modified_at: datetime | None = None
    """When SII last changed this period's register (``dcvFecModificacion``)."""
    problems: list[str] = field(default_factory=list)
    """Rows that could not be read, counts that do not match: in words a person can act on."""
    unchanged: bool = False
    """SII has not changed the period since the time the caller gave (``unchanged_since``): only the
    summary was read, ``documents`` is empty."""
