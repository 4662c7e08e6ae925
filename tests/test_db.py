"""Storage settings every connection must have."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from dtehub.db import async_url, create_engine, is_sqlite, sync_url


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if not is_sqlite(async_url(database_url)):
        pytest.skip("the test database is not SQLite")


@pytest.mark.usefixtures("sqlite_only")
async def test_sqlite_connections_use_wal_and_foreign_keys(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        journal_mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()

    assert journal_mode == "wal"
    assert foreign_keys == 1


@pytest.mark.usefixtures("sqlite_only")
async def test_every_new_sqlite_connection_is_configured(database_url: str) -> None:
    # A fresh engine (as the CLI and each server process make) configures all of its connections.
    engine = create_engine(database_url, pool_size=2)
    try:
        async with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
                assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
                assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one() > 0
    finally:
        await engine.dispose()


@pytest.mark.usefixtures("sqlite_only")
async def test_sqlite_enforces_foreign_keys(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            with pytest.raises(IntegrityError):
                await connection.execute(
                    text("INSERT INTO api_tokens (company_id, token_hash, created_at) VALUES (:c, :h, :t)"),
                    {"c": 987654321, "h": "0" * 64, "t": "2024-01-01 00:00:00"},
                )
        finally:
            await transaction.rollback()


@pytest.mark.parametrize(
    ("given", "async_driver", "sync_driver"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite", "sqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite", "sqlite"),
        ("postgresql://u@h/db", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg", "postgresql+psycopg"),
    ],
)
def test_url_spellings(given: str, async_driver: str, sync_driver: str) -> None:
    assert async_url(given).drivername == async_driver
    assert sync_url(given).drivername == sync_driver
    assert async_url(given).database == sync_url(given).database
