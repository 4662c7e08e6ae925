"""SIGTERM on a real ``dtehub serve``: requests in flight finish with their normal answer, new
connections are refused, background work in progress finishes its step, and the process exits 0
within the configured grace period (``DTEHUB_SHUTDOWN_GRACE``)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import text

from dtehub.config import Settings
from dtehub.db import create_engine
from tests.dte_factory import build_dte
from tests.faults.helpers import Server, company
from tests.webhooks.receiver import receiver

GRACE = 10
CLIENT_RUT = "99999999-9"


def _trickled(body: bytes, pieces: int, pause: float, started: threading.Event) -> Iterator[bytes]:
    """``body`` in ``pieces``, ``pause`` seconds apart: a slow client still sending."""
    size = -(-len(body) // pieces)
    for offset in range(0, len(body), size):
        yield body[offset : offset + size]
        started.set()
        time.sleep(pause)


def test_sigterm_lets_requests_in_flight_finish_and_refuses_new_ones(
    settings: Settings, tmp_path: Path
) -> None:
    with company(settings.database_url) as (_, rut, token):
        server = Server(settings.database_url, tmp_path, settings={"shutdown_grace": str(GRACE)})
        base = server.start()
        try:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            xml = build_dte(
                33, 4242, rut, CLIENT_RUT, 11900, issue_date=date(2024, 3, 1), due_date=date(2099, 1, 1)
            )
            body = b'{"xml": "' + base64.b64encode(xml) + b'"}'
            headers["Content-Length"] = str(len(body))
            answers: list[httpx.Response] = []
            sending = threading.Event()

            def slow_upload() -> None:
                with httpx.Client(timeout=30) as http:
                    answers.append(
                        http.post(
                            f"{base}/v1/createDocumentFromXml",
                            content=_trickled(body, 24, 0.25, sending),  # 6 s: outlasts the checks below
                            headers=headers,
                        )
                    )

            uploader = threading.Thread(target=slow_upload)
            uploader.start()
            assert sending.wait(10)
            time.sleep(0.3)
            stopped_at = time.monotonic()
            server.terminate()  # mid-body

            # New connections are refused at once, while the upload is still coming in: a connection the
            # closing listener had not accepted yet is reset unanswered, which refuses it just the same.
            deadline = time.monotonic() + 3
            while True:
                try:
                    httpx.get(f"{base}/health", timeout=1)
                except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
                    break
                assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
                time.sleep(0.05)
            assert uploader.is_alive()

            uploader.join(30)
            assert server.stop(timeout=GRACE + 5) == 0
            assert time.monotonic() - stopped_at < GRACE + 5
            assert len(answers) == 1
            assert answers[0].status_code == 200, answers[0].text
            assert answers[0].json()["number"] == "4242"

            engine = create_engine(settings.database_url, pool_size=1)  # what it acknowledged is stored
            try:
                with engine.connect() as db:
                    stored = db.execute(
                        text("SELECT content FROM document_sources WHERE document_id = :id"),
                        {"id": int(answers[0].json()["id"])},
                    ).scalar_one()
            finally:
                engine.dispose()
            assert bytes(stored) == xml
        finally:
            server.kill()  # a failure above must not leave the server running


def test_sigterm_beyond_the_grace_period_still_exits(settings: Settings, tmp_path: Path) -> None:
    """A client that never finishes cannot hold the server: it goes after the grace period."""
    with company(settings.database_url) as (_, _, token):
        server = Server(settings.database_url, tmp_path, settings={"shutdown_grace": "2"})
        base = server.start()
        sending = threading.Event()

        def endless() -> None:
            # Cut off after the grace period: nothing was stored.
            with httpx.Client(timeout=30) as http, suppress(httpx.TransportError):
                http.post(
                    f"{base}/v1/createClient",
                    content=_trickled(b'{"name": "X", "taxId": "' + b" " * 4000 + b'"}', 400, 0.1, sending),
                    headers={"Authorization": f"Bearer {token}", "Content-Length": "4032"},
                )

        sender = threading.Thread(target=endless)
        sender.start()
        assert sending.wait(10)
        stopped_at = time.monotonic()
        server.terminate()
        assert server.stop(timeout=20) == 0
        assert time.monotonic() - stopped_at < 2 + 4
        sender.join(60)


def test_sigterm_lets_a_webhook_delivery_in_progress_finish(settings: Settings, tmp_path: Path) -> None:
    with company(settings.database_url) as (company_id, _, token), receiver() as hook:
        hook.stall = 2.0  # the receiver takes its time: the delivery is in progress when SIGTERM comes
        server = Server(
            settings.database_url,
            tmp_path,
            settings={"shutdown_grace": str(GRACE), "run_background_jobs": "true", "webhook_interval": "0.2"},
        )
        base = server.start()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            created = http.post("/v1/createWebhook", json={"url": hook.url, "events": ["document.created"]})
            assert created.status_code == 200, created.text
            client = http.post("/v1/createClient", json={"name": "GANCHO", "taxId": CLIENT_RUT}).json()
            document = http.post(
                "/v1/createDocument",
                json={
                    "clientId": client["id"],
                    "number": "1",
                    "issueDate": "2024-03-01",
                    "dueDate": "2099-12-31",
                    "total": 1000,
                    "taxes": 0,
                },
            )
            assert document.status_code == 200, document.text
        deadline = time.monotonic() + 15
        while not hook.received:
            assert time.monotonic() < deadline, "the delivery never started"
            time.sleep(0.02)
        stopped_at = time.monotonic()
        server.terminate()
        assert server.stop(timeout=GRACE + 35) == 0
        assert time.monotonic() - stopped_at < GRACE + 5
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            with engine.connect() as db:
                rows = db.execute(
                    text(
                        "SELECT d.state, d.attempts, d.last_status_code, d.lease_token "
                        "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                        "WHERE w.company_id = :c"
                    ),
                    {"c": company_id},
                ).all()
        finally:
            engine.dispose()
        # Delivered once, its outcome recorded before the process left: nothing to send again.
        assert [tuple(row) for row in rows] == [(1, 1, 200, None)]
        assert len(hook.received) == 1
