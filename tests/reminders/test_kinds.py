"""Each reminder kind goes out on its day and not on others, to the client's contacts, in Spanish."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import FIXTURES, LINKS, PUBLIC_URL
from tests.reminders.conftest import DAY, SmtpServer, World, reminder_settings

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.dte.pipeline import read_dte_file
from dtehub.ingest import service as ingest
from dtehub.mail.transport import SmtpTransport
from dtehub.models import Company
from dtehub.reminders import service


def _run(world: World, settings: Settings, smtp: SmtpServer, day=DAY) -> service.RunSummary:  # type: ignore[no-untyped-def]
    transport = SmtpTransport(smtp.url, timeout=5)
    try:
        return service.run(
            world.factory,
            reminder_settings(settings),
            day=day,
            transport=transport,
            company_id=world.company_id,
        )
    finally:
        transport.close()


def test_due_and_overdue_reminders_go_out_on_their_days_only(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    world.update_company(reminder_days_before=3, reminder_overdue_every=7)
    client = world.client("Constructora Andes", "pagos@andes.cl", "gerencia@andes.cl")
    world.document(client, "101", DAY + timedelta(days=3))  # falls due in 3 days
    world.document(client, "102", DAY - timedelta(days=1))  # overdue since yesterday
    world.document(client, "103", DAY - timedelta(days=8))  # overdue 8 days: second overdue reminder
    world.document(client, "104", DAY - timedelta(days=2))  # overdue 2 days: none today
    world.document(client, "105", DAY + timedelta(days=2))  # due in 2 days: none
    world.document(client, "106", DAY - timedelta(days=1), paid=11_900_000)  # paid: none
    world.document(client, "107", DAY + timedelta(days=3), voided=True)  # voided: none

    summary = _run(world, settings, smtp_server)

    subjects = sorted(smtp_server.recorder.subjects())
    name = "FERRETERÍA O'HIGGINS & CÍA SPA"
    assert subjects == sorted(
        [
            f"{name}: su factura electrónica n° 101 vence el 05-03-2026",
            f"{name}: su factura electrónica n° 102 está vencida",
            f"{name}: su factura electrónica n° 103 está vencida",
        ]
    )
    assert (summary.queued, summary.sent, summary.failed) == (3, 3, 0)
    for received in smtp_server.recorder.received:
        assert sorted(received.rcpt_tos) == ["gerencia@andes.cl", "pagos@andes.cl"]

    # The same day again: nothing twice. The next day: nothing is due (104 is 3 days overdue).
    assert _run(world, settings, smtp_server).sent == 0
    assert _run(world, settings, smtp_server, DAY + timedelta(days=1)).sent == 0
    # A week later, the next overdue reminders of 102 and 103 (every 7 days while unpaid).
    later = _run(world, settings, smtp_server, DAY + timedelta(days=7))
    assert later.sent == 2
    assert sorted(smtp_server.recorder.subjects()[-2:]) == [
        f"{name}: su factura electrónica n° 102 está vencida",
        f"{name}: su factura electrónica n° 103 está vencida",
    ]


def test_the_debt_summary_goes_on_the_company_day_to_clients_that_owe(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    world.update_company(debt_summary_period="weekly", debt_summary_day=1, reminder_days_before=0)
    owing = world.client("Constructora Andes", "pagos@andes.cl")
    settled = world.client("Panadería Sur", "caja@sur.cl")
    world.document(owing, "201", DAY + timedelta(days=10), total=11_900_000)
    world.document(owing, "202", DAY - timedelta(days=20), total=500_050, paid=50)
    world.document(settled, "203", DAY + timedelta(days=10), paid=11_900_000)

    _run(world, settings, smtp_server, DAY + timedelta(days=1))  # a Tuesday: no summary
    assert [s for s in smtp_server.recorder.subjects() if "resumen" in s] == []
    _run(world, settings, smtp_server)  # Monday

    summaries = [r for r in smtp_server.recorder.received if "resumen" in str(r.message["Subject"])]
    assert len(summaries) == 1
    message = summaries[0].message
    assert summaries[0].rcpt_tos == ["pagos@andes.cl"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "su saldo pendiente con FERRETERÍA O'HIGGINS & CÍA SPA es de $ 124.000" in text
    assert "$ 5.000 corresponde a documentos vencidos" in text
    assert f"{PUBLIC_URL}/portal/client/{owing}/" in text


def test_client_flags_off_send_nothing(world: World, settings: Settings, smtp_server: SmtpServer) -> None:
    world.update_company(reminder_days_before=3, debt_summary_period="weekly", debt_summary_day=1)
    client = world.client(
        "Sin recordatorios",
        "nadie@ejemplo.cl",
        remind_new_document=False,
        remind_soon_to_expire=False,
        remind_expired=False,
        remind_debt_summary=False,
    )
    world.document(client, "301", DAY + timedelta(days=3))
    world.document(client, "302", DAY - timedelta(days=1))
    world.document(client, "303", DAY + timedelta(days=40), created_on=DAY)

    summary = _run(world, settings, smtp_server)

    assert summary.queued == 0
    assert smtp_server.recorder.received == []


def test_a_client_without_contacts_is_skipped_and_shown_in_the_outbox(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    client = world.client("Sin contactos")
    world.document(client, "401", DAY - timedelta(days=1))

    summary = _run(world, settings, smtp_server)

    assert (summary.sent, summary.skipped) == (0, 1)
    [message] = world.messages()
    assert message.status == "skipped"
    assert message.last_error == "el cliente no tiene contactos con e-mail"
    assert message.subject is not None
    assert "401" in message.subject


def test_a_new_document_with_send_carries_link_amounts_pdf_and_reply_to(
    world: World, settings: Settings, smtp_server: SmtpServer, factory: sessionmaker[Session]
) -> None:
    xml = (FIXTURES / "DTE--76399752-9--33--25568.xml").read_bytes()
    [checked] = read_dte_file(xml, max_bytes=1024 * 1024)
    assert not isinstance(checked, Exception)
    with unit_of_work(factory) as session:
        company = session.get(Company, world.company_id)
        assert company is not None
        company.rut = checked.fields.issuer.rut
    receiver = checked.fields.receiver.rut
    with unit_of_work(factory) as session:
        stored = ingest.store(session, world.company_id, checked, LINKS, send=True)
    client_id = world.messages
    from dtehub.models import Contact, Document

    with unit_of_work(factory) as session:
        document = session.get(Document, stored.id)
        assert document is not None
        client_id = document.client_id
        key = document.portal_key
        day = document.created_on
        session.add(Contact(company_id=world.company_id, client_id=client_id, email="dte@cliente.cl"))
    assert receiver

    summary = _run(world, settings, smtp_server, day)

    assert summary.sent == 1
    [received] = smtp_server.recorder.received
    message = received.message
    assert message["Subject"] == "FERRETERÍA O'HIGGINS & CÍA SPA: Factura electrónica N° 25568"
    assert message["From"].addresses[0].display_name == "FERRETERÍA O'HIGGINS & CÍA SPA"
    assert message["Reply-To"] == "cobranza@ferreteria.cl"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    link = f"{PUBLIC_URL}/portal/invoice/{stored.id}/{key}"
    assert "le ha emitido la factura electrónica n° 25568" in text
    assert link in text
    assert f'href="{link}"' in html
    assert "O&#39;HIGGINS &amp; CÍA SPA" in html  # autoescaped
    total = document.total_cents
    from dtehub.kit.money import format_money

    assert format_money(total) in text
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "DTE-33-25568.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    assert Path(attachment.get_filename()).suffix == ".pdf"
