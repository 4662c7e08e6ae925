"""A write that finds another connection holding the write lock (a ``dtehub import`` batch, another
server) waits its turn and succeeds; only a lock held longer than ``DTEHUB_DB_BUSY_TIMEOUT`` makes it
answer 503, after about that time. Reads are never blocked. Real units of work on real apps: these
tests commit, and clean up their own company (``committed_company``)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy import event, func, select, text

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, is_sqlite, unit_of_work
from dtehub.db import database_url as parse_url
from dtehub.dependencies import AuthDep, SessionDep, transactional
from dtehub.models import Client, Tag
from tests.conftest import error_of, served

HELD = 2.0  # seconds the other connection keeps the lock once the request is waiting for it


@contextmanager
def held_write_lock(database_url: str) -> Iterator[None]:
    """Another connection holds the lock every write needs, until the block ends. SQLite: its write
    lock (what a ``dtehub import`` batch holds). PostgreSQL: an EXCLUSIVE lock on ``clients`` and
    ``tags``, which blocks their writers but none of their readers."""
    url = parse_url(database_url)
    if is_sqlite(url):
        assert url.database
        holder = sqlite3.connect(url.database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            connection.execute(text("LOCK TABLE clients, tags IN EXCLUSIVE MODE"))
            yield
            connection.rollback()
    finally:
        engine.dispose()


def _signal_connect(app: FastAPI) -> threading.Event:
    """Set when the app's engine hands out a connection, before its transaction begins and waits for
    any lock: the request has reached the database."""
    reached = threading.Event()

    @event.listens_for(app.state.engine, "engine_connect")
    def _reached(_connection: object) -> None:
        reached.set()

    return reached


def _count(settings: Settings, model: Any, company_id: int) -> int:
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        with unit_of_work(create_sessionmaker(engine), writes=False) as session:
            statement = select(func.count()).select_from(model).where(model.company_id == company_id)
            return session.scalar(statement) or 0
    finally:
        engine.dispose()


async def _waits_then_succeeds(app: FastAPI, request: httpx.Request, token: str, database_url: str) -> None:
    """Send ``request`` while another connection holds the lock: it must still be waiting (not
    refused) after HELD seconds, a read meanwhile must answer at once, and after the lock is
    released the request must succeed."""
    headers = {"Authorization": f"Bearer {token}"}
    async with served(app) as http:
        with held_write_lock(database_url):
            reached = _signal_connect(app)
            write = asyncio.ensure_future(http.send(request))
            assert await asyncio.to_thread(reached.wait, 30), "the request never reached the database"
            read = await http.get("/v1/getClients", headers=headers)
            assert read.status_code == 200, read.text  # readers are not blocked by a writer
            assert not write.done()
            await asyncio.sleep(HELD)  # the other connection keeps its lock this long
            assert not write.done(), write.result().text  # still waiting for the lock, not refused
        response = await write
    assert response.status_code == 200, response.text


async def test_a_write_waits_for_a_held_write_lock_and_succeeds(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    company_id, token = committed_company
    app = create_app(settings)
    request = httpx.Request(
        "POST",
        "http://t/v1/createClient",
        json={"name": "ESPERA", "taxId": "99999999-9"},
        headers={"Authorization": f"Bearer {token}"},
    )

    await _waits_then_succeeds(app, request, token, settings.database_url)

    assert _count(settings, Client, company_id) == 1


async def test_a_read_that_turns_into_a_write_waits_too(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    # A GET begins as a read (it never waits for a writer), then writes: on SQLite that upgrade fails
    # at once while another holds the lock; the unit of work runs again as a writer and waits.
    company_id, token = committed_company
    app = create_app(settings)

    @app.get("/v1/readThenWrite")
    @transactional
    def read_then_write(auth: AuthDep, session: SessionDep) -> Response:
        existing = session.scalar(
            select(func.count()).select_from(Tag).where(Tag.company_id == auth.company_id)
        )
        session.add(Tag(company_id=auth.company_id, name=f"visto {existing}"))
        session.flush()
        return Response("ok")

    request = httpx.Request("GET", "http://t/v1/readThenWrite", headers={"Authorization": f"Bearer {token}"})

    await _waits_then_succeeds(app, request, token, settings.database_url)

    assert _count(settings, Tag, company_id) == 1


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_write_busy_longer_than_the_busy_timeout_answers_503_after_it(
    settings: Settings, committed_company: tuple[int, str], method: str
) -> None:
    if not is_sqlite(parse_url(settings.database_url)):
        pytest.skip("DTEHUB_DB_BUSY_TIMEOUT bounds SQLite's lock waits (PostgreSQL: the statement timeout)")
    company_id, token = committed_company
    busy_timeout = 2.0
    app = create_app(settings.model_copy(update={"db_busy_timeout": busy_timeout}))

    @app.get("/v1/readThenWrite")
    @transactional
    def read_then_write(auth: AuthDep, session: SessionDep) -> Response:
        session.scalar(select(func.count()).select_from(Tag).where(Tag.company_id == auth.company_id))
        session.add(Tag(company_id=auth.company_id, name="nunca"))
        session.flush()
        return Response("ok")

    headers = {"Authorization": f"Bearer {token}"}
    async with served(app) as http:
        with held_write_lock(settings.database_url):  # held until the answer came
            started = time.monotonic()
            if method == "POST":
                refused = await http.post("/v1/createTag", json={"name": "nunca"}, headers=headers)
            else:
                refused = await http.get("/v1/readThenWrite", headers=headers)
            waited = time.monotonic() - started

    assert refused.status_code == 503, refused.text
    assert error_of(refused)["code"] == "database_unavailable"
    # The whole busy timeout, once: not a count of quick tries, nor a full wait for each try.
    assert busy_timeout <= waited < 2 * busy_timeout
    assert _count(settings, Tag, company_id) == 0


@contextmanager
def back_to_back_writer(database_url: str, hold: float, gap: float) -> Iterator[None]:
    """Another process's transactions one right after another, as a ``dtehub import`` of envelopes
    writes its batches: each holds the write lock ``hold`` seconds, then leaves it free ``gap``."""
    path = parse_url(database_url).database
    assert path
    stop = threading.Event()

    def write() -> None:
        holder = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            while not stop.is_set():
                holder.execute("BEGIN IMMEDIATE")
                stop.wait(hold)
                holder.execute("COMMIT")
                time.sleep(gap)  # the importer's own work between two batches
        finally:
            holder.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_a_writer_gets_in_between_the_transactions_of_a_bulk_writer(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    # SQLite queues no writers: a waiting one polls, and left to SQLite's own busy handler it polls
    # every 100 ms after its first quarter of a second, missing gaps of a few milliseconds for many
    # seconds. dtehub's writers keep polling every 10 ms at most.
    if not is_sqlite(parse_url(settings.database_url)):
        pytest.skip("SQLite's single write lock")
    company_id, _ = committed_company
    busy_timeout = 3.0
    engine = create_engine(settings.database_url, pool_size=1, busy_timeout=busy_timeout)
    try:
        with back_to_back_writer(settings.database_url, hold=0.5, gap=0.015):
            for n in range(3):
                with unit_of_work(create_sessionmaker(engine)) as session:
                    session.add(Tag(company_id=company_id, name=f"entre lotes {n}"))
    finally:
        engine.dispose()

    assert _count(settings, Tag, company_id) == 3
