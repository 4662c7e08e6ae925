"""Webhook events, written in the transaction of the change that causes them.

Every service that changes something a company may subscribe to calls :func:`record_event` (or
:func:`record_document_event`) before its unit of work commits: the event, and a delivery for each of
the company's webhooks that asked for its type, are then durable exactly when the change is.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from dtehub.kit.schema import JsonObject

EventType = Literal[
    "document.created",
    "document.updated",
    "document.deleted",
    "note.created",
    "payment.created",
    "payment.updated",
    "reminder.sent",
]
EVENT_TYPES: tuple[EventType, ...] = (
    "document.created",
    "document.updated",
    "document.deleted",
    "note.created",
    "payment.created",
    "payment.updated",
    "reminder.sent",
)


def record_event(
    session: Session,
    company_id: int,
    event_type: EventType,
    data: JsonObject,
    *,
    dedupe_key: str | None = None,
) -> None:
    """Record ``event_type`` with ``data`` (the object as the API shows it) for ``company_id``'s webhooks.

    ``dedupe_key``, when given, makes the event once-only per company: recording it again is a no-op
    (the daily "became overdue" sweep uses it).
    """
    # Filled in by the webhooks work: until then, events are not recorded.


def record_document_event(session: Session, company_id: int, document_id: int, event_type: EventType) -> None:
    """Record a document event whose data is the document as getDocument shows it (read after the
    change, in the same transaction)."""
