"""Tax periods as SII's RCV names them (``ptributario`` ``YYYYMM``), written ``YYYY-MM`` in dtehub.

A sync covers every period from its start (``since``; by default the twelve months that end with the
current one) to the current month, and always the previous month as well: SII keeps changing a month's
register after it closes (acceptances, claims, late documents).

A sync that does not name its range (the schedule's, ``syncSii`` and ``dtehub sii sync`` without
``since``/``until``) leaves out the **settled** periods read less than a day ago (:func:`settled`): an
older month whose last complete read came after every claim window of its documents had closed has no
state left to change but what SII itself corrects, which a read a day finds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dtehub.documents.sii_states import claim_deadline
from dtehub.kit.dates import today_in_santiago
from dtehub.sii_sync.errors import InvalidPeriod

FIRST_PERIOD_TEXT = "2017-08"
"""SII's RCV starts in August 2017: no register exists before it."""
DEFAULT_MONTHS = 12
"""Months a sync covers when neither the request nor the company says where to start."""
SETTLED_READ_EVERY = timedelta(days=1)
"""How often a sync that does not name its range reads a settled period again."""
_TEXT = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str, field: str) -> Period:
        """``YYYY-MM`` (a month from August 2017), or :class:`InvalidPeriod` naming ``field``."""
        found = _TEXT.fullmatch(text.strip())
        if found is None or not 1 <= int(found.group(2)) <= 12:
            raise InvalidPeriod(
                f"{field} must be a month written YYYY-MM, e.g. 2025-01; not {text!r}", field=field
            )
        period = cls(int(found.group(1)), int(found.group(2)))
        if period < FIRST:
            raise InvalidPeriod(
                f"{field} {period} is before August 2017, when SII's register of sales begins", field=field
            )
        return period

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    def shifted(self, months: int) -> Period:
        index = self.year * 12 + self.month - 1 + months
        return Period(index // 12, index % 12 + 1)

    def months_to(self, other: Period) -> int:
        """How many months ``other`` is after this one (negative when before)."""
        return (other.year * 12 + other.month) - (self.year * 12 + self.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.shifted(1).first_day - timedelta(days=1)

    @property
    def ptributario(self) -> str:
        """SII's form: ``YYYYMM``."""
        return f"{self.year:04d}{self.month:02d}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


FIRST = Period(2017, 8)


def plan(
    today: date, *, since: Period | None, until: Period | None, start: Period | None = None
) -> list[Period]:
    """The periods of a sync, oldest first: ``since`` (else the company's ``start``, else the twelve months
    ending with the current one) to ``until`` (else the current month), plus the previous month whenever
    the range reaches the current month. Periods after the current month, or a range that runs backwards, are
    :class:`InvalidPeriod`."""
    current = Period.of(today)
    last = until or current
    first = since or start or current.shifted(1 - DEFAULT_MONTHS)
    first = max(first, FIRST)
    if last > current:
        raise InvalidPeriod(f"until {last} is after the current month ({current})", field="until")
    if first > last:
        name = "since" if since is not None else "until"
        raise InvalidPeriod(f"since {first} is after until {last}", field=name)
    periods = [first.shifted(step) for step in range(first.months_to(last) + 1)]
    previous = current.shifted(-1)
    if last == current and previous not in periods and previous >= FIRST:
        periods.insert(0, previous)
    return periods


@dataclass(frozen=True)
class LastRead:
    """The company's last complete read of a period: when (``synced_at``), and the last Santiago day on
    which a document of it could be claimed as of then (``claims_close_on``; None: not known)."""

    synced_at: datetime
    claims_close_on: date | None


def claims_close_on(period: Period, last_reception: datetime | None) -> date:
    """The last day on which a document of ``period`` could still be claimed: 8 days after the latest
    reception at SII of its documents (Ley 19.983), and never before the period's own last day."""
    if last_reception is None:
        return period.last_day
    return max(period.last_day, claim_deadline(last_reception))


def settled(period: Period, read: LastRead | None, now: datetime) -> bool:
    """A period a sync without a named range leaves out: older than the previous month, its last complete
    read made after every claim window of its documents had closed, and less than
    :data:`SETTLED_READ_EVERY` ago."""
    if read is None or read.claims_close_on is None:
        return False
    if period >= Period.of(today_in_santiago(now)).shifted(-1):
        return False  # the current and the previous month are always read
    read_after_claims = today_in_santiago(read.synced_at) > read.claims_close_on
    return read_after_claims and now - read.synced_at < SETTLED_READ_EVERY
