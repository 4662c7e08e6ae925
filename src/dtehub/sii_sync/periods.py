"""Tax periods as SII's RCV names them (``ptributario`` ``YYYYMM``), written ``YYYY-MM`` in dtehub.

A sync covers every period from its start (``since``; by default the twelve months that end with the
current one) to the current month, and always the previous month as well: SII keeps changing a month's
register after it closes (acceptances, claims, late documents).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from dtehub.sii_sync.errors import InvalidPeriod

FIRST_PERIOD_TEXT = "2017-08"
"""SII's RCV starts in August 2017: no register exists before it."""
DEFAULT_MONTHS = 12
"""Months a sync covers when neither the request nor the company says where to start."""
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
