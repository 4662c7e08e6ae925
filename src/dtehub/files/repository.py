"""Every query on file attachments. Contents are loaded only when a file is downloaded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from dtehub.models import File


async def by_document(session: AsyncSession, document_ids: Sequence[int]) -> dict[int, list[File]]:
    rows = await session.scalars(
        select(File).where(File.document_id.in_(document_ids)).order_by(File.document_id, File.id)
    )
    result: dict[int, list[File]] = defaultdict(list)
    for file in rows:
        result[file.document_id].append(file)
    return result


async def with_content(session: AsyncSession, file_id: int) -> File | None:
    return (
        await session.scalars(select(File).where(File.id == file_id).options(undefer(File.content)))
    ).first()
