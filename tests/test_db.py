"""Storage settings every connection must have."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.db import MAPPED_BYTES, UnsupportedDatabase, create_engine, is_sqlite
from dtehub.db import database_url as parse_url
from tests.conftest import served


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if not is_sqlite(parse_url(database_url)):
        pytest.skip("the test database is not SQLite")


@pytest.mark.usefixtures("sqlite_only")
def test_sqlite_connections_use_wal_and_foreign_keys(engine: Engine) -> None:
    with engine.connect() as connection:
        journal_mode = connection.execute(text("PRAGMA journal_mode")).scalar_one()
        foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar_one()

    assert journal_mode == "wal"
    assert foreign_keys == 1


@pytest.mark.usefixtures("sqlite_only")
def test_every_new_sqlite_connection_is_configured(database_url: str) -> None:
    # A fresh engine (as the CLI and each server process make) configures all of its connections.
    engine = create_engine(database_url, pool_size=2)
    try:
        with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
                assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
                assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() > 0
                assert connection.execute(text("PRAGMA mmap_size")).scalar_one() == MAPPED_BYTES
    finally:
        engine.dispose()


@pytest.mark.usefixtures("sqlite_only")
def test_a_bulk_writer_can_do_without_the_memory_map(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1, mapped=False)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA mmap_size")).scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.usefixtures("sqlite_only")
def test_sqlite_enforces_foreign_keys(engine: Engine) -> None:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            with pytest.raises(IntegrityError):
                connection.execute(
                    text("INSERT INTO api_tokens (company_id, token_hash, created_at) VALUES (:c, :h, :t)"),
                    {"c": 987654321, "h": "0" * 64, "t": "2024-01-01 00:00:00"},
                )
        finally:
            transaction.rollback()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///x.db", "sqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite"),
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+psycopg"),
    ],
)
def test_url_spellings(given: str, driver: str) -> None:
    url = parse_url(given)

    assert url.drivername == driver
    assert url.database in ("x.db", "db")


def test_an_unknown_database_is_refused() -> None:
    with pytest.raises(UnsupportedDatabase, match="mysql"):
        parse_url("mysql://u@h/db")


async def test_a_dropped_postgresql_connection_costs_at_most_one_503(settings: Settings) -> None:
    # Pooled connections are not pinged before use (a round trip per request): a connection that died
    # (database restarted, idle-killed) fails the one request that meets it, which answers a clean 503,
    # and the pool is renewed for the next ones.
    if is_sqlite(parse_url(settings.database_url)):
        pytest.skip("PostgreSQL only")
    app = create_app(settings.model_copy(update={"db_pool_size": 1}))
    engine: Engine = app.state.engine
    try:
        async with served(app) as http:
            assert (await http.get("/health")).status_code == 200
            with engine.connect() as pooled:  # the connection the requests use
                pid = pooled.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            killer = create_engine(settings.database_url, pool_size=1)
            with killer.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killer.dispose()

            statuses = [(await http.get("/health")).status_code for _ in range(4)]
    finally:
        engine.dispose()

    assert statuses[0] in (200, 503)
    assert statuses[1:] == [200, 200, 200]
