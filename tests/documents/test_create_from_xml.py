"""POST /v1/createDocumentFromXml with real DTEs, their envelopes and encodings, and hostile input."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from dtehub.dte.checks import Verdict
from dtehub.dte.signature import verify_dte_signature
from tests.conftest import FIXTURES, Tenant, error_of, make_tenant
from tests.hostile_xml import billion_laughs

POLAR = FIXTURES / "DTE--76399752-9--33--25568.xml"  # issued by other_tenant's RUT; ISO-8859-1, signed
POLAR_CLEANED = FIXTURES / "DTE--76399752-9--33--25568--cleaned.xml"
CREDIT_NOTE = FIXTURES / "DTE--96670340-7--61--110616.xml"
SII_NS = "http://www.sii.cl/SiiDte"
SEED = (FIXTURES / "seed-duemint-example-33-696.xml").read_text("ascii")  # issued by tenant's RUT

SII_NAMESPACE = "http://www.sii.cl/SiiDte"
MAX_XML_BYTES = 512 * 1024  # the harness's settings
POLAR_NOTES = (
    "*** LINEAS DETALLE DTE *** NroLinDet: 1 NmbItem: JUEGO_LIVI - CHOCOLATE DscItem: ROMA 3.1.1 "
    "QtyItem: 1.00 PrcItem: 194111.00 MontoItem: 194111 "
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def seed_xml(**changes: str | None) -> str:
    """The seed invoice with the text of some elements changed, or the elements removed (None)."""
    text = SEED
    for name, value in changes.items():
        element = re.compile(rf"\s*<{name}>[^<]*</{name}>" if value is None else rf"<{name}>[^<]*</{name}>")
        replacement = "" if value is None else f"<{name}>{value}</{name}>"
        text, count = element.subn(replacement, text, count=1)
        assert count == 1, name
    return text


def insert_after(text: str, element: str, snippet: str) -> str:
    closing = f"</{element}>"
    assert closing in text
    return text.replace(closing, closing + snippet, 1)


def with_declaration(text: str, encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n{text}'


def dte_part(text: str) -> str:
    """The DTE element of a document, without its XML declaration."""
    return text[text.index("<DTE") :]


def envelope(*dtes: str, root: str, namespace: bool) -> bytes:
    xmlns = f' xmlns="{SII_NAMESPACE}"' if namespace else ""
    caratula = (
        '<Caratula version="1.0"><RutEmisor>76453707-6</RutEmisor><RutEnvia>11111111-1</RutEnvia>'
        "<RutReceptor>99999999-9</RutReceptor><FchResol>2014-08-22</FchResol><NroResol>80</NroResol>"
        "<TmstFirmaEnv>2018-04-06T10:00:00</TmstFirmaEnv></Caratula>"
    )
    body = caratula + "".join(dte_part(d) for d in dtes)
    if root == "EnvioDTE":
        xml = f'<EnvioDTE{xmlns} version="1.0"><SetDTE ID="SetDoc">{body}</SetDTE></EnvioDTE>'
    else:
        xml = f'<SetDTE{xmlns} ID="SetDoc">{body}</SetDTE>'
    return with_declaration(xml, "ISO-8859-1").encode("latin-1")


async def post_xml(tenant: Tenant, xml: bytes, **extra: Any) -> httpx.Response:
    return await tenant.post("/v1/createDocumentFromXml", {"xml": b64(xml), **extra})


async def counts(tenant: Tenant) -> tuple[int, int]:
    """(documents, clients) of the tenant, as getDocuments and getClients report them."""
    documents = (await tenant.get("/v1/getDocuments")).json()["records"]["totalRecords"]
    clients = (await tenant.get("/v1/getClients")).json()["records"]["totalRecords"]
    return documents, clients


async def client_of(tenant: Tenant, doc: dict[str, Any]) -> dict[str, Any]:
    response = await tenant.get("/v1/getClient", id=doc["client"]["id"])
    assert response.status_code == 200, response.text
    client: dict[str, Any] = response.json()
    return client


# --- real documents ---------------------------------------------------------------------------------


async def test_real_signed_dte_gives_its_fields(other_tenant: Tenant) -> None:
    response = await post_xml(other_tenant, POLAR.read_bytes())

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["code"] == 33
    assert doc["number"] == "25568"
    assert doc["issueDate"] == "2019-03-29"
    assert doc["dueDate"] == "2019-04-28"  # FmaPago 2 without FchVenc: the company's 30 days
    assert doc["net"] == "194111.00"
    assert doc["taxes"] == "36881.00"
    assert doc["total"] == "230992.00"
    assert doc["amountDue"] == "230992.00"
    assert doc["currency"] == "CLP"
    assert doc["clientTaxId"] == "96874030-K"
    assert doc["notes"] == POLAR_NOTES
    assert await counts(other_tenant) == (1, 1)


async def test_real_signed_dte_creates_its_client_from_receptor(other_tenant: Tenant) -> None:
    doc = (await post_xml(other_tenant, POLAR.read_bytes())).json()

    client = await client_of(other_tenant, doc)

    assert client["taxId"] == "96874030-K"
    assert client["name"] == "EMPRESAS LA POLAR S.A."
    assert client["activity"] == "VENTA AL POR MENOR EN COMERCIOS DE VESTU"
    assert client["address"] == "AVDA. SANTA CLARA 207  62 CIUDAD EMPRESARIAL"
    assert client["comuna"] == "HUECHURABA"
    assert client["city"] == "SANTIAGO"


async def test_real_signed_dte_is_kept_byte_for_byte(other_tenant: Tenant) -> None:
    original = POLAR.read_bytes()
    doc = (await post_xml(other_tenant, original)).json()

    response = await other_tenant.http.get(doc["xml"].removeprefix("https://dtehub.test"))

    assert response.status_code == 200
    assert response.content == original


async def test_cleaned_variant_with_the_sii_namespace_gives_the_same_fields(other_tenant: Tenant) -> None:
    response = await post_xml(other_tenant, POLAR_CLEANED.read_bytes())

    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["code"], doc["number"], doc["issueDate"]) == (33, "25568", "2019-03-29")
    assert (doc["net"], doc["taxes"], doc["total"]) == ("194111.00", "36881.00", "230992.00")
    assert doc["clientTaxId"] == "96874030-K"
    assert doc["notes"] == POLAR_NOTES
    assert (await client_of(other_tenant, doc))["name"] == "EMPRESAS LA POLAR S.A."


async def test_base64_with_line_breaks_is_accepted(other_tenant: Tenant) -> None:
    encoded = base64.encodebytes(POLAR.read_bytes()).decode("ascii")
    assert "\n" in encoded.strip()

    response = await other_tenant.post("/v1/createDocumentFromXml", {"xml": encoded})

    assert response.status_code == 200, response.text
    assert response.json()["number"] == "25568"


@pytest.mark.parametrize("send", [0, 1, True])
async def test_send_is_accepted(tenant: Tenant, send: object) -> None:
    response = await post_xml(tenant, SEED.encode(), send=send)

    assert response.status_code == 200, response.text


async def test_body_is_read_as_json_with_a_form_content_type(tenant: Tenant) -> None:
    response = await tenant.http.post(
        "/v1/createDocumentFromXml",
        content=json.dumps({"xml": b64(SEED.encode())}).encode(),
        headers={**tenant.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["number"] == "696"


# --- envelopes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("root", ["EnvioDTE", "SetDTE"])
@pytest.mark.parametrize("namespace", [True, False], ids=["sii-namespace", "no-namespace"])
async def test_an_envelope_holding_one_dte_is_read(tenant: Tenant, root: str, namespace: bool) -> None:
    response = await post_xml(tenant, envelope(SEED, root=root, namespace=namespace))

    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["code"], doc["number"], doc["total"]) == (33, "696", "96272.00")
    assert doc["clientTaxId"] == "99999999-9"
    assert (await client_of(tenant, doc))["name"] == "CLIENTE EJEMPLO"


async def test_a_dte_declaring_the_namespace_itself_is_read(tenant: Tenant) -> None:
    xml = SEED.replace("<DTE ", f'<DTE xmlns="{SII_NAMESPACE}" ', 1)

    response = await post_xml(tenant, xml.encode())

    assert response.status_code == 200, response.text
    assert response.json()["number"] == "696"


@pytest.mark.parametrize("root", ["EnvioDTE", "SetDTE"])
async def test_an_envelope_with_two_dtes_is_refused(tenant: Tenant, root: str) -> None:
    xml = envelope(SEED, seed_xml(Folio="697"), root=root, namespace=True)

    response = await post_xml(tenant, xml)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("dte_unreadable", "xml")
    assert await counts(tenant) == (0, 0)


async def test_an_envelope_with_no_dte_is_refused(tenant: Tenant) -> None:
    response = await post_xml(tenant, envelope(root="EnvioDTE", namespace=True))

    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == "dte_unreadable"


# --- encodings -------------------------------------------------------------------------------------

ACCENTED = "ÑUÑOA ÁRBOLES Y CÍA. LTDA."


@pytest.mark.parametrize(
    "xml",
    [
        with_declaration(seed_xml(RznSocRecep=ACCENTED), "UTF-8").encode("utf-8"),
        with_declaration(seed_xml(RznSocRecep=ACCENTED), "ISO-8859-1").encode("latin-1"),
        with_declaration(seed_xml(RznSocRecep=ACCENTED), "windows-1252").encode("cp1252"),
        seed_xml(RznSocRecep=ACCENTED).encode("utf-8"),
        # Real files lie: ISO-8859-1 declared, UTF-8 bytes, sometimes after a byte-order mark.
        with_declaration(seed_xml(RznSocRecep=ACCENTED), "ISO-8859-1").encode("utf-8"),
        b"\xef\xbb\xbf" + with_declaration(seed_xml(RznSocRecep=ACCENTED), "ISO-8859-1").encode("utf-8"),
        b"\xef\xbb\xbf" + with_declaration(seed_xml(RznSocRecep=ACCENTED), "UTF-8").encode("utf-8"),
    ],
    ids=[
        "utf-8",
        "iso-8859-1",
        "windows-1252",
        "utf-8-undeclared",
        "utf-8-declared-latin-1",
        "bom-latin-1",
        "bom",
    ],
)
async def test_receiver_name_reads_correctly_in_every_encoding(tenant: Tenant, xml: bytes) -> None:
    response = await post_xml(tenant, xml)

    assert response.status_code == 200, response.text
    assert (await client_of(tenant, response.json()))["name"] == ACCENTED


async def test_character_references_and_predefined_entities_are_read(tenant: Tenant) -> None:
    xml = seed_xml(RznSocRecep="&#209;U&#209;OA &amp; C&#xCD;A. &lt;LTDA&gt;")

    response = await post_xml(tenant, xml.encode())

    assert response.status_code == 200, response.text
    assert (await client_of(tenant, response.json()))["name"] == "ÑUÑOA & CÍA. <LTDA>"


# --- the same folio again --------------------------------------------------------------------------


async def test_the_very_same_xml_again_answers_the_same_document(other_tenant: Tenant) -> None:
    first = await post_xml(other_tenant, POLAR.read_bytes())

    again = await post_xml(other_tenant, POLAR.read_bytes())

    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json() == first.json()
    assert await counts(other_tenant) == (1, 1)


async def test_different_bytes_for_the_same_folio_are_a_conflict(other_tenant: Tenant) -> None:
    first = (await post_xml(other_tenant, POLAR.read_bytes())).json()

    response = await post_xml(other_tenant, POLAR_CLEANED.read_bytes())

    assert response.status_code == 409, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("already_exists", "xml")
    assert await counts(other_tenant) == (1, 1)
    assert (await other_tenant.get("/v1/getDocument", id=first["id"])).json() == first


async def test_a_conflicting_xml_does_not_touch_the_client(tenant: Tenant) -> None:
    first = (await post_xml(tenant, SEED.encode())).json()

    response = await post_xml(tenant, seed_xml(RznSocRecep="OTRO NOMBRE", MntTotal="96273").encode())

    assert response.status_code == 409, response.text
    assert (await client_of(tenant, first))["name"] == "CLIENTE EJEMPLO"


async def test_a_folio_created_by_fields_is_a_conflict_for_its_xml(tenant: Tenant) -> None:
    client_id = (await tenant.post("/v1/createClient", {"name": "CLIENTE", "taxId": "99999999-9"})).json()[
        "id"
    ]
    by_fields = {"clientId": client_id, "number": "696", "issueDate": "2018-04-06", "code": 33}
    assert (await tenant.post("/v1/createDocument", {**by_fields, "total": 96272, "taxes": 15371})).is_success

    response = await post_xml(tenant, SEED.encode())

    assert response.status_code == 409, response.text
    assert await counts(tenant) == (1, 1)


async def test_the_same_folio_of_another_type_is_another_document(tenant: Tenant) -> None:
    await post_xml(tenant, SEED.encode())

    response = await post_xml(tenant, seed_xml(TipoDTE="34", MntNeto=None, IVA=None, TasaIVA=None).encode())

    assert response.status_code == 200, response.text
    assert response.json()["code"] == 34
    assert await counts(tenant) == (2, 1)


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

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("xml_forbidden_feature", "xml")
    assert await counts(tenant) == (0, 0)


async def test_a_doctype_hidden_by_utf7_is_refused(tenant: Tenant) -> None:
    """In UTF-7 ``+ADw-`` is ``<``: the declaration must not slip past the byte-level DOCTYPE check."""
    hidden = "+ADw-!DOCTYPE DTE +AFs-+ADw-!ENTITY x SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-"
    xml = '<?xml version="1.0" encoding="UTF-7"?>' + hidden + SEED.replace("<", "+ADw-").replace(">", "+AD4-")

    response = await post_xml(tenant, xml.encode("ascii"))

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["code"] in ("xml_malformed", "xml_forbidden_feature")
    assert error["field"] == "xml"
    assert await counts(tenant) == (0, 0)


async def test_an_undeclared_entity_is_malformed(tenant: Tenant) -> None:
    response = await post_xml(tenant, seed_xml(RznSocRecep="&x;").encode())

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("xml_malformed", "xml")


async def test_nesting_beyond_the_limit_is_malformed(tenant: Tenant) -> None:
    xml = "<DTE>" + "<a>" * 200 + "</a>" * 200 + "</DTE>"

    response = await post_xml(tenant, xml.encode())

    assert response.status_code == 400, response.text
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

    assert response.status_code == 400, response.text
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


# --- the client --------------------------------------------------------------------------------------


async def test_tax_id_override_creates_that_client(tenant: Tenant) -> None:
    response = await post_xml(tenant, SEED.encode(), taxId="76.399.752-9")

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["clientTaxId"] == "76399752-9"
    assert (await client_of(tenant, doc))["taxId"] == "76399752-9"
    missing = await tenant.get("/v1/getClient", taxId="99999999-9")
    assert missing.status_code == 404
    assert await counts(tenant) == (1, 1)


async def test_tax_id_override_uses_an_existing_client_as_it_is(tenant: Tenant) -> None:
    created = await tenant.post(
        "/v1/createClient", {"name": "Sucursal Norte", "taxId": "96874030-K", "paymentTerm": 45}
    )
    existing = created.json()

    response = await post_xml(tenant, SEED.encode(), taxId="96874030-k")

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["client"]["id"] == existing["id"]
    assert doc["clientTaxId"] == "96874030-K"
    assert doc["dueDate"] == "2018-05-21"  # the override client's 45 days
    assert (await client_of(tenant, doc))["name"] == "Sucursal Norte"
    assert await counts(tenant) == (1, 1)


async def test_an_invalid_tax_id_override_is_refused(tenant: Tenant) -> None:
    response = await post_xml(tenant, SEED.encode(), taxId="99999999-8")

    assert response.status_code == 400, response.text
    assert error_of(response)["field"] == "taxId"
    assert await counts(tenant) == (0, 0)


async def test_an_existing_client_is_updated_from_receptor(tenant: Tenant) -> None:
    existing = (
        await tenant.post(
            "/v1/createClient", {"name": "Nombre Antiguo", "taxId": "99.999.999-9", "paymentTerm": 15}
        )
    ).json()

    response = await post_xml(tenant, SEED.encode())

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["client"]["id"] == existing["id"]
    assert doc["dueDate"] == "2018-04-21"  # the client's own 15 days, not the company's 7
    client = await client_of(tenant, doc)
    assert client["name"] == "CLIENTE EJEMPLO"
    assert client["address"] == "AV LAS CONDES 6903"
    assert client["paymentTerm"] == 15
    assert await counts(tenant) == (1, 1)


async def test_the_same_receiver_on_two_dtes_is_one_client(tenant: Tenant) -> None:
    first = (await post_xml(tenant, SEED.encode())).json()

    second = (
        await post_xml(tenant, seed_xml(Folio="697", RznSocRecep="CLIENTE EJEMPLO SPA").encode())
    ).json()

    assert second["client"] == first["client"]
    assert (await client_of(tenant, second))["name"] == "CLIENTE EJEMPLO SPA"
    assert await counts(tenant) == (2, 1)


async def test_clients_are_per_company(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = (await other_tenant.post("/v1/createClient", {"name": "De Otro", "taxId": "99999999-9"})).json()

    doc = (await post_xml(tenant, SEED.encode())).json()

    assert doc["client"]["id"] != theirs["id"]
    assert (await other_tenant.get("/v1/getClient", id=theirs["id"])).json()["name"] == "De Otro"


# --- the due date ------------------------------------------------------------------------------------


async def test_due_date_is_fch_venc_when_present(tenant: Tenant) -> None:
    xml = insert_after(SEED, "FmaPago", "<FchVenc>2018-05-31</FchVenc>")

    response = await post_xml(tenant, xml.encode())

    assert response.status_code == 200, response.text
    assert response.json()["dueDate"] == "2018-05-31"


async def test_fch_venc_wins_over_cash_payment(tenant: Tenant) -> None:
    xml = insert_after(seed_xml(FmaPago="1"), "FmaPago", "<FchVenc>2018-04-20</FchVenc>")

    response = await post_xml(tenant, xml.encode())

    assert response.json()["dueDate"] == "2018-04-20"


async def test_cash_payment_is_due_on_the_issue_date(tenant: Tenant) -> None:
    response = await post_xml(tenant, seed_xml(FmaPago="1").encode())

    assert response.status_code == 200, response.text
    assert response.json()["dueDate"] == "2018-04-06"


@pytest.mark.parametrize("payment", ["2", "3", None])
async def test_otherwise_due_after_the_companys_term(tenant: Tenant, payment: str | None) -> None:
    response = await post_xml(tenant, seed_xml(FmaPago=payment).encode())

    assert response.status_code == 200, response.text
    assert response.json()["dueDate"] == "2018-04-13"


async def test_an_invalid_fch_venc_is_unreadable(tenant: Tenant) -> None:
    xml = insert_after(SEED, "FmaPago", "<FchVenc>31-05-2018</FchVenc>")

    response = await post_xml(tenant, xml.encode())

    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == "dte_unreadable"


async def test_a_real_signed_invoice_answers_its_verdicts_and_fields(other_tenant: Tenant) -> None:
    """The MIPYME invoice: signed with the SII namespace, served without it; schema, signature and
    timbre all check out, and every field is kept structurally."""
    response = await post_xml(other_tenant, POLAR.read_bytes())

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["xmlChecks"]["signature"] == "valid"
    assert doc["xmlChecks"]["ted"] == "valid"
    assert re.fullmatch(r"\d{7,8}-[\dK]", doc["xmlChecks"]["signer"])
    assert doc["xmlChecks"]["signedAt"].startswith("2019-")
    # SII's MIPYME portal signed it with its namespace and serves it without: that form is reported.
    assert doc["xmlChecks"]["signedForm"] == {"asFound": False, "added": {"xmlns": SII_NS}, "removed": {}}
    assert doc["dte"]["lines"], doc["dte"]
    again = (await other_tenant.get("/v1/getDocument", id=doc["id"])).json()
    assert again == doc
    listed = (await other_tenant.get("/v1/getDocuments", xmlSignature="valid", xmlTed="valid")).json()
    assert [item["id"] for item in listed["items"]] == [doc["id"]]
    assert listed["items"][0]["xmlChecks"] == doc["xmlChecks"]
    assert (await other_tenant.get("/v1/getDocuments", xmlSignature="invalid")).json()["items"] == []


async def test_the_unsigned_seed_is_kept_with_its_verdicts(tenant: Tenant) -> None:
    response = await post_xml(tenant, SEED.encode())

    assert response.status_code == 200, response.text
    checks = response.json()["xmlChecks"]
    assert (checks["signature"], checks["ted"], checks["signer"]) == ("unsigned", "absent", None)
    assert {problem["check"] for problem in checks["problems"]} >= {"signature", "ted"}
    unsigned = (await tenant.get("/v1/getDocuments", xmlSignature="unsigned")).json()
    assert unsigned["records"]["totalRecords"] == 1


@pytest.mark.parametrize(
    ("name", "value"), [("xmlTed", "unsigned"), ("xmlSchema", "absent"), ("xmlSignature", "x")]
)
async def test_a_verdict_filter_that_cannot_exist_is_a_clear_400(
    tenant: Tenant, name: str, value: str
) -> None:
    response = await tenant.get("/v1/getDocuments", **{name: value})

    assert response.status_code == 400, response.text
    assert error_of(response)["field"] == name


async def test_strict_policy_refuses_an_unsigned_dte_and_stores_nothing(tenant: Tenant) -> None:
    assert (await tenant.post("/v1/updateCompany", {"xmlPolicy": "strict"})).status_code == 200

    response = await post_xml(tenant, SEED.encode())

    assert response.status_code == 422, response.text
    error = error_of(response)
    # Unsigned and without a timbre it also breaks the schema (both are required): the first check says.
    assert (error["code"], error["field"]) == ("xml_schema_invalid", "xml")
    assert "strict" in error["message"]
    assert await counts(tenant) == (0, 0)


async def test_strict_policy_refuses_a_tampered_signed_invoice(
    session: Session, client: httpx.AsyncClient
) -> None:
    polar = make_tenant(session, client, "76399752-9", "POLAR")
    assert (await polar.post("/v1/updateCompany", {"xmlPolicy": "strict"})).status_code == 200
    original = POLAR.read_bytes()
    tampered = original.replace(b"<MntTotal>", b"<MntTotal>1", 1)
    assert tampered != original

    refused = await post_xml(polar, tampered)
    stored = await post_xml(polar, original)

    assert refused.status_code == 422, refused.text
    assert error_of(refused)["code"] in {"xml_schema_invalid", "signature_invalid", "ted_invalid"}
    assert stored.status_code == 200, stored.text
    assert stored.json()["xmlChecks"]["problems"] == []


async def test_lenient_policy_stores_a_tampered_invoice_with_its_verdicts(other_tenant: Tenant) -> None:
    tampered = POLAR.read_bytes().replace(b"<MntTotal>", b"<MntTotal>1", 1)

    response = await post_xml(other_tenant, tampered)

    assert response.status_code == 200, response.text
    checks = response.json()["xmlChecks"]
    assert checks["signature"] == "invalid"
    assert checks["ted"] == "invalid"
    codes = {problem["code"] for problem in checks["problems"]}
    assert {"signature_digest_mismatch", "ted_mismatch"} <= codes


async def test_a_dte_sent_in_an_envelope_is_served_as_its_own_bytes_and_still_verifies(
    other_tenant: Tenant,
) -> None:
    """An EnvioDTE declares the SII namespace for the DTE inside; what is kept and served is the DTE's
    own bytes cut out of it, whose signature checks out on its own."""
    dte = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", POLAR.read_bytes())
    envelope = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<EnvioDTE xmlns="http://www.sii.cl/SiiDte" '
        b'version="1.0"><SetDTE ID="SetDoc"><Caratula version="1.0"/>' + dte + b"</SetDTE></EnvioDTE>"
    )

    response = await post_xml(other_tenant, envelope)

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["xmlChecks"]["signature"] == "valid"
    served = await other_tenant.http.get(doc["xml"].removeprefix("https://dtehub.test"))
    assert served.status_code == 200
    assert dte.strip() in served.content
    assert b"EnvioDTE" not in served.content
    assert verify_dte_signature(served.content).verdict == Verdict.VALID


async def test_an_invoice_given_an_envelopes_declarations_is_intact_and_says_how(
    other_tenant: Tenant,
) -> None:
    """The MIPYME invoice as a program that cut it out of an EnvioDTE leaves it: SII's namespace and the
    envelope's xmlns:xsi on its DTE element. Its content is the signed content: valid, in a form shown
    to the caller and kept (tests/dte/test_signed_forms.py shows a changed amount fails in every form)."""
    declarations = f' xmlns="{SII_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'.encode()
    moved = POLAR.read_bytes().replace(b'<DTE version="1.0">', b"<DTE" + declarations + b' version="1.0">', 1)
    assert declarations in moved

    response = await post_xml(other_tenant, moved)

    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["xmlChecks"]["signature"], doc["xmlChecks"]["problems"]) == ("valid", [])
    assert doc["xmlChecks"]["signedForm"] == {
        "asFound": False,
        "added": {},
        "removed": {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance"},
    }
    assert (await other_tenant.get("/v1/getDocument", id=doc["id"])).json()["xmlChecks"] == doc["xmlChecks"]
    served = await other_tenant.http.get(doc["xml"].removeprefix("https://dtehub.test"))
    assert served.content == moved  # kept as received, not rewritten into the form that verified


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
