"""Queries of the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from dtehub.kit.pagination import PageRequest
from dtehub.models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: int | None = None


def add(session: Session, event: AuditEvent) -> None:
    session.add(event)


def _conditions(company_id: int, filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions = [AuditEvent.company_id == company_id]
    if filters.since is not None:
        conditions.append(AuditEvent.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditEvent.created_at < filters.until)
    if filters.action is not None:
        conditions.append(AuditEvent.action == filters.action)
    if filters.actor is not None:
        conditions.append(AuditEvent.actor == filters.actor)
    if filters.object_type is not None:
        conditions.append(AuditEvent.object_type == filters.object_type)
    if filters.object_id is not None:
        conditions.append(AuditEvent.object_id == filters.object_id)
    return conditions


def page(
    session: Session, company_id: int, filters: AuditFilters, request: PageRequest
) -> tuple[Sequence[AuditEvent], int]:
    """A page of the company's events, newest first (ids grow with time), and how many match."""
    conditions = _conditions(company_id, filters)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    if request.offset >= total:
        return [], total
    rows = session.scalars(
        select(AuditEvent)
        .where(*conditions)
        .order_by(AuditEvent.id.desc())
        .offset(request.offset)
        .limit(request.per_page)
    ).all()
    return rows, total


def prune(session: Session, before: datetime, company_id: int | None) -> int:
    """Delete the events older than ``before`` (of one company, or all); how many went."""
    statement = delete(AuditEvent).where(AuditEvent.created_at < before)
    if company_id is not None:
        statement = statement.where(AuditEvent.company_id == company_id)
    result = session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]
