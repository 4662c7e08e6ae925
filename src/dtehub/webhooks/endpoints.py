"""/v1 webhook methods: createWebhook, getWebhooks, deleteWebhook, getWebhookDeliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.audit.actions import Action
from dtehub.dependencies import AuthDep, SessionDep, SettingsDep, transactional
from dtehub.errors_http import error_responses
from dtehub.kit.pagination import Page, PageDep
from dtehub.kit.schema import MAX_ID, respond
from dtehub.webhooks import service
from dtehub.webhooks.schemas import (
    STATE_OF_STATUS,
    DeliveryOut,
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookDelete,
    WebhookDeleted,
    WebhookOut,
)

router = APIRouter(prefix="/v1", tags=["webhooks"])

WebhookPage = Page[WebhookOut]
DeliveryPage = Page[DeliveryOut]


@router.post("/createWebhook", response_model=WebhookCreated, responses=error_responses(409, 503))
@transactional(audit=Action.CREATE_WEBHOOK)
def create_webhook(
    auth: AuthDep, session: SessionDep, settings: SettingsDep, body: WebhookCreate
) -> Response:
    """Create a webhook. The answer carries its signing secret: it is shown this once, keep it."""
    webhook, secret = service.create_webhook(session, auth.company_id, body, settings)
    out = WebhookOut.of(webhook)
    return respond(WebhookCreated(**out.model_dump(), secret=secret))


@router.get("/getWebhooks", response_model=WebhookPage, responses=error_responses())
@transactional
def get_webhooks(auth: AuthDep, session: SessionDep, page: PageDep) -> Response:
    """List the company's webhooks (without their secrets)."""
    webhooks, total = service.list_webhooks(session, auth.company_id, page)
    return respond(WebhookPage.of([WebhookOut.of(w) for w in webhooks], total, page))


@router.delete("/deleteWebhook", response_model=WebhookDeleted, responses=error_responses(404))
@transactional(audit=Action.DELETE_WEBHOOK)
def delete_webhook(auth: AuthDep, session: SessionDep, body: WebhookDelete) -> Response:
    """Delete a webhook: nothing more is sent to it, and its pending deliveries are dropped."""
    webhook = service.delete_webhook(session, auth.company_id, body.id)
    return respond(WebhookDeleted(id=str(webhook.id), msg="Webhook eliminado."))


@router.get("/getWebhookDeliveries", response_model=DeliveryPage, responses=error_responses(404))
@transactional
def get_webhook_deliveries(
    auth: AuthDep,
    session: SessionDep,
    page: PageDep,
    webhook_id: Annotated[int, Query(alias="webhookId", ge=1, le=MAX_ID, description="The webhook's id")],
    status: Annotated[DeliveryStatus | None, Query(description="pending, delivered or failed")] = None,
) -> Response:
    """The webhook's delivery log, newest first: event, attempts, last answer, next attempt."""
    state = STATE_OF_STATUS[status] if status is not None else None
    rows, total = service.list_deliveries(session, auth.company_id, webhook_id, state, page)
    return respond(DeliveryPage.of([DeliveryOut.of(row) for row in rows], total, page))
