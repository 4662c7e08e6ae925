"""Alembic environment: blocking driver, batch mode for SQLite's limited ALTER TABLE."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from dtehub.config import get_settings
from dtehub.db import configure_sqlite, database_url, is_sqlite
from dtehub.models import Base
from dtehub.models.base import UTCDateTime

config = context.config
configured_url = config.attributes.get("database_url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=database_url(configured_url), target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    database = database_url(configured_url)
    engine = create_engine(database)
    if is_sqlite(database):
        configure_sqlite(engine)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations must not import dtehub's column types: UTCDateTime is a plain DateTime underneath.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    # dtehub.migrate.upgrade hands over a connection in its own transaction, under its lock, with
    # foreign keys already off; alembic then runs in that transaction and leaves the commit to it.
    external = connection.in_transaction()
    if sqlite and not external:
        # Batch mode rebuilds a SQLite table by dropping it: with foreign keys on, dropping a parent
        # (companies, notes…) would cascade-delete its children. Off while migrating, then every
        # reference is checked.
        _pragma(connection, "foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        # SQLite's DDL is transactional although alembic assumes otherwise: one transaction for the
        # whole upgrade, so that the reference check below can still undo it.
        transactional_ddl=True if sqlite else None,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration would leave rows pointing at nothing: {broken[:5]}")
    finally:
        if sqlite and not external:
            _pragma(connection, "foreign_keys=ON")


def _pragma(connection: Connection, setting: str) -> None:
    """Set a SQLite PRAGMA through the driver itself: SQLAlchemy would wrap it in the BEGIN that
    dtehub's engines emit, and foreign_keys cannot change inside a transaction."""
    assert not connection.in_transaction()
    connection.connection.dbapi_connection.execute(f"PRAGMA {setting}")  # type: ignore[union-attr]


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
