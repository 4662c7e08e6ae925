"""DELETE /v1/deleteDocument: by client tax id and number, as Duemint's deleteDocument."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import FIXTURES, Tenant, error_of

CLIENT_TAX_ID = "96874030-K"


async def create_client(tenant: Tenant, tax_id: str = CLIENT_TAX_ID, **fields: Any) -> str:
    response = await tenant.post(
        "/v1/createClient", {"name": "EMPRESAS LA POLAR S.A.", "taxId": tax_id, **fields}
    )
    assert response.status_code == 200, response.text
    client_id: str = response.json()["id"]
    return client_id


async def create_document(
    tenant: Tenant, client_id: str, number: str = "696", **fields: Any
) -> dict[str, Any]:
    body = {
        "clientId": client_id,
        "number": number,
        "issueDate": "2018-04-06",
        "total": 96272,
        "taxes": 15371,
    }
    response = await tenant.post("/v1/createDocument", {**body, **fields})
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


async def document_count(tenant: Tenant) -> int:
    response = await tenant.get("/v1/getDocuments")
    assert response.status_code == 200, response.text
    count: int = response.json()["records"]["totalRecords"]
    return count


async def test_delete_answers_the_id_and_the_document_is_gone(tenant: Tenant) -> None:
    doc = await create_document(tenant, await create_client(tenant))

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696"})

    assert response.status_code == 200, response.text
    assert response.json() == {"id": doc["id"], "msg": "Documento eliminado."}
    gone = await tenant.get("/v1/getDocument", id=doc["id"])
    assert gone.status_code == 404
    assert error_of(gone)["code"] == "not_found"
    assert await document_count(tenant) == 0


async def test_a_folio_sent_as_a_json_number_is_its_text(tenant: Tenant) -> None:
    """Integrations send folios as numbers (PHP's json_encode of an int): 702 is "702" when created,
    when deleted and in a payment's documents; a fraction, a negative or a boolean is still refused."""
    client_id = await create_client(tenant)
    created = await tenant.post(
        "/v1/createDocument",
        {"clientId": int(client_id), "number": 702, "issueDate": "2018-04-06", "total": 9628, "taxes": 1537},
    )
    assert created.status_code == 200, created.text
    assert created.json()["number"] == "702"
    for wrong in (702.5, -702, True):
        refused = await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": wrong})
        assert refused.status_code == 400, refused.text
        assert error_of(refused)["field"] == "number"

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": 702})

    assert response.status_code == 200, response.text
    assert response.json() == {"id": created.json()["id"], "msg": "Documento eliminado."}


async def test_the_parameters_may_come_in_the_query(tenant: Tenant) -> None:
    """Clients that cannot send a body with DELETE put Duemint's parameters in the query."""
    created = await create_document(tenant, await create_client(tenant))

    response = await tenant.http.delete(
        "/v1/deleteDocument", params={"clientTaxId": CLIENT_TAX_ID, "number": "696"}, headers=tenant.headers
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"id": created["id"], "msg": "Documento eliminado."}
    assert await document_count(tenant) == 0


async def test_a_body_comes_before_the_query(tenant: Tenant) -> None:
    kept = await create_document(tenant, await create_client(tenant), number="1")
    gone = await create_document(tenant, kept["client"]["id"], number="2")

    response = await tenant.http.request(
        "DELETE",
        "/v1/deleteDocument",
        params={"clientTaxId": CLIENT_TAX_ID, "number": "1"},
        json={"clientTaxId": CLIENT_TAX_ID, "number": "2"},
        headers=tenant.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["id"] == gone["id"]
    assert (await tenant.get("/v1/getDocument", id=kept["id"])).status_code == 200


async def test_only_the_named_document_is_deleted(tenant: Tenant) -> None:
    client_id = await create_client(tenant)
    await create_document(tenant, client_id, "696")
    kept = await create_document(tenant, client_id, "697")

    await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696"})

    listed = (await tenant.get("/v1/getDocuments")).json()
    assert [d["id"] for d in listed["items"]] == [kept["id"]]


async def test_the_client_stays_after_its_document_is_deleted(tenant: Tenant) -> None:
    client_id = await create_client(tenant)
    await create_document(tenant, client_id)

    await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696"})

    assert (await tenant.get("/v1/getClient", id=client_id)).status_code == 200


async def test_the_same_number_can_be_created_again(tenant: Tenant) -> None:
    client_id = await create_client(tenant)
    await create_document(tenant, client_id, total=1000, taxes=0)
    await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696"})

    again = await create_document(tenant, client_id)

    assert again["total"] == "96272.00"
    assert await document_count(tenant) == 1


async def test_a_tagged_document_is_deleted_and_its_tags_stay(tenant: Tenant) -> None:
    await create_document(tenant, await create_client(tenant), tags=["Retail"])

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696"})

    assert response.status_code == 200, response.text
    tags = (await tenant.get("/v1/getTags")).json()["items"]
    assert [t["name"] for t in tags] == ["Retail"]


async def test_a_document_from_xml_is_deleted_and_its_xml_can_be_sent_again(other_tenant: Tenant) -> None:
    xml = {"xml": base64.b64encode((FIXTURES / "DTE--76399752-9--33--25568.xml").read_bytes()).decode()}
    first = (await other_tenant.post("/v1/createDocumentFromXml", xml)).json()

    response = await other_tenant.delete(
        "/v1/deleteDocument", {"clientTaxId": "96874030-K", "number": "25568"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["id"] == first["id"]
    assert (await other_tenant.get("/v1/getDocument", id=first["id"])).status_code == 404
    portal = await other_tenant.http.get(first["xml"].removeprefix("https://dtehub.test"))
    assert portal.status_code == 404
    again = await other_tenant.post("/v1/createDocumentFromXml", xml)
    assert again.status_code == 200, again.text
    assert await document_count(other_tenant) == 1


@pytest.mark.parametrize("tax_id", ["96.874.030-k", "96874030-k", "96874030k", " 96.874.030-K "])
async def test_rut_with_dots_or_lowercase_k_is_accepted(tenant: Tenant, tax_id: str) -> None:
    doc = await create_document(tenant, await create_client(tenant))

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": tax_id, "number": "696"})

    assert response.status_code == 200, response.text
    assert response.json()["id"] == doc["id"]


async def test_number_is_matched_after_trimming(tenant: Tenant) -> None:
    doc = await create_document(tenant, await create_client(tenant))

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": " 696 "})

    assert response.status_code == 200, response.text
    assert response.json()["id"] == doc["id"]


async def test_unknown_number_is_not_found(tenant: Tenant) -> None:
    await create_document(tenant, await create_client(tenant))

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "697"})

    assert response.status_code == 404, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("not_found", "number")
    assert await document_count(tenant) == 1


async def test_a_number_of_another_client_is_not_found(tenant: Tenant) -> None:
    await create_document(tenant, await create_client(tenant))
    await create_client(tenant, "99999999-9")

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": "99999999-9", "number": "696"})

    assert response.status_code == 404, response.text
    assert await document_count(tenant) == 1


async def test_unknown_client_is_not_found(tenant: Tenant) -> None:
    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": "99999999-9", "number": "696"})

    assert response.status_code == 404, response.text
    assert error_of(response)["code"] == "not_found"


async def test_another_companys_document_is_indistinguishable_from_a_missing_one(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    await create_client(tenant)
    request = {"clientTaxId": CLIENT_TAX_ID, "number": "696"}
    missing = await tenant.delete("/v1/deleteDocument", request)
    theirs = await create_document(other_tenant, await create_client(other_tenant))

    foreign = await tenant.delete("/v1/deleteDocument", request)

    assert missing.status_code == foreign.status_code == 404
    assert foreign.json() == missing.json()
    assert (await other_tenant.get("/v1/getDocument", id=theirs["id"])).status_code == 200
    assert await document_count(other_tenant) == 1


async def test_another_companys_document_is_not_found_even_without_a_client_here(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    await create_document(other_tenant, await create_client(other_tenant))

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696"})

    assert response.status_code == 404, response.text
    assert await document_count(other_tenant) == 1


async def test_same_number_with_two_codes_is_ambiguous_until_the_code_is_given(tenant: Tenant) -> None:
    client_id = await create_client(tenant)
    invoice = await create_document(tenant, client_id, code=33)
    exempt = await create_document(tenant, client_id, code=34, taxes=0)

    ambiguous = await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696"})

    assert ambiguous.status_code == 409, ambiguous.text
    error = error_of(ambiguous)
    assert (error["code"], error["field"]) == ("ambiguous_document", "code")
    assert await document_count(tenant) == 2

    response = await tenant.delete(
        "/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696", "code": 34}
    )

    assert response.status_code == 200, response.text
    assert response.json()["id"] == exempt["id"]
    assert (await tenant.get("/v1/getDocument", id=exempt["id"])).status_code == 404
    assert (await tenant.get("/v1/getDocument", id=invoice["id"])).status_code == 200

    last = await tenant.delete("/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696"})

    assert last.status_code == 200, last.text
    assert last.json()["id"] == invoice["id"]
    assert await document_count(tenant) == 0


async def test_a_code_that_matches_nothing_is_not_found(tenant: Tenant) -> None:
    await create_document(tenant, await create_client(tenant), code=33)

    response = await tenant.delete(
        "/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696", "code": 34}
    )

    assert response.status_code == 404, response.text
    assert await document_count(tenant) == 1


@pytest.mark.parametrize("code", [-1, 10**30, "abc"])
async def test_a_code_that_is_no_code_is_refused_or_matches_nothing(tenant: Tenant, code: object) -> None:
    await create_document(tenant, await create_client(tenant), code=33)

    response = await tenant.delete(
        "/v1/deleteDocument", {"clientTaxId": CLIENT_TAX_ID, "number": "696", "code": code}
    )

    assert response.status_code in (400, 404), response.text
    if response.status_code == 400:
        assert error_of(response)["field"] == "code"
    assert await document_count(tenant) == 1


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", None])
async def test_body_is_read_as_json_whatever_the_content_type(
    tenant: Tenant, content_type: str | None
) -> None:
    doc = await create_document(tenant, await create_client(tenant))
    headers = dict(tenant.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = await tenant.http.request(
        "DELETE",
        "/v1/deleteDocument",
        content=json.dumps({"clientTaxId": CLIENT_TAX_ID, "number": "696"}).encode(),
        headers=headers,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"id": doc["id"], "msg": "Documento eliminado."}
    assert await document_count(tenant) == 0


@pytest.mark.parametrize("tax_id", ["96874030-1", "96874030-0", "not a rut", "", "0-0"])
async def test_bad_rut_is_refused(tenant: Tenant, tax_id: str) -> None:
    await create_document(tenant, await create_client(tenant))

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": tax_id, "number": "696"})

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid_parameter", "clientTaxId")
    assert await document_count(tenant) == 1


@pytest.mark.parametrize("missing", ["clientTaxId", "number"])
async def test_missing_field_is_named(tenant: Tenant, missing: str) -> None:
    await create_document(tenant, await create_client(tenant))
    body = {"clientTaxId": CLIENT_TAX_ID, "number": "696"}
    del body[missing]

    response = await tenant.delete("/v1/deleteDocument", body)

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("missing_parameter", missing)
    assert await document_count(tenant) == 1


async def test_invalid_json_is_refused(tenant: Tenant) -> None:
    response = await tenant.http.request(
        "DELETE", "/v1/deleteDocument", content=b'{"clientTaxId": "96874030-K", ', headers=tenant.headers
    )

    assert response.status_code == 400, response.text
    assert error_of(response)["code"] == "invalid_json"


async def test_without_a_token_nothing_is_deleted(tenant: Tenant) -> None:
    await create_document(tenant, await create_client(tenant))

    response = await tenant.http.request(
        "DELETE", "/v1/deleteDocument", json={"clientTaxId": CLIENT_TAX_ID, "number": "696"}
    )

    assert response.status_code == 401, response.text
    assert await document_count(tenant) == 1


async def test_a_foreign_clients_document_is_deleted_by_its_tax_id(tenant: Tenant) -> None:
    """Clients outside Chile carry their own tax code, and deleteDocument names clients by it."""
    client_id = await create_client(tenant, "XAXX010101000", country="Mexico")
    doc = await create_document(tenant, client_id, currency="MXN")

    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": "XAXX010101000", "number": "696"})

    assert response.status_code == 200, response.text
    assert response.json()["id"] == doc["id"]
