from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dtehub.sii_sync.errors import InvalidPeriod
from dtehub.sii_sync.periods import LastRead, Period, claims_close_on, plan, settled

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


def test_a_period_is_settled_once_read_after_its_claim_windows_closed_and_then_for_a_day() -> None:
    june, july = Period(2026, 6), Period(2026, 7)
    # A factura of June sent late, received at SII on 12 August (14:00 in Santiago): claimable through
    # 20 August.
    late = datetime(2026, 8, 12, 18, 0, tzinfo=UTC)
    closes = claims_close_on(june, late)
    assert closes == date(2026, 8, 20)
    assert claims_close_on(july, None) == date(2026, 7, 31)  # no document: its last day
    on_the_last_day = datetime(2026, 8, 21, 3, 0, tzinfo=UTC)  # 20 August, 23:00 in Santiago
    day_after = datetime(2026, 8, 21, 5, 0, tzinfo=UTC)  # 21 August, 01:00 in Santiago
    now = datetime(2026, 9, 20, 15, 0, tzinfo=UTC)

    assert not settled(june, LastRead(on_the_last_day, closes), on_the_last_day + timedelta(hours=1))
    assert settled(june, LastRead(day_after, closes), day_after + timedelta(hours=1))
    assert settled(july, LastRead(now - timedelta(hours=23), closes), now)
    assert not settled(july, LastRead(now - timedelta(hours=24), closes), now)  # once a day
    assert not settled(july, None, now)  # never read whole
    assert not settled(july, LastRead(now - timedelta(hours=1), None), now)  # read before dtehub knew
    # The previous and the current month never are, closed or not.
    assert not settled(Period(2026, 8), LastRead(now - timedelta(hours=1), date(2026, 9, 8)), now)
    assert not settled(Period(2026, 9), LastRead(now - timedelta(hours=1), date(2026, 9, 1)), now)
