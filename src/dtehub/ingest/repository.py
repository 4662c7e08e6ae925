"""The queries that store DTEs in batches, shared by documents and notes: both tables are keyed by
(company, code, number) and keep their XML in a sources table next to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import JSON, Table, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from dtehub.kit.sql import key_in
from dtehub.models import Base


@dataclass(frozen=True)
class DteTables:
    """A table of stored DTEs and the table of their XML sources (``source_key`` names its row)."""

    rows: Table
    sources: Table
    source_key: str


DOCUMENTS = DteTables(
    Base.metadata.tables["documents"], Base.metadata.tables["document_sources"], "document_id"
)
NOTES = DteTables(Base.metadata.tables["notes"], Base.metadata.tables["note_sources"], "note_id")


def digests_by_key(
    session: Session, tables: DteTables, company_id: int, keys: set[tuple[int, str]]
) -> dict[tuple[int, str], tuple[int, str | None]]:
    """(id, SHA-256 of its XML or None) of the company's rows with these (code, number) keys."""
    if not keys:
        return {}
    rows, sources = tables.rows.c, tables.sources.c
    query = (
        select(rows.code, rows.number, rows.id, sources.sha256)
        .outerjoin_from(tables.rows, tables.sources, sources[tables.source_key] == rows.id)
        .where(rows.company_id == company_id, *key_in(rows.code, rows.number, keys))
    )
    found = session.execute(query)
    return {(code, number): (id_, sha256) for code, number, id_, sha256 in found if (code, number) in keys}


def insert_many(
    session: Session,
    tables: DteTables,
    company_id: int,
    rows: list[dict[str, Any]],
    sources: list[dict[str, Any]],
) -> list[int]:
    """Insert a company's new rows and their XML sources (one each, in the same order); returns their
    ids, in order, read back by natural key. Each table gets one statement per batch, so PostgreSQL's
    statement triggers (the document counts) run once per batch, not per row."""
    if not rows:
        return []
    _insert(session, tables.rows, rows)
    keys = [(row["code"], row["number"]) for row in rows]
    found = digests_by_key(session, tables, company_id, set(keys))
    ids = [found[key][0] for key in keys]
    _insert(session, tables.sources, [{**s, tables.source_key: i} for s, i in zip(sources, ids, strict=True)])
    return ids


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table, rows)
    else:
        # RETURNING makes SQLAlchemy send multi-row INSERTs (one statement per few hundred rows); the
        # ids are read back by key, as asking RETURNING to keep the rows' order makes SQLite insert
        # row by row.
        session.execute(insert(table).returning(*table.primary_key.columns), rows)


def _json(value: Any) -> Json | None:
    return Json(value) if value is not None else None


def _copy(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY, in the session's transaction. A multi-row INSERT of a 200-DTE batch is a long
    SQL text that psycopg parses again on every call (measured: most of an import's storing time);
    COPY sends the values alone. Every column but the generated id must be given."""
    session.flush()  # rows of this transaction that the copied ones refer to (their clients)
    connection = session.connection()
    columns = [c for c in table.columns if c is not table.autoincrement_column]
    processors = [
        _json if isinstance(c.type, JSON) else c.type.bind_processor(connection.dialect) for c in columns
    ]
    names = ", ".join(c.name for c in columns)
    statement = f"COPY {table.name} ({names}) FROM STDIN"
    raw: Any = connection.connection.dbapi_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = (row[c.name] for c in columns)
                copy.write_row([p(v) if p else v for p, v in zip(processors, values, strict=True)])
    except psycopg.Error as exc:
        # As SQLAlchemy's own statements raise it (a lost race on a key is an IntegrityError to callers).
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
