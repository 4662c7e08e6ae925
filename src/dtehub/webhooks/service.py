"""Webhooks: create (the secret shown once), list, delete, and their delivery log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dtehub.config import Settings
from dtehub.errors import NotFound, TooManyWebhooks, UrlRefused
from dtehub.kit.pagination import PageRequest
from dtehub.models import DeliveryState, Webhook
from dtehub.webhooks import repository, signing
from dtehub.webhooks.guard import AddressRefused, check_url
from dtehub.webhooks.repository import DeliveryRow
from dtehub.webhooks.schemas import WebhookCreate

MAX_WEBHOOKS = 20
"""Per company: each event is written once per subscribed webhook."""


def create_webhook(
    session: Session, company_id: int, data: WebhookCreate, settings: Settings
) -> tuple[Webhook, str]:
    """The new webhook and its secret (in clear: for this answer only)."""
    box = signing.require_secret_box(settings)
    try:
        check_url(data.url, allow_private=settings.webhooks_allow_private)
    except AddressRefused as refused:
        raise UrlRefused(str(refused), field="url") from None
    if repository.count(session, company_id) >= MAX_WEBHOOKS:
        raise TooManyWebhooks(f"a company may have at most {MAX_WEBHOOKS} webhooks", field="url")
    secret = signing.new_secret()
    webhook = Webhook(
        company_id=company_id,
        url=data.url,
        events=list(data.events),
        secret_encrypted=box.seal(secret, company_id),
    )
    session.add(webhook)
    session.flush()
    return webhook, secret


def require(session: Session, company_id: int, webhook_id: int, *, field: str = "id") -> Webhook:
    webhook = repository.get(session, company_id, webhook_id)
    if webhook is None:
        raise NotFound(f"webhook {webhook_id} not found", field=field)
    return webhook


def list_webhooks(session: Session, company_id: int, page: PageRequest) -> tuple[list[Webhook], int]:
    return repository.list_page(session, company_id, offset=page.offset, limit=page.per_page)


def delete_webhook(session: Session, company_id: int, webhook_id: int) -> Webhook:
    webhook = require(session, company_id, webhook_id)
    repository.delete_webhook(session, webhook)
    return webhook


def list_deliveries(
    session: Session, company_id: int, webhook_id: int, state: DeliveryState | None, page: PageRequest
) -> tuple[list[DeliveryRow], int]:
    require(session, company_id, webhook_id, field="webhookId")
    return repository.deliveries_page(
        session, company_id, webhook_id, state, offset=page.offset, limit=page.per_page
    )
