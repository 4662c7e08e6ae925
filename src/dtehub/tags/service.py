from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from dtehub.errors import Conflict
from dtehub.models import Tag
from dtehub.tags import repository


def create_tag(session: Session, company_id: int, name: str) -> Tag:
    if repository.by_names(session, company_id, [name]):
        raise Conflict(f"a tag named {name!r} already exists", field="name")
    tag = Tag(company_id=company_id, name=name)
    session.add(tag)
    session.flush()
    return tag


def ensure_tags(session: Session, company_id: int, names: Sequence[str]) -> list[Tag]:
    """The tags with these names, creating the new ones (createDocument's ``tags``)."""
    wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    existing = repository.by_names(session, company_id, wanted)
    created = [Tag(company_id=company_id, name=name) for name in wanted if name not in existing]
    session.add_all(created)
    session.flush()
    by_name = existing | {tag.name: tag for tag in created}
    return [by_name[name] for name in wanted]
