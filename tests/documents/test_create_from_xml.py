"""POST /v1/createDocumentFromXml with real DTEs, their envelopes and encodings: the document it
makes, its client and its due date."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import Tenant, error_of
from tests.documents.from_xml import (
    POLAR,
    POLAR_CLEANED,
    POLAR_NOTES,
    SEED,
    SII_NAMESPACE,
    b64,
    client_of,
    counts,
    envelope,
    insert_after,
    post_xml,
    seed_xml,
    with_declaration,
)

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
