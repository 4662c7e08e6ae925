"""The schedule of ``dtehub serve``: companies with a stored certificate are synced every interval, as many
at once as the concurrency allows; the others never."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.models import SiiSyncRun
from dtehub.sii_sync.executor import SyncExecutor
from tests.conftest import random_rut
from tests.sii_sync.conftest import (
    Committed,
    FakeClock,
    company_committed,
    person_pfx,
    store_test_certificate,
)
from tests.sii_sync.sources import clients_source

HOURS_6 = 6 * 3600.0


@pytest.fixture
def companies(settings: Settings, rcv_data: Path) -> Iterator[list[Committed]]:
    """Three companies with a certificate and one without."""
    pfx = person_pfx(rcv_data)
    with (
        company_committed(settings, random_rut()) as a,
        company_committed(settings, random_rut()) as b,
        company_committed(settings, random_rut()) as c,
        company_committed(settings, random_rut()) as bare,
    ):
        for company in (a, b, c):
            store_test_certificate(company, settings, pfx)
        yield [a, b, c, bare]


def test_due_companies_are_synced_each_interval_a_few_at_a_time(
    companies: list[Committed], clock: FakeClock
) -> None:
    factory = companies[0].factory
    mine = {company.company_id for company in companies}
    executor = SyncExecutor(factory, clients_source(1), clock=clock, concurrency=2)
    rng = random.Random(5)

    def run_all(run_ids: list[int]) -> set[int]:
        with unit_of_work(factory, writes=False) as session:
            runs = [session.get(SiiSyncRun, run_id) for run_id in run_ids]
        for run in runs:
            assert run is not None
            asyncio.run(executor.run(run.company_id, run.id))
        return {run.company_id for run in runs if run is not None}

    first = run_all(executor.schedule_once(HOURS_6, rng))
    second = run_all(executor.schedule_once(HOURS_6, rng))
    third = executor.schedule_once(HOURS_6, rng)

    certified = {c.company_id for c in companies[:3]}
    assert len(first) == 2
    assert (first | second) & mine == certified  # two at a time, then the third; never the bare one
    assert [run_id for run_id in third if run_id in mine] == []  # not due again within the interval

    clock.advance(HOURS_6)
    again = set(run_all(executor.schedule_once(HOURS_6, rng))) | set(
        run_all(executor.schedule_once(HOURS_6, rng))
    )
    assert again & mine == certified
    with unit_of_work(factory, writes=False) as session:
        triggers = {run.trigger for run in session.query(SiiSyncRun).where(SiiSyncRun.company_id.in_(mine))}
    assert triggers == {"schedule"}


class Spread(random.Random):
    """The schedule's jitter pinned: each company's turn after this share of the interval."""

    def __init__(self, share: float) -> None:
        super().__init__()
        self.share = share

    def uniform(self, a: float, b: float) -> float:
        assert (a, b) == (0.9, 1.0)
        return self.share


def test_a_companys_turn_comes_after_90_to_100_percent_of_the_interval(
    companies: list[Committed], clock: FakeClock
) -> None:
    factory = companies[0].factory
    certified = {company.company_id for company in companies[:3]}
    executor = SyncExecutor(factory, clients_source(1), clock=clock, concurrency=10)

    def synced(run_ids: list[int]) -> set[int]:
        with unit_of_work(factory, writes=False) as session:
            runs = [session.get(SiiSyncRun, run_id) for run_id in run_ids]
        for run in runs:
            assert run is not None
            asyncio.run(executor.run(run.company_id, run.id))
        return {run.company_id for run in runs if run is not None} & certified

    assert synced(executor.schedule_once(HOURS_6, Spread(1.0))) == certified
    clock.advance(0.95 * HOURS_6)

    assert synced(executor.schedule_once(HOURS_6, Spread(1.0))) == set()  # a whole interval: not yet
    assert synced(executor.schedule_once(HOURS_6, Spread(0.9))) == certified  # nine tenths: due
