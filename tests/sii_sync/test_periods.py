from __future__ import annotations

from datetime import date

import pytest

from dtehub.sii_sync.errors import InvalidPeriod
from dtehub.sii_sync.periods import Period, plan

TODAY = date(2026, 3, 15)


def texts(periods: list[Period]) -> list[str]:
    return [str(p) for p in periods]


def test_by_default_the_twelve_months_that_end_with_the_current_one() -> None:
    periods = texts(plan(TODAY, since=None, until=None))
    assert periods[0] == "2025-04"
    assert periods[-1] == "2026-03"
    assert len(periods) == 12


def test_the_company_start_is_used_when_the_request_names_none() -> None:
    assert texts(plan(TODAY, since=None, until=None, start=Period(2026, 1))) == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]


def test_the_previous_month_is_always_synced_again() -> None:
    assert texts(plan(TODAY, since=Period(2026, 3), until=None)) == ["2026-02", "2026-03"]
    # A range that does not reach the current month is synced as asked.
    assert texts(plan(TODAY, since=Period(2025, 1), until=Period(2025, 2))) == ["2025-01", "2025-02"]


@pytest.mark.parametrize(
    ("since", "until", "field", "words"),
    [
        ("2025-13", None, "since", "YYYY-MM"),
        ("25-01", None, "since", "YYYY-MM"),
        ("2017-07", None, "since", "August 2017"),
        (None, "2026-04", "until", "after the current month"),
        ("2026-02", "2026-01", "since", "after until"),
        ("2015-01", "2026-01", "since", "August 2017"),
    ],
)
def test_a_range_dtehub_cannot_sync_says_why(
    since: str | None, until: str | None, field: str, words: str
) -> None:
    with pytest.raises(InvalidPeriod) as refused:
        plan(
            TODAY,
            since=Period.parse(since, "since") if since else None,
            until=Period.parse(until, "until") if until else None,
        )
    assert refused.value.field == field
    assert words in refused.value.message
