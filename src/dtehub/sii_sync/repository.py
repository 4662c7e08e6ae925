"""Every query of sync runs and their leases. A company's runs are read by company; the executor's own
queries (the leases a process holds) are by holder, as the reminders' claims are by run.

The lease is one row per company (its primary key): taking it is an INSERT that does nothing on
conflict, or an UPDATE of a row whose time is over; both are atomic on SQLite (one writer at a time)
and on PostgreSQL (the row's lock; a concurrent UPDATE re-reads the row once the first commits and finds
it no longer expired), so two processes racing for one company's lease cannot both win it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from dtehub.documents.sii_states import SII_COLUMNS
from dtehub.kit.pagination import PageRequest
from dtehub.kit.sql import insert_on_conflict, key_in
from dtehub.models import (
    Company,
    CompanySiiCertificate,
    Document,
    DocumentSource,
    Note,
    NoteSource,
    Origin,
    RunState,
    SiiSyncLease,
    SiiSyncPeriod,
    SiiSyncRun,
)
from dtehub.sii_sync.periods import LastRead

ACTIVE = (RunState.QUEUED.value, RunState.RUNNING.value)
LEASES = cast(Table, SiiSyncLease.__table__)


def company(session: Session, company_id: int) -> Company | None:
    return session.get(Company, company_id)


def add_run(session: Session, run: SiiSyncRun) -> SiiSyncRun:
    session.add(run)
    session.flush()
    return run


def run_of(session: Session, company_id: int, run_id: int) -> SiiSyncRun | None:
    return session.scalars(
        select(SiiSyncRun).where(SiiSyncRun.company_id == company_id, SiiSyncRun.id == run_id)
    ).one_or_none()


def latest_run(session: Session, company_id: int) -> SiiSyncRun | None:
    return session.scalars(
        select(SiiSyncRun).where(SiiSyncRun.company_id == company_id).order_by(SiiSyncRun.id.desc()).limit(1)
    ).one_or_none()


def list_runs(session: Session, company_id: int, page: PageRequest) -> tuple[Sequence[SiiSyncRun], int]:
    """A page of the company's runs, newest first, and how many there are."""
    total = session.scalar(select(func.count()).where(SiiSyncRun.company_id == company_id)) or 0
    if page.offset >= total:
        return [], total
    runs = session.scalars(
        select(SiiSyncRun)
        .where(SiiSyncRun.company_id == company_id)
        .order_by(SiiSyncRun.id.desc())
        .offset(page.offset)
        .limit(page.per_page)
    ).all()
    return runs, total


def lease_of(session: Session, company_id: int) -> SiiSyncLease | None:
    return session.scalars(select(SiiSyncLease).where(SiiSyncLease.company_id == company_id)).one_or_none()


def take_lease(
    session: Session, company_id: int, run_id: int, holder: str, now: datetime, expires_at: datetime
) -> bool:
    """Take the company's lease for ``run_id``: when nobody holds it, or its holder let it lapse."""
    values = {"company_id": company_id, "run_id": run_id, "holder": holder, "expires_at": expires_at}
    inserted = session.execute(
        insert_on_conflict(session, LEASES)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["company_id"])
        .returning(LEASES.c.company_id)
    ).scalar_one_or_none()
    if inserted is not None:
        return True
    taken = session.execute(
        update(LEASES)
        .where(LEASES.c.company_id == company_id, LEASES.c.expires_at <= now)
        .values(run_id=run_id, holder=holder, expires_at=expires_at)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def hold(session: Session, company_id: int, run_id: int, holder: str) -> bool:
    """Whether ``holder`` still holds the lease of ``run_id``; on PostgreSQL the row stays locked until
    the transaction ends, so no take-over slips in between this check and the commit (the fence)."""
    held = session.execute(
        update(LEASES)
        .where(LEASES.c.company_id == company_id, LEASES.c.run_id == run_id, LEASES.c.holder == holder)
        .values(holder=holder)
    )
    return bool(held.rowcount == 1)  # type: ignore[attr-defined]


def renew(session: Session, holder: str, now: datetime, expires_at: datetime) -> set[int]:
    """Push back the expiry of every lease ``holder`` holds (its heartbeat); the runs it still holds."""
    held = session.execute(
        update(LEASES)
        .where(LEASES.c.holder == holder)
        .values(expires_at=expires_at)
        .returning(LEASES.c.run_id)
    )
    run_ids = {row[0] for row in held}
    if run_ids:
        session.execute(
            update(SiiSyncRun)
            .where(SiiSyncRun.id.in_(run_ids), SiiSyncRun.state.in_(ACTIVE))
            .values(heartbeat_at=now)
        )
    return run_ids


def release(session: Session, company_id: int, run_id: int, holder: str) -> None:
    session.execute(
        delete(LEASES).where(
            LEASES.c.company_id == company_id, LEASES.c.run_id == run_id, LEASES.c.holder == holder
        )
    )


def queued_held_by(session: Session, holder: str) -> list[tuple[int, int]]:
    """(company id, run id) of the queued runs whose lease ``holder`` holds, oldest first."""
    rows = session.execute(
        select(SiiSyncRun.company_id, SiiSyncRun.id)
        .join(SiiSyncLease, SiiSyncLease.run_id == SiiSyncRun.id)
        .where(SiiSyncLease.holder == holder, SiiSyncRun.state == RunState.QUEUED.value)
        .order_by(SiiSyncRun.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def amounts_of(session: Session, kind: str, company_id: int, ids: list[int]) -> dict[int, tuple[int, date]]:
    """(total in hundredths, issue date) of the company's documents (``kind`` "documents") or notes."""
    table = Document if kind == "documents" else Note
    found: dict[int, tuple[int, date]] = {}
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(table.id, table.total_cents, table.issue_date).where(
                table.company_id == company_id, table.id.in_(ids[start : start + 1000])
            )
        )
        found.update({row[0]: (row[1], row[2]) for row in rows})
    return found


def with_xml(session: Session, kind: str, company_id: int, ids: list[int]) -> dict[int, Any]:
    """Those of the company's documents (``kind`` "documents") or notes of ``ids`` that have their XML,
    by id."""
    table: Any = Document if kind == "documents" else Note
    found: dict[int, Any] = {}
    for start in range(0, len(ids), 1000):
        rows = session.scalars(
            select(table).where(
                table.company_id == company_id,
                table.id.in_(ids[start : start + 1000]),
                table.xml_schema.is_not(None),
            )
        )
        found.update({row.id: row for row in rows})
    return found


def keys_of(session: Session, company_id: int, keys: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Those of ``keys`` (type, folio) the company has, as a document it issued or as a note (a held
    document is another issuer's: its folio is not the company's)."""
    if not keys:
        return set()
    found: set[tuple[int, str]] = set()
    ordered = sorted(keys)
    for table in (Document, Note):
        own = [Document.held.is_(False)] if table is Document else []
        for start in range(0, len(ordered), 1000):
            chunk = ordered[start : start + 1000]
            rows = session.execute(
                select(table.code, table.number).where(
                    table.company_id == company_id, *own, *key_in(table.code, table.number, set(chunk))
                )
            )
            found.update((code, number) for code, number in rows)
    return found & keys


def register_only_keys(
    session: Session, company_id: int, first_day: date, last_day: date
) -> set[tuple[int, str]]:
    """(type, folio) of the company's documents and notes issued between the two days that the sync
    created from SII's register and that still have no XML."""
    queries = (
        select(Document.code, Document.number)
        .outerjoin(DocumentSource, DocumentSource.document_id == Document.id)
        .where(
            Document.company_id == company_id,
            Document.held.is_(False),
            Document.source == Origin.SII.value,
            Document.issue_date.between(first_day, last_day),
            DocumentSource.document_id.is_(None),
        ),
        select(Note.code, Note.number)
        .outerjoin(NoteSource, NoteSource.note_id == Note.id)
        .where(
            Note.company_id == company_id,
            Note.source == Origin.SII.value,
            Note.issue_date.between(first_day, last_day),
            NoteSource.note_id.is_(None),
        ),
    )
    return {(code, number) for query in queries for code, number in session.execute(query)}


def arrived_unmatched(
    session: Session, company_id: int, first_day: date, last_day: date, codes: Sequence[int], since: datetime
) -> bool:
    """Whether the company has a document or note of ``codes`` issued between the two days, created at
    ``since`` or later, that no sync has matched in SII's register yet (one that came by the API, an
    import or MIPYME after the period's last read)."""
    for table in (Document, Note):
        own = [Document.held.is_(False)] if table is Document else []
        found = session.scalar(
            select(table.id)
            .where(
                table.company_id == company_id,
                *own,
                table.issue_date.between(first_day, last_day),
                table.code.in_(list(codes)),
                table.sii_synced_at.is_(None),
                table.created_at >= since,
            )
            .limit(1)
        )
        if found is not None:
            return True
    return False


def companies_due(session: Session, now: datetime, last_before: datetime, limit: int) -> list[int]:
    """The schedule's next companies: those with a stored certificate, no run queued since
    ``last_before`` and no live lease, the longest waiting first (never synced before all)."""
    last = (
        select(SiiSyncRun.company_id, func.max(SiiSyncRun.queued_at).label("last"))
        .group_by(SiiSyncRun.company_id)
        .subquery()
    )
    rows = session.execute(
        select(CompanySiiCertificate.company_id)
        .outerjoin(last, last.c.company_id == CompanySiiCertificate.company_id)
        .outerjoin(SiiSyncLease, SiiSyncLease.company_id == CompanySiiCertificate.company_id)
        .where(
            (last.c.last.is_(None)) | (last.c.last < last_before),
            (SiiSyncLease.company_id.is_(None)) | (SiiSyncLease.expires_at <= now),
        )
        .order_by(last.c.last.asc().nulls_first(), CompanySiiCertificate.company_id)
        .limit(limit)
    ).all()
    return [row[0] for row in rows]


def period_marks(session: Session, company_id: int) -> dict[str, datetime]:
    """When SII last changed each period's register, as the company's last sync of it saw it."""
    rows = session.execute(
        select(SiiSyncPeriod.period, SiiSyncPeriod.modified_at).where(
            SiiSyncPeriod.company_id == company_id, SiiSyncPeriod.modified_at.is_not(None)
        )
    )
    return {row[0]: row[1] for row in rows if row[1] is not None}


def period_reads(session: Session, company_id: int) -> dict[str, LastRead]:
    """The company's last complete read of each period it synced."""
    rows = session.execute(
        select(SiiSyncPeriod.period, SiiSyncPeriod.synced_at, SiiSyncPeriod.claims_close_on).where(
            SiiSyncPeriod.company_id == company_id
        )
    )
    return {row[0]: LastRead(row[1], row[2]) for row in rows}


def last_reception(session: Session, company_id: int, first: date, last: date) -> datetime | None:
    """The latest reception at SII of the company's documents and notes issued from ``first`` to
    ``last`` (as the sync stored it); None when none has one."""
    found = [
        session.scalar(
            select(func.max(table.sii_received_at)).where(
                table.company_id == company_id, table.issue_date >= first, table.issue_date <= last
            )
        )
        for table in (Document, Note)
    ]
    return max((moment for moment in found if moment is not None), default=None)


def mark_period(
    session: Session,
    company_id: int,
    period: str,
    modified_at: datetime | None,
    synced_at: datetime,
    claims_close_on: date,
) -> None:
    table = cast(Table, SiiSyncPeriod.__table__)
    changes = {"modified_at": modified_at, "synced_at": synced_at, "claims_close_on": claims_close_on}
    statement = insert_on_conflict(session, table).values(company_id=company_id, period=period, **changes)
    session.execute(statement.on_conflict_do_update(index_elements=["company_id", "period"], set_=changes))


_SII_FACTS = SII_COLUMNS


def _sii_table(kind: str) -> Table:
    return cast(Table, (Document if kind == "documents" else Note).__table__)


class StoredFacts(NamedTuple):
    """A document's or note's SII type, its own total and issue date, and its ``sii_*`` columns."""

    code: int
    total_cents: int
    issue_date: date
    columns: dict[str, Any]


def sii_facts_of(session: Session, kind: str, company_id: int, ids: list[int]) -> dict[int, StoredFacts]:
    """What the company's documents (``kind`` "documents") or notes hold of SII, by id."""
    table = _sii_table(kind)
    columns = [table.c[name] for name in _SII_FACTS]
    found: dict[int, StoredFacts] = {}
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(table.c.id, table.c.code, table.c.total_cents, table.c.issue_date, *columns).where(
                table.c.company_id == company_id, table.c.id.in_(ids[start : start + 1000])
            )
        )
        found.update(
            {
                row[0]: StoredFacts(row[1], row[2], row[3], dict(zip(_SII_FACTS, row[4:], strict=True)))
                for row in rows
            }
        )
    return found


def write_sii_facts(session: Session, kind: str, company_id: int, changes: list[dict[str, Any]]) -> None:
    """Write the ``sii_*`` columns of the company's documents or notes: one dict per row, its ``id`` and
    every ``sii_*`` column."""
    if not changes:
        return
    table = _sii_table(kind)
    statement = (
        update(table)
        .where(table.c.company_id == company_id, table.c.id == bindparam("row_id"))
        .values({name: bindparam(f"new_{name}") for name in _SII_FACTS})
    )
    params = [{"row_id": c["id"], **{f"new_{name}": c[name] for name in _SII_FACTS}} for c in changes]
    session.execute(statement, params)


def mark_sii_synced(session: Session, kind: str, company_id: int, ids: list[int], now: datetime) -> None:
    """The company's documents or notes ``ids`` were read in SII's register at ``now``, unchanged."""
    table = _sii_table(kind)
    for start in range(0, len(ids), 1000):
        session.execute(
            update(table)
            .where(table.c.company_id == company_id, table.c.id.in_(ids[start : start + 1000]))
            .values(sii_synced_at=now)
        )
