"""SII going down in the middle of a sync, end to end over real TLS: the run fails saying what to do, the
periods stored before stay whole, nothing of the period SII did not give is written, and the next sync
brings the rest once SII is back."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from dtehub.db import unit_of_work
from dtehub.models import SiiSyncPeriod, SiiSyncRun
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.config import SiiConfig
from dtehub.sii.emulator import Emulator
from dtehub.sii.sessions import SessionPool
from dtehub.sii_sync.executor import RunContext, SyncExecutor
from dtehub.sii_sync.periods import Period
from dtehub.sii_sync.runs import Trigger
from dtehub.sii_sync.source import rcv_sources
from tests.conftest import LINKS
from tests.sii.rcv.conftest import COMPANY, People
from tests.sii_sync import test_e2e as e2e
from tests.sii_sync.conftest import Committed, FakeClock

company = e2e.company


def test_sii_down_mid_run_fails_it_with_whole_periods_kept_and_the_next_run_brings_the_rest(
    company: Committed, config: SiiConfig, people: People, sii: Emulator
) -> None:
    certificate = people.holder

    async def certificate_of(_: RunContext) -> PersonCertificate:
        return certificate

    def down_after_the_first_period(run: SiiSyncRun) -> None:
        if run.periods_done == ["2026-07"]:
            sii.faults.unavailable = True  # SII's maintenance page, on every host, from now on

    async def run() -> SiiSyncRun:
        pool = SessionPool(config)
        try:
            executor = SyncExecutor(
                company.factory,
                rcv_sources(company.factory, pool, config, certificate_of, LINKS, FakeClock(e2e.NOW)),
                clock=FakeClock(e2e.NOW),
            )
            with unit_of_work(company.factory) as session:
                queued = executor.request(
                    session, company.company_id, since=Period(2026, 7), until=None, trigger=Trigger.CLI
                )
            return await executor.run(company.company_id, queued.id, down_after_the_first_period)
        finally:
            await pool.aclose()

    failed = asyncio.run(run())

    assert failed.state == "failed"
    assert failed.error_code == "sii_unavailable"
    assert failed.error_message == (
        "SII's RCV did not answer getResumen after 5 attempts (HTTP 503); retry later"
    )
    assert failed.periods_done == ["2026-07"]
    july = len(sii.register.visible(COMPANY, "202607", sii.register.now()))
    assert sum(e2e.counts(company)) == failed.documents_created == july  # July whole, nothing of August
    with unit_of_work(company.factory, writes=False) as session:
        marked = session.scalars(
            select(SiiSyncPeriod.period).where(SiiSyncPeriod.company_id == company.company_id)
        ).all()
        assert marked == ["2026-07"]

    sii.faults.unavailable = False
    again = e2e.sync(company, config, people.holder)

    assert again.state == "done", again.error_message
    everything = sum(
        len(sii.register.visible(COMPANY, p, sii.register.now())) for p in ("202607", "202608", "202609")
    )
    assert sum(e2e.counts(company)) == everything
    assert again.documents_created == everything - july
