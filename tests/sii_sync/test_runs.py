"""A run's life on a real database with an injected clock: queued, running, each period's checkpoint,
done or failed; one run per company at a time; a lapsed lease taken over and the run resumed."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import event, select

from dtehub.db import unit_of_work
from dtehub.kit.pagination import PageRequest
from dtehub.models import Company, SiiSyncLease
from dtehub.sii.errors import SiiUnavailable
from dtehub.sii_sync import repository, runs, service
from dtehub.sii_sync.errors import LeaseLost, SyncAlreadyRunning
from dtehub.sii_sync.executor import SyncExecutor
from dtehub.sii_sync.periods import Period
from dtehub.sii_sync.runs import Trigger
from tests.sii_sync.conftest import Committed, FakeClock
from tests.sii_sync.sources import clients_of, clients_source

LEASE = 60.0


def executor(committed: Committed, clock: FakeClock, documents: int = 3, **options: object) -> SyncExecutor:
    return SyncExecutor(
        committed.factory,
        clients_source(documents, **options),
        clock=clock,
        lease_seconds=LEASE,
    )


def request(
    executor: SyncExecutor, committed: Committed, since: str = "2026-01", until: str | None = None
) -> int:
    with unit_of_work(committed.factory) as session:
        run = executor.request(
            session,
            committed.company_id,
            since=Period.parse(since, "since"),
            until=Period.parse(until, "until") if until else None,
            trigger=Trigger.CLI,
        )
        return run.id


def test_a_run_stores_each_period_and_says_what_it_did(committed: Committed, clock: FakeClock) -> None:
    sync = executor(committed, clock)
    run_id = request(sync, committed)

    seen: list[tuple[str, int]] = []
    run = asyncio.run(
        sync.run(committed.company_id, run_id, lambda r: seen.append((r.state, len(r.periods_done))))
    )

    assert run.state == "done"
    assert run.periods == ["2026-01", "2026-02", "2026-03"]
    assert run.periods_done == run.periods
    assert (run.documents_created, run.documents_updated) == (9, 3)
    assert run.messages[0] == "boletas are monthly totals in SII's register: skipped"
    assert "2026-02: 3 documents" in run.messages
    assert seen == [("running", 0), ("running", 1), ("running", 2), ("running", 3), ("done", 3)]
    with unit_of_work(committed.factory, writes=False) as session:
        assert clients_of(session, committed.company_id) == {"2026-01": 3, "2026-02": 3, "2026-03": 3}
        assert repository.lease_of(session, committed.company_id) is None  # given back


def test_a_failure_is_the_runs_with_the_periods_it_had_done_kept(
    committed: Committed, clock: FakeClock
) -> None:
    down = SiiUnavailable("SII did not answer; retry later")
    sync = executor(committed, clock, fail_at=(Period(2026, 2), down))
    run = asyncio.run(sync.run(committed.company_id, request(sync, committed)))

    assert run.state == "failed"
    assert (run.error_code, run.error_message) == ("sii_unavailable", "SII did not answer; retry later")
    assert run.periods_done == ["2026-01"]
    with unit_of_work(committed.factory, writes=False) as session:
        assert clients_of(session, committed.company_id) == {"2026-01": 3}


def test_one_run_per_company_until_its_lease_lapses(committed: Committed, clock: FakeClock) -> None:
    first = executor(committed, clock)
    second = executor(committed, clock)
    run_id = request(first, committed)

    clock.advance(LEASE - 1)
    with pytest.raises(SyncAlreadyRunning) as refused:
        request(second, committed)
    assert f"run {run_id}" in refused.value.message

    # The holder's heartbeat keeps it; without one it lapses and the next request takes the run over.
    assert first._renew() == {run_id}
    clock.advance(LEASE - 1)
    with pytest.raises(SyncAlreadyRunning):
        request(second, committed)
    clock.advance(2)
    assert request(second, committed) == run_id  # the same run, resumed
    assert first._renew() == set()  # the first holder learns it at its next heartbeat
    with unit_of_work(committed.factory) as session, pytest.raises(LeaseLost):
        runs.start(session, committed.company_id, run_id, first.holder, clock())
    with unit_of_work(committed.factory, writes=False) as session:
        lease = session.scalars(
            select(SiiSyncLease).where(SiiSyncLease.company_id == committed.company_id)
        ).one()
        assert lease.holder == second.holder
        assert runs.require_run(session, committed.company_id, run_id).resumed == 1


def test_a_run_taken_over_goes_on_from_its_checkpoint(committed: Committed, clock: FakeClock) -> None:
    # The first holder stores January, then stops (a shutdown) while SII is asked for February.
    stalled = asyncio.Event()

    async def gate(period: Period) -> None:
        if period == Period(2026, 2):
            stalled.set()
            await asyncio.Event().wait()  # never answered

    first = executor(committed, clock, gate=gate)
    run_id = request(first, committed)

    async def first_stops() -> None:
        task = first._launch(committed.company_id, run_id)
        await stalled.wait()
        task.cancel()  # the shutdown path gives the lease back at once
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(first_stops())
    with unit_of_work(committed.factory, writes=False) as session:
        stopped = runs.require_run(session, committed.company_id, run_id)
        shown = runs.presented_state(stopped, repository.lease_of(session, committed.company_id), clock())
    assert (shown.state, shown.error_code) == ("failed", "interrupted")
    assert "the next sync of the company resumes it" in (shown.error_message or "")

    second = executor(committed, clock)
    assert request(second, committed) == run_id
    run = asyncio.run(second.run(committed.company_id, run_id))

    assert run.state == "done"
    assert run.periods_done == ["2026-01", "2026-02", "2026-03"]
    assert run.documents_created == 9  # January's three were counted once
    assert any("resumed with 1 of 3 periods already done" in m for m in run.messages)
    with unit_of_work(committed.factory, writes=False) as session:
        assert clients_of(session, committed.company_id) == {"2026-01": 3, "2026-02": 3, "2026-03": 3}


def test_an_interrupted_run_is_not_resumed_for_another_range(committed: Committed, clock: FakeClock) -> None:
    sync = executor(committed, clock)
    old = request(sync, committed)
    clock.advance(LEASE + 1)

    new = request(sync, committed, since="2025-06", until="2025-07")

    assert new != old
    with unit_of_work(committed.factory, writes=False) as session:
        closed = runs.require_run(session, committed.company_id, old)
    assert closed.state == "failed"
    assert "not resumed: run of 2025-06 to 2025-07 asked instead" in (closed.error_message or "")


def test_the_companys_sii_sync_from_is_where_a_run_starts(committed: Committed, clock: FakeClock) -> None:
    with unit_of_work(committed.factory) as session:
        company = session.get(Company, committed.company_id)
        assert company is not None
        company.sii_sync_from = date(2025, 11, 1)
    sync = executor(committed, clock)

    with unit_of_work(committed.factory) as session:
        run = sync.request(session, committed.company_id, since=None, until=None, trigger=Trigger.API)

    assert run.periods[0] == "2025-11"
    assert run.periods[-1] == "2026-03"


def test_an_idle_executors_heartbeat_writes_nothing(committed: Committed, clock: FakeClock) -> None:
    """A server with no run of its own never takes SQLite's write lock for its heartbeat."""
    sync = executor(committed, clock)
    engine = committed.factory.kw["bind"]
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        asyncio.run(sync._beat())
        assert statements == []  # idle: no lease, no write, not even a read

        request(sync, committed)
        statements.clear()
        asyncio.run(sync._beat())
        assert any(s.lstrip().upper().startswith("UPDATE") for s in statements)  # its lease renewed
        with unit_of_work(committed.factory, writes=False) as session:
            assert repository.lease_of(session, committed.company_id) is not None
    finally:
        event.remove(engine, "before_cursor_execute", seen)


@pytest.mark.parametrize("read", ["get_run", "latest_run", "list_runs"])
def test_a_run_finishing_while_it_is_read_is_never_shown_interrupted(
    committed: Committed, clock: FakeClock, read: str
) -> None:
    """The run finishes (its lease given back) between the statements that read it and its lease: a
    person sees it running (SQLite's snapshot) or done (PostgreSQL's next statement), never failed."""
    sync = executor(committed, clock)
    run_id = request(sync, committed)
    with unit_of_work(committed.factory) as session:
        runs.start(session, committed.company_id, run_id, sync.holder, clock())

    finished = False

    def finish_after_the_first_read(*_: object) -> None:
        nonlocal finished
        if not finished:
            finished = True
            with unit_of_work(committed.factory) as session:
                runs.finish(session, committed.company_id, run_id, sync.holder, clock())

    engine = committed.factory.kw["bind"]
    with unit_of_work(committed.factory, writes=False) as session:
        event.listen(engine, "after_cursor_execute", finish_after_the_first_read)
        try:
            if read == "get_run":
                run, lease = service.get_run(session, committed.company_id, run_id)
            elif read == "latest_run":
                latest, lease = service.latest_run(session, committed.company_id)
                assert latest is not None
                run = latest
            else:
                found, _, lease = service.list_runs(session, committed.company_id, PageRequest(1, 10))
                [run] = found
        finally:
            event.remove(engine, "after_cursor_execute", finish_after_the_first_read)
        assert finished
        assert runs.presented_state(run, lease, clock()).state in ("running", "done")
