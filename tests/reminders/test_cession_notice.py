"""The cession notice: once SII registered a cession of an invoice, the debtor's contacts are told, once, that
it now belongs to the assignee and whom to pay, whatever the client's reminder flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from tests.reminders.conftest import DAY, SmtpServer, World, reminder_settings

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.mail.transport import SmtpTransport
from dtehub.models import DocumentCession
from dtehub.reminders import queue, service


def _run(world: World, settings: Settings, smtp: SmtpServer) -> service.RunSummary:
    transport = SmtpTransport(smtp.url, timeout=5)
    try:
        return service.run(
            world.factory,
            reminder_settings(settings),
            day=DAY,
            transport=transport,
            company_id=world.company_id,
        )
    finally:
        transport.close()


def _cede(factory: sessionmaker[Session], world: World, document_id: int, client_id: int, state: str) -> None:
    with unit_of_work(factory) as session:
        cession = DocumentCession(
            company_id=world.company_id,
            document_id=document_id,
            seq=1,
            assignee_rut="77665544-9",
            assignee_name="FACTORING CAPITAL SPA",
            assignee_address="Av. Apoquindo 4000, Las Condes",
            assignee_email="ops@factoring.cl",
            amount_cents=11_900_000,
            last_due_date=DAY + timedelta(days=30),
            ceded_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
            signed_by="12345678-5",
            aec=b"<AEC/>",
            track_id=38_940,
            sii_state=state,
        )
        session.add(cession)
        session.flush()
        queue.cession_registered(session, world.company_id, cession.id, document_id, client_id)
        queue.cession_registered(session, world.company_id, cession.id, document_id, client_id)  # once


def test_the_debtor_is_told_whom_to_pay_once_whatever_its_flags(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    flags = {
        "remind_new_document": False,
        "remind_soon_to_expire": False,
        "remind_expired": False,
        "remind_new_payment": False,
        "remind_debt_summary": False,
    }
    client = world.client("Constructora Andes", "pagos@andes.cl", **flags)
    document = world.document(client, "301", DAY + timedelta(days=20))
    _cede(world.factory, world, document, client, "accepted")

    summary = _run(world, settings, smtp_server)

    assert summary.sent == 1
    [received] = smtp_server.recorder.received
    assert received.rcpt_tos == ["pagos@andes.cl"]
    name = "FERRETERÍA O'HIGGINS & CÍA SPA"
    assert smtp_server.recorder.subjects() == [f"{name}: aviso de cesión de la factura electrónica n° 301"]
    body = received.message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "pague a FACTORING CAPITAL SPA" in text
    assert "77665544-9" in text
    assert "ops@factoring.cl" in text
    assert _run(world, settings, smtp_server).sent == 0  # at most once


def test_a_cession_no_longer_registered_is_not_announced(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    client = world.client("Constructora Andes", "pagos@andes.cl")
    document = world.document(client, "302", DAY + timedelta(days=20))
    _cede(world.factory, world, document, client, "rejected")
    assert _run(world, settings, smtp_server).sent == 0
    assert [m.kind for m in world.messages()] == ["cessionNotice"]
    assert world.messages()[0].status == "skipped"
