"""Every query on companies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dtehub.models import Company


async def get(session: AsyncSession, company_id: int) -> Company | None:
    return await session.get(Company, company_id)


async def get_by_rut(session: AsyncSession, rut: str) -> Company | None:
    return (await session.scalars(select(Company).where(Company.rut == rut))).first()


async def count(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(Company))).scalar_one()
