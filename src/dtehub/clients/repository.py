"""Every query on clients."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dtehub.models import Client


class ClientRow(NamedTuple):
    """A client as its API view needs it, read as plain columns alongside another row (a document's
    with ``expandClient``), so that no ORM object is built for it."""

    id: int
    tax_id: str
    name: str
    activity: str
    country: str
    region: str
    city: str
    comuna: str
    address: str
    zipcode: str
    phone: str
    fax: str
    payment_term_days: int | None
    remind_new_document: bool
    remind_soon_to_expire: bool
    remind_expired: bool
    remind_new_payment: bool
    remind_debt_summary: bool
    portal_key: str
    created_at: datetime


CLIENT_ROW_COLUMNS: list[Any] = [Client.__table__.c[name] for name in ClientRow._fields]
"""The columns to select for a :class:`ClientRow`, in its order."""


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


def by_ids(session: Session, company_id: int, client_ids: set[int]) -> dict[int, Client]:
    if not client_ids:
        return {}
    query = select(Client).where(Client.company_id == company_id, Client.id.in_(client_ids))
    return {client.id: client for client in session.scalars(query)}


def list_page(
    session: Session,
    company_id: int,
    *,
    tax_id: str | None,
    name: str | None,
    order_column: str,
    tax_id_prefixes: Sequence[str] = (),
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[Client], int]:
    conditions = [Client.company_id == company_id]
    if tax_id is not None:
        conditions.append(Client.tax_id == tax_id)
    if tax_id_prefixes:  # the web app's search: a RUT or its start, as typed or made whole
        conditions.append(or_(*(Client.tax_id.startswith(p, autoescape=True) for p in tax_id_prefixes)))
    if name:
        escaped = name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(func.lower(Client.name).like(f"%{escaped}%", escape="\\"))
    total = session.execute(select(func.count()).select_from(Client).where(*conditions)).scalar_one()
    if offset >= total:
        return [], total
    column = getattr(Client, order_column)
    ordering = (column.desc(), Client.id.desc()) if descending else (column.asc(), Client.id.asc())
    rows = session.scalars(select(Client).where(*conditions).order_by(*ordering).offset(offset).limit(limit))
    return list(rows), total
