"""Every query on webhooks, their events and deliveries."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Table, bindparam, delete, func, literal, select, update
from sqlalchemy.orm import Session

from dtehub.kit.sql import claimable, execute_core, insert_on_conflict
from dtehub.models import DeliveryState, Document, DocumentState, Webhook, WebhookDelivery, WebhookEvent

_WEBHOOKS = cast(Table, Webhook.__table__)
_EVENTS = cast(Table, WebhookEvent.__table__)
_DELIVERIES = cast(Table, WebhookDelivery.__table__)

_SUBSCRIPTIONS = select(_WEBHOOKS.c.id, _WEBHOOKS.c.events).where(
    _WEBHOOKS.c.company_id == bindparam("company_id")
)


def subscriptions(session: Session, company_id: int) -> list[tuple[int, list[str]]]:
    """The company's webhooks and the event types each receives (one indexed read; usually none)."""
    rows = execute_core(session, _SUBSCRIPTIONS, {"company_id": company_id})
    return [(row.id, row.events) for row in rows]


def insert_event(
    session: Session,
    *,
    public_id: str,
    company_id: int,
    type: str,
    data: str,
    dedupe_key: str | None,
    created_at: datetime,
    document_id: int | None = None,
) -> int | None:
    """The new event's id; None when ``dedupe_key`` was recorded already for the company."""
    values = {
        "document_id": document_id,
        "public_id": public_id,
        "company_id": company_id,
        "type": type,
        "data": data,
        "dedupe_key": dedupe_key,
        "created_at": created_at,
    }
    statement = insert_on_conflict(session, _EVENTS).values(values)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["company_id", "dedupe_key"])
    row = execute_core(session, statement.returning(_EVENTS.c.id)).first()
    return None if row is None else int(row.id)


def insert_deliveries(session: Session, event_id: int, webhook_ids: Sequence[int], now: datetime) -> None:
    """A pending delivery of the event for each of ``webhook_ids`` that still exists: read in the INSERT
    itself, so that a webhook deleted since the caller listed them is skipped, not a foreign key error."""
    session.flush()
    columns = ["webhook_id", "event_id", "state", "attempts", "next_attempt_at", "created_at"]
    rows = select(
        _WEBHOOKS.c.id,
        literal(event_id, BigInteger),
        literal(DeliveryState.PENDING, _DELIVERIES.c.state.type),
        literal(0),
        literal(now, _DELIVERIES.c.next_attempt_at.type),
        literal(now, _DELIVERIES.c.created_at.type),
    ).where(_WEBHOOKS.c.id.in_(webhook_ids))
    session.connection().execute(_DELIVERIES.insert().from_select(columns, rows))


def recorded_dedupe_keys(session: Session, company_id: int, keys: Collection[str]) -> set[str]:
    if not keys:
        return set()
    query = select(_EVENTS.c.dedupe_key).where(
        _EVENTS.c.company_id == company_id, _EVENTS.c.dedupe_key.in_(list(keys))
    )
    return {row.dedupe_key for row in execute_core(session, query)}


def companies_subscribed_to(session: Session, event_type: str) -> list[int]:
    rows = execute_core(session, select(_WEBHOOKS.c.company_id, _WEBHOOKS.c.events))
    return sorted({row.company_id for row in rows if event_type in row.events})


def open_documents_due_between(
    session: Session, company_id: int, first: date, last: date
) -> list[tuple[int, date]]:
    """(id, due date) of the company's open documents due from ``first`` to ``last``."""
    query = select(Document.id, Document.due_date).where(
        Document.company_id == company_id,
        Document.state == DocumentState.OPEN,
        Document.due_date >= first,
        Document.due_date <= last,
    )
    return [(row.id, row.due_date) for row in execute_core(session, query)]


# Webhooks (the API)


def get(session: Session, company_id: int, webhook_id: int) -> Webhook | None:
    query = select(Webhook).where(Webhook.company_id == company_id, Webhook.id == webhook_id)
    return session.scalars(query).first()


def count(session: Session, company_id: int) -> int:
    query = select(func.count()).select_from(Webhook).where(Webhook.company_id == company_id)
    return int(session.execute(query).scalar_one())


def list_page(session: Session, company_id: int, *, offset: int, limit: int) -> tuple[list[Webhook], int]:
    total = count(session, company_id)
    if offset >= total:
        return [], total
    query = (
        select(Webhook)
        .where(Webhook.company_id == company_id)
        .order_by(Webhook.id.asc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query)), total


def delete_webhook(session: Session, webhook: Webhook) -> None:
    # Its deliveries go with it (ON DELETE CASCADE); its events stay for the company's other webhooks.
    session.execute(delete(Webhook).where(Webhook.company_id == webhook.company_id, Webhook.id == webhook.id))


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    webhook_id: int
    event_public_id: str
    event_type: str
    state: int
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


def deliveries_page(
    session: Session,
    company_id: int,
    webhook_id: int,
    state: DeliveryState | None,
    *,
    offset: int,
    limit: int,
) -> tuple[list[DeliveryRow], int]:
    """One page of the company's webhook's deliveries, newest first, and how many there are."""
    owned = select(_WEBHOOKS.c.id).where(_WEBHOOKS.c.company_id == company_id, _WEBHOOKS.c.id == webhook_id)
    conditions: list[Any] = [_DELIVERIES.c.webhook_id == owned.scalar_subquery()]
    if state is not None:
        conditions.append(_DELIVERIES.c.state == state)
    total = int(
        execute_core(session, select(func.count()).select_from(_DELIVERIES).where(*conditions)).scalar_one()
    )
    if offset >= total:
        return [], total
    query = (
        select(
            _DELIVERIES.c.id,
            _DELIVERIES.c.webhook_id,
            _EVENTS.c.public_id.label("event_public_id"),
            _EVENTS.c.type.label("event_type"),
            _DELIVERIES.c.state,
            _DELIVERIES.c.attempts,
            _DELIVERIES.c.next_attempt_at,
            _DELIVERIES.c.last_attempt_at,
            _DELIVERIES.c.last_status_code,
            _DELIVERIES.c.last_error,
            _DELIVERIES.c.delivered_at,
            _DELIVERIES.c.created_at,
        )
        .join(_EVENTS, _EVENTS.c.id == _DELIVERIES.c.event_id)
        .where(*conditions)
        .order_by(_DELIVERIES.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [DeliveryRow(**row._mapping) for row in execute_core(session, query)], total


# The delivery worker


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds the lease of, with what it needs to post it."""

    id: int
    lease_token: str
    attempts: int
    created_at: datetime
    company_id: int
    url: str
    secret_encrypted: bytes
    event_public_id: str
    event_type: str
    event_created_at: datetime
    data: str


def claim_due(
    session: Session, *, now: datetime, lease_until: datetime, token: str, limit: int
) -> list[Claimed]:
    """Take the lease of up to ``limit`` due deliveries, oldest due first.

    One UPDATE: PostgreSQL skips rows another worker is claiming (``FOR UPDATE SKIP LOCKED``), SQLite
    runs one writer at a time. A claimed row is due again only when its lease ends."""
    due = (
        select(_DELIVERIES.c.id)
        .where(_DELIVERIES.c.state == DeliveryState.PENDING, _DELIVERIES.c.next_attempt_at <= now)
        .order_by(_DELIVERIES.c.next_attempt_at)
        .limit(limit)
    )
    claim = (
        update(_DELIVERIES)
        .where(
            _DELIVERIES.c.id.in_(claimable(due, "due")),
            _DELIVERIES.c.state == DeliveryState.PENDING,
            _DELIVERIES.c.next_attempt_at <= now,
        )
        .values(
            next_attempt_at=lease_until,
            lease_token=token,
            attempts=_DELIVERIES.c.attempts + 1,
            last_attempt_at=now,
        )
        .returning(_DELIVERIES.c.id)
    )
    ids = [row.id for row in execute_core(session, claim)]
    if not ids:
        return []
    query = (
        select(
            _DELIVERIES.c.id,
            _DELIVERIES.c.lease_token,
            _DELIVERIES.c.attempts,
            _DELIVERIES.c.created_at,
            _WEBHOOKS.c.company_id,
            _WEBHOOKS.c.url,
            _WEBHOOKS.c.secret_encrypted,
            _EVENTS.c.public_id.label("event_public_id"),
            _EVENTS.c.type.label("event_type"),
            _EVENTS.c.created_at.label("event_created_at"),
            _EVENTS.c.data,
        )
        .join(_WEBHOOKS, _WEBHOOKS.c.id == _DELIVERIES.c.webhook_id)
        .join(_EVENTS, _EVENTS.c.id == _DELIVERIES.c.event_id)
        .where(_DELIVERIES.c.id.in_(ids))
        .order_by(_DELIVERIES.c.id)
    )
    return [Claimed(**row._mapping) for row in execute_core(session, query)]


_SETTLE = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("d_id"), _DELIVERIES.c.lease_token == bindparam("d_token"))
    .values(
        state=bindparam("d_state"),
        next_attempt_at=bindparam("d_next"),
        lease_token=None,
        last_status_code=bindparam("d_status"),
        last_error=bindparam("d_error"),
        delivered_at=bindparam("d_delivered"),
    )
)


def settle(session: Session, outcomes: Sequence[dict[str, Any]]) -> None:
    """Record attempts' outcomes (keys d_id, d_token, d_state, d_next, d_status, d_error, d_delivered);
    an outcome whose lease was taken over by another worker since changes nothing."""
    if outcomes:
        session.connection().execute(_SETTLE, list(outcomes))
