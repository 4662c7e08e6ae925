"""createWebhook, getWebhooks, deleteWebhook, getWebhookDeliveries: shapes, the secret, tenants, URLs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dtehub.models import Webhook
from dtehub.webhooks import events
from dtehub.webhooks.delivery import deliver_due
from dtehub.webhooks.guard import URL_PATTERN
from tests.conftest import Tenant, assert_error
from tests.webhooks import ALL_EVENTS, create_webhook
from tests.webhooks.receiver import Receiver

DATETIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


@pytest.fixture
def no_private(app: FastAPI) -> Iterator[None]:
    """The production default: webhooks may reach public addresses only."""
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"webhooks_allow_private": False})
    try:
        yield
    finally:
        app.state.settings = settings


async def test_create_answers_the_webhook_and_its_secret_once(
    tenant: Tenant, rx: Receiver, session: Session
) -> None:
    created = await create_webhook(tenant, rx.url, ["document.created", "note.created"])

    assert set(created) == {"id", "url", "events", "createdAt", "secret"}
    assert isinstance(created["id"], str)
    assert created["url"] == rx.url
    assert created["events"] == ["document.created", "note.created"]
    assert DATETIME.match(created["createdAt"])
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", created["secret"])

    listed = (await tenant.get("/v1/getWebhooks")).json()
    assert listed["records"] == {"totalRecords": 1, "items": 1, "page": 1, "pages": 1}
    assert listed["items"] == [{k: v for k, v in created.items() if k != "secret"}]
    assert created["secret"] not in (await tenant.get("/v1/getWebhooks")).text

    stored = session.scalars(select(Webhook).where(Webhook.id == int(created["id"]))).one()
    assert created["secret"].encode() not in stored.secret_encrypted  # sealed, not in clear
    assert created["secret"][6:].encode() not in stored.secret_encrypted


async def test_the_secret_never_reaches_the_logs(
    tenant: Tenant, rx: Receiver, worker_factory: sessionmaker[Session], app: FastAPI,
    caplog: pytest.LogCaptureFixture, session: Session,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    rx.status = 500
    created = await create_webhook(tenant, rx.url)
    events.record_event(session, tenant.company_id, "reminder.sent", {"id": "1"})
    deliver_due(worker_factory, app.state.settings)
    assert rx.received  # a delivery was tried, and failed
    assert created["secret"] not in caplog.text
    assert created["secret"][6:] not in caplog.text


async def test_events_are_checked_and_given_once_each_in_order(tenant: Tenant, rx: Receiver) -> None:
    created = await create_webhook(tenant, rx.url, ["reminder.sent", "document.created", "reminder.sent"])
    assert created["events"] == ["document.created", "reminder.sent"]

    unknown = await tenant.post("/v1/createWebhook", {"url": rx.url, "events": ["document.exploded"]})
    assert_error(unknown, 400, "invalid_parameter")
    assert "document.created" in unknown.json()["error"]["message"]  # the accepted types are named
    none = await tenant.post("/v1/createWebhook", {"url": rx.url, "events": []})
    assert_error(none, 400, "invalid_parameter", "events")
    missing = await tenant.post("/v1/createWebhook", {"events": ALL_EVENTS})
    assert_error(missing, 400, "missing_parameter", "url")


async def test_delete_removes_it_and_then_it_is_missing(tenant: Tenant, rx: Receiver) -> None:
    created = await create_webhook(tenant, rx.url)

    deleted = await tenant.delete("/v1/deleteWebhook", {"id": int(created["id"])})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"id": created["id"], "msg": "Webhook eliminado."}

    assert (await tenant.get("/v1/getWebhooks")).json()["items"] == []
    again = await tenant.delete("/v1/deleteWebhook", {"id": int(created["id"])})
    assert_error(again, 404, "not_found", "id")
    log = await tenant.get("/v1/getWebhookDeliveries", webhookId=created["id"])
    assert_error(log, 404, "not_found", "webhookId")


async def test_another_companys_webhook_answers_like_a_missing_one(
    tenant: Tenant, other_tenant: Tenant, rx: Receiver
) -> None:
    created = await create_webhook(tenant, rx.url)
    missing_id = int(created["id"]) + 1000

    for webhook_id in (int(created["id"]), missing_id):
        response = await other_tenant.delete("/v1/deleteWebhook", {"id": webhook_id})
        assert_error(response, 404, "not_found", "id")
        assert response.json()["error"]["message"] == f"webhook {webhook_id} not found"
        log = await other_tenant.get("/v1/getWebhookDeliveries", webhookId=webhook_id)
        assert_error(log, 404, "not_found", "webhookId")
    assert (await other_tenant.get("/v1/getWebhooks")).json()["items"] == []
    assert len((await tenant.get("/v1/getWebhooks")).json()["items"]) == 1  # still there


@pytest.mark.usefixtures("no_private")
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1.2.3:8080/hook",
        "http://10.0.0.8/hook",
        "https://172.16.4.4/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::]/hook",
        "http://[fe80::1]/hook",
        "http://[fc00::1]/hook",
        "http://[ff02::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of 169.254.169.254 (cloud metadata)
        "http://localhost/hook",
        "http://LOCALHOST./hook",
        "http://api.localhost:9000/hook",
        "http://intranet/hook",
    ],
)
async def test_private_addresses_are_refused(tenant: Tenant, url: str) -> None:
    response = await tenant.post("/v1/createWebhook", {"url": url, "events": ALL_EVENTS})
    assert_error(response, 400, "url_refused", "url")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "http:///nohost",
        "https://user:pass@example.com/hook",
        "http://example.com:99999/hook",
        "http://exa mple.com/hook",
    ],
)
async def test_only_http_urls_are_accepted(tenant: Tenant, url: str) -> None:
    response = await tenant.post("/v1/createWebhook", {"url": url, "events": ALL_EVENTS})
    assert_error(response, 400, "url_refused", "url")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("HTTPS://0*", "the URL's host '0*' is not a host name or an IPv4 address"),
        ("http://exa*mple.com/hook", "the URL's host 'exa*mple.com' is not a host name"),
        ("http://[2001:db8::1]/hook", "an IPv6 address needs a name"),
        ("http://example.com:/hook", "the URL is not valid: http(s)://host[:port]"),
        ("http://example.com/hoök", "the URL is not valid: http(s)://host[:port]"),
    ],
)
async def test_a_url_outside_the_published_pattern_is_refused(tenant: Tenant, url: str, message: str) -> None:
    # The document's pattern is the rule, also when private addresses are allowed (as here).
    response = await tenant.post("/v1/createWebhook", {"url": url, "events": ALL_EVENTS})
    assert_error(response, 400, "url_refused", "url")
    assert message in response.json()["error"]["message"]
    assert not re.fullmatch(URL_PATTERN, url)


async def test_white_space_around_a_url_is_dropped_as_published(tenant: Tenant, rx: Receiver) -> None:
    url = f" {rx.url}\u2028"
    assert re.fullmatch(URL_PATTERN, url)
    response = await tenant.post("/v1/createWebhook", {"url": url, "events": ALL_EVENTS})
    assert response.status_code == 200, response.text
    assert response.json()["url"] == rx.url


async def test_a_url_the_published_pattern_admits_is_accepted(tenant: Tenant, rx: Receiver) -> None:
    url = rx.url.replace("http://", "HTTP://") + "&b=%C3%B6#x"  # a 5-digit port, most likely
    assert re.fullmatch(URL_PATTERN, url)
    response = await tenant.post("/v1/createWebhook", {"url": url, "events": ALL_EVENTS})
    assert response.status_code == 200, response.text
    assert response.json()["url"] == url


async def test_without_a_secret_key_create_says_what_to_set(
    tenant: Tenant, app: FastAPI, rx: Receiver
) -> None:
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"secret_key": None})
    try:
        response = await tenant.post("/v1/createWebhook", {"url": rx.url, "events": ALL_EVENTS})
    finally:
        app.state.settings = settings
    assert_error(response, 503, "secret_key_missing")
    assert "DTEHUB_SECRET_KEY" in response.json()["error"]["message"]
    assert (await tenant.get("/v1/getWebhooks")).json()["items"] == []


async def test_the_address_is_checked_again_when_connecting(
    tenant: Tenant, rx: Receiver, worker_factory: sessionmaker[Session], app: FastAPI, session: Session
) -> None:
    # Accepted while private addresses were allowed (as a name that later resolves elsewhere would be):
    created = await create_webhook(tenant, rx.url.replace("127.0.0.1", "localhost"))
    events.record_event(session, tenant.company_id, "reminder.sent", {"id": "1"})
    strict = app.state.settings.model_copy(update={"webhooks_allow_private": False})

    assert deliver_due(worker_factory, strict).retrying == 1
    assert rx.received == []  # never connected
    [item] = (await tenant.get("/v1/getWebhookDeliveries", webhookId=created["id"])).json()["items"]
    assert item["lastStatusCode"] is None
    assert "public addresses" in item["lastError"]
