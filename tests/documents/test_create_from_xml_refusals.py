"""POST /v1/createDocumentFromXml refusing hostile XML, sizes over the limit, what is not a DTE, and
what the company may not store."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.conftest import Tenant, error_of, make_tenant
from tests.documents.from_xml import (
    CREDIT_NOTE,
    MAX_XML_BYTES,
    POLAR,
    SEED,
    SII_NAMESPACE,
    b64,
    client_of,
    counts,
    insert_after,
    post_xml,
    seed_xml,
)
from tests.hostile_xml import billion_laughs

# --- hostile XML -----------------------------------------------------------------------------------

BILLION_LAUGHS = billion_laughs("<lolz>BOMB</lolz>")
EXTERNAL_ENTITY = (
    '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    '<!DOCTYPE DTE [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n' + seed_xml(RznSocRecep="&x;")
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE DTE [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>\n' + SEED
)
DOCTYPE_ONLY = '<!DOCTYPE DTE SYSTEM "http://127.0.0.1:9/dte.dtd">\n' + SEED


@pytest.mark.parametrize(
    "xml",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY, DOCTYPE_ONLY],
    ids=["billion-laughs", "external-entity", "parameter-entity", "doctype"],
)
async def test_dtds_and_entities_are_forbidden(tenant: Tenant, xml: str) -> None:
    response = await post_xml(tenant, xml.encode())

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("xml_forbidden_feature", "xml")
    assert await counts(tenant) == (0, 0)


async def test_a_doctype_hidden_by_utf7_is_refused(tenant: Tenant) -> None:
    """In UTF-7 ``+ADw-`` is ``<``: the declaration must not slip past the byte-level DOCTYPE check."""
    hidden = "+ADw-!DOCTYPE DTE +AFs-+ADw-!ENTITY x SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-"
    xml = '<?xml version="1.0" encoding="UTF-7"?>' + hidden + SEED.replace("<", "+ADw-").replace(">", "+AD4-")

    response = await post_xml(tenant, xml.encode("ascii"))

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] in ("xml_malformed", "xml_forbidden_feature")
    assert error["field"] == "xml"
    assert await counts(tenant) == (0, 0)


async def test_an_undeclared_entity_is_malformed(tenant: Tenant) -> None:
    response = await post_xml(tenant, seed_xml(RznSocRecep="&x;").encode())

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("xml_malformed", "xml")


async def test_nesting_beyond_the_limit_is_malformed(tenant: Tenant) -> None:
    xml = "<DTE>" + "<a>" * 200 + "</a>" * 200 + "</DTE>"

    response = await post_xml(tenant, xml.encode())

    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == "xml_malformed"


# --- sizes -----------------------------------------------------------------------------------------


def padded_seed(size: int) -> bytes:
    """The seed invoice followed by whitespace, which XML allows after the root, up to ``size`` bytes."""
    seed = SEED.encode()
    return seed + b"\n" * (size - len(seed))


@pytest.mark.parametrize("encode", [base64.b64encode, base64.encodebytes], ids=["one-line", "mime-lines"])
async def test_xml_of_exactly_the_limit_is_accepted(tenant: Tenant, encode: Callable[[bytes], bytes]) -> None:
    response = await tenant.post(
        "/v1/createDocumentFromXml", {"xml": encode(padded_seed(MAX_XML_BYTES)).decode("ascii")}
    )

    assert response.status_code == 200, response.text
    assert response.json()["number"] == "696"


@pytest.mark.parametrize("size", [MAX_XML_BYTES + 1, MAX_XML_BYTES + 4, 2 * MAX_XML_BYTES])
async def test_xml_over_the_limit_is_too_large(tenant: Tenant, size: int) -> None:
    response = await post_xml(tenant, padded_seed(size))

    assert response.status_code == 413, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("xml_too_large", "xml")
    assert await counts(tenant) == (0, 0)


# --- not base64, not XML, not a DTE ----------------------------------------------------------------


@pytest.mark.parametrize(
    "xml",
    [
        "this is not base64!",
        "PERURSB2ZXJzaW9uPSIxLjAiPg=",
        "data:text/xml;base64," + b64(SEED.encode()),
        "   ",
    ],
)
async def test_xml_that_is_not_base64_is_refused(tenant: Tenant, xml: str) -> None:
    response = await tenant.post("/v1/createDocumentFromXml", {"xml": xml})

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid_parameter", "xml")
    assert await counts(tenant) == (0, 0)


async def test_missing_xml_is_named(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createDocumentFromXml", {"send": 1})

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("missing_parameter", "xml")


@pytest.mark.parametrize(
    "content",
    [
        b"hello, this is not XML",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        b"   ",
        SEED.encode()[: len(SEED) // 2],
        SEED.encode("utf-16"),
        b'{"DTE": {"Folio": 696}}',
    ],
    ids=["text", "pdf", "blank", "truncated", "utf-16", "json"],
)
async def test_content_that_is_not_xml_is_malformed(tenant: Tenant, content: bytes) -> None:
    response = await post_xml(tenant, content)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("xml_malformed", "xml")
    assert await counts(tenant) == (0, 0)


def _bare_documento(xml: str) -> str:
    return xml[xml.index("<Documento") : xml.index("</Documento>") + len("</Documento>")]


@pytest.mark.parametrize(
    "xml",
    [
        _bare_documento(SEED),
        "<html><body>factura</body></html>",
        f'<EnvioBOLETA xmlns="{SII_NAMESPACE}"></EnvioBOLETA>',
        seed_xml(Folio=None),
        seed_xml(Folio="abc"),
        seed_xml(Folio="-696"),
        seed_xml(TipoDTE=None),
        seed_xml(FchEmis=None),
        seed_xml(FchEmis="06-04-2018"),
        seed_xml(FchEmis="2018-02-30"),
        seed_xml(RUTEmisor=None),
        seed_xml(RUTRecep=None),
        seed_xml(RUTRecep="99999999-8"),
        seed_xml(RUTRecep="99999999"),
        seed_xml(MntTotal=None),
        seed_xml(MntTotal="noventa"),
        seed_xml(MntNeto="80901.001"),
        seed_xml(MontoItem="-80901"),
        SEED.replace("MontoItem>", "MtoItem>"),
        SEED.replace("<Receptor>", "<Receptr>").replace("</Receptor>", "</Receptr>"),
    ],
    ids=[
        "bare-documento",
        "html",
        "empty-envio-boleta",
        "no-folio",
        "folio-not-a-number",
        "negative-folio",
        "no-tipo-dte",
        "no-fch-emis",
        "fch-emis-not-iso",
        "fch-emis-not-a-date",
        "no-rut-emisor",
        "no-rut-recep",
        "rut-recep-wrong-check-digit",
        "rut-recep-without-check-digit",
        "no-mnt-total",
        "mnt-total-not-a-number",
        "mnt-neto-three-decimals",
        "negative-monto-item",
        "misspelt-mto-item",
        "misspelt-receptor",
    ],
)
async def test_xml_that_is_not_a_readable_dte_is_refused(tenant: Tenant, xml: str) -> None:
    response = await post_xml(tenant, xml.encode())

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("dte_unreadable", "xml")
    assert await counts(tenant) == (0, 0)


# --- who may store what ----------------------------------------------------------------------------


async def test_a_dte_issued_by_another_company_is_refused(tenant: Tenant, other_tenant: Tenant) -> None:
    response = await post_xml(tenant, POLAR.read_bytes())

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("issuer_mismatch", "xml")
    assert await counts(tenant) == (0, 0)
    assert await counts(other_tenant) == (0, 0)


async def test_a_credit_note_is_stored_as_a_note_not_a_document(
    session: Session, client: httpx.AsyncClient
) -> None:
    bata = make_tenant(session, client, "96670340-7", "BATA CHILE S.A.")

    response = await post_xml(bata, CREDIT_NOTE.read_bytes())

    assert response.status_code == 200, response.text
    note = response.json()
    assert (note["type"], note["typeName"], note["number"], note["total"]) == (
        "credit",
        "Crédito",
        "110616",
        "57347078.00",
    )
    assert note["reference"] == {"code": "33", "number": "115885", "reason": 3}
    assert await counts(bata) == (0, 1)  # no document; its client was created


@pytest.mark.parametrize("code", ["52", "801"])
async def test_types_that_are_not_receivables_are_refused(tenant: Tenant, code: str) -> None:
    response = await post_xml(tenant, seed_xml(TipoDTE=code).encode())

    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == "unsupported_document_type"
    assert await counts(tenant) == (0, 0)


async def test_an_exempt_invoice_counts_its_exempt_amount_as_net(tenant: Tenant) -> None:
    xml = insert_after(seed_xml(TipoDTE="34", MntTotal="97272"), "MntNeto", "<MntExe>1000</MntExe>")

    response = await post_xml(tenant, xml.encode())

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["code"] == 34
    assert (doc["net"], doc["taxes"], doc["total"]) == ("81901.00", "15371.00", "97272.00")


async def test_a_country_other_than_chile_is_unsupported(tenant: Tenant) -> None:
    response = await post_xml(tenant, SEED.encode(), countryCode="MX")

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("unsupported_country", "countryCode")
    assert await counts(tenant) == (0, 0)


@pytest.mark.parametrize("country", ["CL", "cl"])
async def test_chile_may_be_given_in_any_case(tenant: Tenant, country: str) -> None:
    response = await post_xml(tenant, SEED.encode(), countryCode=country)

    assert response.status_code == 200, response.text


async def test_overlong_receiver_texts_are_kept_cut_to_their_columns(tenant: Tenant) -> None:
    """A file that breaks the schema can still be stored (lenient): its texts never overflow a column."""
    response = await post_xml(tenant, seed_xml(RznSocRecep="N" * 300, CiudadRecep="C" * 200).encode())

    assert response.status_code == 200, response.text
    assert response.json()["xmlChecks"]["schema"] == "invalid"
    client = await client_of(tenant, response.json())
    assert (client["name"], client["city"]) == ("N" * 255, "C" * 128)


@pytest.mark.parametrize("folio", ["1" * 19, "9" * 5000])
async def test_a_folio_too_long_for_any_document_is_refused(tenant: Tenant, folio: str) -> None:
    response = await post_xml(tenant, seed_xml(Folio=folio).encode())

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("dte_unreadable", "xml")
    assert "Folio" in error["message"]
    assert await counts(tenant) == (0, 0)
