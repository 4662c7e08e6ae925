from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from dtehub.errors import Conflict
from dtehub.models import Tag
from dtehub.tags import repository


async def create_tag(session: AsyncSession, company_id: int, name: str) -> Tag:
    if await repository.by_names(session, company_id, [name]):
        raise Conflict(f"a tag named {name!r} already exists", field="name")
    tag = Tag(company_id=company_id, name=name)
    session.add(tag)
    await session.flush()
    return tag


async def ensure_tags(session: AsyncSession, company_id: int, names: Sequence[str]) -> list[Tag]:
    """The tags with these names, creating the new ones (createDocument's ``tags``)."""
    wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    existing = await repository.by_names(session, company_id, wanted)
    created = [Tag(company_id=company_id, name=name) for name in wanted if name not in existing]
    session.add_all(created)
    await session.flush()
    by_name = existing | {tag.name: tag for tag in created}
    return [by_name[name] for name in wanted]
