"""A held document (bought through a cession) is reminded like any other: to its debtor's contacts, in the
name of the company that holds it and collects it."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import LINKS
from tests.factoring.aecs import aec_to
from tests.reminders.conftest import SmtpServer, World, reminder_settings

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.dte.aec import MAX_AEC_BYTES
from dtehub.factoring import holding
from dtehub.mail.transport import SmtpTransport
from dtehub.models import Company, Contact, Document
from dtehub.reminders import service


def test_a_held_document_is_reminded_in_the_holders_name(
    world: World, settings: Settings, smtp_server: SmtpServer, factory: sessionmaker[Session]
) -> None:
    world.update_company(reminder_days_before=3)
    with unit_of_work(factory) as session:
        company = session.get(Company, world.company_id)
        assert company is not None
        holder = company.rut
    with unit_of_work(factory) as session:
        held = holding.hold_from_aec(
            session, world.company_id, aec_to(holder, 4001), LINKS, max_bytes=MAX_AEC_BYTES
        )
    with unit_of_work(factory) as session:
        document = session.get(Document, held.document_id)
        assert document is not None
        assert document.due_date == date(2026, 12, 27)
        session.add(
            Contact(company_id=world.company_id, client_id=document.client_id, email="pagos@deudora.cl")
        )

    transport = SmtpTransport(smtp_server.url, timeout=5)
    try:
        summary = service.run(
            factory,
            reminder_settings(settings),
            day=date(2026, 12, 27) - timedelta(days=3),
            transport=transport,
            company_id=world.company_id,
        )
    finally:
        transport.close()

    assert summary.sent == 1
    [received] = smtp_server.recorder.received
    assert received.rcpt_tos == ["pagos@deudora.cl"]
    name = "FERRETERÍA O'HIGGINS & CÍA SPA"
    assert received.message["Subject"] == f"{name}: su factura electrónica n° 4001 vence el 27-12-2026"
    assert received.message["From"].addresses[0].display_name == name
