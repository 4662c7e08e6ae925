"""Every query on clients."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.models import Client


def get(session: Session, company_id: int, client_id: int) -> Client | None:
    return (
        session.scalars(select(Client).where(Client.company_id == company_id, Client.id == client_id))
    ).first()


def get_by_tax_id(session: Session, company_id: int, tax_id: str) -> Client | None:
    return (
        session.scalars(select(Client).where(Client.company_id == company_id, Client.tax_id == tax_id))
    ).first()


def by_tax_ids(session: Session, company_id: int, tax_ids: set[str]) -> dict[str, Client]:
    if not tax_ids:
        return {}
    query = select(Client).where(Client.company_id == company_id, Client.tax_id.in_(tax_ids))
    return {client.tax_id: client for client in session.scalars(query)}


def list_page(
    session: Session,
    company_id: int,
    *,
    tax_id: str | None,
    name: str | None,
    order_column: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[Client], int]:
    conditions = [Client.company_id == company_id]
    if tax_id is not None:
        conditions.append(Client.tax_id == tax_id)
    if name:
        escaped = name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(func.lower(Client.name).like(f"%{escaped}%", escape="\\"))
    total = session.execute(select(func.count()).select_from(Client).where(*conditions)).scalar_one()
    column = getattr(Client, order_column)
    ordering = (column.desc(), Client.id.desc()) if descending else (column.asc(), Client.id.asc())
    rows = session.scalars(select(Client).where(*conditions).order_by(*ordering).offset(offset).limit(limit))
    return list(rows), total
