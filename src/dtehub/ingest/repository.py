"""The queries that store DTEs in batches, shared by documents and notes: both tables are keyed by
(company, code, number) and keep their XML in a sources table next to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select
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
    ids, in order. RETURNING makes SQLAlchemy send multi-row INSERTs (one statement per few hundred
    rows, so PostgreSQL's statement triggers run once per batch, not per row); the ids are then read back
    by natural key, as asking RETURNING to keep the rows' order would make SQLite insert row by row."""
    if not rows:
        return []
    session.execute(insert(tables.rows).returning(tables.rows.c.id), rows)
    keys = [(row["code"], row["number"]) for row in rows]
    found = digests_by_key(session, tables, company_id, set(keys))
    ids = [found[key][0] for key in keys]
    linked = [{**source, tables.source_key: i} for source, i in zip(sources, ids, strict=True)]
    session.execute(insert(tables.sources).returning(tables.sources.c[tables.source_key]), linked)
    return ids
