"""A process that runs one company's sync, for tests/sii_sync/test_two_processes.py.

    python -m tests.sii_sync.holder_process DATABASE_URL COMPANY_ID AT SINCE

Its clock starts at ``AT`` (ISO 8601) and runs at the real pace. It asks for a run (``run <id>``, or
``busy <message>`` and exit status 3), then before each period's fetch says ``fetching <period>`` and
waits for a line on its standard input (the test answers for SII), after each checkpoint says ``done
<period>``, and at the end ``finished <state>``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime, timedelta

from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.sii_sync.errors import SyncAlreadyRunning
from dtehub.sii_sync.executor import SyncExecutor
from dtehub.sii_sync.periods import Period
from dtehub.sii_sync.runs import Trigger
from tests.sii_sync.sources import clients_source

LEASE_SECONDS = 60.0


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def answered(period: Period) -> None:
    say(f"fetching {period}")
    await asyncio.to_thread(sys.stdin.readline)


def main() -> int:
    url, company_id, at, since = (
        sys.argv[1],
        int(sys.argv[2]),
        datetime.fromisoformat(sys.argv[3]),
        sys.argv[4],
    )
    started = time.monotonic()
    factory = create_sessionmaker(create_engine(url, pool_size=2))
    executor = SyncExecutor(
        factory,
        clients_source(3, gate=answered),
        clock=lambda: at + timedelta(seconds=time.monotonic() - started),
        lease_seconds=LEASE_SECONDS,
    )
    try:
        with unit_of_work(factory) as session:
            run = executor.request(
                session, company_id, since=Period.parse(since, "since"), until=None, trigger=Trigger.CLI
            )
            run_id, already = run.id, set(run.periods_done)
    except SyncAlreadyRunning as busy:
        say(f"busy {busy.message}")
        return 3
    say(f"run {run_id}")
    seen = already  # periods a run taken over had done already

    def progress(run: object) -> None:
        for period in getattr(run, "periods_done", []):
            if period not in seen:
                seen.add(period)
                say(f"done {period}")

    ended = asyncio.run(executor.run(company_id, run_id, progress))
    say(f"finished {ended.state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
