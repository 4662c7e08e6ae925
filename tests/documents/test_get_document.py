"""GET /v1/getDocument: every field, expansions, bad and missing ids, and the tenant boundary."""

from __future__ import annotations

import base64
import copy
import re
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from sqlalchemy.orm import Session

from dtehub.documents import ledger
from dtehub.kit.dates import today_in_santiago
from dtehub.models import Document
from tests.conftest import Tenant, warnings_of
from tests.dte.samples import POLAR, POLAR_CLEANED, RICH, SEED, export_xml

DOCUMENT_FIELDS = {
    "id",
    "held",
    "issuer",
    "clientTaxId",
    "number",
    "createdAt",
    "issueDate",
    "dueDate",
    "status",
    "statusName",
    "currency",
    "net",
    "taxes",
    "total",
    "paidAmount",
    "paidDate",
    "amountDue",
    "amountCredit",
    "amountDebit",
    "purchaseOrder",
    "gloss",
    "notes",
    "code",
    "source",
    "history",
    "url",
    "xml",
    "pdf",
    "xmlChecks",
    "sii",
    "client",
    "tags",
    "files",
    "isCeded",
    "cession",
}
DETAIL_FIELDS = DOCUMENT_FIELDS | {"creditDebitNotes", "dte"}
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


async def new_client(
    tenant: Tenant, tax_id: str = "99999999-9", name: str = "DELI SANDWICH"
) -> dict[str, Any]:
    response = await tenant.post("/v1/createClient", {"name": name, "taxId": tax_id})
    assert response.status_code == 200, response.text
    return response.json()


async def new_document(
    tenant: Tenant, client_id: str, number: str = "702", **fields: object
) -> dict[str, Any]:
    body = {
        "clientId": client_id,
        "number": number,
        "issueDate": "2018-04-11",
        "total": "9628",
        "taxes": "1537",
        "code": 33,
        "currency": "CLP",
        **fields,
    }
    response = await tenant.post("/v1/createDocument", body)
    assert response.status_code == 200, response.text
    return response.json()


async def fetch(tenant: Tenant, document_id: str, **params: object) -> dict[str, Any]:
    response = await tenant.get("/v1/getDocument", id=document_id, **params)
    assert response.status_code == 200, response.text
    return response.json()


async def set_balance(
    session: Session, document_id: str, *, paid: int = 0, credit: int = 0, voided: bool = False
) -> None:
    """Test setup only (there is no payments API yet): amounts in hundredths, straight on the row."""
    document = session.get(Document, int(document_id))
    assert document is not None
    document.paid_cents = paid
    document.credit_cents = credit
    document.voided = voided
    ledger.rebalance(document)
    session.commit()


# --- the document ---------------------------------------------------------------------------------


async def test_answers_every_field_of_the_document(tenant: Tenant) -> None:
    client = await new_client(tenant)
    created = await new_document(
        tenant,
        client["id"],
        "702",
        dueDate="2018-04-18",
        purchaseOrder="OC456",
        gloss="Servicios abril",
        notes="Detalle largo",
        tags=["urgente"],
    )

    doc = await fetch(tenant, created["id"])

    assert set(doc) == DETAIL_FIELDS
    assert doc["id"] == created["id"]
    assert doc["clientTaxId"] == "99999999-9"
    assert doc["number"] == "702"
    assert DATETIME.match(doc["createdAt"])
    assert doc["issueDate"] == "2018-04-11"
    assert doc["dueDate"] == "2018-04-18"
    assert (doc["status"], doc["statusName"]) == (3, "Vencida")
    assert doc["currency"] == "CLP"
    assert doc["net"] == "8091.00"
    assert doc["taxes"] == "1537.00"
    assert doc["total"] == "9628.00"
    assert doc["paidAmount"] == "0.00"
    assert doc["paidDate"] is None
    assert doc["amountDue"] == "9628.00"
    assert doc["amountCredit"] == "0.00"
    assert doc["amountDebit"] == "0.00"
    assert doc["purchaseOrder"] == "OC456"
    assert doc["gloss"] == "Servicios abril"
    assert doc["notes"] == "Detalle largo"
    assert doc["code"] == 33
    assert doc["history"] is False  # only the SII sync brings history
    assert doc["url"] == f"https://dtehub.test/portal/invoice/{doc['id']}/{doc['url'].rsplit('/', 1)[-1]}"
    assert doc["xml"].startswith(f"https://dtehub.test/portal/downloadInvoiceXml/{doc['id']}/")
    assert doc["pdf"].startswith(f"https://dtehub.test/portal/showPdf/{doc['id']}/")
    assert doc["client"] == {"id": client["id"]}
    [tag] = doc["tags"]
    assert set(tag) == {"id"}
    assert doc["files"] == []
    assert doc["xmlChecks"] is None  # created by fields: no XML to check
    assert doc["creditDebitNotes"] == []
    assert doc["dte"] is None


async def test_answers_what_create_answered_and_what_the_list_shows(tenant: Tenant) -> None:
    client = await new_client(tenant)
    created = await new_document(tenant, client["id"], tags=["a", "b"])

    doc = await fetch(tenant, created["id"])
    [listed] = (await tenant.get("/v1/getDocuments")).json()["items"]

    assert doc == created
    assert {name: value for name, value in doc.items() if name in DOCUMENT_FIELDS} == listed


async def test_document_without_code_answers_null_code(tenant: Tenant) -> None:
    client = await new_client(tenant)
    created = await new_document(tenant, client["id"], code=None, currency="usd", total="10.5", taxes="0")

    doc = await fetch(tenant, created["id"])

    assert doc["code"] is None
    assert doc["currency"] == "USD"
    assert doc["total"] == "10.50"
    assert doc["net"] == "10.50"


async def test_due_date_defaults_to_the_companys_payment_term(tenant: Tenant) -> None:
    client = await new_client(tenant)
    created = await new_document(tenant, client["id"], issueDate="2024-02-26")

    assert (await fetch(tenant, created["id"]))["dueDate"] == "2024-03-04"  # 7 days, across Feb 29


async def test_status_follows_payments_and_voiding(tenant: Tenant, session: Session) -> None:
    client = await new_client(tenant)
    today = today_in_santiago()
    created = await new_document(
        tenant,
        client["id"],
        issueDate=str(today - timedelta(days=3)),
        dueDate=str(today),
        total="100",
        taxes="0",
    )
    assert (await fetch(tenant, created["id"]))["status"] == 2  # due today: still Por vencer

    await set_balance(session, created["id"], paid=4_000)
    partly = await fetch(tenant, created["id"])
    assert (partly["status"], partly["paidAmount"], partly["amountDue"]) == (2, "40.00", "60.00")

    await set_balance(session, created["id"], paid=10_000)
    paid = await fetch(tenant, created["id"])
    assert (paid["status"], paid["statusName"], paid["amountDue"]) == (1, "Pagada", "0.00")

    await set_balance(session, created["id"], paid=10_000, voided=True)
    voided = await fetch(tenant, created["id"])
    assert (voided["status"], voided["statusName"]) == (4, "Anulada")


async def test_credit_beyond_total_voids_with_nothing_due(tenant: Tenant, session: Session) -> None:
    client = await new_client(tenant)
    created = await new_document(tenant, client["id"], total="100", taxes="0")
    await set_balance(session, created["id"], credit=25_000)

    doc = await fetch(tenant, created["id"])

    # Credit notes reaching the total annul the document: 4 Anulada, not 1 Pagada.
    assert (doc["amountDue"], doc["amountCredit"], doc["status"], doc["statusName"]) == (
        "0.00",
        "250.00",
        4,
        "Anulada",
    )


# --- expansions -----------------------------------------------------------------------------------


@pytest.fixture
async def full_document(tenant: Tenant) -> dict[str, Any]:
    """A document with two contacts on its client, two tags and two files."""
    client = await new_client(tenant)
    contacts = []
    for email, name in (("pagos@deli.cl", "Ana"), ("conta@deli.cl", "Luis")):
        response = await tenant.post(
            "/v1/createContact", {"clientId": client["id"], "email": email, "name": name}
        )
        assert response.status_code == 200, response.text
        contacts.append(response.json())
    doc = await new_document(tenant, client["id"], tags=["urgente", "retail"])
    files = []
    for name in ("orden.pdf", "guia.txt"):
        response = await tenant.post(
            "/v1/createFile",
            {
                "documentId": doc["id"],
                "name": name,
                "content": base64.b64encode(b"contenido " + name.encode()).decode(),
            },
        )
        assert response.status_code == 200, response.text
        files.append(response.json())
    return {"client": client, "contacts": contacts, "document": doc, "files": files}


async def test_references_are_ids_by_default(tenant: Tenant, full_document: dict[str, Any]) -> None:
    doc = await fetch(tenant, full_document["document"]["id"])

    assert doc["client"] == {"id": full_document["client"]["id"]}
    tag_ids = {t["id"] for t in (await tenant.get("/v1/getTags")).json()["items"]}
    assert len(doc["tags"]) == 2
    assert all(set(tag) == {"id"} for tag in doc["tags"])
    assert {tag["id"] for tag in doc["tags"]} == tag_ids
    assert doc["files"] == [{"id": f["id"]} for f in full_document["files"]]


async def test_expand_client(tenant: Tenant, full_document: dict[str, Any]) -> None:
    doc = await fetch(tenant, full_document["document"]["id"], expandClient=1)

    client = doc["client"]
    assert client["id"] == full_document["client"]["id"]
    assert client["name"] == "DELI SANDWICH"
    assert client["taxId"] == "99999999-9"
    assert set(client["sendReminders"]) == {
        "newDocument",
        "soonToExpire",
        "expired",
        "newPayment",
        "debtSummary",
    }
    assert client["url"] == full_document["client"]["url"]
    assert client["contacts"] == [{"id": c["id"]} for c in full_document["contacts"]]


async def test_expand_client_and_contact(tenant: Tenant, full_document: dict[str, Any]) -> None:
    doc = await fetch(tenant, full_document["document"]["id"], expandClient=1, expandContact=1)

    assert doc["client"]["contacts"] == full_document["contacts"]
    assert [c["email"] for c in doc["client"]["contacts"]] == ["pagos@deli.cl", "conta@deli.cl"]


async def test_expand_contact_needs_expand_client(tenant: Tenant, full_document: dict[str, Any]) -> None:
    doc = await fetch(tenant, full_document["document"]["id"], expandContact=1)

    assert doc["client"] == {"id": full_document["client"]["id"]}


async def test_expand_tag(tenant: Tenant, full_document: dict[str, Any]) -> None:
    doc = await fetch(tenant, full_document["document"]["id"], expandTag=1)

    assert {t["name"] for t in doc["tags"]} == {"urgente", "retail"}
    tags = {t["id"]: t for t in (await tenant.get("/v1/getTags")).json()["items"]}
    for tag in doc["tags"]:
        assert tag == tags[tag["id"]]


async def test_expand_file(tenant: Tenant, full_document: dict[str, Any]) -> None:
    doc = await fetch(tenant, full_document["document"]["id"], expandFile=1)

    assert doc["files"] == full_document["files"]
    for file in doc["files"]:
        assert file["url"].startswith("https://dtehub.test/portal/file/")
        assert file["documentId"] == full_document["document"]["id"]


async def test_all_expansions_together(tenant: Tenant, full_document: dict[str, Any]) -> None:
    doc = await fetch(
        tenant, full_document["document"]["id"], expandClient=1, expandContact=1, expandTag=1, expandFile=1
    )

    assert doc["client"]["contacts"] == full_document["contacts"]
    assert {t["name"] for t in doc["tags"]} == {"urgente", "retail"}
    assert doc["files"] == full_document["files"]


# --- bad requests ---------------------------------------------------------------------------------


async def test_missing_id_is_a_missing_parameter(tenant: Tenant) -> None:
    response = await tenant.get("/v1/getDocument")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("missing_parameter", "id")


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", ""])
async def test_malformed_id_is_an_invalid_parameter(tenant: Tenant, bad_id: str) -> None:
    response = await tenant.get("/v1/getDocument", id=bad_id)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "id"
    assert error["code"] in ("invalid_parameter", "missing_parameter")


async def test_an_expand_flag_it_cannot_read_is_0_with_a_warning(tenant: Tenant) -> None:
    client = await new_client(tenant)
    created = await new_document(tenant, client["id"])

    response = await tenant.get("/v1/getDocument", id=created["id"], expandClient="maybe")

    assert warnings_of(response) == [{"parameter": "expandClient", "value": "maybe", "used": 0}]
    assert response.json()["client"] == {"id": client["id"]}
    assert response.headers["warning"] == '299 dtehub "expandClient=maybe served as 0"'


async def test_unknown_id_is_not_found(tenant: Tenant) -> None:
    response = await tenant.get("/v1/getDocument", id=987_654_321)

    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("not_found", "id")


@pytest.mark.parametrize("huge", [2**31, 2**63 - 1024, 2**63 - 513, 2**63 - 512, 2**63 - 1, 2**63, 10**30])
async def test_huge_id_is_refused_or_not_found_never_a_server_error(tenant: Tenant, huge: int) -> None:
    response = await tenant.get("/v1/getDocument", id=huge)

    assert response.status_code in (400, 404), response.text
    assert response.json()["error"]["field"] == "id"
    # The line is where a reader of doubles draws it: below 2^63 as a double, a well-formed id not found.
    assert (response.status_code == 404) == (float(huge) < 2**63)


async def test_deleted_document_is_not_found(tenant: Tenant) -> None:
    client = await new_client(tenant)
    created = await new_document(tenant, client["id"], "9")
    deleted = await tenant.delete("/v1/deleteDocument", {"clientTaxId": "99999999-9", "number": "9"})
    assert deleted.status_code == 200, deleted.text

    response = await tenant.get("/v1/getDocument", id=created["id"])

    assert response.status_code == 404
    listed = (await tenant.get("/v1/getDocuments")).json()
    assert listed["items"] == []
    assert listed["records"]["totalRecords"] == 0


# --- tenant boundary ------------------------------------------------------------------------------


async def test_another_companys_document_looks_exactly_like_a_missing_one(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await new_document(other_tenant, (await new_client(other_tenant))["id"])
    missing_id = int(theirs["id"]) + 1000

    foreign = await tenant.get("/v1/getDocument", id=theirs["id"])
    missing = await tenant.get("/v1/getDocument", id=missing_id)

    assert foreign.status_code == missing.status_code == 404
    foreign_error, missing_error = foreign.json()["error"], missing.json()["error"]
    assert (foreign_error["code"], foreign_error["field"]) == (missing_error["code"], missing_error["field"])
    assert foreign_error["message"].replace(theirs["id"], "N") == missing_error["message"].replace(
        str(missing_id), "N"
    )
    assert "DELI SANDWICH" not in foreign.text


async def test_another_companys_document_is_never_in_the_list(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = await new_document(other_tenant, (await new_client(other_tenant))["id"], "555")
    mine = await new_document(tenant, (await new_client(tenant))["id"], "556")

    for params in ({}, {"number": "555"}, {"clientTaxId": "99999999-9"}, {"resultsPerPage": 100}):
        body = (await tenant.get("/v1/getDocuments", **params)).json()
        assert theirs["id"] not in {item["id"] for item in body["items"]}
    assert [item["id"] for item in (await tenant.get("/v1/getDocuments")).json()["items"]] == [mine["id"]]


async def test_the_owner_still_sees_its_document(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = await new_document(other_tenant, (await new_client(other_tenant))["id"])

    assert (await tenant.get("/v1/getDocument", id=theirs["id"])).status_code == 404
    assert (await fetch(other_tenant, theirs["id"]))["id"] == theirs["id"]


@pytest.mark.parametrize(
    "expansions", [(), ("Client",), ("Client", "Contact", "Tag", "File"), ("Tag", "File")]
)
async def test_views_match_the_published_schema(
    tenant: Tenant, full_document: dict[str, Any], expansions: tuple[str, ...]
) -> None:
    """Views are built as plain data for speed; they must still be exactly what /openapi.json says a
    document is, in the listing and for one document: no field missing, none extra, every type right."""
    openapi = (await tenant.http.get("/openapi.json")).json()
    schemas = openapi["components"]["schemas"]

    def check(view: dict[str, Any], name: str) -> None:
        assert set(view) == set(schemas[name]["properties"])
        schema = {"$ref": f"#/components/schemas/{name}", "components": openapi["components"]}
        jsonschema.Draft202012Validator(schema).validate(view)

    params = {f"expand{name}": 1 for name in expansions}
    check(await fetch(tenant, full_document["document"]["id"], **params), "DocumentDetailOut")
    listing = await tenant.get("/v1/getDocuments", **params)
    assert listing.status_code == 200, listing.text
    for view in listing.json()["items"]:
        check(view, "DocumentOut")


def _closed(components: dict[str, Any]) -> dict[str, Any]:
    """The components with no property left unnamed: every object must have exactly its keys."""
    closed = copy.deepcopy(components)
    for definition in closed["schemas"].values():
        if "properties" in definition:
            definition["additionalProperties"] = False
    return closed


REAL_DTES = {
    "polar": ("other", POLAR.read_bytes()),
    "polar-cleaned": ("other", POLAR_CLEANED.read_bytes()),
    "seed": ("duemint", SEED.encode()),
    "every-part": ("duemint", RICH.encode()),
    "export": ("duemint", export_xml().encode()),
}


@pytest.mark.parametrize(("issuer", "xml"), REAL_DTES.values(), ids=REAL_DTES.keys())
async def test_a_dtes_fields_are_exactly_the_published_schema(
    tenant: Tenant, other_tenant: Tenant, issuer: str, xml: bytes
) -> None:
    """getDocument's ``dte`` is sent as it was stored, unvalidated: it must still be exactly what
    /openapi.json says it is, for every object in it."""
    owner = other_tenant if issuer == "other" else tenant
    created = await owner.post("/v1/createDocumentFromXml", {"xml": base64.b64encode(xml).decode()})
    assert created.status_code == 200, created.text
    openapi = (await owner.http.get("/openapi.json")).json()
    schema = {"$ref": "#/components/schemas/DocumentDetailOut", "components": _closed(openapi["components"])}

    doc = await fetch(owner, created.json()["id"], expandClient=1)

    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["dte"]["folio"] == int(doc["number"])
    assert doc["dte"] == created.json()["dte"]


@pytest.mark.parametrize(("huge", "status"), [(9223372036854775000, 404), (2**63 - 512, 400)])
async def test_a_body_id_near_2_63_is_judged_as_a_reader_of_doubles_judges_it(
    tenant: Tenant, huge: int, status: int
) -> None:
    # 9223372036854775000 is 2^63-1024 as a double, within the published maximum: a well-formed id.
    response = await tenant.post("/v1/updatePayment", {"id": huge, "description": "x"})

    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == "id"
