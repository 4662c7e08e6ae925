"""What ``mipyme_get_document`` answers before it ever contacts SII: status 1 and the certificate
checks that need no SII (status 2)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant

PATH = "/V1/mipyme_get_document"


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "certificate_pfx_base64": base64.b64encode(b"\x30\x82not really a pfx").decode(),
        "certificate_password": "s3cret-pass",
        "tax_id_code": "76399752-9",
        "document_type_taxbureau": "33",
        "document_number": "25568",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def assert_status(response: httpx.Response, http_status: int, status: int, field: str | None = None) -> str:
    assert response.status_code == http_status, response.text
    answer = response.json()
    assert answer["status"] == status
    assert answer["message"]
    assert answer["document"] is None
    assert answer["error"]["message"] == answer["message"]
    assert answer["error"]["field"] == field
    message: str = answer["message"]
    return message


async def test_no_token_is_401_before_anything_else(client: httpx.AsyncClient) -> None:
    response = await client.post(PATH, json={})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"certificate_pfx_base64": None}, "certificate_pfx_base64", "certificate_pfx_base64 is required"),
        ({"certificate_password": None}, "certificate_password", "certificate_password is required"),
        ({"tax_id_code": None}, "tax_id_code", "tax_id_code is required"),
        ({"document_type_taxbureau": None}, "document_type_taxbureau", "is required"),
        ({"document_number": None}, "document_number", "document_number is required"),
        ({"tax_id_code": "76399752-8"}, "tax_id_code", "wrong check digit"),
        (
            {"document_type_taxbureau": "39"},
            "document_type_taxbureau",
            "not a type SII's MIPYME portal issues",
        ),
        ({"document_type_taxbureau": "factura"}, "document_type_taxbureau", "not a type"),
        ({"document_number": "0"}, "document_number", "not a folio"),
        ({"document_number": -5}, "document_number", "not a folio"),
        ({"document_number": "12a"}, "document_number", "not a folio"),
        ({"certificate_pfx_base64": "not base64 at all!"}, "certificate_pfx_base64", "not valid base64"),
        ({"certificate_pfx_base64": ""}, "certificate_pfx_base64", "empty"),
        ({"include_pdf": "perhaps"}, "include_pdf", "include_pdf"),
    ],
)
async def test_invalid_parameters_are_status_1(
    tenant: Tenant, overrides: dict[str, Any], field: str, says: str
) -> None:
    message = assert_status(await tenant.post(PATH, body(**overrides)), 400, 1, field)
    assert says in message
    assert "s3cret-pass" not in message


async def test_a_body_that_is_not_a_json_object_is_status_1(tenant: Tenant) -> None:
    response = await tenant.http.post(PATH, content=b"[1, 2]", headers=tenant.headers)
    assert_status(response, 400, 1)


async def test_type_and_folio_may_be_numbers_or_strings(tenant: Tenant) -> None:
    # Both read fine; the made-up certificate is then what fails (status 2), before any SII call.
    for type_code, folio in ((33, 25568), ("33", "25568"), (" 61 ", "110616")):
        response = await tenant.post(PATH, body(document_type_taxbureau=type_code, document_number=folio))
        assert_status(response, 422, 2)


async def test_a_file_that_is_not_pkcs12_is_a_certificate_error(tenant: Tenant) -> None:
    not_der = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode()
    message = assert_status(await tenant.post(PATH, body(certificate_pfx_base64=not_der)), 422, 2)
    assert message == "the certificate is not a PKCS#12 (.pfx or .p12) file"
    message = assert_status(await tenant.post(PATH, body()), 422, 2)
    assert "wrong password, or a damaged PKCS#12 file" in message


async def test_import_is_only_for_the_tokens_own_company(tenant: Tenant) -> None:
    # The tenant is 76453707-6; asking to import another company's document is refused up front, before
    # SII is asked: the API's own 403 (a rule /openapi.json cannot state: it depends on the token).
    response = await tenant.post(PATH, body(**{"import": True}))
    assert response.status_code == 403
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("forbidden", "import")
    assert "76453707-6" in error["message"]
    assert "status" not in response.json()
