"""Two `dtehub serve` processes on different ports, one PostgreSQL: what several machines would be.

dtehub's processes keep nothing of their own between requests (tokens, uniqueness, claims of
reminders and webhook deliveries all live in the database), so requests interleaved across the two
servers must behave as if one server answered them all: an XML sent to both at once is one document,
a natural key is taken once, payments never over-settle, a revoked token is refused by both at once,
and the background jobs of both send each reminder and each webhook delivery once. "Once" is counted
after both servers have stopped (SIGTERM lets a job's run in progress finish), so that no run that
could still send is left when the count is taken.

PostgreSQL only: an SQLite file is one machine's, and its several processes are already covered by
tests/payments/test_concurrency.py (two workers of one server).
"""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from dtehub.auth.service import issue_token, revoke_token
from dtehub.companies.service import company_by_rut, create_company
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, is_sqlite, unit_of_work
from dtehub.db import database_url as parse_url
from dtehub.kit.dates import today_in_santiago
from dtehub.models import Company
from tests.conftest import TEST_SECRET_KEY, random_rut
from tests.dte_factory import build_dte
from tests.reminders.conftest import Recorder, World
from tests.servers import free_port, wait_until_up
from tests.webhooks.receiver import Receiver, receiver

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"


@pytest.fixture(scope="module")
def database(settings: Settings) -> str:
    if is_sqlite(parse_url(settings.database_url)):
        pytest.skip(
            "two servers sharing one database is the several-machines case, which needs PostgreSQL "
            "(set DTEHUB_TEST_DATABASE_URL); an SQLite file is one machine's"
        )
    return settings.database_url


def _environment(database: str, base: str, smtp_url: str, jobs: bool) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    return {
        **clean,
        "DTEHUB_DATABASE_URL": database,
        "DTEHUB_PUBLIC_URL": base,
        "DTEHUB_RUN_BACKGROUND_JOBS": str(jobs).lower(),
        "DTEHUB_SECRET_KEY": TEST_SECRET_KEY,
        "DTEHUB_WEBHOOKS_ALLOW_PRIVATE": "true",
        "DTEHUB_WEBHOOK_INTERVAL": "0.1",  # both servers' delivery jobs poll often, so they contend
        "DTEHUB_REMINDERS_INTERVAL": "0.2",  # both servers' reminder jobs run often, so they contend
        "DTEHUB_SMTP_URL": smtp_url,
        "DTEHUB_RATE_LIMIT_PER_MINUTE": "0",
        "DTEHUB_PORTAL_RATE_LIMIT_PER_MINUTE": "0",
        "DTEHUB_LOG_LEVEL": "warning",
    }


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[str, Recorder]]:
    """A real SMTP server on loopback that both servers send their reminders to."""
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", recorder
    finally:
        controller.stop()


class ServerPair:
    """Two ``dtehub serve`` of one worker each on one database: A and B."""

    def __init__(self, database: str, smtp_url: str, folder: Path, *, jobs: bool) -> None:
        self.started: list[tuple[subprocess.Popen[bytes], str, Path]] = []
        try:
            for name in ("a", "b"):
                port = free_port()
                base = f"http://127.0.0.1:{port}"
                log = folder / f"server-{name}.log"
                with log.open("wb") as output:
                    process = subprocess.Popen(
                        [str(DTEHUB), "serve", "--host", "127.0.0.1", "--port", str(port)],
                        env=_environment(database, base, smtp_url, jobs),
                        cwd=folder,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                self.started.append((process, base, log))
            for process, base, log in self.started:
                wait_until_up(base, process, log, seconds=120)  # a busy machine starts slowly
        except BaseException:
            self.stop()
            raise
        self.bases = (self.started[0][1], self.started[1][1])

    def stop(self) -> list[int]:
        """SIGTERM to both, then their exit codes: each lets its job runs in progress finish first."""
        for process, _, _ in self.started:
            if process.poll() is None:
                process.terminate()
        return [process.wait(timeout=60) for process, _, _ in self.started]


@pytest.fixture(scope="module")
def servers(
    database: str, smtp: tuple[str, Recorder], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A and B for the API's races: their background jobs are off (see ``job_servers``)."""
    pair = ServerPair(database, smtp[0], tmp_path_factory.mktemp("two-servers"), jobs=False)
    try:
        yield pair.bases
    finally:
        pair.stop()


@pytest.fixture
def job_servers(database: str, smtp: tuple[str, Recorder], tmp_path: Path) -> Iterator[ServerPair]:
    """A and B running their background jobs (often: they contend), for a test to stop when it
    counts what was sent."""
    pair = ServerPair(database, smtp[0], tmp_path, jobs=True)
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture(scope="module")
def factory(database: str) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(database, pool_size=2)
    yield create_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def company(factory: sessionmaker[Session]) -> Iterator[tuple[str, str]]:
    """A company committed for real: (RUT, token); deleted after."""
    with unit_of_work(factory) as session:
        created = create_company(session, rut=random_rut(), name="DOS SERVIDORES SPA", payment_term_days=30)
        company_id, rut, token = created.company.id, created.company.rut, created.token
    yield rut, token
    with unit_of_work(factory) as session:
        session.execute(delete(Company).where(Company.id == company_id))


def _both(calls: list[tuple[str, str, str, dict[str, Any] | None]], token: str) -> list[httpx.Response]:
    """(base, method, path, body) all at once, each on a client of its own (warmed first)."""
    clients = [
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        for base, *_ in calls
    ]
    try:
        for http in clients:
            http.get("/health")

        def send(pair: tuple[httpx.Client, tuple[str, str, str, dict[str, Any] | None]]) -> httpx.Response:
            http, (_, method, path, body) = pair
            return http.request(method, path, json=body)

        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(send, zip(clients, calls, strict=True)))
    finally:
        for http in clients:
            http.close()


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _new_client(base: str, token: str, tax_id: str = "99999999-9") -> str:
    with _client(base, token) as http:
        answer = http.post("/v1/createClient", json={"name": "CLIENTE COMPARTIDO", "taxId": tax_id})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id"])


def test_the_same_xml_sent_to_both_servers_at_once_is_one_document(
    servers: tuple[str, str], company: tuple[str, str]
) -> None:
    rut, token = company
    xml = build_dte(33, 4242, rut, "99999999-9", 119_000, issue_date=date(2026, 1, 5), signed=True)
    body = {"xml": base64.b64encode(xml).decode()}
    calls = [(base, "POST", "/v1/createDocumentFromXml", body) for base in servers * 4]

    answers = _both(calls, token)

    assert [a.status_code for a in answers] == [200] * len(calls), [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    for base in servers:
        with _client(base, token) as http:
            listed = http.get("/v1/getDocuments", params={"number": "4242"}).json()
        assert listed["records"]["totalRecords"] == 1


def test_a_natural_key_sent_to_both_servers_is_taken_once(
    servers: tuple[str, str], company: tuple[str, str]
) -> None:
    _, token = company
    client_id = _new_client(servers[0], token)
    body = {"clientId": client_id, "number": "77", "issueDate": "2026-01-05", "total": "1190", "taxes": "190"}

    answers = _both([(base, "POST", "/v1/createDocument", body) for base in servers], token)

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    [refused] = [a for a in answers if a.status_code == 409]
    assert refused.json()["error"]["code"] == "already_exists"
    [created] = [a for a in answers if a.status_code == 200]
    for base in servers:
        with _client(base, token) as http:
            assert http.get("/v1/getDocument", params={"id": created.json()["id"]}).status_code == 200
            assert (
                http.get("/v1/getDocuments", params={"number": "77"}).json()["records"]["totalRecords"] == 1
            )


def test_payments_racing_from_both_servers_never_over_settle(
    servers: tuple[str, str], company: tuple[str, str]
) -> None:
    _, token = company
    client_id = _new_client(servers[1], token)
    with _client(servers[1], token) as http:
        document = http.post(
            "/v1/createDocument",
            json={"clientId": client_id, "number": "1", "issueDate": "2026-01-05", "dueDate": "2099-12-31",
                  "total": 1000, "taxes": 0},
        ).json()  # fmt: skip
    payment = {"date": "2026-02-01", "amount": 250, "clientId": client_id,
               "documents": [{"id": document["id"], "amount": 250}]}  # fmt: skip

    answers = _both([(base, "POST", "/v1/createPayment", payment) for base in servers * 5], token)

    outcomes = Counter(
        (a.status_code, a.json()["error"]["code"] if a.status_code != 200 else None) for a in answers
    )
    assert outcomes == {(200, None): 4, (409, "allocation_exceeds_due"): 6}, [a.text for a in answers]
    for base in servers:
        with _client(base, token) as http:
            seen = http.get("/v1/getDocument", params={"id": document["id"]}).json()
        assert (seen["paidAmount"], seen["amountDue"], seen["status"]) == ("1000.00", "0.00", 1)


def test_a_token_revoked_is_refused_by_both_servers_at_once(
    servers: tuple[str, str], company: tuple[str, str], factory: sessionmaker[Session]
) -> None:
    rut, _ = company
    with unit_of_work(factory) as session:  # as `dtehub tokens create` would, from a third process
        token = issue_token(session, company_by_rut(session, rut).id)
    for _ in range(3):  # used on both, so that a server that cached it would have it cached now
        for base in servers:
            with _client(base, token) as http:
                assert http.get("/v1/getCompany").status_code == 200

    with unit_of_work(factory) as session:
        revoke_token(session, token)

    for base in servers:
        with _client(base, token) as http:
            refused = http.get("/v1/getCompany")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"


@pytest.fixture
def rx() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


def test_both_servers_deliver_each_webhook_event_once(
    servers: tuple[str, str], job_servers: ServerPair, company: tuple[str, str], rx: Receiver
) -> None:
    _, token = company
    with _client(job_servers.bases[0], token) as http:
        made = http.post("/v1/createWebhook", json={"url": rx.url, "events": ["document.created"]})
        assert made.status_code == 200, made.text
    client_id = _new_client(job_servers.bases[1], token)
    count = 24
    https = [_client(base, token) for base in job_servers.bases]
    try:
        for n in range(count):  # alternately on each server: both delivery jobs see events as they come
            answer = https[n % 2].post(
                "/v1/createDocument",
                json={"clientId": client_id, "number": str(500 + n), "issueDate": "2026-01-05",
                      "total": "1190", "taxes": "190"},
            )  # fmt: skip
            assert answer.status_code == 200, answer.text
    finally:
        for http in https:
            http.close()

    deadline = time.monotonic() + 30
    while len(rx.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    # Every event has arrived; a second delivery could only come from a run still going: both servers
    # stop, and each finishes its run in progress before it exits.
    assert job_servers.stop() == [0, 0]

    ids = Counter(r.headers["dtehub-event-id"] for r in rx.received)
    assert len(ids) == count
    assert ids.most_common(1)[0][1] == 1
    with _client(servers[1], token) as http:
        deliveries = http.get(
            "/v1/getWebhookDeliveries", params={"webhookId": made.json()["id"], "resultsPerPage": 100}
        ).json()["items"]
    assert Counter((d["status"], d["attempts"]) for d in deliveries) == {("delivered", 1): count}


@pytest.fixture
def world(factory: sessionmaker[Session]) -> Iterator[World]:
    made = World(factory)
    yield made
    made.delete()


def test_both_servers_reminder_jobs_send_each_reminder_once(
    job_servers: ServerPair, world: World, smtp: tuple[str, Recorder]
) -> None:
    _, recorder = smtp
    recorder.stall = 0.01  # each send takes a moment, so the two servers' runs overlap
    already = len(recorder.received)
    yesterday = today_in_santiago() - timedelta(days=1)
    client = world.client("Constructora Andes", "pagos@andes.cl")
    for n in range(30):  # overdue since today: both servers' next runs queue and send their reminders
        world.document(client, str(1000 + n), yesterday)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        messages = world.messages()
        if len(messages) >= 30 and {m.status for m in messages} == {"sent"}:
            break
        time.sleep(0.1)
    # Every reminder is sent; a second send could only come from a run still going: both servers stop,
    # and each finishes its run in progress before it exits.
    assert job_servers.stop() == [0, 0]

    messages = world.messages()
    assert Counter(m.status for m in messages) == {"sent": len(messages)}
    assert len(messages) >= 30  # one overdue reminder per document (at least)
    received = Counter(recorder.message_ids()[already:])  # (other companies' reminders too, if any)
    assert {m.message_id: received[m.message_id] for m in messages} == {m.message_id: 1 for m in messages}
