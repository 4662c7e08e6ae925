"""Notes linked to the document their reference names, and what they do to what is owed on it.

Everything is sent and read through the API, as an integration would: createDocumentFromXml with
the invoice and its notes in either order, then getDocument, getNote and getNotes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from dtehub.dte.pipeline import CheckedDte
from dtehub.errors import DtehubError
from dtehub.ingest import service as ingest
from dtehub.kit.dates import today_in_santiago
from dtehub.models import Document, Note
from tests.conftest import LINKS, Tenant, assert_error
from tests.dte_factory import Reference
from tests.notes import (
    balance,
    credit_xml,
    debit_xml,
    get_document,
    get_note,
    invoice_xml,
    list_notes,
    note_xml,
    store,
    upload,
)

INVOICE = 100


# --- arrival order --------------------------------------------------------------------------------


@pytest.mark.parametrize("note_first", [True, False], ids=["note-first", "invoice-first"])
async def test_either_order_links_the_note_and_gives_the_same_balance(
    tenant: Tenant, note_first: bool
) -> None:
    invoice = invoice_xml(tenant, INVOICE, 1190)
    note = credit_xml(tenant, 7, 190, INVOICE)

    if note_first:
        stored_note = await store(tenant, note)
        assert stored_note["document"] is None  # its invoice is not in dtehub yet
        document = await store(tenant, invoice)
    else:
        document = await store(tenant, invoice)
        stored_note = await store(tenant, note)
        assert stored_note["document"] == {"id": document["id"]}  # linked at once

    assert (await get_note(tenant, stored_note["id"]))["document"] == {"id": document["id"]}
    seen = await get_document(tenant, document["id"])
    assert balance(seen) == ("1190.00", "190.00", "0.00", "1000.00", 2, "Por vencer")
    assert [n["id"] for n in seen["creditDebitNotes"]] == [stored_note["id"]]


@pytest.mark.parametrize("note_first", [True, False], ids=["notes-first", "invoice-first"])
async def test_several_notes_in_either_order_give_identical_invoices(
    tenant: Tenant, note_first: bool
) -> None:
    notes = [
        credit_xml(tenant, 1, 300, INVOICE),
        debit_xml(tenant, 2, 100, INVOICE),
        credit_xml(tenant, 3, 0, INVOICE, reason=2, reason_text="Corrige giro del receptor"),
    ]
    invoice = invoice_xml(tenant, INVOICE, 1190)
    for content in [*notes, invoice] if note_first else [invoice, *notes]:
        await store(tenant, content)

    [document] = (await tenant.get("/v1/getDocuments")).json()["items"]
    seen = await get_document(tenant, document["id"])

    assert balance(seen) == ("1190.00", "300.00", "100.00", "990.00", 2, "Por vencer")
    assert [n["number"] for n in seen["creditDebitNotes"]] == ["1", "2", "3"]


# --- what notes do to the balance -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_to_due", "status", "status_name"), [(30, 2, "Por vencer"), (-5, 3, "Vencida")]
)
async def test_partial_credit_lowers_what_is_due_and_keeps_the_status(
    tenant: Tenant, days_to_due: int, status: int, status_name: str
) -> None:
    due = today_in_santiago() + timedelta(days=days_to_due)
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190, due_date=due))

    await store(tenant, credit_xml(tenant, 7, 400, INVOICE))

    seen = await get_document(tenant, document["id"])
    assert balance(seen) == ("1190.00", "400.00", "0.00", "790.00", status, status_name)


async def test_credits_reaching_the_total_void_the_invoice(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))

    await store(tenant, credit_xml(tenant, 7, 590, INVOICE))
    assert (await get_document(tenant, document["id"]))["status"] == 2
    await store(tenant, credit_xml(tenant, 8, 600, INVOICE))

    seen = await get_document(tenant, document["id"])
    assert balance(seen) == ("1190.00", "1190.00", "0.00", "0.00", 4, "Anulada")


async def test_credits_must_also_cover_the_debits_to_void(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))
    await store(tenant, debit_xml(tenant, 1, 110, INVOICE))

    await store(tenant, credit_xml(tenant, 7, 1190, INVOICE))
    partly = await get_document(tenant, document["id"])
    assert balance(partly) == ("1190.00", "1190.00", "110.00", "110.00", 2, "Por vencer")

    await store(tenant, credit_xml(tenant, 8, 110, INVOICE))
    voided = await get_document(tenant, document["id"])
    assert balance(voided) == ("1190.00", "1300.00", "110.00", "0.00", 4, "Anulada")


async def test_voiding_credit_note_voids_even_for_a_smaller_amount(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))

    note = await store(tenant, credit_xml(tenant, 7, 100, INVOICE, reason=1, reason_text="Anula factura"))

    assert note["reference"] == {"code": "33", "number": str(INVOICE), "reason": 1}
    seen = await get_document(tenant, document["id"])
    assert balance(seen) == ("1190.00", "100.00", "0.00", "1090.00", 4, "Anulada")


async def test_text_correction_moves_no_money_but_is_listed(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))

    note = await store(
        tenant, credit_xml(tenant, 7, 1190, INVOICE, reason=2, reason_text="Corrige razon social")
    )

    assert (note["movesMoney"], note["reference"]["reason"], note["gloss"]) == (
        False,
        2,
        "Corrige razon social",
    )
    seen = await get_document(tenant, document["id"])
    assert balance(seen) == ("1190.00", "0.00", "0.00", "1190.00", 2, "Por vencer")
    [summary] = seen["creditDebitNotes"]
    assert (summary["id"], summary["reason"], summary["movesMoney"]) == (note["id"], 2, False)
    assert [n["id"] for n in (await list_notes(tenant, documentId=document["id"]))["items"]] == [note["id"]]


async def test_debit_note_raises_what_is_due(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))

    note = await store(tenant, debit_xml(tenant, 4, 238, INVOICE, reason=3, reason_text="Intereses"))

    assert (note["type"], note["typeName"], note["code"]) == ("debit", "Débito", 56)
    seen = await get_document(tenant, document["id"])
    assert balance(seen) == ("1190.00", "0.00", "238.00", "1428.00", 2, "Por vencer")


async def test_debit_note_on_a_voided_invoice_keeps_it_voided(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))
    await store(tenant, credit_xml(tenant, 7, 100, INVOICE, reason=1))

    await store(tenant, debit_xml(tenant, 4, 50, INVOICE))

    assert (await get_document(tenant, document["id"]))["status"] == 4


async def test_get_document_lists_its_notes(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))
    credit = await store(tenant, credit_xml(tenant, 7, 119, INVOICE))
    debit = await store(tenant, debit_xml(tenant, 9, 238, INVOICE))
    await store(tenant, credit_xml(tenant, 8, 50, INVOICE + 1))  # another invoice's note

    seen = await get_document(tenant, document["id"])

    assert [(n.pop("xml"), n.pop("pdf")) for n in seen["creditDebitNotes"]] == [
        (credit["xml"], credit["pdf"]),
        (debit["xml"], debit["pdf"]),
    ]
    assert seen["creditDebitNotes"] == [
        {
            "id": credit["id"],
            "number": "7",
            "code": 61,
            "type": "credit",
            "issueDate": "2024-01-10",
            "total": "119.00",
            "reason": 3,
            "movesMoney": True,
        },
        {
            "id": debit["id"],
            "number": "9",
            "code": 56,
            "type": "debit",
            "issueDate": "2024-01-10",
            "total": "238.00",
            "reason": 3,
            "movesMoney": True,
        },
    ]


async def test_export_notes_link_to_export_invoices(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 5000, code=110))

    credit = await store(tenant, note_xml(tenant, 112, 3, 1000, ref_code=110, ref_folio=INVOICE))
    debit = await store(tenant, note_xml(tenant, 111, 4, 200, ref_code=110, ref_folio=INVOICE))

    assert (credit["type"], debit["type"]) == ("credit", "debit")
    assert credit["document"] == debit["document"] == {"id": document["id"]}
    seen = await get_document(tenant, document["id"])
    assert balance(seen) == ("5000.00", "1000.00", "200.00", "4200.00", 2, "Por vencer")


async def test_note_names_its_invoice_by_type_as_well_as_folio(tenant: Tenant) -> None:
    factura = await store(tenant, invoice_xml(tenant, INVOICE, 1190, code=33))
    exenta = await store(tenant, invoice_xml(tenant, INVOICE, 1000, code=34))

    note = await store(tenant, credit_xml(tenant, 7, 100, INVOICE, ref_code=34))

    assert note["document"] == {"id": exenta["id"]}
    assert (await get_document(tenant, exenta["id"]))["amountCredit"] == "100.00"
    assert (await get_document(tenant, factura["id"]))["amountCredit"] == "0.00"


async def test_the_reference_to_a_receivable_is_the_one_that_counts(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))
    references: list[Reference] = [("801", "OC-5521", None, "Orden de compra"), (33, INVOICE, 3, "Descuento")]

    note = await store(tenant, note_xml(tenant, 61, 7, 100, references=references))

    assert note["reference"] == {"code": "33", "number": str(INVOICE), "reason": 3}
    assert note["document"] == {"id": document["id"]}


async def test_note_naming_a_document_created_by_fields_links_to_it(tenant: Tenant) -> None:
    client = (await tenant.post("/v1/createClient", {"name": "CLIENTE", "taxId": "99999999-9"})).json()
    created = await tenant.post(
        "/v1/createDocument",
        {
            "clientId": client["id"],
            "number": str(INVOICE),
            "code": 33,
            "issueDate": "2024-01-05",
            "dueDate": str(today_in_santiago() + timedelta(days=10)),
            "total": "1190",
            "taxes": "190",
        },
    )
    assert created.status_code == 200, created.text

    note = await store(tenant, credit_xml(tenant, 7, 190, INVOICE))

    assert note["document"] == {"id": created.json()["id"]}
    assert (await get_document(tenant, created.json()["id"]))["amountDue"] == "1000.00"


async def test_a_document_created_by_fields_picks_up_the_note_that_came_first(tenant: Tenant) -> None:
    client = (await tenant.post("/v1/createClient", {"name": "CLIENTE", "taxId": "99999999-9"})).json()
    note = await store(tenant, credit_xml(tenant, 7, 190, INVOICE))
    assert note["document"] is None

    created = await tenant.post(
        "/v1/createDocument",
        {
            "clientId": client["id"],
            "number": str(INVOICE),
            "code": 33,
            "issueDate": "2024-01-05",
            "dueDate": str(today_in_santiago() + timedelta(days=10)),
            "total": "1190",
            "taxes": "190",
        },
    )

    assert created.status_code == 200, created.text
    document = created.json()
    assert (document["amountCredit"], document["amountDue"]) == ("190.00", "1000.00")
    assert [n["id"] for n in document["creditDebitNotes"]] == [note["id"]]


# --- idempotence and conflicts --------------------------------------------------------------------


async def test_the_same_note_twice_is_one_note_counted_once(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))
    content = credit_xml(tenant, 7, 190, INVOICE)

    first = await store(tenant, content)
    again = await store(tenant, content)

    assert again == first
    assert (await get_document(tenant, document["id"]))["amountCredit"] == "190.00"
    assert (await list_notes(tenant))["records"]["totalRecords"] == 1


async def test_the_same_waiting_note_twice_then_its_invoice_counts_once(tenant: Tenant) -> None:
    content = credit_xml(tenant, 7, 190, INVOICE)
    first = await store(tenant, content)
    assert (await store(tenant, content))["id"] == first["id"]

    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))

    assert (await get_document(tenant, document["id"]))["amountCredit"] == "190.00"


async def test_another_note_with_the_same_folio_is_a_conflict(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))
    await store(tenant, credit_xml(tenant, 7, 190, INVOICE))

    response = await upload(tenant, credit_xml(tenant, 7, 500, INVOICE))

    assert_error(response, 409, "already_exists", "xml")
    assert (await get_document(tenant, document["id"]))["amountCredit"] == "190.00"
    assert (await list_notes(tenant))["records"]["totalRecords"] == 1


async def test_a_debit_note_may_share_a_credit_notes_folio(tenant: Tenant) -> None:
    await store(tenant, credit_xml(tenant, 7, 190, INVOICE))

    debit = await store(tenant, debit_xml(tenant, 7, 100, INVOICE))

    assert (debit["code"], debit["number"]) == (56, "7")
    assert (await list_notes(tenant))["records"]["totalRecords"] == 2


# --- the company boundary -------------------------------------------------------------------------


async def test_a_note_never_links_to_another_companys_invoice(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = await store(other_tenant, invoice_xml(other_tenant, INVOICE, 1190))

    note = await store(tenant, credit_xml(tenant, 7, 1190, INVOICE))

    assert note["document"] is None
    assert balance(await get_document(other_tenant, theirs["id"])) == (
        "1190.00",
        "0.00",
        "0.00",
        "1190.00",
        2,
        "Por vencer",
    )
    assert (await get_document(other_tenant, theirs["id"]))["creditDebitNotes"] == []


async def test_another_companys_invoice_never_picks_up_a_waiting_note(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    note = await store(tenant, credit_xml(tenant, 7, 1190, INVOICE))

    theirs = await store(other_tenant, invoice_xml(other_tenant, INVOICE, 1190))

    assert (await get_note(tenant, note["id"]))["document"] is None
    seen = await get_document(other_tenant, theirs["id"])
    assert (seen["amountCredit"], seen["status"], seen["creditDebitNotes"]) == ("0.00", 2, [])
    assert (await list_notes(other_tenant))["records"]["totalRecords"] == 0

    mine = await store(tenant, invoice_xml(tenant, INVOICE, 1190))  # the tenant's own invoice 100
    assert (await get_note(tenant, note["id"]))["document"] == {"id": mine["id"]}
    assert (await get_document(tenant, mine["id"]))["status"] == 4


# --- references that name none of the company's documents ------------------------------------------


def _edited(content: bytes, old: str, new: str) -> bytes:
    assert old.encode() in content
    return content.replace(old.encode(), new.encode(), 1)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("<TpoDocRef>33</TpoDocRef>", "<TpoDocRef>33</TpoDocRef><IndGlobal>1</IndGlobal>"),
        ("<FolioRef>100</FolioRef>", "<FolioRef>100</FolioRef><RUTOtr>96874030-K</RUTOtr>"),
    ],
    ids=["global", "another-taxpayers"],
)
async def test_a_global_or_third_party_reference_never_links(tenant: Tenant, old: str, new: str) -> None:
    document = await store(tenant, invoice_xml(tenant, INVOICE, 1190))

    note = await store(tenant, _edited(credit_xml(tenant, 7, 1190, INVOICE), old, new))

    assert (note["document"], note["reference"]) == (None, {"code": None, "number": None, "reason": None})
    seen = await get_document(tenant, document["id"])
    assert (seen["amountCredit"], seen["status"], seen["creditDebitNotes"]) == ("0.00", 2, [])


async def test_an_overlong_folio_reference_is_kept_out_not_an_error(tenant: Tenant) -> None:
    long_folio = "F" * 41
    content = _edited(
        credit_xml(tenant, 7, 1190, INVOICE),
        f"<FolioRef>{INVOICE}</FolioRef>",
        f"<FolioRef>{long_folio}</FolioRef>",
    )

    note = await store(tenant, content)

    assert (note["document"], note["reference"]["number"]) == (None, None)


async def test_one_unit_of_work_storing_a_note_then_its_invoice_sees_the_link(
    tenant: Tenant, session: Session
) -> None:
    # Several DTEs stored one by one in one transaction, in file order.
    stored_note = ingest.store(
        session, tenant.company_id, _checked(credit_xml(tenant, 7, 190, INVOICE)), LINKS
    )
    stored_document = ingest.store(
        session, tenant.company_id, _checked(invoice_xml(tenant, INVOICE, 1190)), LINKS
    )
    note = session.get(Note, stored_note.id)
    document = session.get(Document, stored_document.id)
    assert note is not None
    assert document is not None

    assert note.document_id == document.id
    assert (document.credit_cents, document.due_cents) == (19_000, 100_000)


@pytest.mark.parametrize("note_first", [True, False])
async def test_one_batch_holding_a_note_and_its_invoice_links_them_in_either_order(
    tenant: Tenant, session: Session, note_first: bool
) -> None:
    # What an import does: a batch of DTEs stored together, in file order.
    dtes = [
        ingest.Incoming(_checked(credit_xml(tenant, 7, 190, INVOICE))),
        ingest.Incoming(_checked(invoice_xml(tenant, INVOICE, 1190))),
    ]
    outcomes = ingest.store_many(session, tenant.company_id, dtes if note_first else dtes[::-1], LINKS)
    assert all(isinstance(outcome, ingest.Stored) for outcome in outcomes)

    document = (await tenant.get("/v1/getDocuments")).json()["items"][0]
    assert (document["amountCredit"], document["amountDue"]) == ("190.00", "1000.00")
    [note] = (await tenant.get("/v1/getNotes")).json()["items"]
    assert note["document"] == {"id": document["id"]}


async def test_one_batch_tells_repeats_and_conflicts_apart(tenant: Tenant, session: Session) -> None:
    invoice = _checked(invoice_xml(tenant, INVOICE, 1190))
    other = _checked(invoice_xml(tenant, INVOICE, 2380))
    foreign = _checked(invoice_xml(tenant, INVOICE + 1, 1190).replace(tenant.rut.encode(), b"76399752-9"))

    outcomes = ingest.store_many(
        session, tenant.company_id, [ingest.Incoming(d) for d in (invoice, invoice, other, foreign)], LINKS
    )

    first, repeat, conflict, refused = outcomes
    assert isinstance(first, ingest.Stored)
    assert first.created
    assert repeat == ingest.Stored(first.kind, first.id, created=False)
    assert isinstance(conflict, DtehubError)
    assert conflict.code == "already_exists"
    assert isinstance(refused, DtehubError)
    assert refused.code == "issuer_mismatch"
    assert (await tenant.get("/v1/getDocuments")).json()["records"]["totalRecords"] == 1


def _checked(content: bytes) -> CheckedDte:
    return ingest.read_single_dte(content, max_bytes=1024 * 1024)


async def test_a_folio_reference_with_leading_zeros_names_the_same_invoice(tenant: Tenant) -> None:
    invoice = await store(tenant, invoice_xml(tenant, 100, 1190))

    note = await store(tenant, note_xml(tenant, 61, 7, 190, references=[(33, "000100", 3, "Descuento")]))

    assert note["document"] == {"id": invoice["id"]}
    assert note["reference"]["number"] == "100"
    assert (await get_document(tenant, invoice["id"]))["amountCredit"] == "190.00"


@pytest.mark.parametrize("note_first", [False, True])
async def test_a_reference_to_type_0_never_touches_a_document_without_code(
    tenant: Tenant, note_first: bool
) -> None:
    """A document created by fields without a code is stored with code 0; a reference with TpoDocRef 0
    names no document dtehub keeps and must not reach it, in either order."""
    client = (await tenant.post("/v1/createClient", {"name": "CLIENTE", "taxId": "99999999-9"})).json()
    body = {
        "clientId": client["id"],
        "number": "5",
        "issueDate": "2024-01-05",
        "total": "1190",
        "taxes": "190",
    }
    note_dte = note_xml(tenant, 61, 8, 1190, references=[(0, "5", 1, "Anula")])
    if note_first:
        note = await store(tenant, note_dte)
    created = await tenant.post("/v1/createDocument", body)
    assert created.status_code == 200, created.text
    if not note_first:
        note = await store(tenant, note_dte)

    assert (await get_note(tenant, note["id"]))["document"] is None
    after = await get_document(tenant, created.json()["id"])
    assert (after["amountCredit"], after["creditDebitNotes"]) == ("0.00", [])
    assert after["status"] != 4
