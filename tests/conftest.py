"""Test harness.

The database is real: SQLite in a temporary file by default, PostgreSQL when
``DTEHUB_TEST_DATABASE_URL`` names one. The schema is built once per run by the migrations
themselves. Each API test runs inside one outer transaction that is rolled back at the end; the
request's unit of work commits and rolls back a savepoint inside it, exactly as it would the real
transaction, so a test sees what a client would and leaves nothing behind.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cl_sii.rut import Rut
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine, delete, make_url, text
from sqlalchemy import create_engine as sqlalchemy_engine
from sqlalchemy.orm import Session

from dtehub import migrate
from dtehub.app import create_app
from dtehub.companies.service import create_company
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, is_sqlite, unit_of_work
from dtehub.db import database_url as parse_url
from dtehub.models import Company
from dtehub.portal.links import Links

FIXTURES = Path(__file__).parent / "fixtures"
PUBLIC_URL = "https://dtehub.test"
LINKS = Links(PUBLIC_URL)
"""The links the test settings' server hands out (for services called without a request)."""
TEST_SECRET_KEY = "test-key-for-webhook-secrets-0123456789abcdef"


def _database_url(tmp_root: Path) -> str:
    configured = os.environ.get("DTEHUB_TEST_DATABASE_URL")
    return configured or f"sqlite:///{tmp_root / 'dtehub-test.db'}"


def _reset_schema(url: str) -> None:
    """Start from an empty database so the migrations build the schema from scratch."""
    database = parse_url(url)
    if is_sqlite(database):
        assert database.database
        for suffix in ("", "-wal", "-shm"):
            Path(database.database + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _database_url(tmp_path_factory.mktemp("db"))
    _reset_schema(url)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        max_body_bytes=2 * 1024 * 1024,
        max_xml_bytes=512 * 1024,
        max_file_bytes=256 * 1024,
        run_background_jobs=False,  # a test runs a job itself, when it means to
        secret_key=TEST_SECRET_KEY,
        webhooks_allow_private=True,  # the webhook tests' receivers listen on loopback
        # On, so every request runs the limiter, but never reached by a test (tests/security/ has its own)
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
        portal_rate_limit_per_minute=1_000_000,
        portal_rate_limit_burst=1_000_000,
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_engine(settings.database_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(
            bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings)
    yield app
    app.state.engine.dispose()  # the ASGI transport runs no lifespan: close the pool here


@pytest.fixture
async def client(app: FastAPI, session: Session) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, without credentials; its requests share the test's transaction."""

    # Every request gets the test's own session: @transactional commits it (a savepoint, here) or
    # rolls it back, and the test's transaction is rolled back at its end.
    factory = app.state.sessionmaker
    app.state.sessionmaker = lambda: session
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        app.state.sessionmaker = factory


@pytest.fixture
def committed_company(settings: Settings) -> Iterator[tuple[int, str]]:
    """A company and its token committed for real (for tests on :func:`served` apps), deleted after."""
    engine = create_engine(settings.database_url, pool_size=1)
    factory = create_sessionmaker(engine)
    with unit_of_work(factory) as session:
        created = create_company(session, rut=random_rut(), name="Unidad de trabajo", payment_term_days=30)
        company_id, token = created.company.id, created.token
    yield company_id, token
    with unit_of_work(factory) as session:
        session.execute(delete(Company).where(Company.id == company_id))
    engine.dispose()


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on an app of the test's own, its lifespan run: for tests of the real unit of
    work, outside the test's transaction."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        yield http


class Tenant:
    """A company with a token, and an HTTP client that sends it."""

    def __init__(self, company_id: int, rut: str, token: str, http: httpx.AsyncClient) -> None:
        self.company_id = company_id
        self.rut = rut
        self.token = token
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **params: object) -> httpx.Response:
        return await self.http.get(path, params=params, headers=self.headers)  # type: ignore[arg-type]

    async def post(self, path: str, body: object) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.headers)

    async def delete(self, path: str, body: object) -> httpx.Response:
        return await self.http.request("DELETE", path, json=body, headers=self.headers)


def make_tenant(
    session: Session, http: httpx.AsyncClient, rut: str, name: str, payment_term_days: int = 30
) -> Tenant:
    created = create_company(session, rut=rut, name=name, payment_term_days=payment_term_days)
    session.commit()
    return Tenant(created.company.id, created.company.rut, created.token, http)


@pytest.fixture
def tenant(session: Session, client: httpx.AsyncClient) -> Tenant:
    """Duemint's example company: RUT 76453707-6, payment term 7 days (as in the spec's example)."""
    return make_tenant(session, client, "76453707-6", "DUEMINT SPA", payment_term_days=7)


@pytest.fixture
def other_tenant(session: Session, client: httpx.AsyncClient) -> Tenant:
    return make_tenant(session, client, "76399752-9", "COMERCIALIZADORA INNOVA MOBEL SPA")


def api_routes(routes: Iterable[object]) -> Iterator[APIRoute]:
    """The app's routes, those of included routers too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI >= 0.125 keeps included routers as they are
            yield from api_routes(route.original_router.routes)


def random_rut() -> str:
    return str(Rut.random().canonical)


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error a client sees: exactly ``{"error": {"code", "message", "field"}}``, with a message."""
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["message"], body
    error: dict[str, Any] = body["error"]
    return error


def warnings_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The adjustments a successful answer reports: its ``warnings`` list, with one ``Warning`` header
    (RFC 7234: ``299 dtehub "…"``) for each; none at all when nothing was adjusted."""
    assert response.status_code == 200, response.text
    body = response.json()
    headers = response.headers.get_list("warning")
    warnings: list[dict[str, Any]] = body.get("warnings", [])
    assert "warnings" not in body or warnings, "an empty warnings list is left out"
    assert len(headers) == len(warnings), (headers, warnings)
    for header, warning in zip(headers, warnings, strict=True):
        assert header.startswith(f'299 dtehub "{warning["parameter"]}='), header
        assert set(warning) == {"parameter", "value", "used"}
    return warnings


def assert_error(
    response: httpx.Response, status: int, code: str | None = None, field: str | None = None
) -> None:
    assert response.status_code == status, response.text
    error = error_of(response)
    if code is not None:
        assert error["code"] == code
    if field is not None:
        assert error["field"] == field


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind the suite runs on: a file for SQLite, a new database on PostgreSQL."""
    configured = os.environ.get("DTEHUB_TEST_DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"dtehub_migration_{secrets.token_hex(4)}"
    server = sqlalchemy_engine(make_url(configured).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(configured).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        server.dispose()
