"""GET /v1/getNotes and /v1/getNote, and the note shape createDocumentFromXml answers for a note."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from dtehub.dte.pipeline import read_dte_file
from dtehub.kit.dates import today_in_santiago
from tests.conftest import FIXTURES, Tenant, assert_error, make_tenant, warnings_of
from tests.dte_factory import build_dte
from tests.notes import (
    CLIENT_RUT,
    credit_xml,
    debit_xml,
    get_note,
    invoice_xml,
    list_notes,
    note_xml,
    store,
    upload,
)

NOTE_FIELDS = {
    "id",
    "clientTaxId",
    "number",
    "createdAt",
    "issueDate",
    "code",
    "source",
    "history",
    "type",
    "typeName",
    "currency",
    "net",
    "taxes",
    "total",
    "gloss",
    "notes",
    "reference",
    "movesMoney",
    "client",
    "document",
    "files",
    "xmlChecks",
    "sii",
    "xml",
    "pdf",
}
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
UNSIGNED_CHECKS = {
    "schema": "invalid",  # no TED, TmstFirma nor Signature: what the schema requires of a real DTE
    "signature": "unsigned",
    "signer": None,
    "signedAt": None,
    "signedForm": None,
    "ted": "absent",
}
BATA_NOTE = FIXTURES / "DTE--96670340-7--61--110616.xml"


def numbers(body: dict[str, Any]) -> list[str]:
    return [item["number"] for item in body["items"]]


def number_set(body: dict[str, Any]) -> set[str]:
    found = numbers(body)
    assert body["records"]["totalRecords"] == len(found)
    return set(found)


# --- the note shape -------------------------------------------------------------------------------


async def test_credit_note_from_xml_answers_the_note_shape(tenant: Tenant) -> None:
    content = credit_xml(tenant, 7, 1190, 100, reason_text="Devolucion de mercaderia")

    note = await store(tenant, content)

    assert set(note) == NOTE_FIELDS
    assert note["id"].isdigit()
    assert (note["number"], note["code"], note["type"], note["typeName"]) == ("7", 61, "credit", "Crédito")
    assert (note["clientTaxId"], note["issueDate"], note["currency"]) == (CLIENT_RUT, "2024-01-10", "CLP")
    assert (note["net"], note["taxes"], note["total"]) == ("1000.00", "190.00", "1190.00")
    assert note["gloss"] == "Devolucion de mercaderia"
    assert note["notes"] == (
        "*** LINEAS DETALLE DTE *** NroLinDet: 1 NmbItem: Servicio QtyItem: 1 PrcItem: 1000 MontoItem: 1000 "
    )
    assert note["reference"] == {"code": "33", "number": "100", "reason": 3}
    assert note["movesMoney"] is True
    assert note["client"]["id"].isdigit()
    assert set(note["client"]) == {"id"}
    assert note["document"] is None
    assert note["files"] == []
    assert DATETIME.match(note["createdAt"])
    assert {k: v for k, v in note["xmlChecks"].items() if k != "problems"} == UNSIGNED_CHECKS
    assert {p["check"] for p in note["xmlChecks"]["problems"]} == {"schema", "signature", "ted"}


async def test_the_note_client_is_the_receiver_created_as_a_client(tenant: Tenant) -> None:
    note = await store(tenant, credit_xml(tenant, 7, 1190, 100))

    response = await tenant.get("/v1/getClient", id=note["client"]["id"])

    assert response.status_code == 200, response.text
    assert (response.json()["taxId"], response.json()["name"]) == (CLIENT_RUT, "CLIENTE DE PRUEBA LIMITADA")


async def test_debit_note_is_debit(tenant: Tenant) -> None:
    note = await store(tenant, debit_xml(tenant, 8, 238, 100))

    assert (note["code"], note["type"], note["typeName"]) == (56, "debit", "Débito")


async def test_signed_and_stamped_note_is_valid_on_every_check(tenant: Tenant) -> None:
    content = build_dte(
        61,
        9,
        tenant.rut,
        CLIENT_RUT,
        1190,
        issue_date=date(2024, 1, 10),
        references=[(33, 100, 3, "x")],
        signed=True,
    )

    note = await store(tenant, content)

    checks = note["xmlChecks"]
    assert (checks["schema"], checks["signature"], checks["ted"]) == ("valid", "valid", "valid")
    assert (checks["signer"], checks["problems"]) == (tenant.rut, [])


@pytest.mark.parametrize(
    ("namespace", "encoding"), [(False, "ISO-8859-1"), (True, "UTF-8"), (False, "UTF-8")]
)
async def test_namespace_and_encoding_do_not_change_the_note(
    tenant: Tenant, namespace: bool, encoding: str
) -> None:
    content = build_dte(
        61,
        7,
        tenant.rut,
        CLIENT_RUT,
        1190,
        issue_date=date(2024, 1, 10),
        references=[(33, 100, 1, "Anulación por error en dirección")],
        namespace=namespace,
        encoding=encoding,
    )

    note = await store(tenant, content)

    assert (note["gloss"], note["reference"]["reason"], note["total"]) == (
        "Anulación por error en dirección",
        1,
        "1190.00",
    )


async def test_note_without_references_is_kept_without_a_reference(tenant: Tenant) -> None:
    note = await store(tenant, note_xml(tenant, 61, 7, 500, references=[]))

    assert note["reference"] == {"code": None, "number": None, "reason": None}
    assert (note["document"], note["gloss"], note["movesMoney"]) == (None, "", True)


async def test_get_note_answers_what_create_answered(tenant: Tenant) -> None:
    created = await store(tenant, credit_xml(tenant, 7, 1190, 100))

    assert await get_note(tenant, created["id"]) == created
    [listed] = (await list_notes(tenant))["items"]
    assert listed == created


async def test_real_credit_note_keeps_its_reference_and_verdicts(
    session: Session, client: httpx.AsyncClient
) -> None:
    bata = make_tenant(session, client, "96670340-7", "Bata Chile S.A.")
    content = BATA_NOTE.read_bytes()
    [checked] = read_dte_file(content, max_bytes=1024 * 1024)
    assert not isinstance(checked, Exception)

    note = await store(bata, content)

    assert (note["code"], note["number"], note["type"], note["issueDate"]) == (
        61,
        "110616",
        "credit",
        "2019-08-02",
    )
    assert note["reference"] == {"code": "33", "number": "115885", "reason": 3}  # its Referencia
    assert note["gloss"] == "Comision venta corner Hites"
    assert (note["net"], note["taxes"], note["total"]) == ("48190822.00", "9156256.00", "57347078.00")
    assert note["clientTaxId"] == "81675600-6"
    assert note["document"] is None
    assert note["xmlChecks"] == checked.checks.as_json()  # exactly what the pipeline says
    # Signed bare by its issuer's signer and stamped with a real CAF: both verify as they stand.
    assert (note["xmlChecks"]["signature"], note["xmlChecks"]["ted"]) == ("valid", "valid")
    assert note["xmlChecks"]["signer"] == "23099536-2"
    assert await get_note(bata, note["id"]) == note


# --- getNote --------------------------------------------------------------------------------------


async def test_get_note_of_another_company_is_exactly_a_missing_one(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await store(other_tenant, credit_xml(other_tenant, 7, 1190, 100))
    mine = await store(tenant, credit_xml(tenant, 8, 1190, 100))

    foreign = await tenant.get("/v1/getNote", id=theirs["id"])
    missing = await tenant.get("/v1/getNote", id=str(int(mine["id"]) + 1000))

    assert_error(foreign, 404, "not_found", "id")
    assert_error(missing, 404, "not_found", "id")
    assert foreign.json()["error"]["message"].replace(theirs["id"], "N") == missing.json()["error"][
        "message"
    ].replace(str(int(mine["id"]) + 1000), "N")


@pytest.mark.parametrize(
    ("params", "code"),
    [({}, "missing_parameter"), ({"id": "abc"}, "invalid_parameter"), ({"id": "0"}, "invalid_parameter")],
)
async def test_get_note_with_a_bad_id_is_a_400(tenant: Tenant, params: dict[str, str], code: str) -> None:
    assert_error(await tenant.get("/v1/getNote", **params), 400, code, "id")


async def test_notes_need_a_token(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/getNotes"), 401)
    assert_error(await client.get("/v1/getNote", params={"id": "1"}), 401)


# --- getNotes: envelope and paging ----------------------------------------------------------------


async def test_empty_company_lists_no_notes(tenant: Tenant) -> None:
    assert await list_notes(tenant) == {
        "records": {"totalRecords": 0, "items": 0, "page": 1, "pages": 0},
        "items": [],
    }


async def test_pages_count_records_items_and_pages(tenant: Tenant) -> None:
    for folio in range(1, 6):
        await store(tenant, credit_xml(tenant, folio, 100 * folio, 100))

    first = await list_notes(tenant, resultsPerPage=2, orderBy=3, order="ASC")
    last = await list_notes(tenant, resultsPerPage=2, page=3, orderBy=3, order="ASC")
    beyond = await list_notes(tenant, resultsPerPage=2, page=4)

    assert first["records"] == {"totalRecords": 5, "items": 2, "page": 1, "pages": 3}
    assert numbers(first) == ["1", "2"]
    assert last["records"] == {"totalRecords": 5, "items": 1, "page": 3, "pages": 3}
    assert numbers(last) == ["5"]
    assert beyond["records"] == {"totalRecords": 5, "items": 0, "page": 4, "pages": 3}
    assert beyond["items"] == []


@pytest.mark.parametrize(("size", "served"), [(0, 50), (101, 100), ("x", 50)])
async def test_page_size_outside_1_to_100_is_served_within_with_a_warning(
    tenant: Tenant, size: object, served: int
) -> None:
    response = await tenant.get("/v1/getNotes", resultsPerPage=size)

    assert warnings_of(response) == [{"parameter": "resultsPerPage", "value": str(size), "used": served}]


async def test_page_size_defaults_to_50_and_100_is_accepted(tenant: Tenant) -> None:
    body = await list_notes(tenant, resultsPerPage=100)
    assert body["records"]["pages"] == 0
    default = await list_notes(tenant)
    assert default["records"]["page"] == 1


async def test_list_holds_only_the_callers_notes(tenant: Tenant, other_tenant: Tenant) -> None:
    await store(tenant, credit_xml(tenant, 1, 100, 100))
    await store(other_tenant, credit_xml(other_tenant, 2, 100, 100))

    assert number_set(await list_notes(tenant)) == {"1"}
    assert number_set(await list_notes(other_tenant)) == {"2"}


async def test_expand_file_is_accepted_and_notes_have_no_files(tenant: Tenant) -> None:
    await store(tenant, credit_xml(tenant, 1, 100, 100))

    [item] = (await list_notes(tenant, expandFile=1))["items"]

    assert item["files"] == []


# --- getNotes: filters ----------------------------------------------------------------------------


@pytest.fixture
async def mixed(tenant: Tenant) -> dict[str, Any]:
    """Notes of two clients, both types and all four codes, on three days, some linked to an invoice."""
    invoice = await store(tenant, invoice_xml(tenant, 100, 5000))
    other_invoice = await store(tenant, invoice_xml(tenant, 200, 5000, receiver="96874030-K"))
    export = await store(tenant, invoice_xml(tenant, 300, 9000, code=110))
    rows = [
        credit_xml(tenant, 1, 100, 100, issue_date=date(2024, 1, 5)),
        debit_xml(tenant, 2, 200, 100, issue_date=date(2024, 1, 10)),
        credit_xml(tenant, 3, 300, 200, issue_date=date(2024, 1, 10), receiver="96874030-K"),
        note_xml(tenant, 112, 4, 400, ref_code=110, ref_folio=300, issue_date=date(2024, 2, 1)),
        note_xml(tenant, 111, 5, 500, ref_code=110, ref_folio=300, issue_date=date(2024, 2, 1)),
        credit_xml(tenant, 6, 600, 999, issue_date=date(2024, 2, 2)),  # its invoice is not in dtehub
    ]
    notes = [await store(tenant, content) for content in rows]
    return {"invoice": invoice, "other_invoice": other_invoice, "export": export, "notes": notes}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"since": "2024-01-10"}, {"2", "3", "4", "5", "6"}),
        ({"until": "2024-01-10"}, {"1", "2", "3"}),
        ({"since": "2024-01-10", "until": "2024-01-10"}, {"2", "3"}),
        ({"since": "2024-01-06", "until": "2024-01-09"}, set()),
        ({"dateBy": 1, "since": "2024-02-01"}, {"4", "5", "6"}),
        ({"type": "credit"}, {"1", "3", "4", "6"}),
        ({"type": "debit"}, {"2", "5"}),
        ({"type": "DEBIT"}, {"2", "5"}),
        ({"number": "3"}, {"3"}),
        ({"number": "33"}, set()),
        ({"code": 61}, {"1", "3", "6"}),
        ({"code": 56}, {"2"}),
        ({"code": 112}, {"4"}),
        ({"code": 111}, {"5"}),
        ({"currency": "CLP"}, {"1", "2", "3", "4", "5", "6"}),
        ({"currency": "clp"}, {"1", "2", "3", "4", "5", "6"}),
        ({"currency": "USD"}, set()),
        ({"clientTaxId": "96874030-K"}, {"3"}),
        ({"clientTaxId": "96.874.030-k"}, {"3"}),
        ({"clientTaxId": "99999999-9", "type": "credit", "since": "2024-01-06"}, {"4", "6"}),
    ],
)
@pytest.mark.usefixtures("mixed")
async def test_filter(tenant: Tenant, params: dict[str, Any], expected: set[str]) -> None:
    assert number_set(await list_notes(tenant, **params)) == expected


async def test_document_id_filter_finds_the_notes_of_that_document(
    tenant: Tenant, mixed: dict[str, Any]
) -> None:
    assert number_set(await list_notes(tenant, documentId=mixed["invoice"]["id"])) == {"1", "2"}
    assert number_set(await list_notes(tenant, documentId=mixed["other_invoice"]["id"])) == {"3"}
    assert number_set(await list_notes(tenant, documentId=mixed["export"]["id"])) == {"4", "5"}


async def test_client_id_filter(tenant: Tenant, mixed: dict[str, Any]) -> None:
    notes = mixed["notes"]
    other_client = notes[2]["client"]["id"]

    assert number_set(await list_notes(tenant, clientId=other_client)) == {"3"}
    assert number_set(await list_notes(tenant, clientId=notes[0]["client"]["id"])) == {
        "1",
        "2",
        "4",
        "5",
        "6",
    }


async def test_creation_date_filter_uses_today_in_santiago(tenant: Tenant) -> None:
    await store(tenant, credit_xml(tenant, 1, 100, 100, issue_date=date(2020, 5, 5)))
    today = today_in_santiago()

    assert number_set(await list_notes(tenant, dateBy=2, since=str(today), until=str(today))) == {"1"}
    assert number_set(await list_notes(tenant, dateBy=2, until=str(today - timedelta(days=1)))) == set()
    assert number_set(await list_notes(tenant, dateBy=2, since="2020-05-05", until="2020-05-05")) == set()
    assert number_set(await list_notes(tenant, since="2020-05-05", until="2020-05-05")) == {"1"}


async def test_another_companys_ids_find_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs_invoice = await store(other_tenant, invoice_xml(other_tenant, 100))
    theirs = await store(other_tenant, credit_xml(other_tenant, 1, 100, 100))
    await store(tenant, credit_xml(tenant, 2, 100, 100))

    assert number_set(await list_notes(tenant, documentId=theirs_invoice["id"])) == set()
    assert number_set(await list_notes(tenant, clientId=theirs["client"]["id"])) == set()
    assert number_set(await list_notes(other_tenant, documentId=theirs_invoice["id"])) == {"1"}


async def test_unknown_client_tax_id_finds_nothing(tenant: Tenant) -> None:
    await store(tenant, credit_xml(tenant, 1, 100, 100))

    assert number_set(await list_notes(tenant, clientTaxId="11111111-1")) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"code": 33}, "code"),
        ({"code": "x"}, "code"),
        ({"type": "refund"}, "type"),
        ({"since": "2024-13-01"}, "since"),
        ({"until": "ayer"}, "until"),
        ({"currency": "PESOS"}, "currency"),
        ({"documentId": 0}, "documentId"),
        ({"clientId": "x"}, "clientId"),
        ({"clientTaxId": "76453707-5"}, "clientTaxId"),
    ],
)
async def test_a_filter_it_cannot_read_is_a_400(tenant: Tenant, params: dict[str, Any], field: str) -> None:
    assert_error(await tenant.get("/v1/getNotes", **params), 400, "invalid_parameter", field)


@pytest.mark.parametrize(
    ("params", "used"),
    [
        ({"dateBy": 3}, 1),
        ({"orderBy": 5}, 1),
        ({"orderBy": 0}, 1),
        ({"order": "UP"}, "DESC"),
        ({"page": 0}, 1),
        ({"expandFile": "maybe"}, 0),
    ],
)
async def test_an_option_it_cannot_use_is_its_default_with_a_warning(
    tenant: Tenant, params: dict[str, Any], used: object
) -> None:
    for folio in (1, 2):
        await store(tenant, credit_xml(tenant, folio, 100, 100))
    [(parameter, value)] = params.items()

    response = await tenant.get("/v1/getNotes", **params)

    assert warnings_of(response) == [{"parameter": parameter, "value": str(value), "used": used}]
    assert response.json()["items"] == (await list_notes(tenant))["items"]


# --- getNotes: ordering ---------------------------------------------------------------------------


@pytest.fixture
async def four_to_sort(tenant: Tenant) -> None:
    # folio, issue date, total — created in this order.
    rows = [
        (9, date(2024, 3, 1), 400),
        (10, date(2024, 1, 15), 700),
        (100, date(2024, 2, 10), 300),
        (2, date(2024, 2, 10), 300),
    ]
    for folio, issued, total in rows:
        await store(tenant, credit_xml(tenant, folio, total, 555, issue_date=issued))


ASCENDING = {
    1: ["10", "100", "2", "9"],  # issue date; 100 and 2 share one, the earlier created first
    2: ["9", "10", "100", "2"],  # creation
    3: ["2", "9", "10", "100"],  # number, numerically
    4: ["100", "2", "9", "10"],  # total; 100 and 2 share one, the earlier created first
}


@pytest.mark.usefixtures("four_to_sort")
@pytest.mark.parametrize("order_by", sorted(ASCENDING))
async def test_order_by_ascending(tenant: Tenant, order_by: int) -> None:
    assert numbers(await list_notes(tenant, orderBy=order_by, order="ASC")) == ASCENDING[order_by]


@pytest.mark.usefixtures("four_to_sort")
@pytest.mark.parametrize("order_by", sorted(ASCENDING))
async def test_order_by_descending_is_the_exact_reverse(tenant: Tenant, order_by: int) -> None:
    expected = list(reversed(ASCENDING[order_by]))

    assert numbers(await list_notes(tenant, orderBy=order_by, order="DESC")) == expected
    assert numbers(await list_notes(tenant, orderBy=order_by)) == expected  # DESC is the default
    assert numbers(await list_notes(tenant, orderBy=order_by, order="desc")) == expected


@pytest.mark.usefixtures("four_to_sort")
async def test_default_order_is_issue_date_descending(tenant: Tenant) -> None:
    assert numbers(await list_notes(tenant)) == list(reversed(ASCENDING[1]))


@pytest.mark.parametrize("order_by", [1, 2, 3, 4])
@pytest.mark.parametrize("order", ["ASC", "DESC"])
async def test_ties_page_without_gaps_or_repeats(tenant: Tenant, order_by: int, order: str) -> None:
    # Same issue date and total; four share folio 5 (one per code), so every order has ties.
    contents = [
        note_xml(tenant, code, 5, 100, ref_folio=100, issue_date=date(2024, 1, 10))
        for code in (61, 56, 112, 111)
    ] + [credit_xml(tenant, 6, 100, 100, issue_date=date(2024, 1, 10))]
    for content in contents:
        await store(tenant, content)
    whole = [item["id"] for item in (await list_notes(tenant, orderBy=order_by, order=order))["items"]]

    paged: list[str] = []
    for page in (1, 2, 3):
        body = await list_notes(tenant, orderBy=order_by, order=order, resultsPerPage=2, page=page)
        paged += [item["id"] for item in body["items"]]

    assert paged == whole
    assert len(set(whole)) == 5
    if order_by != 3:  # all tie: they go by creation
        assert whole == sorted(whole, key=int, reverse=order == "DESC")


async def test_upload_of_a_note_for_another_issuer_is_refused(tenant: Tenant, other_tenant: Tenant) -> None:
    response = await upload(tenant, credit_xml(other_tenant, 1, 100, 100))

    assert_error(response, 422, "issuer_mismatch", "xml")
    assert (await list_notes(tenant))["records"]["totalRecords"] == 0
