"""`dtehub serve`'s schedule as an operator sets it: DTEHUB_SII_SYNC_INTERVAL=0 starts no scheduled sync (a
sync asked for still runs); the same server with an interval starts one for a company with a certificate
right away. Real processes, the emulator's RCV over TLS."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtehub.config import Settings
from dtehub.sii.emulator import Emulator
from tests.conftest import TEST_SECRET_KEY
from tests.servers import free_port, wait_until_up
from tests.sii.rcv.conftest import COMPANY
from tests.sii_sync.conftest import Committed, company_committed, person_pfx, store_test_certificate

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"


@pytest.fixture
def company(settings: Settings, rcv_data: Path) -> Iterator[Committed]:
    """The emulator's company with a stored certificate and no run yet: due for a scheduled sync."""
    with company_committed(settings, COMPANY) as committed:
        store_test_certificate(committed, settings, person_pfx(rcv_data))
        yield committed


@contextmanager
def serve(settings: Settings, sii: Emulator, log: Path, interval: str) -> Iterator[str]:
    """`dtehub serve` with its background jobs on, SII at the emulator; its base URL."""
    url = sii.base_url
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")},
        "DTEHUB_DATABASE_URL": settings.database_url,
        "DTEHUB_SECRET_KEY": TEST_SECRET_KEY,
        "DTEHUB_RUN_BACKGROUND_JOBS": "true",
        "DTEHUB_SII_SYNC_INTERVAL": interval,
        "DTEHUB_SII_AUTH_URL": url,
        "DTEHUB_SII_PORTAL_URL": url,
        "DTEHUB_SII_LOGOUT_URL": url,
        "DTEHUB_SII_RCV_URL": url,
        "DTEHUB_SII_CA_BUNDLE": str(sii.ca_bundle),
        "DTEHUB_SII_REQUESTS_PER_SECOND": "100",
        "DTEHUB_RATE_LIMIT_PER_MINUTE": "0",
        "DTEHUB_LOG_LEVEL": "info",
        "DTEHUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(DTEHUB), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment, cwd=log.parent, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process, log, seconds=120)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def until(condition: Any, what: str, seconds: float = 120) -> Any:
    """Polls ``condition`` until it answers something true (the servers' state is another process's)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"not within {seconds} s: {what}")


def runs(http: httpx.Client) -> list[dict[str, Any]]:
    answer = http.get("/v1/getSiiSyncRuns")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_an_interval_of_0_schedules_no_sync_and_one_asked_for_still_runs(
    settings: Settings, company: Committed, sii: Emulator, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    with (
        serve(settings, sii, log, "0") as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {company.token}"}, timeout=60) as http,
    ):
        # The server says which way its schedule went before it serves.
        said = "SII syncs: none scheduled (DTEHUB_SII_SYNC_INTERVAL is 0); syncSii and dtehub sii sync"
        assert said in log.read_text(errors="replace")
        asked = http.post("/v1/syncSii", json={"since": "2026-09"})
        assert asked.status_code == 200, asked.text
        run_id = asked.json()["id"]
        until(lambda: runs(http)[0]["state"] in ("done", "failed"), "the run asked for to end")

        listed = runs(http)
        assert [(run["id"], run["trigger"], run["state"]) for run in listed] == [(run_id, "api", "done")]


def test_with_an_interval_the_company_due_is_synced_without_being_asked(
    settings: Settings, company: Committed, sii: Emulator, tmp_path: Path
) -> None:
    """The same server with an interval (the control: what the test above would see if 0 scheduled)."""
    log = tmp_path / "serve.log"
    with (
        serve(settings, sii, log, "21600") as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {company.token}"}, timeout=60) as http,
    ):
        listed = until(lambda: runs(http), "a scheduled run")
        assert [run["trigger"] for run in listed] == ["schedule"]
    said = "SII syncs: each company with a certificate every 21600 s"
    assert said in log.read_text(errors="replace")
