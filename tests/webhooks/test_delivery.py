"""Events recorded in the change's transaction, delivered signed, at least once, with retries."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.documents import service as documents_service
from dtehub.documents.schemas import DocumentCreate
from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.models import DeliveryState, WebhookDelivery, WebhookEvent
from dtehub.webhooks import events
from dtehub.webhooks.delivery import RETRY_FOR, deliver_due
from dtehub.webhooks.jobs import sweep_overdue
from tests.conftest import LINKS, Tenant, assert_error
from tests.notes import credit_xml, invoice_xml, store
from tests.webhooks import ALL_EVENTS, create_webhook, verify
from tests.webhooks.receiver import Receiver, receiver


async def new_client(tenant: Tenant, tax_id: str = "99999999-9") -> str:
    response = await tenant.post("/v1/createClient", {"name": "CLIENTE", "taxId": tax_id})
    assert response.status_code == 200, response.text
    client_id: str = response.json()["id"]
    return client_id


async def new_document(tenant: Tenant, client_id: str, number: str, **fields: Any) -> dict[str, Any]:
    body = {"number": number, "code": 33, "clientId": client_id, "issueDate": "2024-01-10",
            "dueDate": (today_in_santiago() + timedelta(days=30)).isoformat(),
            "total": "1190.00", "taxes": "190.00"} | fields  # fmt: skip
    response = await tenant.post("/v1/createDocument", body)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def payloads(rx: Receiver, secret: str) -> list[dict[str, Any]]:
    return [verify(secret, received) for received in rx.received]


def count_events(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(WebhookEvent)).scalar_one())


async def test_every_event_type_is_delivered_with_the_object_as_the_api_shows_it(
    tenant: Tenant, rx: Receiver, worker_factory: sessionmaker[Session], app: FastAPI, session: Session
) -> None:
    hook = await create_webhook(tenant, rx.url, ALL_EVENTS)
    client_id = await new_client(tenant)

    created = await new_document(tenant, client_id, "501")
    invoice = await store(tenant, invoice_xml(tenant, 900, 1190))
    note = await store(tenant, credit_xml(tenant, 7, 190, 900))  # links: the invoice is updated
    invoice_now = (await tenant.get("/v1/getDocument", id=invoice["id"])).json()
    overdue = await new_document(
        tenant, client_id, "502", dueDate=(today_in_santiago() - timedelta(days=1)).isoformat()
    )
    # What the payments and reminders engineers record through record_event:
    others = {
        "payment.created": {"id": "77", "amount": "100.00"},
        "payment.updated": {"id": "77", "status": 2},
        "reminder.sent": {"id": "5", "kind": "overdue"},
    }
    for event_type, data in others.items():
        events.record_event(session, tenant.company_id, event_type, data)  # type: ignore[arg-type]
    assert sweep_overdue(session, LINKS) == 1
    overdue_now = (await tenant.get("/v1/getDocument", id=overdue["id"])).json()
    deleted = await tenant.delete(
        "/v1/deleteDocument", {"clientTaxId": "99999999-9", "number": "501", "code": 33}
    )
    assert deleted.status_code == 200, deleted.text

    summary = deliver_due(worker_factory, app.state.settings)
    assert summary.delivered == len(rx.received) == 10

    got = payloads(rx, hook["secret"])
    by_type: dict[str, list[dict[str, Any]]] = {}
    for payload in got:
        assert set(payload) == {"id", "type", "createdAt", "data"}
        assert payload["id"].startswith("evt_")
        by_type.setdefault(payload["type"], []).append(payload["data"])
    for items in by_type.values():  # deliveries run concurrently: their order is not the events'
        items.sort(key=lambda data: int(data["id"]))
    assert set(by_type) == set(ALL_EVENTS)
    assert by_type["document.created"] == [created, invoice, overdue]
    assert by_type["note.created"] == [note]
    assert by_type["document.updated"] == [invoice_now, overdue_now]
    assert invoice_now["amountCredit"] == "190.00"
    assert overdue_now["status"] == 3
    assert by_type["document.deleted"] == [created]
    for event_type, data in others.items():
        assert by_type[event_type] == [data]
    assert len({payload["id"] for payload in got}) == len(got)
    for received in rx.received:
        assert received.path == "/hooks/dtehub?source=test"
        assert received.headers["content-type"] == "application/json"
        assert received.headers["dtehub-event-type"] == verify(hook["secret"], received)["type"]

    log = (await tenant.get("/v1/getWebhookDeliveries", webhookId=hook["id"])).json()
    assert log["records"]["totalRecords"] == 10
    assert {item["status"] for item in log["items"]} == {"delivered"}
    assert all(item["attempts"] == 1 and item["lastStatusCode"] == 200 for item in log["items"])
    assert {item["eventId"] for item in log["items"]} == {payload["id"] for payload in got}


async def test_only_the_types_asked_for_are_recorded(
    tenant: Tenant, rx: Receiver, worker_factory: sessionmaker[Session], app: FastAPI, session: Session
) -> None:
    hook = await create_webhook(tenant, rx.url, ["note.created"])
    client_id = await new_client(tenant)
    await new_document(tenant, client_id, "1")
    assert count_events(session) == 0
    deliver_due(worker_factory, app.state.settings)
    assert rx.received == []
    log = (await tenant.get("/v1/getWebhookDeliveries", webhookId=hook["id"])).json()
    assert log["items"] == []


async def test_a_company_without_webhooks_records_nothing(tenant: Tenant, session: Session) -> None:
    client_id = await new_client(tenant)
    await new_document(tenant, client_id, "1")
    await store(tenant, invoice_xml(tenant, 2))
    assert count_events(session) == 0


async def test_a_refused_request_records_no_event(tenant: Tenant, rx: Receiver, session: Session) -> None:
    await create_webhook(tenant, rx.url)
    client_id = await new_client(tenant)
    await new_document(tenant, client_id, "1")
    before = count_events(session)

    again = await tenant.post(
        "/v1/createDocument",
        {"number": "1", "code": 33, "clientId": client_id, "issueDate": "2024-01-10", "total": 1, "taxes": 0},
    )
    assert_error(again, 409)
    assert count_events(session) == before


async def test_an_event_recorded_in_a_rolled_back_transaction_is_gone(
    settings: Settings, committed_company: tuple[int, str], rx: Receiver, app: FastAPI
) -> None:
    company_id, token = committed_company
    engine = create_engine(settings.database_url, pool_size=2)
    factory = create_sessionmaker(engine)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            tenant = Tenant(company_id, "", token, http)
            await create_webhook(tenant, rx.url)
            client_id = int(await new_client(tenant))
        data = DocumentCreate.model_validate(
            {"number": "9", "clientId": client_id, "issueDate": "2024-01-10", "total": "100", "taxes": "0"}
        )
        try:
            with unit_of_work(factory) as session:
                documents_service.create_document(session, company_id, data, LINKS)
                assert count_events(session) == 1  # recorded with the change…
                raise RuntimeError("the request fails after the change")
        except RuntimeError:
            pass
        with unit_of_work(factory) as session:  # …and gone with it
            assert (
                session.scalars(select(WebhookEvent).where(WebhookEvent.company_id == company_id)).all() == []
            )
        assert deliver_due(factory, settings).attempted == 0
    finally:
        engine.dispose()


async def test_retries_back_off_then_fail_after_a_day(
    tenant: Tenant, rx: Receiver, worker_factory: sessionmaker[Session], app: FastAPI, session: Session
) -> None:
    hook = await create_webhook(tenant, rx.url, ["document.created"])
    client_id = await new_client(tenant)
    await new_document(tenant, client_id, "1")
    rx.status = 500
    settings = app.state.settings

    now = utcnow()
    waits: list[float] = []
    for _ in range(40):
        summary = deliver_due(worker_factory, settings, now=now)
        delivery = session.scalars(select(WebhookDelivery)).one()
        session.refresh(delivery)
        if delivery.state != DeliveryState.PENDING:
            break
        assert summary.retrying == 1
        assert delivery.next_attempt_at is not None
        waits.append((delivery.next_attempt_at - now).total_seconds())
        # Nothing is due before the next attempt: a run in between sends nothing.
        assert (
            deliver_due(
                worker_factory, settings, now=delivery.next_attempt_at - timedelta(seconds=1)
            ).attempted
            == 0
        )
        now = delivery.next_attempt_at
    assert delivery.state == DeliveryState.FAILED
    assert len(rx.received) == delivery.attempts == len(waits) + 1
    assert 22.5 <= waits[0] <= 37.5  # 30 s ± 25%
    assert waits[:7] == sorted(waits[:7])  # doubling: 30 s, 1, 2, 4, 8, 16, 32 min
    assert all(2700 <= wait <= 4500 for wait in waits[7:])  # then hourly
    assert now - delivery.created_at >= RETRY_FOR
    assert now - delivery.created_at < RETRY_FOR + timedelta(hours=1, minutes=15)
    assert len({verify(hook["secret"], r)["id"] for r in rx.received}) == 1  # the same event each time

    log = (await tenant.get("/v1/getWebhookDeliveries", webhookId=hook["id"], status="failed")).json()
    [item] = log["items"]
    assert item["status"] == "failed"
    assert item["lastStatusCode"] == 500
    assert item["nextAttemptAt"] is None
    assert deliver_due(worker_factory, settings, now=now + timedelta(days=2)).attempted == 0


async def test_a_receiver_down_then_up_gets_the_event(
    tenant: Tenant, worker_factory: sessionmaker[Session], app: FastAPI
) -> None:
    with receiver() as gone:
        url, port = gone.url, gone.server.server_address[1]
    # The receiver is down: its port refuses connections.
    hook = await create_webhook(tenant, url, ["document.created"])
    client_id = await new_client(tenant)
    document = await new_document(tenant, client_id, "1")
    now = utcnow()
    assert deliver_due(worker_factory, app.state.settings, now=now).retrying == 1
    log = (await tenant.get("/v1/getWebhookDeliveries", webhookId=hook["id"])).json()
    [item] = log["items"]
    assert item["status"] == "pending"
    assert item["lastStatusCode"] is None
    assert item["lastError"]

    with receiver(port=port) as up:  # back up on the same port
        assert deliver_due(worker_factory, app.state.settings, now=now + timedelta(seconds=10)).attempted == 0
        summary = deliver_due(worker_factory, app.state.settings, now=now + timedelta(minutes=1))
        assert summary.delivered == 1
        [received] = up.received
        assert verify(hook["secret"], received)["data"] == document


async def test_a_stalled_receiver_times_out_and_is_retried(
    tenant: Tenant, rx: Receiver, worker_factory: sessionmaker[Session], app: FastAPI
) -> None:
    hook = await create_webhook(tenant, rx.url, ["document.created"])
    client_id = await new_client(tenant)
    await new_document(tenant, client_id, "1")
    rx.stall = 1.5
    quick = app.state.settings.model_copy(update={"webhook_timeout": 0.3})
    now = utcnow()
    assert deliver_due(worker_factory, quick, now=now).retrying == 1
    rx.stall = 0
    assert deliver_due(worker_factory, quick, now=now + timedelta(minutes=1)).delivered == 1
    ids = {verify(hook["secret"], r)["id"] for r in rx.received}
    assert len(rx.received) == 2
    assert len(ids) == 1  # the receiver de-duplicates by event id


async def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(
    tenant: Tenant, rx: Receiver, worker_factory: sessionmaker[Session], app: FastAPI
) -> None:
    await create_webhook(tenant, rx.url, ["document.created"])
    client_id = await new_client(tenant)
    await new_document(tenant, client_id, "1")
    rx.trickle = 0.1  # a byte every 0.1 s: no single read waits long enough to time out
    quick = app.state.settings.model_copy(update={"webhook_timeout": 0.5})

    started = time.monotonic()
    summary = deliver_due(worker_factory, quick, now=utcnow())

    assert summary.retrying == 1
    assert time.monotonic() - started < 3


async def test_the_overdue_sweep_records_once_per_document_and_day(
    tenant: Tenant, rx: Receiver, session: Session
) -> None:
    await create_webhook(tenant, rx.url, ["document.updated"])
    client_id = await new_client(tenant)
    today = today_in_santiago()
    await new_document(tenant, client_id, "1", dueDate=(today - timedelta(days=1)).isoformat())
    await new_document(tenant, client_id, "2", dueDate=(today - timedelta(days=3)).isoformat())  # missed days
    await new_document(tenant, client_id, "3", dueDate=today.isoformat())  # not overdue yet
    await new_document(tenant, client_id, "4", dueDate=(today - timedelta(days=30)).isoformat())  # long ago

    assert sweep_overdue(session, LINKS, today) == 2
    assert sweep_overdue(session, LINKS, today) == 0
    assert count_events(session) == 2
    assert sweep_overdue(session, LINKS, today + timedelta(days=1)) == 1  # number 3's day
    keys = session.scalars(select(WebhookEvent.dedupe_key).order_by(WebhookEvent.id)).all()
    assert len(set(keys)) == 3


async def test_deleted_webhooks_get_nothing_more(
    tenant: Tenant, rx: Receiver, worker_factory: sessionmaker[Session], app: FastAPI, session: Session
) -> None:
    hook = await create_webhook(tenant, rx.url, ["document.created"])
    client_id = await new_client(tenant)
    await new_document(tenant, client_id, "1")
    await tenant.delete("/v1/deleteWebhook", {"id": int(hook["id"])})
    await new_document(tenant, client_id, "2")
    assert deliver_due(worker_factory, app.state.settings).attempted == 0
    assert rx.received == []


def test_two_workers_racing_deliver_each_attempt_once(
    settings: Settings, committed_company: tuple[int, str], rx: Receiver
) -> None:
    company_id, _ = committed_company
    engine = create_engine(settings.database_url, pool_size=4)
    factory = create_sessionmaker(engine)
    rx.stall = 0.02  # long enough that both workers are at it together
    try:
        from dtehub.models import Webhook
        from dtehub.webhooks.signing import new_secret, require_secret_box

        secret = new_secret()
        with unit_of_work(factory) as session:
            box = require_secret_box(settings)
            session.add(
                Webhook(company_id=company_id, url=rx.url, events=["reminder.sent"],
                        secret_encrypted=box.seal(secret, company_id))
            )  # fmt: skip
        with unit_of_work(factory) as session:
            for n in range(120):
                events.record_event(session, company_id, "reminder.sent", {"n": n})

        start = threading.Barrier(2)
        results = []

        def work() -> None:
            start.wait()
            results.append(deliver_due(factory, settings, batch=10))

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert sum(r.delivered for r in results) == 120
        assert all(r.delivered > 0 for r in results), results  # both took part
        numbers = sorted(verify(secret, received)["data"]["n"] for received in rx.received)
        assert numbers == list(range(120))  # each exactly once
    finally:
        engine.dispose()
