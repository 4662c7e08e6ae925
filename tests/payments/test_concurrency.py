"""Payments racing for the same document against a real ``dtehub serve`` (two worker processes, each
with its thread pool), on whichever database the tests run: the document is never over-settled, and
every request gets either its 200 or a clear 409, never a 5xx."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtehub.config import Settings
from tests.servers import free_port, wait_until_up

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"
RACERS = 12


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")},
        "DTEHUB_DATABASE_URL": settings.database_url,
        "DTEHUB_PUBLIC_URL": base,
        "DTEHUB_RUN_BACKGROUND_JOBS": "false",
        "DTEHUB_THREADS": "8",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(DTEHUB), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=environment,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(base, process, log_path)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


def _race(
    base: str, headers: dict[str, str], path: str, bodies: list[dict[str, Any]]
) -> list[httpx.Response]:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        http.get("/v1/getPaymentMethods")  # connections warm, so that the posts start together

        def send(body: dict[str, Any]) -> httpx.Response:
            return http.post(path, json=body)

        with ThreadPoolExecutor(len(bodies)) as pool:
            return list(pool.map(send, bodies))


def _codes(responses: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    found: Counter[tuple[int, str | None]] = Counter()
    for response in responses:
        error = response.json().get("error") if response.status_code != 200 else None
        found[(response.status_code, error["code"] if error else None)] += 1
    return found


def _client_and_document(http: httpx.Client, number: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A client and its document of 1000, not yet due: what the racers pay."""
    client = http.post("/v1/createClient", json={"name": "CARRERA", "taxId": "99999999-9"}).json()
    document = http.post(
        "/v1/createDocument",
        json={
            "clientId": client["id"],
            "number": number,
            "issueDate": "2024-01-01",
            "dueDate": "2099-12-31",
            "total": 1000,
            "taxes": 0,
        },
    ).json()
    return client, document


def test_racing_payments_never_over_settle_a_document(
    server: str, committed_company: tuple[int, str]
) -> None:
    _, token = committed_company
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, headers=headers, timeout=30) as http:
        client, document = _client_and_document(http, "1")

    body = {"date": "2024-02-01", "amount": 250, "clientId": client["id"]}
    bodies = [{**body, "documents": [{"id": document["id"], "amount": 250}]} for _ in range(RACERS)]
    responses = _race(server, headers, "/v1/createPayment", bodies)

    assert _codes(responses) == {(200, None): 4, (409, "allocation_exceeds_due"): RACERS - 4}, [
        r.text for r in responses
    ]
    with httpx.Client(base_url=server, headers=headers, timeout=30) as http:
        seen = http.get("/v1/getDocument", params={"id": document["id"]}).json()
        listed = http.get("/v1/getPayments", params={"documentId": document["id"]}).json()
    assert (seen["paidAmount"], seen["amountDue"], seen["status"]) == ("1000.00", "0.00", 1)
    assert listed["records"]["totalRecords"] == 4


def test_racing_reconciliations_never_over_settle_a_document(
    server: str, committed_company: tuple[int, str]
) -> None:
    _, token = committed_company
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, headers=headers, timeout=30) as http:
        client, document = _client_and_document(http, "2")
        pending = [
            http.post(
                "/v1/createPayment",
                json={
                    "date": "2024-02-01",
                    "amount": 400,
                    "clientId": client["id"],
                    "status": 0,
                    "documents": [{"id": document["id"], "amount": 400}],
                },
            ).json()["id"]
            for _ in range(RACERS // 2)
        ]

    responses = _race(server, headers, "/v1/updatePayment", [{"id": p, "status": 1} for p in pending])

    assert _codes(responses) == {(200, None): 2, (409, "allocation_exceeds_due"): len(pending) - 2}, [
        r.text for r in responses
    ]
    with httpx.Client(base_url=server, headers=headers, timeout=30) as http:
        seen = http.get("/v1/getDocument", params={"id": document["id"]}).json()
        reconciled = http.get("/v1/getPayments", params={"documentId": document["id"]}).json()
    assert (seen["paidAmount"], seen["amountDue"], seen["status"]) == ("800.00", "200.00", 2)
    assert reconciled["records"]["totalRecords"] == 2
