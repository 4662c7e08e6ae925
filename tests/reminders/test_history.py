"""History is never reminded: documents synced from SII and issued before the company's
collectionsStartDate get no reminder of any kind and no place in a debt summary; from that date on,
and whatever came another way, they are reminded like any other. The rule follows the setting as it
stands when a run chooses and when it sends (docs/reminders.md, *History*)."""

from __future__ import annotations

from datetime import timedelta

from tests.reminders.conftest import DAY, SmtpServer, World, reminder_settings

from dtehub.config import Settings
from dtehub.mail.transport import SmtpTransport
from dtehub.reminders import service

NAME = "FERRETERÍA O'HIGGINS & CÍA SPA"
START = DAY - timedelta(days=20)
"""The company's collectionsStartDate in these tests: 10 February 2026."""


def _run(world: World, settings: Settings, smtp: SmtpServer, day=DAY) -> service.RunSummary:  # type: ignore[no-untyped-def]
    transport = SmtpTransport(smtp.url, timeout=5)
    try:
        settings = reminder_settings(settings)
        return service.run(world.factory, settings, day=day, transport=transport, company_id=world.company_id)
    finally:
        transport.close()


def _text(smtp: SmtpServer, word: str) -> str:
    [received] = [r for r in smtp.recorder.received if word in str(r.message["Subject"])]
    return received.message.get_body(("plain",)).get_content()  # type: ignore[no-any-return,union-attr]


def test_synced_documents_before_the_start_get_no_reminder_and_later_ones_do(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    world.update_company(reminder_days_before=3, reminder_overdue_every=7, collections_start_date=START)
    client = world.client("Constructora Andes", "pagos@andes.cl")
    before = START - timedelta(days=1)
    # History: synced, issued before the start. Overdue, falling due, new: nothing for any of them.
    world.document(client, "501", DAY - timedelta(days=1), issued=before, source="sii")
    world.document(client, "502", DAY + timedelta(days=3), issued=before, source="sii")
    world.document(client, "503", DAY + timedelta(days=20), issued=before, source="sii", created_on=DAY)
    # Synced from the start on (the day itself included): reminded like any other.
    world.document(client, "511", DAY - timedelta(days=1), issued=START, source="sii")
    world.document(client, "512", DAY + timedelta(days=3), issued=START, source="sii")
    world.document(client, "513", DAY + timedelta(days=40), issued=DAY, source="sii", created_on=DAY)
    # Issued before the start but given to dtehub another way: someone wants it collected.
    world.document(client, "521", DAY - timedelta(days=1), issued=before, source="api")
    world.document(client, "522", DAY - timedelta(days=1), issued=before)  # stored before sources were

    summary = _run(world, settings, smtp_server)

    assert sorted(smtp_server.recorder.subjects()) == sorted(
        [
            f"{NAME}: su factura electrónica n° 511 está vencida",
            f"{NAME}: su factura electrónica n° 512 vence el 05-03-2026",
            f"{NAME}: Factura electrónica N° 513",
            f"{NAME}: su factura electrónica n° 521 está vencida",
            f"{NAME}: su factura electrónica n° 522 está vencida",
        ]
    )
    assert (summary.queued, summary.sent, summary.skipped) == (5, 5, 0)
    # A week on: the next overdue reminders, still none for history.
    later = _run(world, settings, smtp_server, DAY + timedelta(days=7))
    assert sorted(smtp_server.recorder.subjects()[-later.sent :]) == [
        f"{NAME}: su factura electrónica n° 511 está vencida",
        f"{NAME}: su factura electrónica n° 521 está vencida",
        f"{NAME}: su factura electrónica n° 522 está vencida",
    ]


def test_the_debt_summary_leaves_history_out_and_never_counts_it_overdue(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    world.update_company(
        debt_summary_period="weekly", debt_summary_day=1, reminder_days_before=0, collections_start_date=START
    )
    owing = world.client("Constructora Andes", "pagos@andes.cl", remind_expired=False)
    early = START - timedelta(days=40)
    world.document(owing, "601", DAY - timedelta(days=30), total=90_000_000, issued=early, source="sii")
    world.document(owing, "602", DAY - timedelta(days=5), total=500_000, issued=START, source="sii")
    world.document(owing, "603", DAY + timedelta(days=10), total=11_900_000, issued=START, source="sii")
    only_history = world.client("Panadería Sur", "caja@sur.cl")
    world.document(only_history, "604", DAY - timedelta(days=60), issued=early, source="sii")

    summary = _run(world, settings, smtp_server)

    assert summary.sent == 1
    [received] = smtp_server.recorder.received
    assert received.rcpt_tos == ["pagos@andes.cl"]  # a client who owes only history gets none
    text = _text(smtp_server, "resumen")
    assert f"su saldo pendiente con {NAME} es de $ 124.000." in text
    assert "De ese saldo, $ 5.000 corresponde a documentos vencidos." in text
    assert "602" in text
    assert "603" in text
    assert "601" not in text
    assert "900.000" not in text


def test_moving_the_start_later_stops_what_was_queued_and_earlier_lets_history_in(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    world.update_company(reminder_days_before=0, reminder_overdue_every=7, collections_start_date=START)
    client = world.client("Constructora Andes", "pagos@andes.cl")
    world.document(client, "701", DAY - timedelta(days=1), issued=START, source="sii")
    world.document(client, "702", DAY - timedelta(days=8), issued=START - timedelta(days=30), source="sii")

    # 701's overdue reminder is queued; before it goes out, the owner moves the start a day later.
    queued = service.queue_due(world.factory, DAY, service.utcnow(), world.company_id)
    assert queued == 1
    world.update_company(collections_start_date=START + timedelta(days=1))
    summary = _run(world, settings, smtp_server)

    assert (summary.sent, summary.skipped) == (0, 1)
    assert smtp_server.recorder.received == []
    [message] = world.messages()
    assert (message.status, message.last_error) == ("skipped", service.HISTORY_SKIP)

    # Moved a month earlier: both are collected from then on, each on its own overdue cadence.
    world.update_company(collections_start_date=START - timedelta(days=30))
    later = _run(world, settings, smtp_server, DAY + timedelta(days=7))
    assert sorted(smtp_server.recorder.subjects()) == [
        f"{NAME}: su factura electrónica n° 701 está vencida",
        f"{NAME}: su factura electrónica n° 702 está vencida",
    ]
    assert later.sent == 2


def test_without_a_start_nothing_is_history(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    world.update_company(reminder_days_before=0, collections_start_date=None)
    client = world.client("Constructora Andes", "pagos@andes.cl")
    world.document(client, "801", DAY - timedelta(days=1), source="sii")

    assert _run(world, settings, smtp_server).sent == 1
