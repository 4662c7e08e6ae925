"""Webhooks: the API, events in the change's transaction, signed at-least-once delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from tests.conftest import Tenant
from tests.webhooks.receiver import Received

ALL_EVENTS = [
    "document.created",
    "document.updated",
    "document.deleted",
    "note.created",
    "payment.created",
    "payment.updated",
    "reminder.sent",
]


async def create_webhook(tenant: Tenant, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = await tenant.post("/v1/createWebhook", {"url": url, "events": events or ALL_EVENTS})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def verify(
    secret: str, received: Received, tolerance: int | None = None, now: int | None = None
) -> dict[str, Any]:
    """What a receiver does, written independently of dtehub: check the signature, then parse."""
    timestamp = received.headers["dtehub-timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256
    ).hexdigest()
    given = dict(part.split("=", 1) for part in received.headers["dtehub-signature"].split(","))
    assert hmac.compare_digest(given["v1"], expected), "bad signature"
    if tolerance is not None and now is not None:
        assert abs(now - int(timestamp)) <= tolerance
    payload: dict[str, Any] = json.loads(received.body)
    assert payload["id"] == received.headers["dtehub-event-id"]
    return payload
