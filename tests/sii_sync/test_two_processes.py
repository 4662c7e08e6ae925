"""Exactly one run per company across processes: two real processes on one database, each with its own
clock set by the test (no sleeps: each step waits for what the other process says)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.sii_sync import runs
from tests.sii_sync.conftest import T0, Committed
from tests.sii_sync.holder_process import LEASE_SECONDS
from tests.sii_sync.sources import clients_of

ROOT = Path(__file__).resolve().parents[2]


class Holder:
    def __init__(self, settings: Settings, company_id: int, seconds_after_t0: float) -> None:
        at = (T0 + timedelta(seconds=seconds_after_t0)).isoformat()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.sii_sync.holder_process",
             settings.database_url, str(company_id), at, "2026-01"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip

    def said(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            assert self.process.stderr is not None
            pytest.fail(f"the process ended ({self.process.wait()}): {self.process.stderr.read()}")
        return line.strip()

    def answer(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        holder.close()


def test_a_second_process_waits_for_the_lease_and_resumes_a_killed_run(
    settings: Settings, committed: Committed, holders: list[Holder]
) -> None:
    first = Holder(settings, committed.company_id, 0)
    holders.append(first)
    said = first.said()
    assert said.startswith("run ")
    run_id = int(said.removeprefix("run "))
    assert first.said() == "fetching 2026-01"
    first.answer()
    assert first.said() == "done 2026-01"
    assert first.said() == "fetching 2026-02"  # holding the lease, waiting for SII

    # Another process half a lease later: the company's run is under way.
    second = Holder(settings, committed.company_id, LEASE_SECONDS / 2)
    holders.append(second)
    assert second.said() == f"busy a sync of this company is already running (run {run_id}); " \
        f"follow it with getSiiSyncRun?id={run_id}"  # fmt: skip
    assert second.process.wait(timeout=60) == 3

    first.kill()  # SIGKILL while February is being fetched: nothing of it was committed

    # Once the lease has lapsed (ten leases on: whatever the killed process renewed), a new process
    # takes the run over and goes on from February.
    third = Holder(settings, committed.company_id, LEASE_SECONDS * 10)
    holders.append(third)
    assert third.said() == f"run {run_id}"
    for period in ("2026-02", "2026-03"):
        assert third.said() == f"fetching {period}"
        third.answer()
        assert third.said() == f"done {period}"
    assert third.said() == "finished done"
    assert third.process.wait(timeout=60) == 0

    with unit_of_work(committed.factory, writes=False) as session:
        assert clients_of(session, committed.company_id) == {"2026-01": 3, "2026-02": 3, "2026-03": 3}
        run = runs.require_run(session, committed.company_id, run_id)
    assert run.state == "done"
    assert (run.documents_created, run.resumed) == (9, 1)
    assert run.periods_done == ["2026-01", "2026-02", "2026-03"]
