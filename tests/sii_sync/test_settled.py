"""Settled periods: a sync that names no range (the schedule's) reads an older month whose claim windows had
all closed when it was last read once a day, not on every run; a sync that asks for it reads it. Counted
at the emulator's RCV, end to end over real TLS."""

from __future__ import annotations

from datetime import timedelta

from dtehub.sii.config import SiiConfig
from dtehub.sii.emulator import Emulator
from dtehub.sii_sync.periods import Period
from dtehub.sii_sync.runs import Trigger
from tests.sii.rcv.conftest import People
from tests.sii_sync import test_e2e as e2e
from tests.sii_sync.conftest import Committed

company = e2e.company
NOW = e2e.NOW  # 20 September 2026: the emulator holds July to September
TWELVE = [str(Period(2025, 10).shifted(step)) for step in range(12)]  # 2025-10 … 2026-09


def test_a_settled_period_is_read_once_a_day_unless_a_sync_asks_for_it(
    company: Committed, config: SiiConfig, people: People, sii: Emulator
) -> None:
    def scheduled(hours: float) -> tuple[list[str], list[str], int]:
        before = sii.rcv_requests
        run = e2e.sync(
            company, config, people.holder, NOW + timedelta(hours=hours), since=None, trigger=Trigger.SCHEDULE
        )
        assert run.state == "done", (run.error_code, run.error_message)
        return run.periods_done, run.messages, (sii.rcv_requests - before)["getResumen"]

    first, _, asked = scheduled(0)
    assert first == TWELVE
    assert asked == 12

    # Six hours on: every month before August had its claim windows closed when it was read (July's
    # facturas were claimable until mid-August at the latest; the empty months until their last day).
    # August's too, but the previous month is always read again, and the current one.
    second, messages, asked = scheduled(6)
    assert second == ["2026-08", "2026-09"]
    assert asked == 2
    settled = ", ".join(TWELVE[:10])
    said = f"not read again, settled: {settled} (read less than a day ago"
    assert any(m.startswith(said) for m in messages)

    # Asked for by since (syncSii, dtehub sii sync --since): read, settled or not.
    before = sii.rcv_requests
    named = e2e.sync(company, config, people.holder, NOW + timedelta(hours=7), since=Period(2026, 7))
    assert named.periods_done == ["2026-07", "2026-08", "2026-09"]
    assert (sii.rcv_requests - before)["getResumen"] == 3
    assert not any("settled" in m for m in named.messages)

    # A day after the last reads: the settled periods are read again, once.
    again, _, asked = scheduled(32)
    assert again == TWELVE
    assert asked == 12
    assert scheduled(33)[0] == ["2026-08", "2026-09"]
