"""The customer-facing links in documents (url, xml, pdf) and clients (url)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PUBLIC_URL, Tenant, random_rut

SEED_XML = (Path(__file__).parents[1] / "fixtures" / "seed-duemint-example-33-696.xml").read_bytes()
URL_SAFE_KEY = re.compile(r"^[A-Za-z0-9_-]{22,}$")


async def create_document(tenant: Tenant, number: str = "101") -> dict[str, Any]:
    client = await tenant.post("/v1/createClient", {"name": "CLIENTE", "taxId": random_rut()})
    assert client.status_code == 200, client.text
    response = await tenant.post(
        "/v1/createDocument",
        {
            "clientId": client.json()["id"],
            "number": number,
            "issueDate": "2024-03-01",
            "total": "119000",
            "taxes": "19000",
            "code": 33,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


async def create_document_from_xml(tenant: Tenant) -> dict[str, Any]:
    import base64

    response = await tenant.post("/v1/createDocumentFromXml", {"xml": base64.b64encode(SEED_XML).decode()})
    assert response.status_code == 200, response.text
    return response.json()


def local(url: str) -> str:
    assert url.startswith(PUBLIC_URL + "/portal/")
    return url.removeprefix(PUBLIC_URL)


def key_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def assert_html_404(response: httpx.Response) -> None:
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_document_links_have_the_expected_shape(tenant: Tenant) -> None:
    document = await create_document(tenant)

    assert document["url"] == f"{PUBLIC_URL}/portal/invoice/{document['id']}/{key_of(document['url'])}"
    assert (
        document["xml"]
        == f"{PUBLIC_URL}/portal/downloadInvoiceXml/{document['id']}/{key_of(document['xml'])}"
    )
    assert document["pdf"] == f"{PUBLIC_URL}/portal/showPdf/{document['id']}/{key_of(document['pdf'])}"


async def test_document_without_xml_has_an_xml_link_that_answers_404(tenant: Tenant) -> None:
    document = await create_document(tenant)

    response = await tenant.http.get(local(document["xml"]))

    assert_html_404(response)


async def test_url_pdf_and_client_links_open(tenant: Tenant) -> None:
    document = await create_document(tenant)
    client = (await tenant.get("/v1/getClient", id=document["client"]["id"])).json()

    for link, media_type in (
        (document["url"], "text/html; charset=utf-8"),
        (document["pdf"], "application/pdf"),
        (client["url"], "text/html; charset=utf-8"),
    ):
        response = await tenant.http.get(local(link))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == media_type


async def test_xml_link_serves_the_dte_as_an_attachment(tenant: Tenant) -> None:
    document = await create_document_from_xml(tenant)

    response = await tenant.http.get(local(document["xml"]))

    assert response.status_code == 200
    assert response.content == SEED_XML
    assert response.headers["content-disposition"] == 'attachment; filename="DTE-33-696.xml"'
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_xml_link_with_a_wrong_key_is_like_a_missing_document(tenant: Tenant) -> None:
    document = await create_document_from_xml(tenant)
    key = key_of(document["xml"])
    other_key = key[::-1] if key[::-1] != key else key[1:] + "x"

    wrong_key = await tenant.http.get(f"/portal/downloadInvoiceXml/{document['id']}/{other_key}")
    truncated = await tenant.http.get(f"/portal/downloadInvoiceXml/{document['id']}/{key[:-1]}")
    missing = await tenant.http.get(f"/portal/downloadInvoiceXml/{int(document['id']) + 100_000}/{key}")

    for response in (wrong_key, truncated, missing):
        assert_html_404(response)
    assert wrong_key.text == missing.text == truncated.text
    assert dict(wrong_key.headers) == dict(missing.headers)
    assert SEED_XML[:50] not in wrong_key.content


async def test_a_documents_key_does_not_open_another_document(tenant: Tenant) -> None:
    first = await create_document_from_xml(tenant)
    second = await create_document(tenant)

    response = await tenant.http.get(f"/portal/downloadInvoiceXml/{second['id']}/{key_of(first['xml'])}")

    assert_html_404(response)


async def test_link_keys_are_unguessable_and_differ_per_document(tenant: Tenant) -> None:
    documents = [await create_document(tenant, number=str(n)) for n in range(1, 6)]
    documents.append(await create_document_from_xml(tenant))

    keys = [key_of(d[link]) for d in documents for link in ("url", "xml", "pdf")]
    per_document = {key_of(d["xml"]) for d in documents}

    for key in keys:
        assert URL_SAFE_KEY.match(key), key  # 22 url-safe characters carry 132 bits
    assert len(per_document) == len(documents)


async def test_client_links_are_unguessable_and_differ(tenant: Tenant) -> None:
    clients = [
        (await tenant.post("/v1/createClient", {"name": f"C{n}", "taxId": random_rut()})).json()
        for n in range(3)
    ]

    keys = [key_of(c["url"]) for c in clients]

    for client, key in zip(clients, keys, strict=True):
        assert client["url"] == f"{PUBLIC_URL}/portal/client/{client['id']}/{key}"
        assert URL_SAFE_KEY.match(key)
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize(
    "path",
    [
        "/portal/downloadInvoiceXml/abc/key",
        "/portal/downloadInvoiceXml/0/key",
        "/portal/downloadInvoiceXml/99999999999999999999999/key",
        "/portal/file/-1/key",
        "/portal/file/%C2%B2/key",  # "²" is a digit to str.isdigit, not to int()
        "/portal/file/%D9%A1/key",  # Arabic-Indic one
        "/portal/showPdf/1.5/key",
        "/portal/client/1e3/key",
        "/portal/nothing-here",
        f"/portal/downloadInvoiceXml/1/{'k' * 65}",
    ],
)
async def test_malformed_portal_paths_are_404_pages(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert_html_404(response)
