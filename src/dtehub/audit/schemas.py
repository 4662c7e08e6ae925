"""The audit log's API shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from dtehub.kit.dates import format_datetime
from dtehub.kit.schema import ApiModel
from dtehub.models import AuditEvent

ObjectType = Literal[
    "document", "note", "client", "contact", "tag", "file", "company", "payment", "webhook", "token", "user"
]
ActorKind = Literal["api_token", "user", "cli", "portal", "job", "sii_retrieval"]


class AuditEventOut(ApiModel):
    id: str
    created_at: str = Field(description="YYYY-MM-DD HH:MM:SS, Santiago time")
    created_at_utc: str = Field(description="The same instant in UTC, ISO 8601 (unambiguous at DST changes)")
    actor: ActorKind = Field(description="api_token, user (the web app), cli, portal, job or sii_retrieval")
    token_id: str | None = Field(description="The API token's id (never the token); null outside the API")
    user_id: str | None = Field(description="The signed-in user's id (web app); null otherwise")
    action: str = Field(description="The API operation (createDocument…) or CLI command (tokens.revoke…)")
    object_type: str | None
    object_id: str | None
    summary: dict[str, Any] = Field(
        description="What the change said; never a secret, file contents as sha256 and bytes"
    )

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            id=str(event.id),
            created_at=format_datetime(event.created_at),
            created_at_utc=event.created_at.isoformat().replace("+00:00", "Z"),
            actor=event.actor,
            token_id=str(event.token_id) if event.token_id is not None else None,
            user_id=str(event.user_id) if event.user_id is not None else None,
            action=event.action,
            object_type=event.object_type,
            object_id=str(event.object_id) if event.object_id is not None else None,
            summary=event.summary,
        )
