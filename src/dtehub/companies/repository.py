"""Every query on companies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.models import Company


def get(session: Session, company_id: int) -> Company | None:
    return session.get(Company, company_id)


def get_by_rut(session: Session, rut: str) -> Company | None:
    return session.scalars(select(Company).where(Company.rut == rut)).first()


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Company)).scalar_one()
