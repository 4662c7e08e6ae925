"""createFile: attachments on documents, listed by expandFile and downloadable by their url."""

from __future__ import annotations

import base64
import os
from typing import Any

import httpx
import pytest

from tests.conftest import PUBLIC_URL, Tenant, assert_error, random_rut

MAX_FILE_BYTES = 256 * 1024  # conftest's max_file_bytes
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def create_document(tenant: Tenant, number: str = "101") -> dict[str, Any]:
    client = await tenant.post("/v1/createClient", {"name": "CLIENTE", "taxId": random_rut()})
    assert client.status_code == 200, client.text
    response = await tenant.post(
        "/v1/createDocument",
        {
            "clientId": client.json()["id"],
            "number": number,
            "issueDate": "2024-03-01",
            "total": 119000,
            "taxes": 19000,
            "code": 33,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


async def create_file(tenant: Tenant, document_id: str, content: bytes, **fields: Any) -> httpx.Response:
    body = {
        "documentId": document_id,
        "name": "orden-compra.pdf",
        "content": base64.b64encode(content).decode("ascii"),
        **fields,
    }
    return await tenant.post("/v1/createFile", body)


def local(url: str) -> str:
    assert url.startswith(PUBLIC_URL + "/")
    return url.removeprefix(PUBLIC_URL)


async def test_create_file_answers_the_file(tenant: Tenant) -> None:
    document = await create_document(tenant)

    response = await create_file(tenant, document["id"], PDF)

    assert response.status_code == 200, response.text
    file = response.json()
    assert set(file) == {"id", "documentId", "name", "mimeType", "size", "url", "createdAt"}
    assert file["id"].isdigit()
    assert file["documentId"] == document["id"]
    assert file["name"] == "orden-compra.pdf"
    assert file["mimeType"] == "application/pdf"
    assert file["size"] == len(PDF)
    assert file["url"].startswith(f"{PUBLIC_URL}/portal/file/{file['id']}/")


async def test_expand_file_lists_the_files(tenant: Tenant) -> None:
    document = await create_document(tenant)
    first = (await create_file(tenant, document["id"], PDF)).json()
    second = (await create_file(tenant, document["id"], b"a,b\n1,2\n", name="detalle.csv")).json()

    expanded = (await tenant.get("/v1/getDocument", id=document["id"], expandFile=1)).json()
    plain = (await tenant.get("/v1/getDocument", id=document["id"])).json()
    listed = (await tenant.get("/v1/getDocuments", expandFile=1)).json()["items"]

    assert expanded["files"] == [first, second]
    assert plain["files"] == [{"id": first["id"]}, {"id": second["id"]}]
    assert [d["files"] for d in listed] == [[first, second]]


async def test_download_serves_the_exact_bytes(tenant: Tenant) -> None:
    document = await create_document(tenant)
    content = os.urandom(5000) + b"\x00\r\n\xff"
    file = (await create_file(tenant, document["id"], content, name="scan final.bin")).json()

    response = await tenant.http.get(local(file["url"]))

    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"].startswith("application/octet-stream")
    assert response.headers["content-disposition"] == 'attachment; filename="scan_final.bin"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in response.headers["cache-control"]


async def test_download_needs_no_token_and_keeps_the_mime_type(tenant: Tenant) -> None:
    document = await create_document(tenant)
    file = (await create_file(tenant, document["id"], PDF)).json()

    # The test client itself carries no credentials; only Tenant.get/post add the token.
    response = await tenant.http.get(local(file["url"]))

    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="orden-compra.pdf"'


async def test_an_html_file_is_served_as_an_attachment(tenant: Tenant) -> None:
    document = await create_document(tenant)
    html = b"<script>alert(document.cookie)</script>"
    file = (await create_file(tenant, document["id"], html, name="../../x.html")).json()

    response = await tenant.http.get(local(file["url"]))

    assert response.content == html
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "/" not in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_explicit_mime_type(tenant: Tenant) -> None:
    document = await create_document(tenant)

    file = (await create_file(tenant, document["id"], b"hola", name="nota", mimeType="text/plain")).json()

    assert file["mimeType"] == "text/plain"
    assert_error(
        await create_file(tenant, document["id"], b"x", mimeType="not a type"), 400, field="mimeType"
    )


async def test_wrong_key_is_404(tenant: Tenant) -> None:
    document = await create_document(tenant)
    file = (await create_file(tenant, document["id"], PDF)).json()
    path = local(file["url"])
    prefix, key = path.rsplit("/", 1)
    wrong = key[:-1] + ("A" if key[-1] != "A" else "B")

    wrong_key = await tenant.http.get(f"{prefix}/{wrong}")
    missing = await tenant.http.get(f"/portal/file/{int(file['id']) + 100_000}/{key}")

    assert wrong_key.status_code == missing.status_code == 404
    assert wrong_key.text == missing.text
    assert PDF not in wrong_key.content


async def test_base64_with_line_breaks_is_accepted(tenant: Tenant) -> None:
    document = await create_document(tenant)
    wrapped = base64.encodebytes(PDF * 10).decode("ascii")
    assert "\n" in wrapped

    response = await tenant.post(
        "/v1/createFile", {"documentId": document["id"], "name": "a.pdf", "content": wrapped}
    )

    assert response.status_code == 200, response.text
    assert (await tenant.http.get(local(response.json()["url"]))).content == PDF * 10


@pytest.mark.parametrize("content", ["not base64!", "QUJD$", "QUJ", "QUJDRA=", "QU=JD", "=QUJD", "ñandú"])
async def test_bad_base64_is_400(tenant: Tenant, content: str) -> None:
    document = await create_document(tenant)

    response = await tenant.post(
        "/v1/createFile", {"documentId": document["id"], "name": "a.pdf", "content": content}
    )

    assert_error(response, 400, "invalid_parameter", "content")
    assert (await tenant.get("/v1/getDocument", id=document["id"])).json()["files"] == []


@pytest.mark.parametrize(("field", "body"), [("content", {"content": ""}), ("name", {"name": ""})])
async def test_empty_fields_are_400(tenant: Tenant, field: str, body: dict[str, str]) -> None:
    document = await create_document(tenant)
    full = {"documentId": document["id"], "name": "a.pdf", "content": "QUJD", **body}

    assert_error(await tenant.post("/v1/createFile", full), 400, field=field)


async def test_file_at_the_limit_is_accepted(tenant: Tenant) -> None:
    document = await create_document(tenant)
    content = os.urandom(MAX_FILE_BYTES)

    response = await create_file(tenant, document["id"], content, name="big.bin")

    assert response.status_code == 200, response.text
    assert response.json()["size"] == MAX_FILE_BYTES
    assert (await tenant.http.get(local(response.json()["url"]))).content == content


async def test_file_over_the_limit_is_413(tenant: Tenant) -> None:
    document = await create_document(tenant)

    response = await create_file(tenant, document["id"], os.urandom(MAX_FILE_BYTES + 1), name="big.bin")

    assert_error(response, 413, "file_too_large", "content")
    assert (await tenant.get("/v1/getDocument", id=document["id"])).json()["files"] == []


async def test_file_far_over_the_limit_is_413(tenant: Tenant) -> None:
    document = await create_document(tenant)

    response = await create_file(tenant, document["id"], b"\x00" * (4 * MAX_FILE_BYTES), name="big.bin")

    assert_error(response, 413, "file_too_large", "content")


async def test_unknown_document_is_404(tenant: Tenant) -> None:
    assert_error(await create_file(tenant, "987654321", PDF), 404, "not_found", "documentId")


async def test_another_companys_document_is_404(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = await create_document(other_tenant)

    response = await create_file(tenant, theirs["id"], PDF)

    assert_error(response, 404, "not_found", "documentId")
    assert (await other_tenant.get("/v1/getDocument", id=theirs["id"], expandFile=1)).json()["files"] == []


async def test_files_are_isolated_between_companies(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = await create_document(tenant, number="1")
    theirs = await create_document(other_tenant, number="1")
    my_file = (await create_file(tenant, mine["id"], b"mio")).json()
    their_file = (await create_file(other_tenant, theirs["id"], b"suyo")).json()

    my_docs = (await tenant.get("/v1/getDocuments", expandFile=1)).json()["items"]
    their_docs = (await other_tenant.get("/v1/getDocuments", expandFile=1)).json()["items"]

    assert [d["files"] for d in my_docs] == [[my_file]]
    assert [d["files"] for d in their_docs] == [[their_file]]
    assert_error(await tenant.get("/v1/getDocument", id=theirs["id"], expandFile=1), 404)
