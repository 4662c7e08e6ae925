"""E-mail addresses in requests: one rule (dtehub.kit.email) for updateCompany's replyTo and the cession's
e-mails, published as each field's pattern and enforced as published. ``\\s`` means other characters to
Python, to pydantic's Rust regex and to the document's ECMA-262 dialect, so the rule spells white space out:
an address with U+0085 or U+001F was admitted by the document and refused by the server."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI

from dtehub.kit.email import EMAIL_OR_EMPTY_PATTERN, EMAIL_PATTERN, email_pattern, is_email
from tests.conftest import Tenant, assert_error

# White space to Python only (U+001C, U+001F, U+0085), to ECMA-262 only (U+FEFF), to all (U+3000).
SPACED = ["a\x85b@x.cl", "a\x1cb@x.cl", "ab@x.\x1fcl", "ab@x\ufeff.cl", "a\u3000b@x.cl", "ab@x.\x855cl"]
# Around an address, what a request body drops around every text: published as admitted, and dropped.
AROUND = ["ab@x.cl\x85", " ab@x.cl", "ab@x.cl\n", "\u3000ab@x.cl\u2028"]
# Not dropped (Python's str.strip would drop U+001C, pydantic does not): no address.
NOT_DROPPED = ["\x1cab@x.cl", "ab@x.cl\x1f", "\ufeffab@x.cl"]
FOUND_BY_THE_FUZZER = "Ç&À@ü1僻ÅJ\U000a8258Đ.\x855ZÇÖ\U00084c0a"


def _published(app: FastAPI, schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A validator of ``schema`` from the document, as schemathesis reads it (ECMA-262 patterns)."""
    document = app.openapi()
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def _body_schema(app: FastAPI, path: str) -> dict[str, Any]:
    operation = app.openapi()["paths"][path]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def _email_fields(app: FastAPI) -> dict[str, dict[str, Any]]:
    """Every request body property that holds an e-mail address, by component and name."""
    found = {}
    for name, component in app.openapi()["components"]["schemas"].items():
        for prop, schema in component.get("properties", {}).items():
            if "mail" in prop.lower() or prop == "replyTo":
                for option in schema.get("anyOf", [schema]):
                    if "pattern" in option or "format" in option:  # an optional one: then null, blank
                        found.setdefault(f"{name}.{prop}", option)
    return found


@pytest.mark.parametrize("address", [*SPACED, FOUND_BY_THE_FUZZER])
def test_white_space_of_any_dialect_is_no_address_to_the_rule_or_the_document(address: str) -> None:
    published = jsonschema_rs.validator_for({"type": "string", "pattern": EMAIL_PATTERN})
    assert not is_email(address.strip())
    assert not published.is_valid(address)


def test_every_e_mail_field_publishes_the_one_rule(app: FastAPI) -> None:
    fields = _email_fields(app)
    contact = fields.pop("ContactCreate.email")  # stricter: format email, no special-use domain
    assert contact["format"] == "email"
    assert {name: schema.get("pattern") for name, schema in fields.items() if "Out" not in name} == {
        "AssigneeIn.email": email_pattern(min_length=6),  # as SII's cession schema asks
        "AssignorIn.email": email_pattern(min_length=6),
        "CessionContactIn.email": email_pattern(min_length=6),
        "CompanyUpdate.replyTo": EMAIL_OR_EMPTY_PATTERN,
    }


@pytest.mark.parametrize("address", [*SPACED, *NOT_DROPPED, FOUND_BY_THE_FUZZER])
async def test_update_company_refuses_what_its_pattern_refuses(
    tenant: Tenant, app: FastAPI, address: str
) -> None:
    published = _published(app, _body_schema(app, "/v1/updateCompany"))
    assert not published.is_valid({"replyTo": address})

    response = await tenant.post("/v1/updateCompany", {"replyTo": address})

    assert_error(response, 400, "invalid_parameter", "replyTo")
    assert "is not an e-mail address" in response.json()["error"]["message"]
    assert (await tenant.get("/v1/getCompany")).json()["replyTo"] == ""


async def test_update_company_takes_what_its_pattern_admits(tenant: Tenant, app: FastAPI) -> None:
    published = _published(app, _body_schema(app, "/v1/updateCompany"))
    for address, kept in (
        ("cobranza@vendedora.cl", "cobranza@vendedora.cl"),
        ("ñandú+1@correo.empresa.cl", "ñandú+1@correo.empresa.cl"),
        ("", ""),
        ("a@b.cl", "a@b.cl"),
        (" \t ", ""),  # blank clears it
        *((address, "ab@x.cl") for address in AROUND),
        ("\x85", ""),
    ):
        assert published.is_valid({"replyTo": address})
        response = await tenant.post("/v1/updateCompany", {"replyTo": address})
        assert response.status_code == 200, response.text
        assert (await tenant.get("/v1/getCompany")).json()["replyTo"] == kept


@pytest.mark.parametrize("place", ["assignee", "assignor", "contact"])
@pytest.mark.parametrize("address", [*SPACED, *NOT_DROPPED, "<a\x85b>@x.cl", " a@b.c", "a@b.c\x85"])
async def test_create_cesion_refuses_what_its_pattern_refuses(
    tenant: Tenant, app: FastAPI, place: str, address: str
) -> None:
    assignee = {"rut": "76086428-5", "name": "Factoring SpA", "address": "Av. Apoquindo 4000"}
    body: dict[str, Any] = {"documentId": 1, "assignee": {**assignee, "email": "ops@factoring.cl"}}
    body[place] = {**body.get(place, {}), "email": address}
    published = _published(app, _body_schema(app, "/v1/createCesion"))
    assert not published.is_valid(body)

    response = await tenant.post("/v1/createCesion", body)

    assert_error(response, 400, "invalid_parameter", "email")
    assert response.json()["error"]["message"] in (
        f"email: {address!r} is not an e-mail address",
        "email: String should have at least 6 characters",  # the address itself, without what is dropped
    )


@pytest.mark.parametrize("address", AROUND)
async def test_create_cesion_reads_an_address_without_the_white_space_around_it(
    tenant: Tenant, app: FastAPI, address: str
) -> None:
    assignee = {"rut": "76086428-5", "name": "Factoring SpA", "address": "Av. Apoquindo 4000"}
    body = {"documentId": 999, "assignee": {**assignee, "email": address}, "contact": {"email": address}}
    assert _published(app, _body_schema(app, "/v1/createCesion")).is_valid(body)

    response = await tenant.post("/v1/createCesion", body)

    assert_error(response, 404, "not_found", "documentId")  # read past the addresses
