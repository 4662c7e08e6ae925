from __future__ import annotations

from typing import Annotated

from pydantic import Field, WithJsonSchema

from dtehub.kit.base64 import base64_schema
from dtehub.kit.dates import format_datetime
from dtehub.kit.schema import MAX_ID, ApiInput, ApiModel
from dtehub.models import File
from dtehub.portal.links import Links


class FileCreate(ApiInput):
    document_id: int = Field(ge=1, le=MAX_ID)
    name: str = Field(min_length=1, max_length=255, description="File name, e.g. orden-compra.pdf")
    content: Annotated[str, WithJsonSchema(base64_schema("The file's bytes, base64-encoded"))] = Field(
        min_length=1
    )
    mime_type: str | None = Field(
        default=None, max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$", description="Guessed from the name"
    )


class FileOut(ApiModel):
    id: str
    document_id: str
    name: str
    mime_type: str
    size: int
    url: str
    created_at: str

    @classmethod
    def of(cls, file: File, links: Links) -> FileOut:
        return cls(
            id=str(file.id),
            document_id=str(file.document_id),
            name=file.name,
            mime_type=file.mime_type,
            size=file.size,
            url=links.file_download(file.id, file.download_key),
            created_at=format_datetime(file.created_at),
        )
