"""The emulated Registro de Ventas: every company's issued documents as SII's RCV holds them, and how their
states move with time.

``rcv/<company RUT>.csv`` (one per company, ``;``-separated, UTF-8, header first)::

    type;folio;issue_date;customer_rut;customer_name;exempt;net;vat;total;received_at;accepted_at;claimed_at;claim_event;ref_type;ref_folio
    33;1001;2026-08-03;81675600-6;CLIENTE SPA;0;10000;1900;11900;2026-08-03T10:15:00;2026-08-05T09:00:00;;;;
    61;40;2026-08-20;81675600-6;CLIENTE SPA;0;5000;950;5950;2026-08-20T12:00:00;;;;33;1001

Times are America/Santiago wall-clock times, as SII shows them. A time in the future is not yet true: a
document whose ``received_at`` is later than the emulator's clock is not in the register yet, an
``accepted_at`` or ``claimed_at`` later than it has not happened yet. That is how SII's states change
over time while the emulator serves, together with :meth:`Register.accept`, :meth:`Register.claim` and
:meth:`Register.add` (tests) and the 8-day rule: an invoice neither accepted nor claimed 8 calendar days
after SII received it shows the receiver event ``A`` (accepted for not being claimed in time).

``rcv/<company RUT>.boletas.csv``: monthly boleta totals, ``period;type;count;exempt;net;vat;total``
(``period`` as ``YYYYMM``): SII's register has no per-document detail for boletas.

A document's tax period is the month of its issue date.
"""

from __future__ import annotations

import bisect
import csv
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dtehub.kit.rut import InvalidRut, normalize_rut

RCV_DIR = "rcv"
SANTIAGO = ZoneInfo("America/Santiago")
TACIT_ACCEPTANCE = timedelta(days=8)
"""Ley 19.983: an invoice not claimed within 8 calendar days of its reception is irrevocably accepted."""
ACCEPTABLE_TYPES = frozenset({33, 34, 43})
"""Documents a receiver accepts or claims (LibreDTE's list); notes and exports carry no receiver event."""
BOLETA_TYPES = frozenset({35, 38, 39, 41, 47, 48})
"""Types the register holds as monthly totals only."""
COLUMNS = (
    "type", "folio", "issue_date", "customer_rut", "customer_name", "exempt", "net", "vat", "total",
    "received_at", "accepted_at", "claimed_at", "claim_event", "ref_type", "ref_folio",
)  # fmt: skip
BOLETA_COLUMNS = ("period", "type", "count", "exempt", "net", "vat", "total")
CLAIM_EVENTS = {
    "RCD": "Reclamo al contenido del documento",
    "RFP": "Reclamo por falta parcial de mercaderías",
    "RFT": "Reclamo por falta total de mercaderías",
}
ACCEPTED_EVENT = ("C", "Recibo otorgado por el receptor")
TACIT_EVENT = ("A", "No reclamado en plazo, recepción automática")
CLAIMED_CODE = "R"


class RegisterError(ValueError):
    """A register file the emulator cannot use (its name and line say where)."""


def santiago_now() -> datetime:
    """Now as a wall-clock time in Santiago (naive, as the register's times)."""
    return datetime.now(SANTIAGO).replace(tzinfo=None)


@dataclass(slots=True)
class Entry:
    """One issued document in the register."""

    type_code: int
    folio: int
    issue_date: date
    customer_rut: str
    customer_name: str
    exempt: int
    net: int
    vat: int
    total: int
    received_at: datetime
    accepted_at: datetime | None = None
    claimed_at: datetime | None = None
    claim_event: str | None = None
    ref_type: int | None = None
    ref_folio: int | None = None
    codigo: int = 0
    """SII's internal row id (``detCodigo``)."""

    @property
    def period(self) -> str:
        return f"{self.issue_date.year:04d}{self.issue_date.month:02d}"


@dataclass(frozen=True, slots=True)
class State:
    """What SII shows of a document at one moment."""

    accepted_at: datetime | None
    claimed_at: datetime | None
    event: tuple[str, str] | None


def state_at(entry: Entry, now: datetime) -> State:
    claimed = entry.claimed_at if entry.claimed_at is not None and entry.claimed_at <= now else None
    accepted = entry.accepted_at if entry.accepted_at is not None and entry.accepted_at <= now else None
    if claimed is not None:
        why = CLAIM_EVENTS.get(entry.claim_event or "RCD", CLAIM_EVENTS["RCD"])
        return State(accepted, claimed, (CLAIMED_CODE, f"Reclamado: {why}"))
    if accepted is not None:
        return State(accepted, None, ACCEPTED_EVENT)
    if entry.type_code in ACCEPTABLE_TYPES and now >= entry.received_at + TACIT_ACCEPTANCE:
        return State(None, None, TACIT_EVENT)
    return State(None, None, None)


def _changes(entry: Entry) -> Iterable[datetime]:
    """The moments the document's row changes."""
    yield entry.received_at
    if entry.accepted_at is not None:
        yield entry.accepted_at
    if entry.claimed_at is not None:
        yield entry.claimed_at
    elif entry.type_code in ACCEPTABLE_TYPES and entry.accepted_at is None:
        yield entry.received_at + TACIT_ACCEPTANCE


@dataclass(frozen=True, slots=True)
class BoletaTotal:
    period: str
    type_code: int
    count: int
    exempt: int
    net: int
    vat: int
    total: int


@dataclass
class _Company:
    periods: dict[str, list[Entry]] = field(default_factory=dict)
    by_key: dict[tuple[int, int], Entry] = field(default_factory=dict)
    boletas: list[BoletaTotal] = field(default_factory=list)
    touched: dict[str, datetime] = field(default_factory=dict)
    """When a test changed a period by hand (accept, claim, add): its modification time at least."""
    moments: dict[str, tuple[list[datetime], list[datetime]]] = field(default_factory=dict)
    """Per period, its receptions and all its changes, sorted (a cache of :meth:`Register.modified_at`)."""


class Register:
    """Every company's register; thread-safe. ``clock`` gives Santiago's wall-clock time (naive)."""

    def __init__(self, clock: Callable[[], datetime] = santiago_now) -> None:
        self._lock = threading.Lock()
        self._companies: dict[str, _Company] = {}
        self._base_clock = clock
        self._offset = timedelta()
        self._next_codigo = 1_000_000_000

    # --- time ----------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._base_clock() + self._offset

    def advance(self, delta: timedelta) -> None:
        """Move the register's clock forward (states follow: tacit acceptances, scheduled events)."""
        with self._lock:
            self._offset += delta

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        with self._lock:
            self._base_clock, self._offset = clock, timedelta()

    # --- loading -------------------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path, clock: Callable[[], datetime] = santiago_now) -> Register:
        register = cls(clock)
        if not directory.is_dir():
            return register
        for path in sorted(directory.glob("*.csv")):
            name = path.name
            if name.endswith(".boletas.csv"):
                company = _file_rut(path, name.removesuffix(".boletas.csv"))
                register._company(company).boletas.extend(_read_boletas(path))
            else:
                company = _file_rut(path, name.removesuffix(".csv"))
                register._add_all(company, _read_entries(path))
        return register

    def _company(self, rut: str) -> _Company:
        return self._companies.setdefault(rut, _Company())

    def _add_all(self, company_rut: str, entries: Iterable[Entry]) -> None:
        company = self._company(company_rut)
        for entry in entries:
            key = (entry.type_code, entry.folio)
            if key in company.by_key:
                raise RegisterError(f"{company_rut}: type {key[0]} folio {key[1]} is in the register twice")
            self._next_codigo += 1
            entry.codigo = self._next_codigo
            company.by_key[key] = entry
            company.periods.setdefault(entry.period, []).append(entry)
            company.moments.pop(entry.period, None)
        for entries_of_period in company.periods.values():
            entries_of_period.sort(key=lambda e: (e.type_code, e.folio))

    # --- reading -------------------------------------------------------------------------------------

    def companies(self) -> list[str]:
        with self._lock:
            return sorted(self._companies)

    def count(self, company_rut: str | None = None) -> int:
        with self._lock:
            chosen = [self._companies[company_rut]] if company_rut in self._companies else []
            if company_rut is None:
                chosen = list(self._companies.values())
            return sum(len(company.by_key) for company in chosen)

    def visible(self, company_rut: str, period: str, now: datetime) -> list[Entry]:
        """The period's documents SII has received by ``now``, ordered by type and folio."""
        with self._lock:
            company = self._companies.get(company_rut)
            entries = company.periods.get(period, []) if company is not None else []
            return [entry for entry in entries if entry.received_at <= now]

    def boletas(self, company_rut: str, period: str) -> list[BoletaTotal]:
        with self._lock:
            company = self._companies.get(company_rut)
            return [b for b in company.boletas if b.period == period] if company is not None else []

    def modified_at(self, company_rut: str, period: str, now: datetime) -> tuple[datetime, datetime] | None:
        """(created, last modified) of the period's register as of ``now``; None when it holds nothing."""
        with self._lock:
            company = self._companies.get(company_rut)
            if company is None:
                return None
            moments = company.moments.get(period)
            if moments is None:  # the period's changes, sorted once (until the period changes)
                entries = company.periods.get(period, [])
                received = sorted(entry.received_at for entry in entries)
                changes = sorted(moment for entry in entries for moment in _changes(entry))
                moments = company.moments[period] = (received, changes)
            received, changes = moments
            if (not received or received[0] > now) and not any(b.period == period for b in company.boletas):
                return None
            created = received[0] if received and received[0] <= now else _first_of_next_month(period)
            seen = bisect.bisect_right(changes, now)
            last = changes[seen - 1] if seen else created
            touched = company.touched.get(period)
            return created, max(last, touched) if touched is not None and touched <= now else last

    def find(self, company_rut: str, type_code: int, folio: int) -> Entry | None:
        with self._lock:
            company = self._companies.get(company_rut)
            return company.by_key.get((type_code, folio)) if company is not None else None

    def referring(self, company_rut: str, type_code: int, folio: int) -> list[Entry]:
        """The company's documents (credit and debit notes) whose reference is ``type_code``/``folio``."""
        with self._lock:
            company = self._companies.get(company_rut)
            if company is None:
                return []
            return [e for e in company.by_key.values() if (e.ref_type, e.ref_folio) == (type_code, folio)]

    # --- changes (tests, and the acceptance/claim web service) -------------------------------------------

    def accept(self, company_rut: str, type_code: int, folio: int, at: datetime | None = None) -> Entry:
        """The customer accepts the document (acuse de recibo) at ``at`` (default: now)."""
        return self._change(company_rut, type_code, folio, accepted_at=at or self.now())

    def claim(
        self, company_rut: str, type_code: int, folio: int, at: datetime | None = None, event: str = "RCD"
    ) -> Entry:
        """The customer claims against the document (``RCD``, ``RFP`` or ``RFT``) at ``at`` (default: now)."""
        if event not in CLAIM_EVENTS:
            raise RegisterError(f"{event!r} is no claim event; one of {', '.join(CLAIM_EVENTS)}")
        return self._change(company_rut, type_code, folio, claimed_at=at or self.now(), claim_event=event)

    def forget_events(self, company_rut: str, type_code: int, folio: int) -> Entry:
        """The document back to neither accepted nor claimed (tests undo their changes with it)."""
        entry = self._change(
            company_rut, type_code, folio, accepted_at=None, claimed_at=None, claim_event=None
        )
        return entry

    def amend(
        self, company_rut: str, type_code: int, folio: int, *, net: int, vat: int, total: int, at: datetime
    ) -> Entry:
        """SII's row of the document with other amounts from ``at`` on (its period's register changes then):
        tests of a register that disagrees with the issuer's own figures, and agrees again."""
        return self._change(company_rut, type_code, folio, at=at, net=net, vat=vat, total=total)

    def add(self, company_rut: str, entries: Sequence[Entry]) -> None:
        """New documents in the register (late arrivals included: their period may be a closed one)."""
        with self._lock:
            self._add_all(company_rut, entries)
            company = self._companies[company_rut]
            for entry in entries:
                self._touch(company, entry.period, entry.received_at)

    def _change(
        self, company_rut: str, type_code: int, folio: int, at: datetime | None = None, **changes: object
    ) -> Entry:
        with self._lock:
            company = self._companies.get(company_rut)
            entry = company.by_key.get((type_code, folio)) if company is not None else None
            if company is None or entry is None:
                raise RegisterError(f"{company_rut} has no type {type_code} folio {folio} in the register")
            for name, value in changes.items():
                setattr(entry, name, value)
            company.moments.pop(entry.period, None)
            moment = at or next((value for value in changes.values() if isinstance(value, datetime)), None)
            if moment is not None:
                self._touch(company, entry.period, moment)
            return entry

    @staticmethod
    def _touch(company: _Company, period: str, moment: datetime) -> None:
        previous = company.touched.get(period)
        company.touched[period] = moment if previous is None else max(previous, moment)


def _first_of_next_month(period: str) -> datetime:
    year, month = int(period[:4]), int(period[4:])
    return datetime(year + month // 12, month % 12 + 1, 1)


# --- files -----------------------------------------------------------------------------------------------


def _file_rut(path: Path, stem: str) -> str:
    try:
        return normalize_rut(stem)
    except InvalidRut:
        raise RegisterError(f"{path}: the file's name must be a company's RUT, e.g. 76399752-9.csv") from None


def _rows(path: Path, columns: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file, delimiter=";")
        missing = [name for name in columns if name not in (reader.fieldnames or ())]
        if missing:
            raise RegisterError(f"{path}: the header lacks {', '.join(missing)}")
        yield from enumerate(reader, 2)


def _read_entries(path: Path) -> list[Entry]:
    entries = []
    for number, row in _rows(path, COLUMNS):
        try:
            entries.append(
                Entry(
                    type_code=int(row["type"]),
                    folio=int(row["folio"]),
                    issue_date=date.fromisoformat(row["issue_date"]),
                    customer_rut=normalize_rut(row["customer_rut"]),
                    customer_name=row["customer_name"],
                    exempt=int(row["exempt"] or 0),
                    net=int(row["net"] or 0),
                    vat=int(row["vat"] or 0),
                    total=int(row["total"]),
                    received_at=datetime.fromisoformat(row["received_at"]),
                    accepted_at=_moment(row["accepted_at"]),
                    claimed_at=_moment(row["claimed_at"]),
                    claim_event=row["claim_event"] or None,
                    ref_type=int(row["ref_type"]) if row["ref_type"] else None,
                    ref_folio=int(row["ref_folio"]) if row["ref_folio"] else None,
                )
            )
        except (ValueError, InvalidRut) as exc:
            raise RegisterError(f"{path}, line {number}: {exc}") from None
    return entries


def _read_boletas(path: Path) -> list[BoletaTotal]:
    totals = []
    for number, row in _rows(path, BOLETA_COLUMNS):
        try:
            totals.append(BoletaTotal(row["period"], *(int(row[name]) for name in BOLETA_COLUMNS[1:])))
        except ValueError as exc:
            raise RegisterError(f"{path}, line {number}: {exc}") from None
    return totals


def _moment(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def write_register(
    directory: Path, company_rut: str, entries: Iterable[Entry], boletas: Iterable[BoletaTotal] = ()
) -> Path:
    """Write a company's register files (``generate`` uses it); returns the documents' file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{company_rut}.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, delimiter=";", lineterminator="\n")
        writer.writerow(COLUMNS)
        for e in entries:
            writer.writerow(
                (
                    e.type_code, e.folio, e.issue_date.isoformat(), e.customer_rut, e.customer_name, e.exempt,
                    e.net, e.vat, e.total, e.received_at.isoformat(),
                    e.accepted_at.isoformat() if e.accepted_at else "",
                    e.claimed_at.isoformat() if e.claimed_at else "", e.claim_event or "",
                    e.ref_type or "", e.ref_folio or "",
                )
            )  # fmt: skip
    boletas = list(boletas)
    if boletas:
        with (directory / f"{company_rut}.boletas.csv").open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, delimiter=";", lineterminator="\n")
            writer.writerow(BOLETA_COLUMNS)
            for b in boletas:
                writer.writerow((b.period, b.type_code, b.count, b.exempt, b.net, b.vat, b.total))
    return path
