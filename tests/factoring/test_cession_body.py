"""createCesion's body as the document states it: an address's 5 characters are counted without the white
space around it (dropped, as around every text of a body), and the published pattern says so."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI

from tests.conftest import Tenant, assert_error

ASSIGNEE = {"rut": "76086428-5", "name": "Factoring SpA", "email": "ops@factoring.cl"}


def _admits(app: FastAPI, body: dict[str, Any]) -> bool:
    document = app.openapi()
    schema = document["paths"]["/v1/createCesion"]["post"]["requestBody"]["content"]["application/json"]
    return jsonschema_rs.validator_for({**schema["schema"], "components": document["components"]}).is_valid(
        body
    )


# Found by the fuzzer: 8 characters as sent, 1 once the white space around it is dropped.
@pytest.mark.parametrize(
    "address", ["\u200a\u2005\u2009\f\u200a\u2005\u2005\u00db", " abcd ", "\u3000abcd\x85"]
)
async def test_an_address_short_once_stripped_is_refused_by_the_document_and_the_server(
    tenant: Tenant, app: FastAPI, address: str
) -> None:
    for body in (
        {"documentId": 999, "assignee": {**ASSIGNEE, "address": address}},
        {
            "documentId": 999,
            "assignee": {**ASSIGNEE, "address": "Av. Apoquindo 4000"},
            "assignor": {"address": address},
        },
    ):
        assert not _admits(app, body)
        assert_error(await tenant.post("/v1/createCesion", body), 400, "invalid_parameter", "address")


@pytest.mark.parametrize("address", [" Av. 1 ", "\u3000Calle\x85", "\x1cabcd"])
async def test_an_address_of_five_once_stripped_is_admitted_and_read(
    tenant: Tenant, app: FastAPI, address: str
) -> None:
    body = {"documentId": 999, "assignee": {**ASSIGNEE, "address": address}, "assignor": {"address": address}}
    assert _admits(app, body)
    assert_error(await tenant.post("/v1/createCesion", body), 404, "not_found", "documentId")
