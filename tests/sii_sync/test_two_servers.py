"""Two `dtehub serve` processes on one database race for one company's sync: one run, answered by both,
executed once, against the emulator's RCV over TLS. No secret in either server's log."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtehub.config import Settings
from dtehub.sii.emulator import Emulator
from tests.conftest import TEST_SECRET_KEY
from tests.servers import free_port, wait_until_up
from tests.sii.rcv.conftest import COMPANY, PASSWORD
from tests.sii_sync.conftest import Committed, company_committed, person_pfx, store_test_certificate

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"


@pytest.fixture
def company(settings: Settings, rcv_data: Path) -> Iterator[Committed]:
    with company_committed(settings, COMPANY) as committed:
        store_test_certificate(committed, settings, person_pfx(rcv_data))
        yield committed


@pytest.fixture
def servers(settings: Settings, sii: Emulator, tmp_path: Path) -> Iterator[list[tuple[str, Path]]]:
    started: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    url = sii.base_url
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")},
        "DTEHUB_DATABASE_URL": settings.database_url,
        "DTEHUB_SECRET_KEY": TEST_SECRET_KEY,
        "DTEHUB_RUN_BACKGROUND_JOBS": "false",
        "DTEHUB_SII_AUTH_URL": url,
        "DTEHUB_SII_PORTAL_URL": url,
        "DTEHUB_SII_LOGOUT_URL": url,
        "DTEHUB_SII_RCV_URL": url,
        "DTEHUB_SII_CA_BUNDLE": str(sii.ca_bundle),
        "DTEHUB_SII_REQUESTS_PER_SECOND": "100",
        "DTEHUB_RATE_LIMIT_PER_MINUTE": "0",
        "DTEHUB_LOG_LEVEL": "debug",
    }
    try:
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"server-{name}.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    [str(DTEHUB), "serve", "--host", "127.0.0.1", "--port", str(port)],
                    env={**environment, "DTEHUB_PUBLIC_URL": f"http://127.0.0.1:{port}"},
                    cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT,
                )  # fmt: skip
            started.append((process, f"http://127.0.0.1:{port}", log))
        for process, base, log in started:
            wait_until_up(base, process, log, seconds=120)
        yield [(base, log) for _, base, log in started]
    finally:
        for process, _, _ in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _, _ in started:
            process.wait(timeout=60)


def test_two_servers_asked_at_once_run_one_sync(company: Committed, servers: list[tuple[str, Path]]) -> None:
    headers = {"Authorization": f"Bearer {company.token}"}
    clients = [httpx.Client(base_url=base, headers=headers, timeout=60) for base, _ in servers]
    try:
        for http in clients:
            http.get("/health")
        with ThreadPoolExecutor(2) as pool:
            answers = list(
                pool.map(lambda http: http.post("/v1/syncSii", json={"since": "2026-07"}), clients)
            )

        assert sorted(answer.status_code for answer in answers) == [200, 409], [a.text for a in answers]
        [started] = [answer.json() for answer in answers if answer.status_code == 200]
        [refused] = [answer.json() for answer in answers if answer.status_code == 409]
        assert refused["error"]["code"] == "sii_sync_running"
        assert f"run {started['id']}" in refused["error"]["message"]

        run: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the condition is polled, on the other server
            run = clients[1].get("/v1/getSiiSyncRun", params={"id": started["id"]}).json()
            if run["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert run["state"] == "done", run
        assert run["documentsCreated"] > 0
        listed = clients[0].get("/v1/getSiiSyncRuns").json()
        assert [item["id"] for item in listed["items"]] == [started["id"]]
    finally:
        for http in clients:
            http.close()
    for _, log in servers:
        assert PASSWORD not in log.read_text(errors="replace")
