"""A company revokes a customer's links by giving the object a new key: old links die at once, the new
ones work, and nothing else about the object changes."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant, assert_error
from tests.notes import credit_xml, invoice_xml, store


def path_of(link: str) -> str:
    return httpx.URL(link).path


async def test_a_document_gets_new_links_and_the_old_ones_die(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, 501))

    response = await tenant.post("/v1/renewDocumentKey", {"id": int(document["id"])})

    assert response.status_code == 200, response.text
    renewed = response.json()
    for link in ("url", "xml", "pdf"):
        assert renewed[link] != document[link]
        assert (await tenant.http.get(path_of(document[link]))).status_code == 404
        assert (await tenant.http.get(path_of(renewed[link]))).status_code == 200, link
    assert {k: v for k, v in renewed.items() if k not in ("url", "xml", "pdf")} == {
        k: v for k, v in document.items() if k not in ("url", "xml", "pdf")
    }


async def test_a_client_gets_a_new_page_link(tenant: Tenant) -> None:
    await store(tenant, invoice_xml(tenant, 502))
    [client] = (await tenant.get("/v1/getClients")).json()["items"]

    response = await tenant.post("/v1/renewClientKey", {"id": client["id"]})

    assert response.status_code == 200, response.text
    assert response.json()["url"] != client["url"]
    assert (await tenant.http.get(path_of(client["url"]))).status_code == 404
    assert (await tenant.http.get(path_of(response.json()["url"]))).status_code == 200


async def test_a_note_gets_new_links(tenant: Tenant) -> None:
    await store(tenant, invoice_xml(tenant, 503))
    note = await store(tenant, credit_xml(tenant, 9001, 500, ref_folio=503))

    response = await tenant.post("/v1/renewNoteKey", {"id": note["id"]})

    assert response.status_code == 200, response.text
    for link in ("xml", "pdf"):
        assert response.json()[link] != note[link]
        assert (await tenant.http.get(path_of(note[link]))).status_code == 404
        assert (await tenant.http.get(path_of(response.json()[link]))).status_code == 200, link


async def test_another_companys_object_cannot_be_renewed(tenant: Tenant, other_tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, 504))
    note = await store(tenant, credit_xml(tenant, 9002, 500, ref_folio=504))
    [client] = (await tenant.get("/v1/getClients")).json()["items"]

    for method, object_id in (
        ("renewDocumentKey", document["id"]),
        ("renewNoteKey", note["id"]),
        ("renewClientKey", client["id"]),
    ):
        assert_error(await other_tenant.post(f"/v1/{method}", {"id": object_id}), 404, "not_found", "id")
        assert_error(await tenant.post(f"/v1/{method}", {"id": 999_999_999}), 404, "not_found", "id")
    # The owner's links still work: nothing was renewed.
    assert (await tenant.http.get(path_of(document["xml"]))).status_code == 200
    assert (await tenant.http.get(path_of(note["xml"]))).status_code == 200
