"""Runs sync runs: in ``dtehub serve`` (runs asked by the API, and by the schedule), in ``dtehub sii
sync``, or in a test.

An executor is one holder of leases (``holder``: host, process and a random part). It runs the runs it
queued, at most ``concurrency`` at once, and renews their leases every quarter of the lease's time (its
heartbeat); a run whose lease it no longer holds (another process took it over after it lapsed) is
stopped. Each period of a run is fetched from SII first (no database), then stored in one unit of work
that also records the period done, after checking the lease is still held: a run stopped at any moment,
SIGKILL included, has committed whole periods only, and the next run of the company goes on from there.

Time comes from ``clock`` (aware UTC), so tests can put two real processes at chosen moments.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from dtehub.db import unit_of_work
from dtehub.errors import DtehubError
from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.kit.threads import in_thread
from dtehub.models import SiiSyncRun
from dtehub.sii_sync import repository, runs
from dtehub.sii_sync.errors import LeaseLost, SyncAlreadyRunning
from dtehub.sii_sync.periods import Period

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RunContext:
    company_id: int
    company_rut: str
    run_id: int


class PeriodSource(Protocol):
    """Where a run's documents come from (SII's RCV, for real). ``fetch`` talks to SII and touches no
    database; ``apply`` stores what was fetched in the unit of work it is handed (it never commits)."""

    messages: list[str]
    """What the source has to tell the run (a certificate about to expire…): taken at each checkpoint."""

    async def fetch(self, period: Period) -> Any: ...

    def apply(self, session: Session, fetched: Any) -> runs.PeriodOutcome: ...


SourceFactory = Callable[[RunContext], AbstractAsyncContextManager[PeriodSource]]
"""Opens a run's source (one SII session for the whole run) and closes it when the run ends."""
Progress = Callable[[SiiSyncRun], None]


def new_holder() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class SyncExecutor:
    def __init__(
        self,
        factory: sessionmaker[Session],
        sources: SourceFactory,
        *,
        clock: Clock = utcnow,
        lease_seconds: float = 120.0,
        concurrency: int = 2,
        poll_seconds: float = 5.0,
        holder: str | None = None,
    ) -> None:
        self.factory = factory
        self.sources = sources
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.holder = holder or new_holder()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        # Whether this executor may hold a lease: an idle server's heartbeat writes nothing (on SQLite
        # every write takes the one write lock, and an idle server must not contend for it).
        self._holding = False
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def today(self) -> date:
        return today_in_santiago(self.clock())

    # --- asking for a run (any thread) ----------------------------------------------------------------

    def request(
        self, session: Session, company_id: int, *, since: Period | None, until: Period | None, trigger: str,
        start: Period | None = None,
    ) -> SiiSyncRun:  # fmt: skip
        """Queue a run of the company in the caller's unit of work, its lease held by this executor; it
        starts once the unit of work is committed and :meth:`wake` is called (or at the next poll)."""
        now = self.clock()
        self._holding = True  # before the lease is taken: a heartbeat in between renews too early, not never
        company = repository.company(session, company_id)
        if start is None and company is not None and company.sii_sync_from is not None:
            start = Period.of(company.sii_sync_from)  # the company's siiSyncFrom
        return runs.request_run(
            session, company_id, since=since, until=until, trigger=trigger, holder=self.holder, now=now,
            lease=self.lease, today=today_in_santiago(now), start=start,
        )  # fmt: skip

    def wake(self) -> None:
        """Look for queued runs now (safe from any thread)."""
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    # --- the schedule (dtehub serve) ------------------------------------------------------------------

    def schedule_once(self, interval: float, rng: random.Random | None = None) -> list[int]:
        """Queue runs of the companies due (a stored certificate, no run for ``interval`` seconds, give or
        take a tenth so that companies drift apart), as many as there are free slots; their ids."""
        free = self.concurrency - len(self._tasks)
        if free <= 0:
            return []
        now = self.clock()
        spread = (rng or random).uniform(0.9, 1.0)
        with unit_of_work(self.factory, writes=False) as session:
            free -= len(repository.queued_held_by(session, self.holder))
            due = repository.companies_due(
                session, now, now - timedelta(seconds=interval * spread), max(free, 0)
            )
        queued = []
        for company_id in due:
            try:
                with unit_of_work(self.factory) as session:
                    queued.append(
                        self.request(session, company_id, since=None, until=None, trigger="schedule").id
                    )
            except SyncAlreadyRunning:  # another server took it meanwhile
                continue
            except DtehubError as refused:
                log.warning("SII sync of company %s not scheduled: %s", company_id, refused.message)
        return queued

    async def schedule_forever(self, interval: float) -> None:
        """Every few minutes (a quarter of ``interval`` at most), :meth:`schedule_once`, until cancelled."""
        tick = min(300.0, interval / 4)
        while True:
            try:
                if await in_thread(self.schedule_once, interval):
                    self.wake()
            except Exception:  # the database is away: the next tick tries again
                log.warning("the SII sync schedule could not run", exc_info=True)
            await asyncio.sleep(tick)  # a period, not a wait for a condition

    # --- running them ---------------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run the runs this executor queued, and renew their leases, until cancelled."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while True:
                await self._start_queued()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self.poll_seconds)
                self._wakeup.clear()
        finally:
            heartbeat.cancel()
            tasks = list(self._tasks.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(heartbeat, *tasks, return_exceptions=True)

    async def _start_queued(self) -> None:
        queued = await in_thread(self._queued)
        for company_id, run_id in queued:
            if len(self._tasks) >= self.concurrency:
                break
            if run_id not in self._tasks:
                self._launch(company_id, run_id)

    def _queued(self) -> list[tuple[int, int]]:
        with unit_of_work(self.factory, writes=False) as session:
            return repository.queued_held_by(session, self.holder)

    def _launch(self, company_id: int, run_id: int, progress: Progress | None = None) -> asyncio.Task[None]:
        task = asyncio.create_task(self._execute(company_id, run_id, progress), name=f"sii-sync-{run_id}")
        self._tasks[run_id] = task

        def _done(_: asyncio.Task[None]) -> None:
            self._tasks.pop(run_id, None)
            self.wake()

        task.add_done_callback(_done)
        return task

    async def run(self, company_id: int, run_id: int, progress: Progress | None = None) -> SiiSyncRun:
        """Execute one run this executor queued, to its end, renewing its lease meanwhile (the CLI,
        tests); the run as it ended."""
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            await self._launch(company_id, run_id, progress)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
        return await in_thread(self._read, company_id, run_id)

    def _read(self, company_id: int, run_id: int) -> SiiSyncRun:
        with unit_of_work(self.factory, writes=False) as session:
            return runs.require_run(session, company_id, run_id)

    async def _heartbeat(self) -> None:
        interval = self.lease.total_seconds() / 4
        while True:
            await asyncio.sleep(interval)  # a period, not a wait for a condition
            await self._beat()

    async def _beat(self) -> None:
        """Renew this executor's leases, if it may hold any; stop the runs it lost."""
        if not self._holding and not self._tasks:
            return
        try:
            held = await in_thread(self._renew)
        except Exception:  # the database is away: the next beat tries again, the lease may lapse
            log.warning("could not renew the SII sync leases of %s", self.holder, exc_info=True)
            return
        for run_id, task in list(self._tasks.items()):
            if run_id not in held:
                log.warning("SII sync run %s: its lease was taken over; stopping it here", run_id)
                task.cancel()

    def _renew(self) -> set[int]:
        now = self.clock()
        with unit_of_work(self.factory) as session:
            held = repository.renew(session, self.holder, now, now + self.lease)
        self._holding = bool(held)
        return held

    def _unit(self, work: Callable[[Session], SiiSyncRun]) -> SiiSyncRun:
        with unit_of_work(self.factory) as session:
            return work(session)

    async def _execute(self, company_id: int, run_id: int, progress: Progress | None) -> None:
        holder = self.holder
        try:
            run = await in_thread(
                self._unit, lambda s: runs.start(s, company_id, run_id, holder, self.clock())
            )
            if progress:
                progress(run)
            context = RunContext(company_id, await in_thread(self._rut, company_id), run_id)
            async with self.sources(context) as source:
                for period in runs.remaining(run):
                    fetched = await source.fetch(period)
                    run = await in_thread(self._store, context, source, period, fetched)
                    del fetched  # one period in memory at a time: not this one while the next is read
                    if progress:
                        progress(run)
                run = await in_thread(
                    self._unit, lambda s: runs.note(s, company_id, run_id, holder, _drain(source))
                )
            run = await in_thread(
                self._unit, lambda s: runs.finish(s, company_id, run_id, holder, self.clock())
            )
        except LeaseLost as lost:
            log.warning("SII sync run %s stopped: %s", run_id, lost)
            return
        except asyncio.CancelledError:
            # A shutdown (or the lease taken over): give the lease back so the next sync resumes at once.
            try:
                self._unit_stop(company_id, run_id, "stopped by a shutdown of the process running it")
            except Exception:
                log.warning("SII sync run %s: could not give its lease back", run_id, exc_info=True)
            raise
        except DtehubError as error:
            run = await self._fail(company_id, run_id, error.code, error.message)
        except Exception:
            log.exception("SII sync run %s failed", run_id)
            run = await self._fail(
                company_id,
                run_id,
                "internal_error",
                "the sync failed unexpectedly; it is logged, retry later",
            )
        if progress:
            progress(run)

    def _unit_stop(self, company_id: int, run_id: int, reason: str) -> None:
        with unit_of_work(self.factory) as session:
            runs.stop(session, company_id, run_id, self.holder, self.clock(), reason)

    async def _fail(self, company_id: int, run_id: int, code: str, message: str) -> SiiSyncRun:
        holder = self.holder

        def work(session: Session) -> SiiSyncRun:
            return runs.finish(
                session, company_id, run_id, holder, self.clock(), error_code=code, error_message=message
            )

        try:
            return await in_thread(self._unit, work)
        except LeaseLost:
            return await in_thread(self._read, company_id, run_id)

    def _rut(self, company_id: int) -> str:
        with unit_of_work(self.factory, writes=False) as session:
            company = repository.company(session, company_id)
            if company is None:
                raise LeaseLost(f"company {company_id} no longer exists")
            return company.rut

    def _store(self, context: RunContext, source: PeriodSource, period: Period, fetched: Any) -> SiiSyncRun:
        with unit_of_work(self.factory) as session:
            # The fence first: on PostgreSQL the lease row stays locked until this commits.
            runs.note(session, context.company_id, context.run_id, self.holder, _drain(source))
            outcome = source.apply(session, fetched)
            return runs.record_period(
                session, context.company_id, context.run_id, self.holder, period, outcome, self.clock()
            )


def _drain(source: PeriodSource) -> list[str]:
    messages = list(source.messages)
    source.messages.clear()
    return messages
