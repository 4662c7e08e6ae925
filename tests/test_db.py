"""Storage settings every connection must have."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from dtehub.db import UnsupportedDatabase, create_engine, is_sqlite
from dtehub.db import database_url as parse_url


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
