"""Tenant isolation, driven by the app's own routes: company B's token on company A's objects (ids,
numbers, RUTs, portal keys, files, webhooks, payments, e-mails) answers exactly what a missing object
answers, and changes nothing of A's.

Every route the app publishes must have its probes in :func:`probes` or a reason in ``NO_REFERENCE``: a new
endpoint or link without a case fails :func:`test_every_route_has_isolation_probes`.

"Exactly" is byte for byte once the reference itself is masked: an error may echo the id or RUT it was
given (``document 12 not found``), and a missing object's id cannot be the same string as A's.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from dtehub.kit.dates import utcnow
from dtehub.models import EmailMessage, SiiSyncRun
from dtehub.models.sii_sync_run import RunState
from tests.conftest import PUBLIC_URL, Tenant, random_rut
from tests.dte_factory import build_dte
from tests.factoring.aecs import aec_to
from tests.notes import credit_xml, invoice_xml, store

MISSING_ID = "987654321"  # no test makes that many rows
MISSING_KEY = "AAAAAAAAAAAAAAAAAAAAAA"  # the shape of a link key (22 URL-safe characters)
MISSING_NUMBER = "99999"

# Routes without an object reference of the caller's choosing, and why they cannot reach another
# company's data.
NO_REFERENCE = {
    ("GET", "/v1/getCompany"): "the caller's own company, from the token",
    ("POST", "/v1/updateCompany"): "the caller's own company, from the token",
    ("POST", "/v1/updateCompanyLogo"): "the caller's own company, from the token",
    ("DELETE", "/v1/deleteCompanyLogo"): "the caller's own company, from the token",
    ("GET", "/v1/getPaymentMethods"): "a fixed list, the same for everyone",
    ("POST", "/v1/createTag"): "names a new tag of the caller's (tested below: A's name is free for B)",
    ("POST", "/v1/createClient"): "names a new client of the caller's (tested below: A's RUT is free for B)",
    ("POST", "/v1/createWebhook"): "a new webhook of the caller's; its URL is not an object",
    ("GET", "/v1/getWebhooks"): "lists the caller's webhooks (covered by the snapshot of A)",
    ("POST", "/V1/mipyme_get_document"): "SII's document with the caller's own certificate",
    ("POST", "/v1/updateCompanySiiCertificate"): "the caller's own company, from the token",
    ("DELETE", "/v1/deleteCompanySiiCertificate"): "the caller's own company, from the token",
    ("POST", "/v1/syncSii"): "a new run of the caller's own company; its periods are not objects",
    ("GET", "/v1/getSiiSyncRuns"): "lists the caller's runs (covered by the snapshot of A)",
    ("GET", "/health"): "no data",
}


def _aec_to(rut: str) -> str:
    """An AEC that cedes an invoice to ``rut``: B sending one ceded to A learns nothing of A."""
    return base64.b64encode(aec_to(rut, 8124)).decode()


@dataclass
class World:
    """A company's objects, as its own token sees them."""

    tenant: Tenant
    client: dict[str, Any]
    contact: dict[str, Any]
    tag: dict[str, Any]
    document: dict[str, Any]
    xml_document: dict[str, Any]
    note: dict[str, Any]
    file: dict[str, Any]
    payment: dict[str, Any]
    webhook: dict[str, Any]
    email_id: str
    sync_run_id: str


async def ok(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    answered = await response
    assert answered.status_code == 200, answered.text
    body: dict[str, Any] = answered.json()
    return body


async def furnish(tenant: Tenant, session: Session, mark: str) -> World:
    """A company's objects; names and RUTs of their own (``mark``), so that B's never match A's."""
    client = await ok(tenant.post("/v1/createClient", {"name": f"CLIENTE {mark}", "taxId": random_rut()}))
    contact = await ok(
        tenant.post("/v1/createContact", {"clientId": client["id"], "name": "Ana", "email": "ana@example.cl"})
    )
    tag = await ok(tenant.post("/v1/createTag", {"name": f"Cobranza {mark}"}))
    document = await ok(
        tenant.post(
            "/v1/createDocument",
            {
                "clientId": client["id"],
                "number": {"A": "501"}.get(mark, "502"),
                "issueDate": "2024-03-01",
                "dueDate": "2099-12-31",
                "total": "11900",
                "taxes": "1900",
                "code": 33,
                "tags": [f"Cobranza {mark}"],
            },
        )
    )
    receiver = random_rut()
    xml_document = await store(tenant, invoice_xml(tenant, 700, receiver=receiver))
    note = await store(tenant, credit_xml(tenant, 7, 1190, 700, receiver=receiver))
    pdf = base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()
    file = await ok(
        tenant.post("/v1/createFile", {"documentId": document["id"], "name": "oc.pdf", "content": pdf})
    )
    payment = await ok(
        tenant.post(
            "/v1/createPayment",
            {
                "date": "2024-03-02",
                "amount": "100",
                "clientId": client["id"],
                "documents": [{"id": document["id"], "amount": "100"}],
            },
        )
    )
    webhook = await ok(
        tenant.post("/v1/createWebhook", {"url": "http://127.0.0.1:9/hook", "events": ["document.created"]})
    )
    email = EmailMessage(
        company_id=tenant.company_id,
        client_id=int(client["id"]),
        kind="debtSummary",
        subject_id=int(client["id"]),
        reminder_day=date(2026, 3, 2),
        status="sent",
        attempts=1,
        next_attempt_at=utcnow(),
        created_at=utcnow(),
        recipients="ana@example.cl",
        subject="Resumen de su deuda",
        text_body="Estimado cliente",
        html_body="<p>Estimado cliente</p>",
    )
    session.add(email)
    sync_run = SiiSyncRun(
        company_id=tenant.company_id,
        state=RunState.DONE.value,
        trigger="api",
        since="2026-01",
        until="2026-01",
        periods=["2026-01"],
        periods_done=["2026-01"],
        finished_at=utcnow(),
    )
    session.add(sync_run)
    session.commit()
    return World(
        tenant,
        client,
        contact,
        tag,
        document,
        xml_document,
        note,
        file,
        payment,
        webhook,
        str(email.id),
        str(sync_run.id),
    )


def path_of(url: str) -> str:
    assert url.startswith(PUBLIC_URL + "/portal/"), url
    return url.removeprefix(PUBLIC_URL).split("?")[0]


def key_of(url: str) -> str:
    return path_of(url).rsplit("/", 1)[1]


def id_of(url: str) -> str:
    return path_of(url).rsplit("/", 2)[1]


# --- probes ---------------------------------------------------------------------------------------

Send = Callable[[str], Awaitable[httpx.Response]]


@dataclass
class Probe:
    """One reference of A's, sent by B, and the same request with a reference that names nothing."""

    label: str
    theirs: str
    missing: str
    send: Send
    writes: bool = False


def query(b: Tenant, path: str, name: str, **extra: object) -> Send:
    return lambda value: b.get(path, **{name: value}, **extra)


def body(b: Tenant, method: str, path: str, make: Callable[[str], dict[str, Any]]) -> Send:
    return lambda value: b.http.request(method, path, json=make(value), headers=b.headers)


def link(b: Tenant, template: str, key: str | None = None, headers: bool = True) -> Send:
    """A portal link with B's token attached (it must not matter) and the given id (or key)."""

    def send(value: str) -> Awaitable[httpx.Response]:
        path = template.format(value) if key is None else template.format(value, key)
        return b.http.get(path, headers=b.headers if headers else None)

    return send


def probes(a: World, b: World) -> dict[tuple[str, str], list[Probe]]:
    """Per route, the references of A's that B tries. Portal links are tried with A's id and B's key
    of the same kind, and with A's key on B's id: a key opens its own object only."""
    bt = b.tenant
    doc, client, note, payment = a.document["id"], a.client["id"], a.note["id"], a.payment["id"]
    tax_id, number = a.client["taxId"], a.document["number"]
    missing_rut = random_rut()

    def portal(kind: str, a_url: str, b_url: str) -> list[Probe]:
        a_id, a_key, b_id, b_key = id_of(a_url), key_of(a_url), id_of(b_url), key_of(b_url)
        base = f"/portal/{kind}/{{}}/{{}}"
        return [
            Probe(f"A's id, B's key ({kind})", a_id, MISSING_ID, link(bt, base, b_key)),
            Probe(
                f"B's id, A's key ({kind})", a_key, MISSING_KEY, lambda k: bt.http.get(base.format(b_id, k))
            ),
        ]

    return {
        ("GET", "/v1/getDocuments"): [
            Probe("clientId", client, MISSING_ID, query(bt, "/v1/getDocuments", "clientId")),
            Probe("clientTaxId", tax_id, missing_rut, query(bt, "/v1/getDocuments", "clientTaxId")),
            Probe("tagId", a.tag["id"], MISSING_ID, query(bt, "/v1/getDocuments", "tagId")),
            Probe("number", number, MISSING_NUMBER, query(bt, "/v1/getDocuments", "number")),
        ],
        ("GET", "/v1/getDocument"): [
            Probe("id", doc, MISSING_ID, query(bt, "/v1/getDocument", "id", expandClient=1, expandFile=1)),
            Probe("id (XML)", a.xml_document["id"], MISSING_ID, query(bt, "/v1/getDocument", "id")),
        ],
        ("GET", "/v1/getDocumentCedibility"): [
            Probe("id", doc, MISSING_ID, query(bt, "/v1/getDocumentCedibility", "id")),
        ],
        ("POST", "/v1/createCesion"): [
            Probe(
                "documentId",
                doc,
                MISSING_ID,
                body(
                    bt,
                    "POST",
                    "/v1/createCesion",
                    lambda v: {
                        "documentId": v,
                        "assignee": {
                            "rut": "77665544-9",
                            "name": "FACTORING CAPITAL SPA",
                            "address": "Av. Apoquindo 4000",
                            "email": "ops@factoring.cl",
                        },
                    },
                ),
                writes=True,
            )
        ],
        ("POST", "/v1/createDocument"): [
            Probe(
                "clientId",
                client,
                MISSING_ID,
                body(
                    bt,
                    "POST",
                    "/v1/createDocument",
                    lambda v: {
                        "clientId": v,
                        "number": "9",
                        "issueDate": "2024-03-01",
                        "total": 1,
                        "taxes": 0,
                    },
                ),
                writes=True,
            )
        ],
        ("POST", "/v1/createDocumentFromXml"): [
            Probe(
                "issuer RUT",
                a.tenant.rut,
                missing_rut,
                body(
                    bt,
                    "POST",
                    "/v1/createDocumentFromXml",
                    lambda rut: {
                        "xml": base64.b64encode(
                            build_dte(33, 8123, rut, "99999999-9", 1190, issue_date=date(2024, 1, 10))
                        ).decode()
                    },
                ),
                writes=True,
            )
        ],
        ("POST", "/v1/createCesionFromXml"): [
            Probe(
                "last assignee RUT",
                a.tenant.rut,
                missing_rut,
                body(bt, "POST", "/v1/createCesionFromXml", lambda rut: {"xml": _aec_to(rut)}),
                writes=True,
            )
        ],
        ("DELETE", "/v1/deleteDocument"): [
            Probe(
                "clientTaxId + number",
                tax_id,
                missing_rut,
                body(
                    bt,
                    "DELETE",
                    "/v1/deleteDocument",
                    lambda v: {"clientTaxId": v, "number": number, "code": 33},
                ),
                writes=True,
            ),
        ],
        ("POST", "/v1/renewDocumentKey"): [
            Probe(
                "id",
                doc,
                MISSING_ID,
                body(bt, "POST", "/v1/renewDocumentKey", lambda v: {"id": v}),
                writes=True,
            )
        ],
        ("GET", "/v1/getNotes"): [
            Probe("documentId", a.xml_document["id"], MISSING_ID, query(bt, "/v1/getNotes", "documentId")),
            Probe("clientId", a.note["client"]["id"], MISSING_ID, query(bt, "/v1/getNotes", "clientId")),
            Probe(
                "clientTaxId", a.note["clientTaxId"], missing_rut, query(bt, "/v1/getNotes", "clientTaxId")
            ),
        ],
        ("GET", "/v1/getNote"): [Probe("id", note, MISSING_ID, query(bt, "/v1/getNote", "id"))],
        ("POST", "/v1/renewNoteKey"): [
            Probe(
                "id", note, MISSING_ID, body(bt, "POST", "/v1/renewNoteKey", lambda v: {"id": v}), writes=True
            )
        ],
        ("GET", "/v1/getPayments"): [
            Probe("documentId", doc, MISSING_ID, query(bt, "/v1/getPayments", "documentId")),
            Probe("clientId", client, MISSING_ID, query(bt, "/v1/getPayments", "clientId")),
            Probe("clientTaxId", tax_id, missing_rut, query(bt, "/v1/getPayments", "clientTaxId")),
        ],
        ("GET", "/v1/getPayment"): [Probe("id", payment, MISSING_ID, query(bt, "/v1/getPayment", "id"))],
        ("POST", "/v1/createPayment"): [
            Probe(
                "clientId",
                client,
                MISSING_ID,
                body(
                    bt,
                    "POST",
                    "/v1/createPayment",
                    lambda v: {"date": "2024-03-02", "amount": "1", "clientId": v, "documents": []},
                ),
                writes=True,
            ),
            Probe(
                "clientTaxId",
                tax_id,
                missing_rut,
                body(
                    bt,
                    "POST",
                    "/v1/createPayment",
                    lambda v: {"date": "2024-03-02", "amount": "1", "clientTaxId": v, "documents": []},
                ),
                writes=True,
            ),
            Probe(
                "documents[].id",
                doc,
                MISSING_ID,
                body(
                    bt,
                    "POST",
                    "/v1/createPayment",
                    lambda v: {
                        "date": "2024-03-02",
                        "amount": "1",
                        "clientId": b.client["id"],
                        "documents": [{"id": v, "amount": "1"}],
                    },
                ),
                writes=True,
            ),
        ],
        ("POST", "/v1/updatePayment"): [
            Probe(
                "id",
                payment,
                MISSING_ID,
                body(bt, "POST", "/v1/updatePayment", lambda v: {"id": v, "status": 2, "comments": "B"}),
                writes=True,
            )
        ],
        ("GET", "/v1/getClients"): [
            Probe("taxId", tax_id, missing_rut, query(bt, "/v1/getClients", "taxId")),
            Probe("name", "CLIENTE A", "NADIE", query(bt, "/v1/getClients", "name")),
        ],
        ("GET", "/v1/getClient"): [
            Probe("id", client, MISSING_ID, query(bt, "/v1/getClient", "id", expandContact=1)),
            Probe("taxId", tax_id, missing_rut, query(bt, "/v1/getClient", "taxId")),
        ],
        ("POST", "/v1/updateClient"): [
            Probe(
                "id",
                client,
                MISSING_ID,
                body(bt, "POST", "/v1/updateClient", lambda v: {"id": v, "name": "TOMADO POR B"}),
                writes=True,
            )
        ],
        ("POST", "/v1/renewClientKey"): [
            Probe(
                "id",
                client,
                MISSING_ID,
                body(bt, "POST", "/v1/renewClientKey", lambda v: {"id": v}),
                writes=True,
            )
        ],
        ("GET", "/v1/getContacts"): [
            Probe("clientId", client, MISSING_ID, query(bt, "/v1/getContacts", "clientId")),
            Probe("clientTaxId", tax_id, missing_rut, query(bt, "/v1/getContacts", "clientTaxId")),
        ],
        ("GET", "/v1/getContact"): [
            Probe("id", a.contact["id"], MISSING_ID, query(bt, "/v1/getContact", "id"))
        ],
        ("POST", "/v1/createContact"): [
            Probe(
                "clientId",
                client,
                MISSING_ID,
                body(
                    bt, "POST", "/v1/createContact", lambda v: {"clientId": v, "name": "B", "email": "b@b.cl"}
                ),
                writes=True,
            ),
            Probe(
                "clientTaxId",
                tax_id,
                missing_rut,
                body(
                    bt,
                    "POST",
                    "/v1/createContact",
                    lambda v: {"clientTaxId": v, "name": "B", "email": "b@b.cl"},
                ),
                writes=True,
            ),
        ],
        ("GET", "/v1/getTags"): [Probe("name", "Cobranza A", "Nada", query(bt, "/v1/getTags", "name"))],
        ("DELETE", "/v1/deleteWebhook"): [
            Probe(
                "id",
                a.webhook["id"],
                MISSING_ID,
                body(bt, "DELETE", "/v1/deleteWebhook", lambda v: {"id": v}),
                writes=True,
            )
        ],
        ("GET", "/v1/getWebhookDeliveries"): [
            Probe(
                "webhookId", a.webhook["id"], MISSING_ID, query(bt, "/v1/getWebhookDeliveries", "webhookId")
            )
        ],
        ("POST", "/v1/createFile"): [
            Probe(
                "documentId",
                doc,
                MISSING_ID,
                body(
                    bt,
                    "POST",
                    "/v1/createFile",
                    lambda v: {"documentId": v, "name": "x.pdf", "content": base64.b64encode(b"x").decode()},
                ),
                writes=True,
            )
        ],
        ("GET", "/v1/getEmails"): [
            Probe("documentId", doc, MISSING_ID, query(bt, "/v1/getEmails", "documentId")),
            Probe("clientId", client, MISSING_ID, query(bt, "/v1/getEmails", "clientId")),
        ],
        ("GET", "/v1/getAuditLog"): [
            Probe(
                f"objectType={kind}, objectId",
                value,
                MISSING_ID,
                query(bt, "/v1/getAuditLog", "objectId", objectType=kind),
            )
            for kind, value in [
                ("document", doc),
                ("note", note),
                ("client", client),
                ("contact", a.contact["id"]),
                ("file", a.file["id"]),
                ("payment", payment),
                ("webhook", a.webhook["id"]),
            ]
        ],
        ("GET", "/v1/getEmail"): [Probe("id", a.email_id, MISSING_ID, query(bt, "/v1/getEmail", "id"))],
        ("GET", "/v1/getSiiSyncRun"): [
            Probe("id", a.sync_run_id, MISSING_ID, query(bt, "/v1/getSiiSyncRun", "id"))
        ],
        ("GET", "/portal/invoice/{document_id}/{key}"): portal(
            "invoice", a.document["url"], b.document["url"]
        ),
        ("GET", "/portal/client/{client_id}/{key}"): portal("client", a.client["url"], b.client["url"]),
        ("GET", "/portal/showPdf/{document_id}/{key}"): portal(
            "showPdf", a.document["pdf"], b.document["pdf"]
        ),
        ("GET", "/portal/showNotePdf/{note_id}/{key}"): portal("showNotePdf", a.note["pdf"], b.note["pdf"]),
        ("GET", "/portal/downloadInvoiceXml/{document_id}/{key}"): portal(
            "downloadInvoiceXml", a.xml_document["xml"], b.xml_document["xml"]
        ),
        ("GET", "/portal/downloadNoteXml/{note_id}/{key}"): portal(
            "downloadNoteXml", a.note["xml"], b.note["xml"]
        ),
        ("GET", "/portal/file/{file_id}/{key}"): portal("file", a.file["url"], b.file["url"]),
    }


def published_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every operation of the published schema: the API, the portal's links, health."""
    return {
        (method.upper(), path) for path, operations in app.openapi()["paths"].items() for method in operations
    }


def masked(response: httpx.Response, reference: str) -> tuple[int, str | None, bytes]:
    """What a client sees, with the reference it sent masked where an error message (or one of its
    details' messages) echoes it (and nowhere else: portal pages and listings never echo what they were
    given)."""
    content = response.content
    if response.status_code >= 400 and response.headers.get("content-type") == "application/json":
        error = response.json()["error"]
        pattern = rf"(?<![\w-]){re.escape(reference)}(?![\w-])"
        error["message"] = re.sub(pattern, "<REF>", error["message"])
        for detail in error.get("details") or ():  # each failed check of an AEC, in words
            detail["message"] = re.sub(pattern, "<REF>", detail["message"])
        content = json.dumps(error).encode()
    return response.status_code, response.headers.get("content-type"), content


async def snapshot(a: World) -> dict[str, Any]:
    """Everything A's token and A's links show: nothing B does may change any of it."""
    t = a.tenant
    views: dict[str, Any] = {}
    for path, params in [
        ("/v1/getDocuments", {"expandClient": 1, "expandContact": 1, "expandTag": 1, "expandFile": 1}),
        ("/v1/getNotes", {"expandFile": 1}),
        ("/v1/getPayments", {"expandFile": 1}),
        ("/v1/getClients", {"expandContact": 1}),
        ("/v1/getContacts", {}),
        ("/v1/getTags", {}),
        ("/v1/getWebhooks", {}),
        ("/v1/getWebhookDeliveries", {"webhookId": a.webhook["id"]}),
        ("/v1/getEmails", {}),
        ("/v1/getCompany", {}),
        ("/v1/getAuditLog", {"resultsPerPage": 100}),
        ("/v1/getSiiSyncRuns", {}),
    ]:
        response = await t.get(path, **params)
        assert response.status_code == 200, (path, response.text)
        views[path] = response.json()
    for url in (a.document["url"], a.client["url"], a.file["url"], a.note["xml"]):
        response = await t.http.get(path_of(url))
        assert response.status_code == 200, url
        views[url] = response.content
    return views


@pytest.fixture
async def worlds(tenant: Tenant, other_tenant: Tenant, session: Session) -> tuple[World, World]:
    return await furnish(tenant, session, "A"), await furnish(other_tenant, session, "B")


def test_every_route_has_isolation_probes(app: FastAPI, worlds: tuple[World, World]) -> None:
    a, b = worlds
    covered = set(probes(a, b)) | set(NO_REFERENCE)
    routes = published_routes(app)

    assert routes - covered == set(), "routes without a tenant-isolation case: add them to probes()"
    assert covered - routes == set(), "cases for routes the app no longer has"


async def test_b_on_as_objects_is_exactly_a_missing_object(worlds: tuple[World, World]) -> None:
    a, b = worlds
    before = await snapshot(a)
    tried = 0

    for route, cases in sorted(probes(a, b).items()):
        for probe in cases:
            theirs = await probe.send(probe.theirs)
            missing = await probe.send(probe.missing)
            where = f"{route} {probe.label}"
            assert theirs.status_code < 500, (where, theirs.text)
            assert masked(theirs, probe.theirs) == masked(missing, probe.missing), (
                where,
                theirs.text,
                missing.text,
            )
            if probe.writes:
                assert await snapshot(a) == before, f"{where} changed company A's data"
            tried += 1

    assert tried >= 50
    assert await snapshot(a) == before


async def test_a_reference_b_owns_still_works_for_b(worlds: tuple[World, World]) -> None:
    # The probes are worth something only if the same request succeeds on B's own object.
    _, b = worlds
    bt = b.tenant

    assert (await bt.get("/v1/getDocument", id=b.document["id"])).status_code == 200
    assert (await bt.get("/v1/getPayment", id=b.payment["id"])).status_code == 200
    assert (await bt.get("/v1/getEmail", id=b.email_id)).status_code == 200
    assert (await bt.get("/v1/getNote", id=b.note["id"])).status_code == 200
    assert (await bt.http.get(path_of(b.file["url"]))).status_code == 200
    listed = (await bt.get("/v1/getDocuments", clientId=b.client["id"])).json()
    assert [item["id"] for item in listed["items"]] == [b.document["id"]]


async def test_names_and_ruts_are_per_company(worlds: tuple[World, World]) -> None:
    # createClient and createTag take a name or RUT, not a reference: A's are free for B and A's stay.
    a, b = worlds
    await ok(a.tenant.post("/v1/createTag", {"name": "Exclusivo de A"}))
    before = await snapshot(a)

    client = await b.tenant.post("/v1/createClient", {"name": "OTRO", "taxId": a.client["taxId"]})
    tag = await b.tenant.post("/v1/createTag", {"name": "Exclusivo de A"})

    assert client.status_code == 200, client.text
    assert tag.status_code == 200, tag.text
    assert client.json()["id"] != a.client["id"]
    assert await snapshot(a) == before
