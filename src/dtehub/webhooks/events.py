"""Webhook events, written in the transaction of the change that causes them.

Recording is a leaf: it stores the objects it is given, as the API shows them, and knows nothing of
documents, notes or payments. The service that changes something a company may subscribe to asks
the company's :class:`Subscriptions` which webhooks want the event, builds the views only then (a
company without one pays a single indexed read), and hands them to :func:`record` before its unit of
work commits: the events, and a delivery for each webhook that asked for their type, are then
durable exactly when the change is.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy.orm import Session

from dtehub.kit.dates import utcnow
from dtehub.kit.model import JsonObject
from dtehub.webhooks import repository

EventType = Literal[
    "document.created",
    "document.updated",
    "document.deleted",
    "document.ceded",
    "note.created",
    "payment.created",
    "payment.updated",
    "reminder.sent",
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)


EVENT_ID_PREFIX = "evt_"


def new_event_id() -> str:
    return EVENT_ID_PREFIX + secrets.token_urlsafe(18)


class Subscriptions:
    """A company's webhooks by the event types they receive, read once, when first asked: a change
    that records several types (a payment and its documents) reads them once, and one that records
    none reads nothing."""

    def __init__(self, session: Session, company_id: int) -> None:
        self.session = session
        self.company_id = company_id
        self._webhooks: list[tuple[int, list[str]]] | None = None

    def webhooks_for(self, event_type: EventType) -> list[int]:
        """The ids of the company's webhooks that receive ``event_type`` (empty: record nothing)."""
        if self._webhooks is None:
            self._webhooks = repository.subscriptions(self.session, self.company_id)
        return [webhook_id for webhook_id, events in self._webhooks if event_type in events]


def subscribers(session: Session, company_id: int, event_type: EventType) -> list[int]:
    """The ids of the company's webhooks that receive ``event_type`` (one indexed read)."""
    return Subscriptions(session, company_id).webhooks_for(event_type)


def record(
    session: Session,
    company_id: int,
    event_type: EventType,
    views: Sequence[JsonObject],
    webhook_ids: Sequence[int],
    *,
    dedupe_keys: Sequence[str] | None = None,
    now: datetime | None = None,
) -> None:
    """Record one ``event_type`` event per view (each object as the API shows it), in order, with a
    delivery to each of ``webhook_ids`` (from :class:`Subscriptions`; none: nothing is recorded).

    ``dedupe_keys``, one per view when given, make each event once-only per company: recording it
    again is a no-op (the daily "became overdue" sweep uses them).
    """
    if not webhook_ids:
        return
    keys: Sequence[str | None] = dedupe_keys if dedupe_keys is not None else [None] * len(views)
    for data, dedupe_key in zip(views, keys, strict=True):
        created_at = now or utcnow()
        event_id = repository.insert_event(
            session,
            public_id=new_event_id(),
            company_id=company_id,
            type=event_type,
            data=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
            dedupe_key=dedupe_key,
            created_at=created_at,
            document_id=_document_id(event_type, data),
        )
        if event_id is not None:
            repository.insert_deliveries(session, event_id, webhook_ids, created_at)


def _document_id(event_type: EventType, data: JsonObject) -> int | None:
    """The document a ``document.*`` event is about (its view's id), for the document's timeline."""
    found = data.get("id") if event_type.startswith("document.") else None
    return int(found) if isinstance(found, str | int) and str(found).isdigit() else None


def record_event(session: Session, company_id: int, event_type: EventType, data: JsonObject) -> None:
    """Record one event whose ``data`` is already built, for the company's webhooks that receive it
    (a company without one records nothing: the cost is one indexed read)."""
    record(session, company_id, event_type, [data], subscribers(session, company_id, event_type))
