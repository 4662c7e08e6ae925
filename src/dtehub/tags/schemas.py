from __future__ import annotations

from typing import Annotated

from pydantic import Field

from dtehub.kit.dates import format_datetime
from dtehub.kit.schema import ApiInput, ApiModel
from dtehub.models import Tag

TagName = Annotated[str, Field(min_length=1, max_length=100)]


class TagCreate(ApiInput):
    name: TagName


class TagOut(ApiModel):
    id: str
    name: str
    created_at: str

    @classmethod
    def of(cls, tag: Tag) -> TagOut:
        return cls(id=str(tag.id), name=tag.name, created_at=format_datetime(tag.created_at))
