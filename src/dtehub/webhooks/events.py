"""Webhook events, written in the transaction of the change that causes them.

Every service that changes something a company may subscribe to calls :func:`record_event` (or
:func:`record_document_event`) before its unit of work commits: the event, and a delivery for each of
the company's webhooks that asked for its type, are then durable exactly when the change is.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal, get_args

from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.kit.schema import JsonObject
from dtehub.webhooks import repository

EventType = Literal[
    "document.created",
    "document.updated",
    "document.deleted",
    "note.created",
    "payment.created",
    "payment.updated",
    "reminder.sent",
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)


EVENT_ID_PREFIX = "evt_"

_public_base: str | None = None


def use_public_base(public_base: str) -> None:
    """The base of the links in documents' event data (the app's ``public_url``); set by the app
    factory, else read from the settings."""
    global _public_base  # one setting per process, like the settings themselves
    _public_base = public_base


def _links_base() -> str:
    if _public_base is not None:
        return _public_base
    from dtehub.config import get_settings

    return get_settings().public_base


def new_event_id() -> str:
    return EVENT_ID_PREFIX + secrets.token_urlsafe(18)


def subscribers(session: Session, company_id: int, event_type: str) -> list[int]:
    """The ids of the company's webhooks that receive ``event_type`` (one indexed read)."""
    return [
        webhook_id
        for webhook_id, events in repository.subscriptions(session, company_id)
        if event_type in events
    ]


def _record(
    session: Session,
    company_id: int,
    event_type: str,
    data: JsonObject,
    webhook_ids: list[int],
    dedupe_key: str | None,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    event_id = repository.insert_event(
        session,
        public_id=new_event_id(),
        company_id=company_id,
        type=event_type,
        data=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        dedupe_key=dedupe_key,
        created_at=now,
    )
    if event_id is not None:
        repository.insert_deliveries(session, event_id, webhook_ids, now)


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
    (the daily "became overdue" sweep uses it). A company without a webhook for the type records
    nothing (the cost is one indexed read).
    """
    webhook_ids = subscribers(session, company_id, event_type)
    if webhook_ids:
        _record(session, company_id, event_type, data, webhook_ids, dedupe_key)


def record_document_event(
    session: Session,
    company_id: int,
    document_id: int,
    event_type: EventType,
    *,
    dedupe_key: str | None = None,
) -> None:
    """Record a document event whose data is the document as getDocument shows it (read after the
    change, in the same transaction)."""
    record_document_events(session, company_id, [document_id], event_type, dedupe_key=dedupe_key)


def record_document_events(
    session: Session,
    company_id: int,
    document_ids: Iterable[int],
    event_type: EventType,
    *,
    dedupe_key: str | None = None,
    today: date | None = None,
) -> None:
    """:func:`record_document_event` for several documents (an import batch's), with one check of the
    company's webhooks for all of them."""
    ids = list(document_ids)
    if not ids:
        return
    webhook_ids = subscribers(session, company_id, event_type)
    if not webhook_ids:
        return
    from dtehub.documents import service as documents_service  # documents record events: import late
    from dtehub.portal.links import Links

    links = Links(_links_base())
    today = today or today_in_santiago()
    for document_id in ids:
        row = documents_service.require_row(session, company_id, document_id)
        view = documents_service.present_detail(
            session, company_id, row, documents_service.Expand(), links, today
        )
        _record(session, company_id, event_type, view, webhook_ids, dedupe_key)


def record_note_created(session: Session, company_id: int, note_ids: Iterable[int]) -> None:
    """``note.created`` for new notes, each as getNote shows it."""
    ids = list(note_ids)
    if not ids:
        return
    webhook_ids = subscribers(session, company_id, "note.created")
    if not webhook_ids:
        return
    from dtehub.notes import service as notes_service
    from dtehub.portal.links import Links

    links = Links(_links_base())
    for note_id in ids:
        note = notes_service.require(session, company_id, note_id)
        view = notes_service.present(session, company_id, note, links).model_dump(mode="json", by_alias=True)
        _record(session, company_id, "note.created", view, webhook_ids, None)
