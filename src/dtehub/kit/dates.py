"""Dates and times the way a Chilean company reads them: America/Santiago, Duemint's text formats."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SANTIAGO = ZoneInfo("America/Santiago")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_in_santiago(now: datetime | None = None) -> date:
    """The calendar day in Chile right now; document statuses turn over at Santiago's midnight."""
    return (now or utcnow()).astimezone(SANTIAGO).date()


def format_datetime(moment: datetime) -> str:
    """An instant as Santiago wall-clock text, ``YYYY-MM-DD HH:MM:SS``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SANTIAGO).strftime(DATETIME_FORMAT)


def santiago_day_start(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in Santiago (for filtering on creation time)."""
    return datetime.combine(day, time.min, tzinfo=SANTIAGO).astimezone(UTC)


def santiago_day_end(day: date) -> datetime:
    """The UTC instant at which the day after ``day`` begins in Santiago (exclusive bound)."""
    return santiago_day_start(day + timedelta(days=1))
