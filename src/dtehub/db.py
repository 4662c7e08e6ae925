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
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
    if url.get_backend_name() == "sqlite" and (url.database or ":memory:") == ":memory:":
        # Each pooled connection would have a database of its own, empty, gone when it closes.
        raise UnsupportedDatabase(
            "an in-memory SQLite database is gone when its connection closes: "
            "name a file, e.g. sqlite:///./dtehub.db"
        )
    return url.set(drivername=driver)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


MAPPED_BYTES = 1024**3
"""How much of a SQLite file a serving connection reads through a memory map: random reads (one
document of a million) then cost no system call each (getDocument at 1M: 1.32 → 1.09 ms)."""
SQLITE_STATEMENT_CACHE = 128
"""Prepared statements kept per SQLite connection: Python's default."""
BULK_STATEMENT_CACHE = 8
"""For ``dtehub sii sync``: 128 of its one-off statements held about 60 MB more by the end of a sync of
60,000 documents (bench/sii_sync.py: peak 304 → 243 MB), at no cost in time."""

# How the transactions begun in the current unit of work start on SQLite: None, deferred (a read);
# a number, BEGIN IMMEDIATE waiting at most that many seconds for the write lock (and never longer
# than the engine's busy timeout). Set by write_intent(); read by the engine's "begin" listener.
_write_lock_wait: ContextVar[float | None] = ContextVar("dtehub_write_lock_wait", default=None)


@contextmanager
def write_intent(writes: bool, *, lock_wait: float = math.inf) -> Iterator[None]:
    """Declare whether the transactions begun in this block write.

    On SQLite a writing transaction begins with ``BEGIN IMMEDIATE``: it takes the write lock before
    its first read, waiting for it under the busy timeout (at most ``lock_wait`` seconds), and then
    cannot lose a race. A deferred transaction that read and then writes while another process
    holds the lock fails at once (SQLITE_BUSY: the busy timeout does not apply to that upgrade), or
    when the other one committed in between (SQLITE_BUSY_SNAPSHOT). Reads stay deferred: in WAL mode
    they never wait for a writer. No effect on PostgreSQL, whose locks are per row.
    """
    token = _write_lock_wait.set(lock_wait if writes else None)
    try:
        yield
    finally:
        _write_lock_wait.reset(token)


def configure_sqlite(engine: Engine, *, mapped: bool = True, busy_timeout: float = 10.0) -> None:
    """WAL, foreign keys and proper BEGIN for every SQLite connection; the file memory-mapped for reads
    unless ``mapped`` is False (a bulk writer gains nothing from it, and its mapped pages would count
    in its resident memory).

    pysqlite's legacy transaction handling does not emit BEGIN before reads, so two reads in one unit
    of work could see different snapshots; SQLAlchemy's documented recipe hands control back to us,
    and :func:`write_intent` picks ``BEGIN`` or ``BEGIN IMMEDIATE``.
    """
    busy_ms = round(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages per connection, not 2 MiB
        cursor.execute(f"PRAGMA mmap_size={MAPPED_BYTES if mapped else 0}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        lock_wait = _write_lock_wait.get()
        if lock_wait is None:
            connection.exec_driver_sql("BEGIN")
        else:
            _begin_immediate(connection, min(lock_wait, busy_timeout), busy_ms)


_SQLITE_BUSY = 5  # a primary result code: extended ones (busy in recovery, …) share its low byte
_POLL_SLICE = 0.025
"""Seconds of SQLite's own busy handler per try of a writer's BEGIN IMMEDIATE: within it SQLite polls
at 0, 1, 3, 8, 18 and 25 ms, so a writer that waits tries every 10 ms at most."""


def _begin_immediate(connection: Any, wait: float, busy_ms: int) -> None:
    """``BEGIN IMMEDIATE``, waiting at most ``wait`` seconds for the write lock, and trying often.

    SQLite queues no writers: one that waits sleeps and polls, and its busy handler, left alone, polls
    every 100 ms once it has waited a quarter of a second. A writer that just arrived polls at 1, 2,
    5 ms and takes the lock before one that has waited for seconds, and a short gap between two
    transactions of a bulk writer (``dtehub import``) goes by unseen. Trying in short slices keeps
    every waiting writer polling at least every 10 ms, whatever it waited already.
    """
    deadline = time.monotonic() + wait
    raw = connection.connection.driver_connection  # the sqlite3 connection: no cost per try
    raw.execute(f"PRAGMA busy_timeout={round(_POLL_SLICE * 1000)}")
    try:
        while deadline - time.monotonic() > _POLL_SLICE:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != _SQLITE_BUSY:
                    break
        # The last try through SQLAlchemy: its failure is an OperationalError like any other.
        raw.execute(f"PRAGMA busy_timeout={max(0, round((deadline - time.monotonic()) * 1000))}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute(f"PRAGMA busy_timeout={busy_ms}")


def create_engine(
    url_text: str,
    *,
    pool_size: int = 10,
    mapped: bool = True,
    connect_timeout: float = 5.0,
    statement_timeout: float = 0.0,
    busy_timeout: float = 10.0,
    statement_cache: int = SQLITE_STATEMENT_CACHE,
) -> Engine:
    """An engine for ``url_text``. Every wait on the database is bounded, so that a database that is
    down, unreachable or stuck costs a request a clean 503 rather than a thread held indefinitely:
    ``connect_timeout`` (PostgreSQL: a new connection, authentication included), ``statement_timeout``
    (PostgreSQL: one statement, lock waits included; 0 for none, as bulk commands want) and
    ``busy_timeout`` (SQLite: how long a write waits for another connection's lock; see
    :func:`write_intent`).

    ``statement_cache``: how many prepared statements each SQLite connection keeps (Python's
    ``cached_statements``). A bulk writer whose statements are mostly one-off (multi-row INSERTs, key
    lookups of thousands of parameters: each a different text, each prepared statement megabytes) keeps
    few: :data:`BULK_STATEMENT_CACHE`.
    """
    url = database_url(url_text)
    if is_sqlite(url):
        # Connections are used by one request at a time but not always from the same pool thread.
        engine = sqlalchemy_create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"check_same_thread": False, "cached_statements": statement_cache},
        )
        configure_sqlite(engine, mapped=mapped, busy_timeout=busy_timeout)
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
def unit_of_work(factory: sessionmaker[Session], *, writes: bool = True) -> Iterator[Session]:
    """One transaction: committed when the block succeeds, rolled back when it raises.

    It writes unless ``writes`` is False (see :func:`write_intent`): the commands and background jobs
    that use it change the database, and one that only reads gains nothing but a short wait behind
    another writer. It is not tried again: on SQLite a writing one cannot lose a race, it waits for
    the lock up to the busy timeout.
    """
    session = factory()
    with write_intent(writes):
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
