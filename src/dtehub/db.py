"""Engine, sessions and the unit of work.

One URL setting picks the database: SQLite by default (WAL, foreign keys on, real transactions) or
PostgreSQL. Services never commit; :func:`unit_of_work` commits once when a request or command
succeeds and rolls back otherwise.

Sessions are synchronous and run in the server's thread pool: with SQLite every statement is a direct
call rather than a hop to a driver thread, which makes a request several times cheaper, and PostgreSQL
is reached through psycopg either way (``postgresql+asyncpg://`` URLs are accepted and served by it).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy import create_engine as sqlalchemy_create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+psycopg",
}


class UnsupportedDatabase(ValueError):
    pass


def database_url(url_text: str) -> URL:
    """The URL dtehub connects with, whichever accepted spelling the setting uses."""
    url = make_url(url_text)
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise UnsupportedDatabase(f"unsupported database {url.drivername!r}: use sqlite:/// or postgresql://")
    return url.set(drivername=driver)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


_SQLITE_BUSY_SNAPSHOT = 517
_RETRY_WINDOW = 2.0  # seconds

MAPPED_BYTES = 1024**3
"""How much of a SQLite file a serving connection reads through a memory map: random reads (one
document of a million) then cost no system call each (getDocument at 1M: 1.32 → 1.09 ms)."""


def configure_sqlite(
    engine: Engine, *, mapped: bool = True, busy_timeout: float = 10.0, immediate: bool = False
) -> None:
    """WAL, foreign keys and proper BEGIN for every SQLite connection; the file memory-mapped for reads
    unless ``mapped`` is False (a bulk writer gains nothing from it, and its mapped pages would count
    in its resident memory).

    pysqlite's legacy transaction handling does not emit BEGIN before reads, so two reads in one unit
    of work could see different snapshots; SQLAlchemy's documented recipe hands control back to us.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages per connection, not 2 MiB
        cursor.execute(f"PRAGMA mmap_size={MAPPED_BYTES if mapped else 0}")
        cursor.close()

    # A deferred transaction that read, then writes after another process committed, cannot write at
    # all (SQLITE_BUSY_SNAPSHOT, at once, whatever the busy timeout). The server runs such a unit of work
    # again; beside a bulk writer (dtehub import) that commits a long batch after another, every new
    # attempt would read, wait for the batch, and lose again. So the next transaction of a thread whose
    # transaction lost that way takes the write lock first (it then waits its turn, and cannot lose),
    # and a bulk writer's transactions always do.
    # Only for the attempt that follows at once: a read long after must not wait for the write lock.
    lost_a_race = threading.local()

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        if getattr(context.original_exception, "sqlite_errorcode", None) == _SQLITE_BUSY_SNAPSHOT:
            lost_a_race.at = time.monotonic()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        lost_at = getattr(lost_a_race, "at", None)
        lost_a_race.at = None
        if immediate or (lost_at is not None and time.monotonic() - lost_at < _RETRY_WINDOW):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def create_engine(
    url_text: str,
    *,
    pool_size: int = 10,
    mapped: bool = True,
    connect_timeout: float = 5.0,
    statement_timeout: float = 0.0,
    busy_timeout: float = 10.0,
    immediate: bool = False,
) -> Engine:
    """An engine for ``url_text``. Every wait on the database is bounded, so that a database that is
    down, unreachable or stuck costs a request a clean 503 rather than a thread held indefinitely:
    ``connect_timeout`` (PostgreSQL: a new connection, authentication included), ``statement_timeout``
    (PostgreSQL: one statement, lock waits included; 0 for none, as bulk commands want) and
    ``busy_timeout`` (SQLite: how long a write waits for another process's lock).

    ``immediate`` (SQLite): every transaction takes the write lock when it begins, for a process that
    only writes in long transactions (``dtehub import``), so that writers beside it cannot make it fail.
    """
    url = database_url(url_text)
    if is_sqlite(url):
        # Connections are used by one request at a time but not always from the same pool thread.
        engine = sqlalchemy_create_engine(
            url, pool_size=pool_size, max_overflow=pool_size, connect_args={"check_same_thread": False}
        )
        configure_sqlite(engine, mapped=mapped, busy_timeout=busy_timeout, immediate=immediate)
        return engine
    connect_args: dict[str, Any] = {
        "connect_timeout": max(2, math.ceil(connect_timeout)),  # libpq counts whole seconds, 2 at least
        # A peer that vanished without a word (host down, network cut) is noticed within about a minute
        # on idle connections instead of the system's two hours.
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if statement_timeout > 0:
        connect_args["options"] = f"-c statement_timeout={round(statement_timeout * 1000)}"
    return sqlalchemy_create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800, connect_args=connect_args
    )


def create_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed when the block succeeds, rolled back when it raises."""
    session = factory()
    try:
        yield session
    except BaseException:
        end_unit_of_work(session, commit=False)
        raise
    end_unit_of_work(session, commit=True)


def end_unit_of_work(session: Session, *, commit: bool) -> None:
    """Commit or roll back, and give the connection back to the pool in every case."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def lock_for_transaction(session: Session, *keys: str) -> None:
    """Serialize, until commit, the transactions that name the same keys (PostgreSQL advisory locks,
    taken in sorted order so that two transactions locking several keys cannot deadlock).

    SQLite needs none: it lets one transaction write at a time, and one that read a snapshot another
    has since changed cannot write (it fails instead of acting on stale reads).
    """
    if keys and session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) "
                "FROM (SELECT unnest(CAST(:keys AS text[])) AS key ORDER BY 1) AS wanted"
            ),
            {"keys": sorted(set(keys))},
        )


def refresh_statistics(factory: sessionmaker[Session], tables: tuple[str, ...]) -> None:
    """Bring PostgreSQL's planner statistics up to date for ``tables`` (its own short transaction).
    SQLite plans these lookups well without statistics."""
    with unit_of_work(factory) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE " + ", ".join(tables)))
