"""One period of SII's register stored as documents and notes: created from the rows through the one insert
path, matched by (type, folio) afterwards, amounts never overwritten, notes linked either way round."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.kit.dates import utcnow
from dtehub.models import Client, Document, Note
from dtehub.sii_sync.store import store_period
from tests.conftest import LINKS, Tenant
from tests.sii_sync.rows import Row, credit_note, invoice


async def test_new_documents_come_from_the_register_and_show_as_any_other(
    tenant: Tenant, session: Session
) -> None:
    rows = [
        invoice(101, 100_000),
        invoice(102, 50_000, rut="96670340-7"),
        Row(34, 7, date(2026, 2, 11), 0, 0, 30_000, "76086428-5", "CLIENTE UNO SPA", exempt=30_000),
        credit_note(9, 10_000, refers_to=101),
        Row(39, 1, date(2026, 2, 1), 1000, 190, 1190, "66666666-6", "BOLETA"),  # never a document
    ]

    stored = store_period(session, tenant.company_id, rows, LINKS, utcnow())
    session.commit()

    assert stored.created == 4
    assert stored.messages == []
    answer = await tenant.get("/v1/getDocuments", orderBy=3)
    documents = {item["number"]: item for item in answer.json()["items"]}
    assert set(documents) == {"101", "102", "7"}
    first = documents["101"]
    assert (first["total"], first["net"], first["taxes"]) == ("119000.00", "100000.00", "19000.00")
    assert first["amountCredit"] == "11900.00"  # its credit note counts
    assert first["amountDue"] == "107100.00"
    assert documents["7"]["taxes"] == "0.00"
    assert {item["source"] for item in documents.values()} == {"sii"}
    clients = session.scalars(select(Client.tax_id).where(Client.company_id == tenant.company_id)).all()
    assert sorted(clients) == ["76086428-5", "96670340-7"]


def test_the_same_period_twice_creates_nothing_twice(tenant: Tenant, session: Session) -> None:
    rows = [invoice(101, 100_000), credit_note(9, 10_000, refers_to=101)]
    store_period(session, tenant.company_id, rows, LINKS, utcnow())

    again = store_period(session, tenant.company_id, rows, LINKS, utcnow())

    assert again.created == 0
    assert set(again.existing_documents) == {(33, "101")}
    assert set(again.existing_notes) == {(61, "9")}
    count = session.scalar(
        select(func.count()).select_from(Document).where(Document.company_id == tenant.company_id)
    )
    assert count == 1


def test_a_note_that_came_first_is_linked_when_its_invoice_arrives(tenant: Tenant, session: Session) -> None:
    store_period(session, tenant.company_id, [credit_note(9, 10_000, refers_to=101)], LINKS, utcnow())
    store_period(session, tenant.company_id, [invoice(101, 100_000)], LINKS, utcnow())

    note = session.scalars(select(Note).where(Note.company_id == tenant.company_id)).one()
    document = session.scalars(select(Document).where(Document.company_id == tenant.company_id)).one()
    assert note.document_id == document.id
    assert document.credit_cents == 1_190_000


async def test_amounts_dtehub_has_are_kept_and_a_disagreement_is_said(
    tenant: Tenant, client: httpx.AsyncClient, session: Session
) -> None:
    created = await tenant.post("/v1/createClient", {"name": "CLIENTE UNO SPA", "taxId": "76086428-5"})
    await tenant.post(
        "/v1/createDocument",
        {"clientId": created.json()["id"], "number": "101", "code": 33, "issueDate": "2026-02-10",
         "total": 119000, "taxes": 19000},
    )  # fmt: skip

    stored = store_period(session, tenant.company_id, [invoice(101, 100_840)], LINKS, utcnow())

    assert stored.created == 0
    assert stored.messages == [
        "Factura electrónica 101: dtehub has a total of $ 119.000, SII's register $ 120.000; "
        "dtehub's amount was kept, check which one is right"
    ]
    document = session.scalars(select(Document).where(Document.company_id == tenant.company_id)).one()
    assert document.total_cents == 11_900_000


async def test_a_note_known_only_from_the_register_shows_without_xml(
    tenant: Tenant, session: Session
) -> None:
    store_period(
        session, tenant.company_id, [invoice(101, 100_000), credit_note(9, 10_000, 101)], LINKS, utcnow()
    )
    session.commit()

    [note] = (await tenant.get("/v1/getNotes")).json()["items"]
    assert note["xmlChecks"] is None
    assert note["source"] == "sii"
    assert note["reference"]["number"] == "101"
    assert note["document"] is not None
    for link in (note["xml"], note["pdf"]):
        answer = await tenant.http.get(link.removeprefix(LINKS.base))
        assert answer.status_code in (200, 404), (link, answer.status_code)
