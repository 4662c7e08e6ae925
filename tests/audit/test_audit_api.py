"""The audit log through the API: every /v1 write leaves exactly one event in its own transaction,
refused ones none, reads none; getAuditLog shows only the caller's company; no summary holds a secret."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.app import create_app
from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.auth.service import authenticate
from dtehub.config import Settings
from dtehub.dependencies import AuthDep, SessionDep, run_unit_of_work, transactional
from dtehub.kit.dates import today_in_santiago
from dtehub.models import Actor, AuditEvent
from tests.conftest import Tenant, api_routes, assert_error, served, warnings_of
from tests.documents.from_xml import CREDIT_NOTE, SEED, b64, seed_xml


def events(tenant: Tenant, session: Session) -> list[AuditEvent]:
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.company_id == tenant.company_id).order_by(AuditEvent.id)
    )
    return list(rows)


async def log(tenant: Tenant, **params: object) -> dict[str, Any]:
    response = await tenant.get("/v1/getAuditLog", **params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def token_id(tenant: Tenant, session: Session) -> int:
    return authenticate(session, tenant.token).token_id


def png() -> str:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


async def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_every_v1_write_names_its_object_type(app: FastAPI) -> None:
    writes = {
        path.removeprefix("/v1/")
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/")
        for method in operations
        if method.upper() in audit.WRITE_METHODS
    }

    assert writes == set(audit.OBJECT_TYPES)


async def test_each_write_leaves_one_event_with_its_caller_action_and_object(
    tenant: Tenant, session: Session
) -> None:
    t = tenant
    client = await ok(await t.post("/v1/createClient", {"name": "Deli", "taxId": "99.999.999-9"}))
    calls: list[tuple[str, str, str]] = [("createClient", "client", client["id"])]

    async def write(
        action: str, object_type: str, response: Any, object_id: str | None = None
    ) -> dict[str, Any]:
        answer = await ok(response)
        calls.append((action, object_type, object_id or answer["id"]))
        return answer

    await write(
        "updateClient", "client", await t.post("/v1/updateClient", {"id": client["id"], "name": "Deli 2"})
    )
    await write("renewClientKey", "client", await t.post("/v1/renewClientKey", {"id": client["id"]}))
    await write(
        "createContact",
        "contact",
        await t.post("/v1/createContact", {"clientId": client["id"], "name": "Ana", "email": "ana@deli.cl"}),
    )
    await write("createTag", "tag", await t.post("/v1/createTag", {"name": "retail"}))
    body = {
        "clientId": client["id"],
        "number": "702",
        "issueDate": "2018-04-11",
        "total": "9628",
        "taxes": "1537",
    }
    document = await write("createDocument", "document", await t.post("/v1/createDocument", body))
    await write("createDocument", "document", await t.post("/v1/createDocument", {**body, "number": "703"}))
    await write("renewDocumentKey", "document", await t.post("/v1/renewDocumentKey", {"id": document["id"]}))
    content = base64.b64encode(b"%PDF-1.4 orden de compra").decode()
    await write(
        "createFile",
        "file",
        await t.post("/v1/createFile", {"documentId": document["id"], "name": "oc.pdf", "content": content}),
    )
    pay = {
        "date": "2024-02-01",
        "amount": 100,
        "clientId": client["id"],
        "documents": [{"id": document["id"], "amount": 100}],
    }
    payment = await write("createPayment", "payment", await t.post("/v1/createPayment", pay))
    await write(
        "updatePayment", "payment", await t.post("/v1/updatePayment", {"id": payment["id"], "comments": "ok"})
    )
    company = str(t.company_id)
    await write("updateCompany", "company", await t.post("/v1/updateCompany", {"paymentTerm": 15}))
    await write("updateCompanyLogo", "company", await t.post("/v1/updateCompanyLogo", {"content": png()}))
    await write("deleteCompanyLogo", "company", await t.delete("/v1/deleteCompanyLogo", {}))
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["document.created"]}
    webhook = await write("createWebhook", "webhook", await t.post("/v1/createWebhook", hook))
    await write("deleteWebhook", "webhook", await t.delete("/v1/deleteWebhook", {"id": webhook["id"]}))
    from_xml = await write(
        "createDocumentFromXml",
        "document",
        await t.post("/v1/createDocumentFromXml", {"xml": b64(SEED.encode())}),
    )
    await write("renewDocumentKey", "document", await t.post("/v1/renewDocumentKey", {"id": from_xml["id"]}))
    await write(
        "deleteDocument",
        "document",
        await t.delete("/v1/deleteDocument", {"clientTaxId": "99999999-9", "number": "703"}),
    )
    # Reads leave nothing.
    await ok(await t.get("/v1/getDocument", id=from_xml["id"]))
    await ok(await t.get("/v1/getDocuments"))
    await ok(await t.get("/v1/getCompany"))

    items = (await log(t, resultsPerPage=100))["items"]

    assert [(e["action"], e["objectType"], e["objectId"]) for e in reversed(items)] == calls
    assert {e["actor"] for e in items} == {"api_token"}
    assert {e["tokenId"] for e in items} == {str(token_id(t, session))}
    assert ("updateCompany", "company", company) in calls
    assert set(items[0]) == {
        "id", "createdAt", "createdAtUtc", "actor", "tokenId", "userId", "action", "objectType", "objectId",
        "summary",
    }  # fmt: skip
    by_action = {e["action"]: e["summary"] for e in items}
    assert by_action["updateCompany"] == {"paymentTerm": 15}
    assert by_action["createFile"]["content"] == {
        "sha256": hashlib.sha256(b"%PDF-1.4 orden de compra").hexdigest(),
        "bytes": len(b"%PDF-1.4 orden de compra"),
    }
    assert by_action["createDocumentFromXml"]["xml"]["sha256"] == hashlib.sha256(SEED.encode()).hexdigest()
    assert by_action["createDocumentFromXml"]["folio"] == "696"
    assert by_action["deleteDocument"] == {"clientTaxId": "99999999-9", "number": "703"}


async def test_a_note_from_xml_is_a_note_and_the_same_xml_again_is_no_change(tenant: Tenant) -> None:
    other = seed_xml(Folio="697")
    first = await ok(await tenant.post("/v1/createDocumentFromXml", {"xml": b64(other.encode("latin-1"))}))
    await ok(await tenant.post("/v1/createDocumentFromXml", {"xml": b64(other.encode("latin-1"))}))

    items = (await log(tenant))["items"]

    assert [(e["action"], e["objectType"], e["objectId"]) for e in items] == [
        ("createDocumentFromXml", "document", first["id"])
    ]
    assert CREDIT_NOTE.exists()


async def test_refused_writes_leave_no_event(tenant: Tenant, other_tenant: Tenant) -> None:
    await ok(await tenant.post("/v1/createTag", {"name": "once"}))

    assert_error(await tenant.post("/v1/createTag", {"name": "once"}), 409)  # in the endpoint
    assert_error(await tenant.post("/v1/createTag", {}), 400)  # before it
    assert_error(await tenant.post("/v1/updateClient", {"id": 987654, "name": "x"}), 404)
    assert_error(await tenant.delete("/v1/deleteWebhook", {"id": 987654}), 404)
    bad = {"Authorization": "Bearer dth_not-a-token"}
    assert (await tenant.http.post("/v1/createTag", json={"name": "x"}, headers=bad)).status_code == 401

    assert [e["action"] for e in (await log(tenant))["items"]] == ["createTag"]
    assert (await log(other_tenant))["items"] == []


async def test_a_rolled_back_unit_of_work_leaves_no_event(tenant: Tenant, session: Session) -> None:
    def work(s: Session) -> None:
        audit.record(s, tenant.company_id, actor=Actor.CLI, action="tokens.create", object_type="token")
        s.flush()
        raise RuntimeError("the change failed after its event was written")

    with pytest.raises(RuntimeError):
        run_unit_of_work(lambda: session, work, writes=True, busy_timeout=5)
    run_unit_of_work(
        lambda: session,
        lambda s: audit.record(s, tenant.company_id, actor=Actor.CLI, action="x"),
        writes=True,
        busy_timeout=5,
    )

    assert [e.action for e in events(tenant, session)] == ["x"]


async def test_another_company_never_sees_the_events(tenant: Tenant, other_tenant: Tenant) -> None:
    client = await ok(await tenant.post("/v1/createClient", {"name": "Deli", "taxId": "99.999.999-9"}))
    await ok(await other_tenant.post("/v1/createTag", {"name": "theirs"}))

    mine, theirs = (await log(tenant))["items"], (await log(other_tenant))["items"]

    assert [e["action"] for e in mine] == ["createClient"]
    assert [e["action"] for e in theirs] == ["createTag"]
    assert (await log(other_tenant, objectType="client", objectId=client["id"]))["items"] == []
    assert (await log(other_tenant, action="createClient"))["records"]["totalRecords"] == 0


async def test_no_summary_holds_a_secret(tenant: Tenant, session: Session) -> None:
    url = "http://127.0.0.1:9/hook?token=q-secret#frag"  # credentials in user:pass@ are refused anyway
    webhook = await ok(await tenant.post("/v1/createWebhook", {"url": url, "events": ["document.created"]}))
    client = await ok(await tenant.post("/v1/createClient", {"name": "Deli", "taxId": "99.999.999-9"}))
    renewed = await ok(await tenant.post("/v1/renewClientKey", {"id": client["id"]}))
    await ok(await tenant.post("/v1/createTag", {"name": f"paste {tenant.token}"}))
    xml = b64(SEED.encode())
    await ok(await tenant.post("/v1/createDocumentFromXml", {"xml": xml}))

    text = json.dumps((await log(tenant))["items"])
    stored = json.dumps([e.summary for e in events(tenant, session)])

    key = renewed["url"].rstrip("/").rsplit("/", 1)[-1]
    for secret in (webhook["secret"], "q-secret", tenant.token, key, xml[:40]):
        assert secret not in text
        assert secret not in stored
    summary = next(e["summary"] for e in (await log(tenant, action="createWebhook"))["items"])
    assert summary == {
        "url": "http://127.0.0.1:9/…",
        "events": ["document.created"],
    }  # the path may be a secret


async def test_filters_pages_and_newest_first(tenant: Tenant) -> None:
    for name in ("a", "b", "c"):
        await ok(await tenant.post("/v1/createTag", {"name": name}))
    client = await ok(await tenant.post("/v1/createClient", {"name": "Deli", "taxId": "99.999.999-9"}))
    today = today_in_santiago()

    first = await log(tenant, resultsPerPage=2)
    second = await log(tenant, resultsPerPage=2, page=2)

    assert first["records"] == {"totalRecords": 4, "items": 2, "page": 1, "pages": 2}
    assert [e["action"] for e in first["items"] + second["items"]] == ["createClient"] + ["createTag"] * 3
    assert [e["summary"]["name"] for e in second["items"]] == ["b", "a"]
    assert (await log(tenant, action="createTag"))["records"]["totalRecords"] == 3
    assert (await log(tenant, actor="cli"))["items"] == []
    only = (await log(tenant, objectType="client", objectId=client["id"]))["items"]
    assert [e["action"] for e in only] == ["createClient"]
    assert (await log(tenant, since=today.isoformat(), until=today.isoformat()))["records"][
        "totalRecords"
    ] == 4
    assert (await log(tenant, since=(today + timedelta(days=1)).isoformat()))["items"] == []
    assert (await log(tenant, until=(today - timedelta(days=1)).isoformat()))["items"] == []
    assert (await log(tenant, until="9999-12-31"))["records"]["totalRecords"] == 4
    served = await tenant.get("/v1/getAuditLog", resultsPerPage=101)
    assert warnings_of(served) == [{"parameter": "resultsPerPage", "value": "101", "used": 100}]
    assert_error(await tenant.get("/v1/getAuditLog", objectType="secret"), 400)


async def test_the_log_is_read_only_through_the_api(app: FastAPI) -> None:
    audit_paths = [path for path in app.openapi()["paths"] if "audit" in path.lower()]

    assert audit_paths == ["/v1/getAuditLog"]
    assert set(app.openapi()["paths"]["/v1/getAuditLog"]) == {"get"}


async def test_counting_events_is_per_company(tenant: Tenant, session: Session) -> None:
    await ok(await tenant.post("/v1/createTag", {"name": "x"}))
    count = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.company_id == tenant.company_id)
    )
    assert count == 1


def test_every_audited_route_names_its_action_explicitly(app: FastAPI) -> None:
    # Declared with the route (@transactional(audit=Action…)), never derived from a function's name.
    audited = {
        route.path.removeprefix("/v1/"): route.endpoint.audit_action
        for route in api_routes(app.routes)
        if route.methods & audit.WRITE_METHODS and route.path.startswith("/v1/")
    }

    assert set(audited) == set(audit.OBJECT_TYPES)
    assert all(isinstance(action, Action) for action in audited.values())
    assert {path: str(action) for path, action in audited.items()} == {path: path for path in audited}


async def test_a_write_without_its_action_is_refused_before_anything_is_recorded(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    _, token = committed_company
    app = create_app(settings)

    @app.post("/v1/unnamedWrite")
    @transactional
    def unnamed_write(auth: AuthDep, session: SessionDep) -> Response:
        return Response("{}")

    async with served(app) as http:
        with pytest.raises(TypeError, match=r"@transactional\(audit="):
            await http.post("/v1/unnamedWrite", headers={"Authorization": f"Bearer {token}"})
