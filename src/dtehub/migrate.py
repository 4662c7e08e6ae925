"""Run Alembic from dtehub itself, so `dtehub db upgrade` works from a checkout and from a wheel.

:func:`upgrade` is the one way a database reaches the current schema: ``dtehub serve`` and every command
that touches the database call it first. It takes one lock for the whole migration (PostgreSQL: an
advisory lock; SQLite: the write lock, ``BEGIN IMMEDIATE``), so that of two processes started together on
a fresh database one migrates and the other then finds it current. A database that a newer dtehub wrote
(a revision these migrations do not know) is refused, never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from dtehub.db import create_engine, database_url, is_sqlite, write_intent

MIGRATION_LOCK = "dtehub:migrations"
"""The key of the PostgreSQL advisory lock held while migrating (hashed as lock_for_transaction does)."""


class DatabaseTooNew(Exception):
    """The database is at a schema revision these migrations do not know: a newer dtehub wrote it."""

    def __init__(self, revisions: tuple[str, ...], head: str) -> None:
        self.revisions = revisions
        self.head = head
        super().__init__(
            f"the database was written by a newer dtehub (schema {', '.join(revisions)}; this dtehub knows "
            f"up to {head}): run that newer dtehub, or install it here"
        )


@dataclass(frozen=True)
class Migration:
    """What :func:`upgrade` did: the revisions the database was at (none: empty) and the one it is at."""

    before: tuple[str, ...]
    after: str


def _script_location() -> Path:
    packaged = Path(__file__).parent / "_migrations"  # inside an installed wheel
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"  # a source checkout


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_script_location()))
    config.attributes["database_url"] = database_url
    return config


def upgrade(url: str, *, busy_timeout: float = 10.0, connect_timeout: float = 5.0) -> Migration | None:
    """Bring the database to the current schema; None when it was current already.

    The revision is read first without any lock (the usual case: nothing to do); only a database that
    needs migrating is locked, read again under the lock (another process may have migrated it since),
    and migrated in that same transaction. On SQLite the lock is waited for at most ``busy_timeout``
    seconds; on PostgreSQL for as long as the other migration takes.

    Raises :class:`DatabaseTooNew`; the database's own errors (unreachable, locked, read-only) as
    SQLAlchemy raises them.
    """
    config = alembic_config(url)
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    assert head is not None, "the migrations have more than one head"
    sqlite = is_sqlite(database_url(url))
    engine = create_engine(
        url, pool_size=1, mapped=False, busy_timeout=busy_timeout, connect_timeout=connect_timeout
    )
    try:
        with engine.connect() as connection:
            before = _revisions(connection, script, head)
            connection.rollback()
            if before == (head,):
                return None
            if sqlite:
                # Batch mode rebuilds a SQLite table by dropping it: with foreign keys on, dropping a
                # parent would cascade-delete its children. Off while migrating (it cannot change inside
                # a transaction); migrations/env.py checks every reference before the commit.
                _pragma(connection, "foreign_keys=OFF")
            try:
                with write_intent(True), connection.begin():  # SQLite: BEGIN IMMEDIATE, the write lock
                    if not sqlite:
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                            {"key": MIGRATION_LOCK},
                        )
                    before = _revisions(connection, script, head)
                    if before == (head,):
                        return None  # another process migrated it while this one waited
                    config.attributes["connection"] = connection  # migrations/env.py runs in this transaction
                    command.upgrade(config, "head")  # it checks every reference on SQLite before the commit
            finally:
                if sqlite:
                    _pragma(connection, "foreign_keys=ON")
    finally:
        engine.dispose()
    return Migration(before=before, after=head)


def _revisions(connection: Connection, script: ScriptDirectory, head: str) -> tuple[str, ...]:
    """The revisions the database is at (empty for a new database); refuses unknown ones."""
    current = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = tuple(revision for revision in current if revision not in known)
    if unknown:
        raise DatabaseTooNew(unknown, head)
    return current


def _pragma(connection: Connection, setting: str) -> None:
    """A SQLite PRAGMA through the driver itself, outside any transaction."""
    assert not connection.in_transaction()
    connection.connection.dbapi_connection.execute(f"PRAGMA {setting}")  # type: ignore[union-attr]


def check(url: str) -> None:
    """Fail when the models and the migrations disagree (CI runs this)."""
    command.check(alembic_config(url))
