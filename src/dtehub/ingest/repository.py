"""The queries that store DTEs in batches, shared by documents and notes: both tables are keyed by
(company, code, number) and keep their XML in a sources table next to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from dtehub.kit.sql import insert_rows, key_in
from dtehub.models import Base, Origin


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
    """(id, SHA-256 of its XML or None) of the company's rows with these (code, number) keys (of the
    documents it issued: held ones are another issuer's)."""
    if not keys:
        return {}
    rows, sources = tables.rows.c, tables.sources.c
    own = [rows.held.is_(False)] if "held" in rows else []
    query = (
        select(rows.code, rows.number, rows.id, sources.sha256)
        .outerjoin_from(tables.rows, tables.sources, sources[tables.source_key] == rows.id)
        .where(rows.company_id == company_id, *own, *key_in(rows.code, rows.number, keys))
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
    ids, in order, read back by natural key. Each table gets one statement per batch."""
    if not rows:
        return []
    insert_rows(session, tables.rows, rows)
    keys = [(row["code"], row["number"]) for row in rows]
    found = digests_by_key(session, tables, company_id, set(keys))
    ids = [found[key][0] for key in keys]
    insert_sources(session, tables, ids, sources)
    return ids


def insert_sources(
    session: Session, tables: DteTables, ids: list[int], sources: list[dict[str, Any]]
) -> None:
    """The XML sources of rows just inserted with these ids (one each, in the same order)."""
    insert_rows(
        session, tables.sources, [{**s, tables.source_key: i} for s, i in zip(sources, ids, strict=True)]
    )


def register_only(session: Session, tables: DteTables, company_id: int, ids: set[int]) -> set[int]:
    """Those of the company's rows among ``ids`` that the SII sync created from the Registro de Ventas
    and that have no XML yet: an XML of their type and folio attaches to them."""
    if not ids:
        return set()
    rows, sources = tables.rows.c, tables.sources.c
    query = (
        select(rows.id)
        .outerjoin_from(tables.rows, tables.sources, sources[tables.source_key] == rows.id)
        .where(
            rows.company_id == company_id,
            rows.id.in_(ids),
            rows.source == Origin.SII.value,
            sources[tables.source_key].is_(None),
        )
    )
    return set(session.scalars(query))
