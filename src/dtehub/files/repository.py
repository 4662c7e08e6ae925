"""Every query on file attachments. Contents are loaded only when a file is downloaded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from dtehub.models import File


def by_document(session: Session, company_id: int, document_ids: Sequence[int]) -> dict[int, list[File]]:
    rows = session.scalars(
        select(File)
        .where(File.company_id == company_id, File.document_id.in_(document_ids))
        .order_by(File.document_id, File.id)
    )
    result: dict[int, list[File]] = defaultdict(list)
    for file in rows:
        result[file.document_id].append(file)
    return result


def with_content(session: Session, file_id: int) -> File | None:
    return session.scalars(select(File).where(File.id == file_id).options(undefer(File.content))).first()
