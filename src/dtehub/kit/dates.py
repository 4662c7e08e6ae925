"""Dates and times the way a Chilean company reads them: America/Santiago, Duemint's text formats."""

from __future__ import annotations

from datetime import UTC, date, datetime
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
