"""POST /v1/syncSii, getSiiSyncRuns, getSiiSyncRun on a served app (real units of work, the run executed by
the server's own executor; SII's side played by a test source)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.kit.dates import today_in_santiago
from dtehub.models import AuditEvent
from dtehub.sii_sync.periods import Period
from tests.conftest import assert_error, served
from tests.sii_sync.conftest import Committed, person_pfx, store_test_certificate
from tests.sii_sync.sources import clients_source


class Sii:
    """When SII answers: the test opens the gate."""

    def __init__(self) -> None:
        self.open = asyncio.Event()

    async def gate(self, _period: Period) -> None:
        await self.open.wait()


@pytest.fixture
def certified(committed: Committed, settings: Settings, rcv_data: Path) -> Committed:
    store_test_certificate(committed, settings, person_pfx(rcv_data))
    return committed


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Sii]]:
    app = create_app(settings)
    sii = Sii()
    app.state.sii_sync.sources = clients_source(2, gate=sii.gate)
    async with served(app) as http:
        yield app, http, sii
    app.state.engine.dispose()


async def until_finished(http: httpx.AsyncClient, headers: dict[str, str], run_id: str) -> dict[str, Any]:
    for _ in range(600):  # the condition is polled; a failing test gives up after about 30 s
        answer = await http.get("/v1/getSiiSyncRun", params={"id": run_id}, headers=headers)
        assert answer.status_code == 200, answer.text
        run: dict[str, Any] = answer.json()
        if run["state"] in ("done", "failed"):
            return run
        await asyncio.sleep(0.05)
    pytest.fail(f"run {run_id} did not finish: {run}")


async def test_a_sync_asked_for_runs_and_shows_its_progress(
    server: tuple[FastAPI, httpx.AsyncClient, Sii], certified: Committed
) -> None:
    _, http, sii = server
    committed = certified
    headers = {"Authorization": f"Bearer {committed.token}"}
    current = Period.of(today_in_santiago())

    asked = await http.post("/v1/syncSii", json={"since": str(current.shifted(-2))}, headers=headers)

    assert asked.status_code == 200, asked.text
    run = asked.json()
    assert run["state"] == "queued"
    assert (run["since"], run["until"]) == (str(current.shifted(-2)), str(current))
    assert (run["periodsDone"], run["periodsTotal"], run["documentsCreated"]) == (0, 3, 0)
    assert run["trigger"] == "api"
    assert run["error"] is None

    # While it runs, a second request names it instead of starting another.
    again = await http.post("/v1/syncSii", json={}, headers=headers)
    assert_error(again, 409, "sii_sync_running")
    assert f"run {run['id']}" in again.json()["error"]["message"]

    sii.open.set()
    finished = await until_finished(http, headers, run["id"])
    assert finished["state"] == "done", finished
    assert (finished["periodsDone"], finished["documentsCreated"]) == (3, 6)
    assert finished["startedAt"]
    assert finished["finishedAt"]
    assert "boletas are monthly totals in SII's register: skipped" in finished["messages"]

    listed = await http.get("/v1/getSiiSyncRuns", headers=headers)
    assert [item["id"] for item in listed.json()["items"]] == [run["id"]]
    with unit_of_work(committed.factory, writes=False) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.company_id == committed.company_id)
        ).all()
    assert "syncSii" in actions


async def test_bad_ranges_are_refused_with_nothing_queued(
    server: tuple[FastAPI, httpx.AsyncClient, Sii], certified: Committed
) -> None:
    _, http, _ = server
    headers = {"Authorization": f"Bearer {certified.token}"}
    assert_error(
        await http.post("/v1/syncSii", json={"since": "2025/01"}, headers=headers), 400, field="since"
    )
    assert_error(
        await http.post("/v1/syncSii", json={"since": "2016-01"}, headers=headers),
        400,
        "invalid_period",
        "since",
    )
    assert_error(
        await http.post("/v1/syncSii", json={"until": "2999-01"}, headers=headers),
        400,
        "invalid_period",
        "until",
    )
    listed = await http.get("/v1/getSiiSyncRuns", headers=headers)
    assert listed.json()["items"] == []


async def test_another_companys_run_is_not_found(
    server: tuple[FastAPI, httpx.AsyncClient, Sii], certified: Committed, committed_company: tuple[int, str]
) -> None:
    _, http, sii = server
    committed = certified
    sii.open.set()
    mine = await http.post("/v1/syncSii", json={}, headers={"Authorization": f"Bearer {committed.token}"})
    other = {"Authorization": f"Bearer {committed_company[1]}"}

    assert_error(await http.get("/v1/getSiiSyncRun", params={"id": mine.json()["id"]}, headers=other), 404)
    assert (await http.get("/v1/getSiiSyncRuns", headers=other)).json()["items"] == []
    await until_finished(http, {"Authorization": f"Bearer {committed.token}"}, mine.json()["id"])


async def test_a_company_without_a_certificate_is_told_to_add_one(
    server: tuple[FastAPI, httpx.AsyncClient, Sii], committed: Committed
) -> None:
    _, http, _ = server
    headers = {"Authorization": f"Bearer {committed.token}"}

    answer = await http.post("/v1/syncSii", json={}, headers=headers)

    assert_error(answer, 404, "sii_certificate_missing", "certificate")
    assert "updateCompanySiiCertificate" in answer.json()["error"]["message"]
    assert (await http.get("/v1/getSiiSyncRuns", headers=headers)).json()["items"] == []
