"""Every query on tags."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.models import Tag


def get(session: Session, company_id: int, tag_id: int) -> Tag | None:
    return session.scalars(select(Tag).where(Tag.company_id == company_id, Tag.id == tag_id)).first()


def by_names(session: Session, company_id: int, names: Sequence[str]) -> dict[str, Tag]:
    rows = session.scalars(select(Tag).where(Tag.company_id == company_id, Tag.name.in_(set(names))))
    return {tag.name: tag for tag in rows}


def list_page(
    session: Session,
    company_id: int,
    *,
    name: str | None,
    order_by: int,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[Tag], int]:
    conditions = [Tag.company_id == company_id]
    if name is not None:
        conditions.append(Tag.name == name)
    total = session.execute(select(func.count()).select_from(Tag).where(*conditions)).scalar_one()
    if offset >= total:
        return [], total
    column = Tag.name if order_by == 1 else Tag.created_at
    ordering = (column.desc(), Tag.id.desc()) if descending else (column.asc(), Tag.id.asc())
    rows = session.scalars(select(Tag).where(*conditions).order_by(*ordering).offset(offset).limit(limit))
    return list(rows), total
