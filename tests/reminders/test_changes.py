"""Reminders that follow a change: a payment received and a credit note, queued in the change's
transaction and sent by the next run to the client's contacts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import LINKS
from tests.dte_factory import build_dte
from tests.reminders.conftest import SmtpServer, World, reminder_settings

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.dte.pipeline import CheckedDte, read_dte_file
from dtehub.ingest import service as ingest
from dtehub.kit.dates import today_in_santiago
from dtehub.mail.transport import SmtpTransport
from dtehub.models import Company, Contact, Document, Note, Payment
from dtehub.payments import service as payments
from dtehub.payments.schemas import PaymentCreate
from dtehub.reminders import service

RECEIVER = "96874030-K"


@pytest.fixture
def changes(factory: sessionmaker[Session]) -> Iterator[World]:
    world = World(factory)
    yield world
    with unit_of_work(factory) as session:  # payments and notes first: clients refuse to go before them
        session.execute(delete(Payment).where(Payment.company_id == world.company_id))
        session.execute(delete(Note).where(Note.company_id == world.company_id))
    world.delete()


def _checked(world: World, code: int, folio: int, total: int, **options: object) -> CheckedDte:
    with unit_of_work(world.factory) as session:
        company = session.get(Company, world.company_id)
        assert company is not None
        rut = company.rut
    content = build_dte(code, folio, rut, RECEIVER, total, issue_date=today_in_santiago(), **options)  # type: ignore[arg-type]
    [checked] = read_dte_file(content, max_bytes=1024 * 1024)
    assert not isinstance(checked, Exception)
    return checked


def _invoice_with_a_contact(world: World, folio: int, total: int) -> int:
    with unit_of_work(world.factory) as session:
        stored = ingest.store(session, world.company_id, _checked(world, 33, folio, total), LINKS)
        document = session.get(Document, stored.id)
        assert document is not None
        session.add(
            Contact(company_id=world.company_id, client_id=document.client_id, email="pagos@cliente.cl")
        )
        return stored.id


def _run(world: World, settings: Settings, smtp: SmtpServer) -> service.RunSummary:
    transport = SmtpTransport(smtp.url, timeout=5)
    try:
        return service.run(
            world.factory, reminder_settings(settings), transport=transport, company_id=world.company_id
        )
    finally:
        transport.close()


def test_a_reconciled_payment_sends_its_receipt_once(
    changes: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    document_id = _invoice_with_a_contact(changes, 901, 119_000)
    _run(changes, settings, smtp_server)  # the invoice's own new-document notice
    smtp_server.recorder.received.clear()
    with unit_of_work(changes.factory) as session:
        body = {"date": today_in_santiago().isoformat(), "amount": "50000", "clientTaxId": RECEIVER}
        body["documents"] = [{"id": str(document_id), "amount": "50000"}]  # type: ignore[assignment]
        payments.create_payment(session, changes.company_id, PaymentCreate.model_validate(body), LINKS)

    first = _run(changes, settings, smtp_server)
    again = _run(changes, settings, smtp_server)

    [received] = smtp_server.recorder.received
    assert received.rcpt_tos == ["pagos@cliente.cl"]
    assert received.message["Subject"] == f"{changes_name(changes)}: recibimos su pago de $ 50.000"
    assert (first.sent, again.sent) == (1, 0)


def test_a_credit_note_on_an_invoice_sends_its_notice(
    changes: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    _invoice_with_a_contact(changes, 902, 119_000)
    _run(changes, settings, smtp_server)
    smtp_server.recorder.received.clear()
    with unit_of_work(changes.factory) as session:
        note = _checked(changes, 61, 77, 19_000, references=[(33, 902, 3, "Descuento por pronto pago")])
        ingest.store(session, changes.company_id, note, LINKS)

    summary = _run(changes, settings, smtp_server)

    assert summary.sent == 1
    [received] = smtp_server.recorder.received
    text = received.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "nota de crédito" in str(received.message["Subject"]).lower()
    assert "$ 19.000" in text
    assert "$ 100.000" in text  # what the invoice owes now
    assert "Motivo: Descuento por pronto pago" in text


def changes_name(world: World) -> str:
    with unit_of_work(world.factory) as session:
        company = session.get(Company, world.company_id)
        assert company is not None
        return company.name
