"""What every HTTP caller meets first: body limits, JSON bodies, errors, health and the OpenAPI schema."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import Tenant

MAX_BODY_BYTES = 2 * 1024 * 1024  # conftest's max_body_bytes


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# Body size


async def test_a_body_over_the_limit_is_413(tenant: Tenant) -> None:
    body = json.dumps({"name": "x" * MAX_BODY_BYTES}).encode()
    assert len(body) > MAX_BODY_BYTES

    response = await tenant.http.post("/v1/createTag", content=body, headers=tenant.headers)

    assert_error(response, 413, "payload_too_large")
    assert (await tenant.get("/v1/getTags")).json()["items"] == []


async def test_a_body_over_the_limit_is_413_even_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/createTag", content=b"x" * (MAX_BODY_BYTES + 1))

    assert_error(response, 413, "payload_too_large")


async def test_a_chunked_body_over_the_limit_is_413(tenant: Tenant) -> None:
    chunk = b" " * (256 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "x"'
        for _ in range(MAX_BODY_BYTES // len(chunk) + 1):
            yield chunk
        yield b"}"

    response = await tenant.http.post("/v1/createTag", content=chunks(), headers=tenant.headers)

    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")
    assert (await tenant.get("/v1/getTags")).json()["items"] == []


async def test_a_body_just_under_the_limit_is_read(tenant: Tenant) -> None:
    body = b'{"name": "padded"' + b" " * (MAX_BODY_BYTES - 100) + b"}"
    assert len(body) <= MAX_BODY_BYTES

    response = await tenant.http.post("/v1/createTag", content=body, headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "padded"


# JSON bodies whatever the Content-Type


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/json; charset=utf-8",
        "multipart/form-data; boundary=x",
    ],
)
async def test_bodies_are_json_whatever_the_content_type(tenant: Tenant, content_type: str | None) -> None:
    headers = dict(tenant.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = await tenant.http.post(
        "/v1/createTag", content=json.dumps({"name": "Cobranza ñandú"}).encode(), headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Cobranza ñandú"


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SEED = Path(__file__).resolve().parent / "fixtures" / "seed-duemint-example-33-696.xml"


async def test_a_form_encoded_body_is_read_as_its_fields(tenant: Tenant) -> None:
    """Integrations that post forms (PHP's http_build_query, requests' data=) work as with JSON: each
    value is text, read as the field's type, and PHP's brackets give lists and objects."""
    client = await tenant.http.post(
        "/v1/createClient",
        content=urlencode(
            {
                "name": "Deli Sandwich",
                "taxId": "99.999.999-9",
                "paymentTerm": "30",
                "sendReminders[expired]": "0",
            }
        ),
        headers={**tenant.headers, **FORM},
    )
    assert client.status_code == 200, client.text
    assert client.json()["taxId"] == "99999999-9"
    assert client.json()["paymentTerm"] == 30
    assert client.json()["sendReminders"]["expired"] is False

    document = await tenant.http.post(
        "/v1/createDocument",
        content=urlencode(
            [
                ("clientId", client.json()["id"]),
                ("number", "702"),
                ("issueDate", "2018-04-11"),
                ("total", "9628"),
                ("taxes", "1537"),
                ("send", "0"),
                ("tags[]", "retail"),
                ("tags[]", "norte"),
            ]
        ),
        headers={**tenant.headers, **FORM},
    )
    assert document.status_code == 200, document.text
    assert document.json()["total"] == "9628.00"
    tags = (await tenant.get("/v1/getTags")).json()["items"]
    assert sorted(tag["name"] for tag in tags) == ["norte", "retail"]


async def test_a_form_encoded_dte_is_created(tenant: Tenant) -> None:
    xml = base64.b64encode(SEED.read_bytes()).decode()
    assert "+" in xml or "/" in xml  # the characters a form must escape

    response = await tenant.http.post(
        "/v1/createDocumentFromXml",
        content=urlencode({"send": "1", "xml": xml}),
        headers={**tenant.headers, **FORM},
    )

    assert response.status_code == 200, response.text
    assert response.json()["number"] == "696"


async def test_a_multipart_form_is_read_as_its_fields(tenant: Tenant) -> None:
    response = await tenant.http.post(
        "/v1/createTag",
        data={"name": "Cobranza ñandú"},
        files={"unused": ("a.txt", b"x")},
        headers=tenant.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Cobranza ñandú"


async def test_json_sent_as_a_form_stays_json(tenant: Tenant) -> None:
    """Duemint's own examples: ``curl -d '{…}'`` declares a form and sends JSON; broken JSON says so."""
    broken = await tenant.http.post(
        "/v1/createTag", content=b'{"name": "x"', headers={**tenant.headers, **FORM}
    )

    assert_error(broken, 400, "invalid_json")


@pytest.mark.parametrize("body", [b"{not json", b"name=VIP", b'{"name": "x"', b"\xff\xfe"])
async def test_invalid_json_is_400(tenant: Tenant, body: bytes) -> None:
    response = await tenant.http.post("/v1/createTag", content=body, headers=tenant.headers)

    error = assert_error(response, 400, "invalid_json")
    assert error["field"] is None


async def test_a_missing_body_is_400(tenant: Tenant) -> None:
    response = await tenant.http.post("/v1/createTag", headers=tenant.headers)

    assert_error(response, 400, "missing_parameter")


@pytest.mark.parametrize("body", [[], "VIP", 5, None])
async def test_a_body_that_is_not_an_object_is_400(tenant: Tenant, body: object) -> None:
    response = await tenant.http.post(
        "/v1/createTag", content=json.dumps(body).encode(), headers=tenant.headers
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in {"invalid_parameter", "missing_parameter"}


async def test_a_wrongly_typed_field_is_400_naming_the_field(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createTag", {"name": ["VIP"]})

    error = assert_error(response, 400, "invalid_parameter")
    assert error["field"] == "name"
    assert "name" in error["message"]


# Unknown routes and methods


@pytest.mark.parametrize("path", ["/v1/getNothing", "/nothing", "/v2/getDocuments", "/v1/"])
async def test_an_unknown_route_is_a_json_404(tenant: Tenant, path: str) -> None:
    response = await tenant.http.get(path, headers=tenant.headers)

    assert_error(response, 404, "not_found")


async def test_a_trailing_slash_is_the_same_method(tenant: Tenant) -> None:
    """Integrations that write ``/v1/createTag/`` get the answer itself: a redirect would lose a POST's
    body in clients that do not follow 307 (PHP's curl by default) and answer them nothing."""
    created = await tenant.http.post("/v1/createTag/", json={"name": "VIP"}, headers=tenant.headers)

    assert created.status_code == 200, created.text
    assert created.json()["name"] == "VIP"
    listed = await tenant.http.get("/v1/getTags/?resultsPerPage=500", headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    assert [tag["name"] for tag in listed.json()["items"]] == ["VIP"]
    assert listed.json()["warnings"] == [{"parameter": "resultsPerPage", "value": "500", "used": 100}]


async def test_a_trailing_slash_needs_the_token_too(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/getTags/"), 401, "unauthorized")


async def test_a_wrong_method_is_a_json_405(tenant: Tenant) -> None:
    response = await tenant.http.get("/v1/createTag", headers=tenant.headers)

    assert_error(response, 405, "method_not_allowed")


# Health


async def test_health_answers_head_as_monitors_ask(client: httpx.AsyncClient) -> None:
    response = await client.head("/health")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


async def test_the_servers_address_opens_the_web_app(client: httpx.AsyncClient) -> None:
    """What ``make run`` serves on, opened in a browser: the web app (its sign-in), not a JSON 404."""
    response = await client.get("/")

    assert response.status_code == 307
    assert response.headers["location"] == "/app/"


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


# OpenAPI and docs

V1_PARAMETERS: dict[tuple[str, str], set[str]] = {
    ("get", "/v1/getDocuments"): {
        "since",
        "until",
        "dateBy",
        "status",
        "number",
        "code",
        "currency",
        "clientId",
        "clientTaxId",
        "tagId",
        "xmlSchema",
        "xmlSignature",
        "xmlTed",
        "held",
        "orderBy",
        "order",
        "expandClient",
        "expandContact",
        "expandTag",
        "expandFile",
        "resultsPerPage",
        "page",
    },
    ("get", "/v1/getDocument"): {"id", "expandClient", "expandContact", "expandTag", "expandFile"},
    ("get", "/v1/getDocumentCedibility"): {"id"},
    ("get", "/v1/getAuditLog"): {
        "since",
        "until",
        "action",
        "actor",
        "objectType",
        "objectId",
        "resultsPerPage",
        "page",
    },
    ("get", "/v1/getClients"): {
        "taxId",
        "name",
        "orderBy",
        "order",
        "expandContact",
        "resultsPerPage",
        "page",
    },
    ("get", "/v1/getClient"): {"id", "taxId", "expandContact"},
    ("get", "/v1/getContacts"): {
        "clientId",
        "clientTaxId",
        "contactTypeId",
        "orderBy",
        "order",
        "resultsPerPage",
        "page",
    },
    ("get", "/v1/getContact"): {"id"},
    ("get", "/v1/getTags"): {"name", "orderBy", "order", "resultsPerPage", "page"},
    ("get", "/v1/getNotes"): {
        "since",
        "until",
        "dateBy",
        "type",
        "number",
        "code",
        "currency",
        "documentId",
        "clientId",
        "clientTaxId",
        "orderBy",
        "order",
        "resultsPerPage",
        "page",
        "expandFile",
    },
    ("get", "/v1/getNote"): {"id"},
    ("get", "/v1/getCompany"): set(),
    ("delete", "/v1/deleteCompanyLogo"): set(),
    ("delete", "/v1/deleteCompanySiiCertificate"): set(),
    ("get", "/v1/getPayments"): {
        "since",
        "until",
        "dateBy",
        "currency",
        "paymentMethodId",
        "documentId",
        "clientId",
        "clientTaxId",
        "orderBy",
        "order",
        "expandFile",
        "status",
        "resultsPerPage",
        "page",
    },
    ("get", "/v1/getPayment"): {"id"},
    ("get", "/v1/getPaymentMethods"): set(),
    ("get", "/v1/getEmails"): {
        "status",
        "kind",
        "documentId",
        "clientId",
        "since",
        "until",
        "resultsPerPage",
        "page",
    },
    ("get", "/v1/getEmail"): {"id"},
    ("get", "/v1/getWebhooks"): {"resultsPerPage", "page"},
    ("get", "/v1/getWebhookDeliveries"): {"webhookId", "status", "resultsPerPage", "page"},
    ("get", "/v1/getSiiSyncRuns"): {"resultsPerPage", "page"},
    ("get", "/v1/getSiiSyncRun"): {"id"},
}
V1_BODIES: dict[tuple[str, str], set[str]] = {
    ("post", "/v1/createDocument"): {"clientId", "number", "issueDate", "total", "taxes"},
    ("post", "/v1/createDocumentFromXml"): {"xml"},
    ("post", "/v1/createCesionFromXml"): {"xml"},
    ("delete", "/v1/deleteDocument"): {"clientTaxId", "number"},
    ("post", "/v1/createClient"): {"name", "taxId", "paymentTerm", "sendReminders"},
    ("post", "/v1/updateClient"): {"id", "name", "taxId"},
    ("post", "/v1/createContact"): {"clientId", "clientTaxId", "email", "name", "lastName", "contactTypeId"},
    ("post", "/v1/createTag"): {"name"},
    ("post", "/v1/createFile"): {"documentId", "name", "content"},
    ("post", "/v1/createCesion"): {
        "documentId",
        "assignee",
        "amount",
        "lastDueDate",
        "contact",
        "declaration",
    },
    ("post", "/v1/updateCompany"): {
        "name",
        "paymentTerm",
        "xmlPolicy",
        "siiResolutionNumber",
        "siiResolutionDate",
        "siiOffice",
        "reminderDaysBefore",
        "reminderOverdueEvery",
        "debtSummaryPeriod",
        "debtSummaryDay",
        "replyTo",
    },
    ("post", "/v1/createPayment"): {
        "date",
        "amount",
        "currency",
        "clientId",
        "clientTaxId",
        "paymentMethodId",
        "description",
        "bankCode",
        "accountNumber",
        "transactionCode",
        "comments",
        "status",
        "documents",
    },
    ("post", "/v1/updatePayment"): {
        "id",
        "status",
        "paymentMethodId",
        "description",
        "bankCode",
        "accountNumber",
        "transactionCode",
        "comments",
    },
    ("post", "/v1/createWebhook"): {"url", "events"},
    ("post", "/v1/syncSii"): {"since", "until"},
    ("delete", "/v1/deleteWebhook"): {"id"},
    ("post", "/v1/updateCompanyLogo"): {"content"},
    ("post", "/v1/updateCompanySiiCertificate"): {"certificate_pfx_base64", "certificate_password"},
    ("post", "/v1/renewDocumentKey"): {"id"},
    ("post", "/v1/renewClientKey"): {"id"},
    ("post", "/v1/renewNoteKey"): {"id"},
}


@pytest.fixture
async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def resolve(schema: dict[str, Any], openapi: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.removeprefix("#/components/schemas/")
    return openapi["components"]["schemas"][name]  # type: ignore[no-any-return]


def test_every_v1_method_is_in_the_schema(openapi: dict[str, Any]) -> None:
    published = {
        (method, path)
        for path, operations in openapi["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    }

    assert published == set(V1_PARAMETERS) | set(V1_BODIES)


@pytest.mark.parametrize(("method", "path"), sorted(V1_PARAMETERS))
def test_query_parameters_are_documented(openapi: dict[str, Any], method: str, path: str) -> None:
    operation = openapi["paths"][path][method]

    documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}

    assert documented >= V1_PARAMETERS[(method, path)]


@pytest.mark.parametrize(("method", "path"), sorted(V1_BODIES))
def test_request_bodies_are_documented(openapi: dict[str, Any], method: str, path: str) -> None:
    operation = openapi["paths"][path][method]

    schema = resolve(operation["requestBody"]["content"]["application/json"]["schema"], openapi)

    assert set(schema["properties"]) >= V1_BODIES[(method, path)]


@pytest.mark.parametrize(("method", "path"), sorted(set(V1_PARAMETERS) | set(V1_BODIES)))
def test_errors_are_documented_with_the_error_schema(openapi: dict[str, Any], method: str, path: str) -> None:
    responses = openapi["paths"][path][method]["responses"]

    assert {"200", "400", "401"} <= set(responses)
    for status, response in responses.items():
        if status.startswith("2"):
            continue
        assert response["description"]
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (status, schema)


def test_the_error_schema_is_the_error_envelope(openapi: dict[str, Any]) -> None:
    body = openapi["components"]["schemas"]["ErrorBody"]
    detail = resolve(body["properties"]["error"], openapi)

    assert body["required"] == ["error"]
    assert set(detail["properties"]) == {"code", "message", "field", "details"}
    assert set(detail["required"]) == {"code", "message", "field"}  # details: when several things are wrong


def test_list_envelopes_use_duemints_names(openapi: dict[str, Any]) -> None:
    records = openapi["components"]["schemas"]["Records"]

    assert set(records["properties"]) == {"totalRecords", "items", "page", "pages"}


async def test_docs_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text


# Nothing a client sends surfaces as a 500

SEED_XML = (Path(__file__).parent / "fixtures" / "seed-duemint-example-33-696.xml").read_bytes()


async def test_odd_digits_and_huge_amounts_are_client_errors_not_500s(tenant: Tenant) -> None:
    created = await tenant.post("/v1/createClient", {"name": "CLIENTE", "taxId": "99999999-9"})
    client_id = created.json()["id"]
    document = {"clientId": client_id, "issueDate": "2024-01-01", "total": 100, "taxes": 0}

    # "²" is a digit to str.isdigit() but not to int(): a plain (non-numeric) document number.
    superscript = await tenant.post("/v1/createDocument", {**document, "number": "²"})
    assert superscript.status_code == 200, superscript.text
    assert superscript.json()["number"] == "²"
    assert (await tenant.get("/v1/getDocuments", number="²")).json()["records"]["totalRecords"] == 1
    assert (await tenant.get("/v1/getDocuments", orderBy=4)).status_code == 200

    # An amount with a huge exponent is refused at once (it used to cost a minute of CPU, or a 500).
    for total in ("1e999990", "1e1000000", "9" * 5000):
        started = time.perf_counter()
        response = await tenant.post("/v1/createDocument", {**document, "number": "7", "total": total})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["field"] == "total"
        assert time.perf_counter() - started < 1.0

    # A folio of "²" in a DTE is unreadable, not a crash.
    xml = SEED_XML.replace(b"<Folio>696</Folio>", "<Folio>²</Folio>".encode())
    from_xml = await tenant.post("/v1/createDocumentFromXml", {"xml": base64.b64encode(xml).decode()})
    assert 400 <= from_xml.status_code < 500, from_xml.text
    assert from_xml.json()["error"]["message"]

    # Full-width digits are no RUT.
    assert (await tenant.get("/v1/getClient", taxId="９９９９９９９９-9")).status_code == 400
    listed = await tenant.get("/v1/getClients", taxId="９９９９９９９９-9")
    assert listed.status_code in {200, 400}, listed.text
    assert listed.status_code == 400 or listed.json()["items"] == []


def test_every_v1_method_declares_the_bearer_scheme(openapi: dict[str, Any]) -> None:
    # What /docs' "Authorize" button and generated clients read.
    scheme = openapi["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, operations in openapi["paths"].items():
        for operation in operations.values():
            expected = [{"bearerAuth": []}] if path.startswith(("/v1/", "/V1/")) else None
            assert operation.get("security") == expected, path
