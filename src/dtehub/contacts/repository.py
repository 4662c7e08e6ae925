"""Every query on contacts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.models import Client, Contact

_ORDER_COLUMNS = {1: Contact.email, 2: Contact.name, 3: Contact.last_name, 4: Client.name}


def get(session: Session, company_id: int, contact_id: int) -> Contact | None:
    return (
        session.scalars(select(Contact).where(Contact.company_id == company_id, Contact.id == contact_id))
    ).first()


def by_client(session: Session, company_id: int, client_ids: Sequence[int]) -> dict[int, list[Contact]]:
    rows = session.scalars(
        select(Contact)
        .where(Contact.company_id == company_id, Contact.client_id.in_(set(client_ids)))
        .order_by(Contact.id)
    )
    result: dict[int, list[Contact]] = defaultdict(list)
    for contact in rows:
        result[contact.client_id].append(contact)
    return result


def list_page(
    session: Session,
    company_id: int,
    *,
    client_id: int | None,
    client_tax_id: str | None,
    contact_type_id: int | None,
    order_by: int,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[Contact], int]:
    conditions = [Contact.company_id == company_id]
    if client_id is not None:
        conditions.append(Contact.client_id == client_id)
    if client_tax_id is not None:
        conditions.append(Client.tax_id == client_tax_id)
    if contact_type_id is not None:
        conditions.append(Contact.contact_type_id == contact_type_id)
    base = select(Contact).join(Client, Client.id == Contact.client_id).where(*conditions)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    if offset >= total:
        return [], total
    column = _ORDER_COLUMNS[order_by]
    ordering = (column.desc(), Contact.id.desc()) if descending else (column.asc(), Contact.id.asc())
    rows = session.scalars(base.order_by(*ordering).offset(offset).limit(limit))
    return list(rows), total
