"""Every input has a limit, and crossing it answers a clear error, never a 500 (docs/fuzzing.md lists them).

The request body limit has its own tests in tests/test_http_basics.py; here are the others, each at the
conftest's settings (max_body_bytes 2 MiB, max_xml_bytes 512 KiB, max_file_bytes 256 KiB).
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from dtehub.dte.pipeline import MAX_DTES_PER_FILE, DteRefused, read_dte_file
from dtehub.kit.pagination import MAX_PER_PAGE
from dtehub.kit.xml import MAX_DEPTH
from dtehub.payments.schemas import MAX_ALLOCATIONS
from tests.conftest import FIXTURES, Tenant, assert_error, warnings_of

MAX_XML_BYTES = 512 * 1024
MAX_FILE_BYTES = 256 * 1024
SEED = (FIXTURES / "DTE--76399752-9--33--25568.xml").read_bytes()
SEED_BODY = SEED.split(b"?>", 1)[1]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def envelope(count: int) -> bytes:
    return (
        b'<?xml version="1.0" encoding="ISO-8859-1"?><EnvioDTE xmlns="http://www.sii.cl/SiiDte"><SetDTE>'
        + SEED_BODY * count
        + b"</SetDTE></EnvioDTE>"
    )


async def test_an_xml_over_max_xml_bytes_is_413(tenant: Tenant) -> None:
    data = SEED.replace(b"<Documento ", b'<Documento z="' + b"A" * MAX_XML_BYTES + b'" ', 1)

    response = await tenant.post("/v1/createDocumentFromXml", {"xml": b64(data)})

    assert_error(response, 413, "xml_too_large", field="xml")


async def test_an_xml_deeper_than_the_limit_is_422(tenant: Tenant) -> None:
    deep = b"<DTE>" + b"<a>" * MAX_DEPTH + b"</a>" * MAX_DEPTH + b"</DTE>"

    response = await tenant.post("/v1/createDocumentFromXml", {"xml": b64(deep)})

    assert_error(response, 422, "xml_malformed", field="xml")
    assert "deeper" in response.json()["error"]["message"]


async def test_create_document_from_xml_takes_exactly_one_dte(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createDocumentFromXml", {"xml": b64(envelope(2))})

    assert_error(response, 422, "dte_unreadable", field="xml")
    assert "exactly one" in response.json()["error"]["message"]


def test_an_envelope_over_the_dte_limit_is_refused_before_any_dte_is_checked() -> None:
    # The import reads envelopes of up to MAX_DTES_PER_FILE (SII's own limit for an EnvioDTE).
    with pytest.raises(DteRefused) as refused:
        read_dte_file(envelope(3), max_bytes=MAX_XML_BYTES, max_dtes=2)
    assert refused.value.code == "too_many_dtes"
    assert MAX_DTES_PER_FILE == 2000


async def test_a_file_over_max_file_bytes_is_413(tenant: Tenant) -> None:
    client = (await tenant.post("/v1/createClient", {"name": "Cliente", "taxId": "99999999-9"})).json()
    document = await tenant.post(
        "/v1/createDocument",
        {
            "clientId": client["id"],
            "number": "1",
            "issueDate": "2024-05-01",
            "total": "1190",
            "taxes": "190",
            "code": 33,
        },
    )
    assert document.status_code == 200, document.text

    response = await tenant.post(
        "/v1/createFile",
        {"documentId": document.json()["id"], "name": "big.pdf", "content": b64(b"x" * (MAX_FILE_BYTES + 1))},
    )

    assert_error(response, 413, "file_too_large", field="content")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/getDocuments",
        "/v1/getNotes",
        "/v1/getPayments",
        "/v1/getClients",
        "/v1/getContacts",
        "/v1/getTags",
        "/v1/getWebhooks",
        "/v1/getEmails",
    ],
)
async def test_a_page_over_the_limit_is_served_at_the_limit(tenant: Tenant, path: str) -> None:
    assert warnings_of(await tenant.get(path, resultsPerPage=MAX_PER_PAGE)) == []

    response = await tenant.get(path, resultsPerPage=MAX_PER_PAGE + 1)

    assert warnings_of(response) == [
        {"parameter": "resultsPerPage", "value": str(MAX_PER_PAGE + 1), "used": MAX_PER_PAGE}
    ]


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b'{"name":' * 100_000, b'{"name":' + b"[" * 3000 + b"]" * 3000]
)
async def test_json_nested_beyond_reason_is_400(tenant: Tenant, body: bytes) -> None:
    response = await tenant.http.post("/v1/createTag", content=body, headers=tenant.headers)

    assert response.status_code == 400, response.text


async def test_a_deeply_nested_mipyme_request_is_status_1_not_a_500(tenant: Tenant) -> None:
    response = await tenant.http.post(
        "/V1/mipyme_get_document", content=b"[" * 100_000, headers=tenant.headers
    )

    assert response.status_code == 400, response.text
    assert response.json()["status"] == 1


async def test_a_payment_over_the_allocation_limit_is_400(tenant: Tenant) -> None:
    documents = [{"id": str(i + 1), "amount": "1"} for i in range(MAX_ALLOCATIONS + 1)]

    response = await tenant.post(
        "/v1/createPayment",
        {
            "date": "2024-05-02",
            "amount": "1",
            "currency": "CLP",
            "clientTaxId": "99999999-9",
            "documents": documents,
        },
    )

    assert_error(response, 400, "invalid_parameter", field="documents")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/createTag", {"name": "x" * 101}, "name"),
        ("/v1/createClient", {"name": "x" * 256, "taxId": "99999999-9"}, "name"),
        ("/v1/createClient", {"name": "x", "taxId": "x1" * 17}, "taxId"),
        (
            "/v1/createContact",
            {"clientTaxId": "99999999-9", "email": "a@example.com", "name": "x" * 129},
            "name",
        ),
        ("/v1/updateCompany", {"name": "x" * 256}, "name"),
        (
            "/v1/createWebhook",
            {"url": "https://example.com/" + "x" * 2048, "events": ["document.created"]},
            "url",
        ),
    ],
)
async def test_a_string_longer_than_its_column_is_400_not_a_database_error(
    tenant: Tenant, path: str, body: dict[str, object], field: str
) -> None:
    # On PostgreSQL an over-long value would otherwise reach the column and fail there.
    response = await tenant.post(path, body)

    assert_error(response, 400, field=field)


async def test_the_limits_are_answered_in_the_error_envelope(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/createTag", content=json.dumps({"name": "x" * (3 * 1024 * 1024)}))

    assert_error(response, 413, "payload_too_large")
