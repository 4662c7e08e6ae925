from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator

from dtehub.kit.dates import format_datetime
from dtehub.kit.schema import MAX_ID, ApiInput, ApiModel
from dtehub.models import DeliveryState, Webhook
from dtehub.webhooks.events import EVENT_TYPES, EventType
from dtehub.webhooks.guard import MAX_URL_CHARS, URL_PATTERN
from dtehub.webhooks.repository import DeliveryRow


class WebhookCreate(ApiInput):
    url: str = Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="http(s) URL of a public address",
        json_schema_extra={"pattern": URL_PATTERN},
    )
    events: Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES))] = Field(
        description="The event types it receives: " + ", ".join(EVENT_TYPES)
    )

    @field_validator("events")
    @classmethod
    def _once_each(cls, events: list[EventType]) -> list[EventType]:
        return [event for event in EVENT_TYPES if event in events]  # each once, in the published order


class WebhookDelete(ApiInput):
    id: int = Field(ge=1, le=MAX_ID, description="The webhook's id")


class WebhookOut(ApiModel):
    id: str
    url: str
    events: list[EventType]
    created_at: str = Field(description="YYYY-MM-DD HH:MM:SS, Santiago time")

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookOut:
        return cls(
            id=str(webhook.id),
            url=webhook.url,
            events=[event for event in EVENT_TYPES if event in webhook.events],
            created_at=format_datetime(webhook.created_at),
        )


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret: shown now and never again")


class WebhookDeleted(ApiModel):
    id: str
    msg: str


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


STATE_OF_STATUS = {
    DeliveryStatus.PENDING: DeliveryState.PENDING,
    DeliveryStatus.DELIVERED: DeliveryState.DELIVERED,
    DeliveryStatus.FAILED: DeliveryState.FAILED,
}
STATUS_OF_STATE = {state: status for status, state in STATE_OF_STATUS.items()}


def _when(moment: object) -> str | None:
    return format_datetime(moment) if isinstance(moment, datetime) else None


class DeliveryOut(ApiModel):
    id: str
    webhook_id: str
    event_id: str = Field(description="The event's id (evt_…), as its deliveries send it")
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    last_attempt_at: str | None
    last_status_code: int | None = Field(description="The receiver's HTTP status at the last attempt")
    last_error: str | None = Field(description="Why the last attempt failed, when it did")
    next_attempt_at: str | None = Field(description="When it is tried next, while pending")
    delivered_at: str | None
    created_at: str

    @classmethod
    def of(cls, row: DeliveryRow) -> DeliveryOut:
        return cls(
            id=str(row.id),
            webhook_id=str(row.webhook_id),
            event_id=row.event_public_id,
            event_type=row.event_type,
            status=STATUS_OF_STATE[DeliveryState(row.state)],
            attempts=row.attempts,
            last_attempt_at=_when(row.last_attempt_at),
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            next_attempt_at=_when(row.next_attempt_at) if row.state == DeliveryState.PENDING else None,
            delivered_at=_when(row.delivered_at),
            created_at=format_datetime(row.created_at),
        )
