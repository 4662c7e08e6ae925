"""The request's real unit of work (not the test harness's): a success is committed before the answer,
a refusal leaves nothing behind. These tests commit for real, so they clean up their own company."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import delete, func, select

from dtehub.app import create_app
from dtehub.companies.service import create_company
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.dependencies import AuthDep, SessionDep, transactional
from dtehub.errors import Conflict
from dtehub.models import Company, Tag
from tests.conftest import random_rut


@pytest.fixture
def committed_company(settings: Settings) -> Iterator[tuple[int, str]]:
    engine = create_engine(settings.database_url, pool_size=1)
    factory = create_sessionmaker(engine)
    with unit_of_work(factory) as session:
        created = create_company(session, rut=random_rut(), name="Unidad de trabajo", payment_term_days=30)
        company_id, token = created.company.id, created.token
    yield company_id, token
    with unit_of_work(factory) as session:
        session.execute(delete(Company).where(Company.id == company_id))
    engine.dispose()


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
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
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
