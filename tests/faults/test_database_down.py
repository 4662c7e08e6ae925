"""The database down, unreachable, stuck or slow under a real ``dtehub serve``: requests answer a clean
503 JSON error within the configured timeouts, no worker stays stuck, and the server recovers by itself.

PostgreSQL is reached through a TCP proxy of the test's own (the shared server itself is never
stopped): the proxy cuts every connection and refuses new ones, accepts them but forwards nothing, or
delays every chunk of bytes. On SQLite, the analogue is another process holding the write lock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dtehub.config import Settings
from dtehub.db import create_engine, database_url, is_sqlite
from tests.conftest import error_of, random_rut
from tests.faults.helpers import Proxy, Server, company

CONNECT_TIMEOUT = 2  # seconds: libpq's least
STATEMENT_TIMEOUT = 2
THREADS = 4
REQUESTS = 12  # more than the server's threads: none may be left waiting on a dead connection
BOUND = 6.0  # seconds within which every request must answer while the database is away
# "Within a second" on an idle machine; the shared 2-core machine of the test run needs some slack.
# A stuck worker would take the whole timeout (30 s) or never answer.
RECOVERED_BOUND = 5.0
STALLED_BOUND = REQUESTS / THREADS * CONNECT_TIMEOUT + 3  # queued behind the threads' own waits


def _postgresql(settings: Settings) -> None:
    if is_sqlite(database_url(settings.database_url)):
        pytest.skip("PostgreSQL only (DTEHUB_TEST_DATABASE_URL)")


@pytest.fixture
def proxy(settings: Settings) -> Iterator[Proxy]:
    _postgresql(settings)
    url = make_url(settings.database_url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy
    proxy.close()


def _burst(base: str, token: str) -> list[tuple[int, float, httpx.Response]]:
    """REQUESTS requests at once (health, reads, writes): (status, seconds, response) of each."""
    headers = {"Authorization": f"Bearer {token}"}

    def one(i: int) -> tuple[int, float, httpx.Response]:
        started = time.monotonic()
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            if i % 3 == 0:
                response = http.get("/health")
            elif i % 3 == 1:
                response = http.get("/v1/getDocuments")
            else:
                response = http.post("/v1/createClient", json={"name": f"C{i}", "taxId": random_rut()})
        return response.status_code, time.monotonic() - started, response

    with ThreadPoolExecutor(REQUESTS) as pool:
        return list(pool.map(one, range(REQUESTS)))


def _all_clean_503(answers: list[tuple[int, float, httpx.Response]], bound: float = BOUND) -> None:
    for status, seconds, response in answers:
        assert status == 503, response.text
        assert error_of(response)["code"] == "database_unavailable"
        assert seconds < bound, (seconds, response.request.url)


def _recovered(base: str, token: str) -> None:
    """After the outage the server answers at once, without a restart: no thread is stuck, and at most
    one request meets a connection the outage left dead."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 5
    while True:
        started = time.monotonic()
        health = httpx.get(f"{base}/health", timeout=5)
        assert time.monotonic() - started < RECOVERED_BOUND
        if health.status_code == 200 or time.monotonic() > deadline:
            break
    assert health.status_code == 200, health.text
    for _ in range(REQUESTS):  # every thread, every pooled connection
        started = time.monotonic()
        listed = httpx.get(f"{base}/v1/getDocuments", headers=headers, timeout=5)
        assert listed.status_code == 200, listed.text
        assert time.monotonic() - started < RECOVERED_BOUND


def _proxied_server(settings: Settings, proxy: Proxy, tmp_path: Path) -> Server:
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    return Server(
        url.render_as_string(hide_password=False),
        tmp_path,
        settings={
            "db_connect_timeout": str(CONNECT_TIMEOUT),
            "db_statement_timeout": str(STATEMENT_TIMEOUT),
            "threads": str(THREADS),
        },
    )


def test_postgresql_down_or_unresponsive_answers_503_then_recovers(
    settings: Settings, proxy: Proxy, tmp_path: Path
) -> None:
    server = _proxied_server(settings, proxy, tmp_path)
    with company(settings.database_url) as (_, _, token):
        base = server.start()
        try:
            _recovered(base, token)  # warm: pooled connections through the proxy
            proxy.cut()  # every connection closed, new ones refused
            _all_clean_503(_burst(base, token))
            _all_clean_503(_burst(base, token))  # still down: no worker was left stuck by the first
            proxy.restore()
            _recovered(base, token)

            proxy.cut()
            proxy.stall()  # connections accepted, then silence: only the connect timeout ends the wait
            _all_clean_503(_burst(base, token), STALLED_BOUND)
            proxy.restore()
            _recovered(base, token)
        finally:
            server.kill()


def test_postgresql_slow_network_still_answers(settings: Settings, proxy: Proxy, tmp_path: Path) -> None:
    server = _proxied_server(settings, proxy, tmp_path)
    with company(settings.database_url) as (_, _, token):
        base = server.start()
        try:
            _recovered(base, token)
            proxy.slow(0.05)  # 50 ms on every chunk, both ways
            for status, seconds, response in _burst(base, token):
                assert status == 200, response.text
                assert seconds < BOUND
            proxy.restore()
            _recovered(base, token)
        finally:
            server.kill()


def test_postgresql_stuck_statement_answers_503_after_the_statement_timeout(
    settings: Settings, proxy: Proxy, tmp_path: Path
) -> None:
    """A statement stuck behind a lock (a long migration, a runaway transaction) is cancelled."""
    server = _proxied_server(settings, proxy, tmp_path)
    with company(settings.database_url) as (company_id, _, token):
        base = server.start()
        headers = {"Authorization": f"Bearer {token}"}
        blocker = create_engine(settings.database_url, pool_size=1)
        try:
            with blocker.connect() as db:
                # A new client must lock its company's row (its foreign key): hold that row.
                db.execute(text("SELECT id FROM companies WHERE id = :id FOR UPDATE"), {"id": company_id})
                started = time.monotonic()
                stuck = httpx.post(
                    f"{base}/v1/createClient",
                    json={"name": "ESPERA", "taxId": "99999999-9"},
                    headers=headers,
                    timeout=30,
                )
                waited = time.monotonic() - started
                assert stuck.status_code == 503, stuck.text
                assert error_of(stuck)["code"] == "database_unavailable"
                assert STATEMENT_TIMEOUT <= waited < STATEMENT_TIMEOUT + 3
                health = httpx.get(f"{base}/health", timeout=5)  # other work went on meanwhile
                assert health.status_code == 200
                db.rollback()
            created = httpx.post(
                f"{base}/v1/createClient", json={"name": "ESPERA", "taxId": "99999999-9"}, headers=headers
            )
            assert created.status_code == 200, created.text
        finally:
            blocker.dispose()
            server.kill()


def test_sqlite_locked_database_answers_503_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    server = Server(url, tmp_path, settings={"db_busy_timeout": "0.5", "threads": "4"})
    base = server.start()  # migrates the new file
    try:
        with company(url) as (_, _, token):
            headers = {"Authorization": f"Bearer {token}"}
            _recovered(base, token)
            holder = sqlite3.connect(path, isolation_level=None, timeout=5)
            try:
                holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
                started = time.monotonic()
                refused = httpx.post(
                    f"{base}/v1/createClient",
                    json={"name": "BLOQUEO", "taxId": "99999999-9"},
                    headers=headers,
                    timeout=30,
                )
                assert refused.status_code == 503, refused.text
                assert error_of(refused)["code"] == "database_unavailable"
                assert time.monotonic() - started < 10  # the busy timeout (0.5 s) in all, not 30 s
                read = httpx.get(f"{base}/v1/getDocuments", headers=headers, timeout=5)
                assert read.status_code == 200  # readers are not blocked (WAL)
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            created = httpx.post(
                f"{base}/v1/createClient", json={"name": "BLOQUEO", "taxId": "99999999-9"}, headers=headers
            )
            assert created.status_code == 200, created.text
            _recovered(base, token)
    finally:
        server.kill()
