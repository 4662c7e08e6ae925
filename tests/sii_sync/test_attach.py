"""An XML that arrives after the sync created its document from SII's Registro de Ventas attaches to it:
one document, which gains the XML's verdicts, detail, TED, PDF and xml link; a document that already has
XML still conflicts. The XML is the signed truth: where it differs from the register's row, the XML's
values stay and the difference is a problem on the document."""

from __future__ import annotations

import base64
import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.db import unit_of_work
from dtehub.ingest.importer import Outcome, import_sources, walk_sources
from dtehub.kit.dates import utcnow
from dtehub.models import Document, Note
from dtehub.sii_sync.store import store_period
from tests.conftest import LINKS, Tenant
from tests.dte_factory import build_dte
from tests.sii_sync.conftest import Committed
from tests.sii_sync.rows import credit_note, invoice

CUSTOMER = "76086428-5"
DAY = date(2026, 2, 10)


def invoice_dte(company: str, folio: int, net: int, *, day: date = DAY) -> bytes:
    total = net + round(net * 0.19)
    return build_dte(
        33, folio, company, CUSTOMER, total, issue_date=day, net=net, receiver_name="CLIENTE UNO SPA",
        signed=True,
    )  # fmt: skip


def credit_note_dte(company: str, folio: int, net: int, refers_to: int) -> bytes:
    total = net + round(net * 0.19)
    return build_dte(
        61, folio, company, CUSTOMER, total, issue_date=date(2026, 2, 20), net=net,
        references=[(33, refers_to, 3, "Corrige montos")], signed=True,
    )  # fmt: skip


async def upload(tenant: Tenant, content: bytes) -> httpx.Response:
    return await tenant.post("/v1/createDocumentFromXml", {"xml": base64.b64encode(content).decode()})


def count(session: Session, model: type[Document] | type[Note], company_id: int) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.company_id == company_id)) or 0


async def document(tenant: Tenant, document_id: str) -> dict[str, Any]:
    answer = await tenant.get("/v1/getDocument", id=document_id)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_an_xml_sent_by_the_api_attaches_to_its_register_only_document(
    tenant: Tenant, session: Session, client: httpx.AsyncClient
) -> None:
    stored = store_period(session, tenant.company_id, [invoice(101, 100_000)], LINKS, utcnow())
    session.commit()
    [document_id] = stored.documents.values()
    before = await document(tenant, str(document_id))
    assert before["xmlChecks"] is None
    assert before["dte"] is None
    assert (await client.get(before["xml"])).status_code == 404

    xml_bytes = invoice_dte(tenant.rut, 101, 100_000)
    answer = await upload(tenant, xml_bytes)

    assert answer.status_code == 200, answer.text
    attached = answer.json()
    assert attached["id"] == str(document_id)
    assert attached["source"] == "sii"
    assert attached["total"] == "119000.00"
    assert attached["xmlChecks"]["signature"] == "valid"
    assert attached["xmlChecks"]["ted"] == "valid"
    assert attached["xmlChecks"]["problems"] == []
    assert attached["dte"]["lines"]
    assert attached["url"] == before["url"]  # the customer's links stay the same
    assert count(session, Document, tenant.company_id) == 1
    xml = await client.get(attached["xml"])
    assert xml.status_code == 200
    assert b"<Folio>101</Folio>" in xml.content
    pdf = await client.get(attached["pdf"])
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")

    # The very same XML again answers the document; another XML for it is a conflict, as for any.
    again = await upload(tenant, xml_bytes)
    assert again.status_code == 200
    assert again.json()["id"] == str(document_id)
    other = await upload(tenant, invoice_dte(tenant.rut, 101, 100_001))
    assert other.status_code == 409
    assert count(session, Document, tenant.company_id) == 1


async def test_the_xml_amounts_win_and_the_register_disagreement_stays_on_the_document(
    tenant: Tenant, session: Session
) -> None:
    store_period(
        session, tenant.company_id, [invoice(102, 100_000), credit_note(9, 10_000, refers_to=102)], LINKS,
        utcnow(),
    )  # fmt: skip
    session.commit()

    answer = await upload(tenant, invoice_dte(tenant.rut, 102, 200_000, day=date(2026, 2, 11)))

    assert answer.status_code == 200, answer.text
    attached = answer.json()
    assert attached["total"] == "238000.00"  # the signed XML's
    assert attached["amountCredit"] == "11900.00"  # its note, from the register, still counts
    assert attached["amountDue"] == "226100.00"
    assert attached["issueDate"] == "2026-02-11"
    problems = [p for p in attached["xmlChecks"]["problems"] if p["check"] == "sii_register"]
    assert [p["code"] for p in problems] == ["register_disagrees", "register_disagrees"]
    assert "SII's Registro de Ventas says $ 119.000" in problems[0]["message"]
    assert "2026-02-10" in problems[1]["message"]


async def test_a_note_xml_attaches_to_its_register_only_note(tenant: Tenant, session: Session) -> None:
    stored = store_period(
        session, tenant.company_id, [invoice(103, 100_000), credit_note(10, 10_000, refers_to=103)], LINKS,
        utcnow(),
    )  # fmt: skip
    session.commit()
    [note_id] = stored.notes.values()

    answer = await upload(tenant, credit_note_dte(tenant.rut, 10, 10_000, refers_to=103))

    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == str(note_id)
    assert answer.json()["xmlChecks"]["signature"] == "valid"
    assert count(session, Note, tenant.company_id) == 1


async def test_a_document_that_has_its_xml_still_conflicts(tenant: Tenant, session: Session) -> None:
    first = await upload(tenant, invoice_dte(tenant.rut, 104, 100_000))
    assert first.status_code == 200
    store_period(session, tenant.company_id, [invoice(104, 100_000)], LINKS, utcnow())  # matched, not new
    session.commit()

    other = await upload(tenant, invoice_dte(tenant.rut, 104, 90_000))

    assert other.status_code == 409
    assert other.json()["error"]["code"] == "already_exists"


def test_an_imported_xml_attaches_to_its_register_only_document(committed: Committed, tmp_path: Path) -> None:
    with unit_of_work(committed.factory) as session:
        stored = store_period(session, committed.company_id, [invoice(201, 50_000)], LINKS, utcnow())
    [document_id] = stored.documents.values()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "201.xml").write_bytes(invoice_dte(committed.rut, 201, 50_000))
    (folder / "202.xml").write_bytes(invoice_dte(committed.rut, 202, 50_000))
    report = io.StringIO()

    with ThreadPoolExecutor(1) as pool:
        summary = import_sources(
            committed.factory, committed.company_id, walk_sources([folder]), executor=pool,
            max_bytes=1 << 20, links=LINKS, report=report,
        )  # fmt: skip

    assert (summary.attached, summary.documents, summary.refused_total) == (1, 1, 0)
    lines = {line["folio"]: line for line in map(json.loads, report.getvalue().splitlines())}
    assert lines[201]["outcome"] == Outcome.ATTACHED.value
    assert lines[202]["outcome"] == Outcome.IMPORTED.value
    with unit_of_work(committed.factory, writes=False) as session:
        assert count(session, Document, committed.company_id) == 2
        row = session.get(Document, document_id)
        assert row is not None
        assert row.xml_signature == "valid"


async def test_a_document_with_its_xml_keeps_a_disagreement_with_the_register_as_a_problem_once(
    tenant: Tenant, session: Session
) -> None:
    uploaded = await upload(tenant, invoice_dte(tenant.rut, 103, 100_000))
    assert uploaded.status_code == 200, uploaded.text

    for _ in range(2):  # the same register read twice: the problem is kept once
        stored = store_period(session, tenant.company_id, [invoice(103, 100_840)], LINKS, utcnow())
        session.commit()
        assert stored.created == 0

    said = (
        "Factura electrónica 103: dtehub has a total of $ 119.000, SII's register $ 120.000; dtehub's "
        "amount was kept, check which one is right"
    )
    assert stored.messages == [said]
    shown = await document(tenant, uploaded.json()["id"])
    assert shown["total"] == "119000.00"
    assert [p for p in shown["xmlChecks"]["problems"] if p["check"] == "sii_register"] == [
        {"check": "sii_register", "code": "register_disagrees", "message": said}
    ]
