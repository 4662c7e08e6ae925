"""Every query on the web app's imports and their reports, each filtered by company."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from dtehub.models import AppImport, AppImportResult, ImportState


def add(session: Session, job: AppImport) -> AppImport:
    session.add(job)
    session.flush()
    return job


def get(session: Session, company_id: int, import_id: int) -> AppImport | None:
    return session.scalar(
        select(AppImport).where(AppImport.company_id == company_id, AppImport.id == import_id)
    )


def recent(session: Session, company_id: int, limit: int) -> Sequence[AppImport]:
    query = (
        select(AppImport).where(AppImport.company_id == company_id).order_by(AppImport.id.desc()).limit(limit)
    )
    return session.scalars(query).all()


def change(session: Session, company_id: int, import_id: int, **values: Any) -> None:
    """Set columns of the import (the counters' increments are expressions of their columns)."""
    session.execute(
        update(AppImport)
        .where(AppImport.company_id == company_id, AppImport.id == import_id)
        .values(**values)
    )


def add_results(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(AppImportResult), rows)


def results(
    session: Session, company_id: int, import_id: int, outcomes: Sequence[str], limit: int
) -> Sequence[AppImportResult]:
    query = (
        select(AppImportResult)
        .where(
            AppImportResult.company_id == company_id,
            AppImportResult.import_id == import_id,
            AppImportResult.outcome.in_(outcomes),
        )
        .order_by(AppImportResult.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def count_results(session: Session, company_id: int, import_id: int, outcomes: Sequence[str]) -> int:
    query = select(func.count()).where(
        AppImportResult.company_id == company_id,
        AppImportResult.import_id == import_id,
        AppImportResult.outcome.in_(outcomes),
    )
    return session.scalar(query) or 0


def touch(session: Session, company_id: int, import_ids: Sequence[int], now: datetime) -> None:
    """The heartbeat of the company's imports named that are still queued or running."""
    session.execute(
        update(AppImport)
        .where(
            AppImport.company_id == company_id,
            AppImport.id.in_(import_ids),
            AppImport.state.in_((ImportState.QUEUED.value, ImportState.RUNNING.value)),
        )
        .values(heartbeat_at=now)
    )
