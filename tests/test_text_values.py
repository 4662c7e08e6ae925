"""Texts in requests as the API document states them: a NUL character (U+0000), which PostgreSQL cannot
store in a text column (SQLite would), is refused on both databases alike with a 400 naming the field, and
a text is as long as sent (see docs/decisions.md)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tests.conftest import Tenant, assert_error


async def _new_client(tenant: Tenant) -> dict[str, Any]:
    response = await tenant.post("/v1/createClient", {"name": "Cliente", "taxId": "99999999-9"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_a_nul_in_a_body_text_is_refused_naming_the_field_and_nothing_is_stored(tenant: Tenant) -> None:
    response = await tenant.post(
        "/v1/createClient", {"name": "Cliente", "taxId": "99999999-9", "address": "Calle 1\x00"}
    )

    assert_error(response, 400, "invalid_parameter", "address")
    assert "NUL" in response.json()["error"]["message"]
    assert (await tenant.get("/v1/getClients")).json()["records"]["totalRecords"] == 0


async def test_a_nul_inside_a_list_or_a_nested_object_is_named_where_it_is(tenant: Tenant) -> None:
    client = await _new_client(tenant)
    document = {
        "clientId": client["id"],
        "number": "7",
        "issueDate": "2024-05-01",
        "total": "100",
        "taxes": "0",
    }

    tagged = await tenant.post("/v1/createDocument", {**document, "tags": ["ok", "mal\x00"]})
    paid = await tenant.post(
        "/v1/createPayment",
        {
            "date": "2024-05-02",
            "amount": "100",
            "clientId": client["id"],
            "documents": [{"number": "7\x00", "amount": "100"}],
        },
    )

    assert_error(tagged, 400, "invalid_parameter", "tags[1]")
    assert_error(paid, 400, "invalid_parameter", "documents[0].number")
    assert (await tenant.get("/v1/getDocuments")).json()["records"]["totalRecords"] == 0


async def test_a_nul_in_a_key_a_nested_object_does_not_know_is_ignored_with_the_key(tenant: Tenant) -> None:
    """As at the top of a body, an unknown key's value is neither read nor stored, so a NUL in it
    refuses nothing (the document admits any further key); the object's own texts are still checked."""
    client = await _new_client(tenant)
    created = await tenant.post(
        "/v1/createDocument",
        {"clientId": client["id"], "number": "7", "issueDate": "2024-05-01", "total": "100", "taxes": "0"},
    )
    assert created.status_code == 200, created.text
    payment = {"date": "2024-05-02", "amount": "40", "clientId": client["id"]}

    paid = await tenant.post(
        "/v1/createPayment", {**payment, "documents": [{"number": "7", "amount": "40", "nota": "x\x00"}]}
    )
    refused = await tenant.post(
        "/v1/createPayment", {**payment, "documents": [{"number": "7\x00", "amount": "40", "nota": "x\x00"}]}
    )

    assert paid.status_code == 200, paid.text
    assert_error(refused, 400, "invalid_parameter", "documents[0].number")


async def test_an_update_with_a_nul_changes_nothing(tenant: Tenant) -> None:
    client = await _new_client(tenant)

    response = await tenant.post("/v1/updateClient", {"id": client["id"], "city": "Talca", "name": "A\x00"})

    assert_error(response, 400, "invalid_parameter", "name")
    assert (await tenant.get("/v1/getClient", id=client["id"])).json() == client


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/getClients", "name"),
        ("/v1/getTags", "name"),
        ("/v1/getDocuments", "number"),
        ("/v1/getNotes", "number"),
        ("/v1/getAuditLog", "action"),
    ],
)
async def test_a_nul_in_a_text_filter_is_refused(tenant: Tenant, path: str, name: str) -> None:
    response = await tenant.http.get(f"{path}?{name}=a%00b", headers=tenant.headers)

    assert_error(response, 400, "invalid_parameter", name)


async def test_the_api_document_says_no_text_of_a_body_holds_a_nul(tenant: Tenant) -> None:
    document = (await tenant.http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    client = {"name": "Cliente", "taxId": "99999999-9"}

    def valid(model: str, body: dict[str, Any]) -> bool:
        schema = {**schemas[model], "components": document["components"]}
        resolver = jsonschema.validators.Draft202012Validator(schema)
        return resolver.is_valid(body)

    assert valid("ClientCreate", {**client, "address": "Calle 1"})
    for field in ("name", "address", "city", "phone"):
        assert not valid("ClientCreate", {**client, field: "Calle\x001"}), field
    assert not valid("ContactCreate", {"clientId": 1, "email": "a\x00b@example.cl"})
    payment = {"date": "2024-05-02", "amount": "1", "clientId": 1}
    assert not valid("PaymentCreate", {**payment, "comments": "\x00"})
    name_filter = next(
        p for p in document["paths"]["/v1/getClients"]["get"]["parameters"] if p["name"] == "name"
    )
    assert not jsonschema.Draft202012Validator(name_filter["schema"]).is_valid("a\x00b")


async def test_a_text_is_as_long_as_sent_surrounding_spaces_included(tenant: Tenant) -> None:
    # /openapi.json's maxLength counts every character sent; so does dtehub (it drops the spaces after).
    response = await tenant.post("/v1/createClient", {"name": " " + "N" * 255, "taxId": "99999999-9"})
    fits = await tenant.post("/v1/createClient", {"name": " " + "N" * 254, "taxId": "99999999-9"})

    assert_error(response, 400, "invalid_parameter", "name")
    assert "255" in response.json()["error"]["message"]
    assert (fits.status_code, fits.json()["name"]) == (200, "N" * 254)


async def test_true_or_false_for_a_number_is_refused_as_the_document_says(tenant: Tenant) -> None:
    response = await tenant.post("/v1/updateCompany", {"siiResolutionNumber": False})

    assert_error(response, 400, "invalid_parameter", "siiResolutionNumber")
    assert (await tenant.get("/v1/getCompany")).json()["siiResolutionNumber"] is None


def _body_schema_admits(document: dict[str, Any], model: str, body: dict[str, Any]) -> bool:
    schema = {**document["components"]["schemas"][model], "components": document["components"]}
    return jsonschema.Draft202012Validator(schema).is_valid(body)


@pytest.mark.parametrize("blank", ["     ", "\x0b\x0b", "\t \n", ""])
async def test_a_blank_number_is_refused_by_the_document_and_by_a_400_that_says_so(
    tenant: Tenant, blank: str
) -> None:
    """A folio is text or a whole number; a text of only whitespace is no folio, as /openapi.json says
    of both bodies that require one, and the 400 says it is blank (not pydantic's "at least 1 item")."""
    document = (await tenant.http.get("/openapi.json")).json()
    client = await _new_client(tenant)
    fields = {"clientId": client["id"], "issueDate": "2024-05-01", "total": "100", "taxes": "0"}

    created = await tenant.post("/v1/createDocument", {**fields, "number": blank})
    deleted = await tenant.http.request(
        "DELETE",
        "/v1/deleteDocument",
        json={"clientTaxId": "99999999-9", "number": blank},
        headers=tenant.headers,
    )

    for response in (created, deleted):
        assert_error(response, 400, "invalid_parameter", "number")
        assert (
            response.json()["error"]["message"]
            == "number is blank: it takes a text with something besides spaces"
        )
    assert not _body_schema_admits(document, "DocumentCreate", {**fields, "number": blank})
    assert not _body_schema_admits(document, "DocumentDelete", {"clientTaxId": "99999999-9", "number": blank})
    assert _body_schema_admits(document, "DocumentDelete", {"clientTaxId": "99999999-9", "number": " 7 "})
    assert _body_schema_admits(document, "DocumentDelete", {"clientTaxId": "99999999-9", "number": 7})
    assert (await tenant.get("/v1/getDocuments")).json()["records"]["totalRecords"] == 0


async def test_a_blank_text_longer_than_its_field_is_the_empty_text_as_the_document_says(
    tenant: Tenant,
) -> None:
    """The document admits a blank text of any length where a field has a default (it is absent, or
    empty where an empty text is valid); its maxLength is for a text with something in it."""
    document = (await tenant.http.get("/openapi.json")).json()
    blank, long = " \t" * 25, " " * 30 + "8320000"
    client = {"name": "Cliente", "taxId": "99999999-9"}

    created = await tenant.post("/v1/createClient", {**client, "zipcode": blank, "fax": blank * 2})
    refused = await tenant.post("/v1/createClient", {**client, "taxId": "11111111-1", "zipcode": long})

    assert created.status_code == 200, created.text
    assert (created.json()["zipcode"], created.json()["fax"]) == ("", "")
    assert _body_schema_admits(document, "ClientCreate", {**client, "zipcode": blank, "fax": blank * 2})
    assert_error(refused, 400, "invalid_parameter", "zipcode")
    assert not _body_schema_admits(document, "ClientCreate", {**client, "zipcode": long})
