"""The request's real unit of work (not the test harness's): a success is committed before the answer,
a refusal leaves nothing behind. These tests commit for real, so they clean up their own company."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.responses import Response
from sqlalchemy import event, func, select

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.dependencies import (
    AuthDep,
    SessionDep,
    _provided_by_transactional,
    transactional,
)
from dtehub.errors import Conflict
from dtehub.models import Tag
from tests.conftest import api_routes, served


def _tag_count(settings: Settings, company_id: int) -> int:
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        with unit_of_work(create_sessionmaker(engine)) as session:
            return (
                session.scalar(select(func.count()).select_from(Tag).where(Tag.company_id == company_id)) or 0
            )
    finally:
        engine.dispose()


async def test_success_is_committed_and_refusal_rolled_back(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    company_id, token = committed_company
    app = create_app(settings)

    @app.post("/v1/writeThenFail")
    @transactional
    def write_then_fail(auth: AuthDep, session: SessionDep) -> None:
        session.add(Tag(company_id=auth.company_id, name="lost"))
        session.flush()  # the row is written in the transaction...
        raise Conflict("...and the request fails after it")

    headers = {"Authorization": f"Bearer {token}"}
    async with served(app) as http:
        client = (
            await http.post("/v1/createClient", json={"name": "C", "taxId": "99999999-9"}, headers=headers)
        ).json()
        body = {
            "clientId": client["id"],
            "number": "1",
            "issueDate": "2024-01-02",
            "total": "10",
            "taxes": "0",
        }

        created = await http.post("/v1/createDocument", json=body | {"tags": ["kept"]}, headers=headers)
        refused = await http.post("/v1/writeThenFail", headers=headers)

    assert created.status_code == 200
    assert refused.status_code == 409
    # Read through a separate engine: the first tag was durable when its answer came; the flushed one of
    # the refused request was rolled back.
    assert _tag_count(settings, company_id) == 1


async def test_the_callers_check_the_work_and_the_commit_run_in_one_thread(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    # Each extra trip between the event loop and the thread pool cost 0.2-0.4 ms here: a request makes one.
    _, token = committed_company
    app = create_app(settings)
    threads: dict[str, int] = {}
    request_connection: list[object] = []  # the request's (the server's own jobs commit on others)

    @event.listens_for(app.state.engine, "before_cursor_execute")
    def _statement(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "api_tokens" in statement and not request_connection:
            request_connection.append(conn)
            threads["token lookup"] = threading.get_ident()

    @event.listens_for(app.state.engine, "commit")
    def _commit(conn: object) -> None:
        if request_connection and conn is request_connection[0]:
            threads["commit"] = threading.get_ident()

    @app.get("/v1/whereAmI")
    @transactional
    def where_am_i(auth: AuthDep, session: SessionDep) -> Response:
        threads["endpoint"] = threading.get_ident()
        return Response(str(auth.company_id))

    async with served(app) as http:
        response = await http.get("/v1/whereAmI", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert set(threads) == {"token lookup", "endpoint", "commit"}
    assert len(set(threads.values())) == 1
    assert threading.get_ident() not in threads.values()  # not on the event loop


async def test_an_endpoint_taking_the_caller_without_transactional_fails_loudly(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/v1/forgotten")
    def forgotten(auth: AuthDep) -> Response:
        return Response(str(auth.company_id))

    async with served(app) as http:
        with pytest.raises(RuntimeError, match="@transactional"):
            await http.get("/v1/forgotten", headers={"Authorization": "Bearer dth_x"})


def _calls(dependant: Dependant) -> Iterator[object]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def test_every_endpoint_that_takes_the_session_or_the_caller_is_transactional(settings: Settings) -> None:
    # Otherwise it would fail at its first request (see above): caught here for every route at once.
    routes = list(api_routes(create_app(settings).routes))

    assert len(routes) > 20
    for route in routes:
        assert _provided_by_transactional not in _calls(route.dependant), route.path


async def test_an_endpoint_must_answer_a_response_before_its_commit(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    # Anything else would be serialized after the commit, where it could still query the database.
    company_id, token = committed_company
    app = create_app(settings)

    @app.post("/v1/answersAModel")
    @transactional
    def answers_a_model(auth: AuthDep, session: SessionDep) -> Any:
        session.add(Tag(company_id=auth.company_id, name="never committed"))
        return {"id": 1}

    async with served(app) as http:
        with pytest.raises(TypeError, match="must return a Response"):
            await http.post("/v1/answersAModel", headers={"Authorization": f"Bearer {token}"})

    assert _tag_count(settings, company_id) == 0
