"""The document page (``/app/documents/{id}``): what a person reads of one document and its timeline,
and the actions of collectors and owners (a payment, a reminder now, a tag, a new customer link), each
through the API's services, in the audit log with the user, CSRF-protected, answered with a redirect
and a message."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago
from dtehub.models import AuditEvent, Document, EmailMessage, Role
from tests.conftest import Tenant
from tests.notes import invoice_xml, note_xml, store
from tests.webapp.helpers import WebBrowser, add_user, text_of
from tests.webhooks import create_webhook


@pytest.fixture
def mailbox(app: FastAPI, tmp_path: Path) -> Iterator[Path]:
    before = app.state.settings
    app.state.settings = before.model_copy(update={"mail_folder": str(tmp_path)})
    yield tmp_path
    app.state.settings = before


def mails(folder: Path) -> list[Message]:
    return [email.message_from_bytes(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]


async def furnish(t: Tenant, *, overdue: bool = True, contact: bool = True) -> dict[str, Any]:
    """A client (with a contact) and one factura of $1.190.000, due 10 days ago (or in 10 days)."""
    client = await t.post("/v1/createClient", {"name": "ALFA LTDA", "taxId": "96874030-K"})
    assert client.status_code == 200, client.text
    if contact:
        added = await t.post(
            "/v1/createContact", {"clientId": client.json()["id"], "email": "pagos@alfa.example.cl"}
        )
        assert added.status_code == 200, added.text
    today = today_in_santiago()
    due = today + timedelta(days=-10 if overdue else 10)
    body = {
        "clientId": client.json()["id"], "number": "4521", "code": 33,
        "issueDate": (due - timedelta(days=30)).isoformat(), "dueDate": due.isoformat(),
        "total": "1190000", "taxes": "190000", "gloss": "Servicios de noviembre",
        "notes": "Cobrar a <Finanzas>",
    }  # fmt: skip
    created = await t.post("/v1/createDocument", body)
    assert created.status_code == 200, created.text
    document: dict[str, Any] = created.json()
    return document


async def signed_in(web: WebBrowser, session: Session, t: Tenant, role: Role) -> WebBrowser:
    email_address = f"{role.value}@example.cl"
    add_user(session, t.company_id, role, email=email_address)
    return await web.signed_in(email_address)


async def test_the_page_shows_the_document_and_links_from_the_list(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    document = await furnish(tenant)
    await signed_in(web, session, tenant, Role.VIEWER)

    listed = await web.get("/app/documents")
    assert f'href="/app/documents/{document["id"]}"' in listed.text
    page = await web.get(f"/app/documents/{document['id']}")

    assert page.status_code == 200
    text = text_of(page)
    assert "Factura electrónica N° 4521" in text
    assert "ALFA LTDA · RUT 96.874.030-K" in text
    assert "Vencida" in text
    assert "Total $1.190.000" in text
    assert "Saldo $1.190.000" in text
    assert "Servicios de noviembre" in text
    assert "Observaciones Cobrar a <Finanzas>" in text
    assert "Cobrar a &lt;Finanzas&gt;" in page.text  # escaped
    assert "Creado sin XML" in text
    assert "Ninguna sincronización con el SII" in text
    assert "Documento creado por la API" in text
    assert document["pdf"] in page.text
    assert document["url"] in page.text
    assert f'href="/app/clients/{document["client"]["id"]}"' in page.text
    assert f'href="/app/reminders?documentId={document["id"]}"' in page.text
    # A viewer reads, and is offered no action
    assert "Registrar pago" not in text
    assert 'action="/app/documents/' not in page.text


async def test_a_missing_or_malformed_id_is_the_404_page(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await signed_in(web, session, tenant, Role.OWNER)
    for path in ("/app/documents/987654321", "/app/documents/abc", "/app/documents/0"):
        answer = await web.get(path)
        assert answer.status_code == 404, path
        assert "Página no encontrada" in text_of(answer)


async def test_a_collector_registers_a_payment_and_the_status_changes(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    document = await furnish(tenant)
    await signed_in(web, session, tenant, Role.COLLECTOR)
    path = f"/app/documents/{document['id']}"
    await web.get(path)

    partial = await web.submit(f"{path}/payment", {"amount": "$190.000", "method": "1"})
    assert partial.status_code == 303
    assert partial.headers["location"] == f"{path}?ok=payment"
    page = text_of(await web.get(path, ok="payment"))
    assert "Pago registrado." in page
    assert "Pagado $190.000" in page
    assert "Saldo $1.000.000" in page
    assert "Vencida" in page
    assert "$190.000 a este documento, de un pago de $190.000" in page
    assert "Transferencia" in page

    assert (await web.submit(f"{path}/payment", {"amount": "1.000.000"})).status_code == 303
    page = text_of(await web.get(path))
    assert "Pagada" in page
    assert "Saldo $0" in page
    api = (await tenant.get("/v1/getDocument", id=document["id"])).json()
    assert (api["statusName"], api["amountDue"], api["paidAmount"]) == ("Pagada", "0.00", "1190000.00")

    events = session.execute(
        select(AuditEvent.action, AuditEvent.actor, AuditEvent.user_id, AuditEvent.summary)
        .where(AuditEvent.company_id == tenant.company_id, AuditEvent.action == "createPayment")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.actor, e.summary["amount"]) for e in events] == [("user", "190000.00"), ("user", "1000000.00")]
    assert all(e.user_id is not None for e in events)


async def test_a_payment_the_service_refuses_changes_nothing_and_says_why(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    document = await furnish(tenant)
    await signed_in(web, session, tenant, Role.COLLECTOR)
    path = f"/app/documents/{document['id']}"
    await web.get(path)

    too_much = await web.submit(f"{path}/payment", {"amount": "2.000.000"})
    assert too_much.status_code == 409
    assert "El monto es mayor que el saldo del documento." in text_of(too_much)
    assert 'value="2.000.000"' in too_much.text  # the form keeps what was typed
    unreadable = await web.submit(f"{path}/payment", {"amount": "mil pesos"})
    assert unreadable.status_code == 400
    assert "Monto: escriba un número" in text_of(unreadable)
    bad_day = await web.submit(f"{path}/payment", {"amount": "1000", "date": "31-02-2026"})
    assert bad_day.status_code == 400

    api = (await tenant.get("/v1/getDocument", id=document["id"])).json()
    assert api["amountDue"] == "1190000.00"
    assert (await tenant.get("/v1/getPayments", status=0)).json()["records"]["totalRecords"] == 0
    assert (await tenant.get("/v1/getPayments")).json()["records"]["totalRecords"] == 0


async def test_send_a_reminder_now_goes_through_the_outbox(
    web: WebBrowser, tenant: Tenant, session: Session, mailbox: Path
) -> None:
    document = await furnish(tenant)
    await signed_in(web, session, tenant, Role.COLLECTOR)
    path = f"/app/documents/{document['id']}"
    await web.get(path)

    sent = await web.submit(f"{path}/reminder")
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"{path}?ok=reminder"
    [message] = mails(mailbox)
    assert message["To"] == "pagos@alfa.example.cl"
    row = session.scalars(select(EmailMessage).where(EmailMessage.document_id == int(document["id"]))).one()
    assert (row.kind, row.status) == ("expired", "sent")
    page = text_of(await web.get(path, ok="reminder"))
    assert "Recordatorio «Vencido» enviado A pagos@alfa.example.cl" in page
    assert "pidió enviar un recordatorio" in page

    await web.get(path)
    again = await web.submit(f"{path}/reminder")
    assert again.headers["location"] == f"{path}?ok=reminder-already"
    assert len(mails(mailbox)) == 1


async def test_a_paid_document_has_no_reminder_to_send(
    web: WebBrowser, tenant: Tenant, session: Session, mailbox: Path
) -> None:
    document = await furnish(tenant, overdue=False)
    await signed_in(web, session, tenant, Role.OWNER)
    path = f"/app/documents/{document['id']}"
    await web.get(path)
    assert (await web.submit(f"{path}/payment", {"amount": "1190000"})).status_code == 303
    await web.get(path)

    refused = await web.submit(f"{path}/reminder")
    assert refused.status_code == 409
    assert "El documento no tiene saldo por cobrar" in text_of(refused)
    assert session.scalars(select(EmailMessage).where(EmailMessage.kind == "expired")).all() == []


async def test_tags_and_a_new_customer_link(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    document = await furnish(tenant)
    await signed_in(web, session, tenant, Role.COLLECTOR)
    path = f"/app/documents/{document['id']}"
    await web.get(path)

    tagged = await web.submit(f"{path}/tag", {"tag": "  Cobranza judicial "})
    assert tagged.headers["location"] == f"{path}?ok=tag"
    await web.get(path)
    assert (await web.submit(f"{path}/tag", {"tag": "Cobranza judicial"})).headers[
        "location"
    ] == f"{path}?ok=tag-already"
    await web.get(path)
    blank = await web.submit(f"{path}/tag", {"tag": " "})
    assert blank.status_code == 400
    assert "La etiqueta debe tener entre 1 y 100 caracteres." in text_of(blank)
    api = (await tenant.get("/v1/getDocument", id=document["id"], expandTag=1)).json()
    assert [t["name"] for t in api["tags"]] == ["Cobranza judicial"]

    await web.get(path)
    renewed = await web.submit(f"{path}/renew-link")
    assert renewed.headers["location"] == f"{path}?ok=renewed"
    after = (await tenant.get("/v1/getDocument", id=document["id"])).json()
    assert after["url"] != document["url"]
    assert (await web.http.get(document["url"])).status_code == 404
    page = text_of(await web.get(path))
    assert f"{'collector@example.cl'} agregó una etiqueta" in page
    assert "etiqueta: Cobranza judicial" in page
    assert "renovó el enlace del cliente" in page
    assert after["url"] in (await web.get(path)).text


async def test_every_action_needs_the_csrf_token_and_a_collector(
    web: WebBrowser, web_browser: Any, tenant: Tenant, session: Session
) -> None:
    document = await furnish(tenant)
    path = f"/app/documents/{document['id']}"
    await signed_in(web, session, tenant, Role.COLLECTOR)
    viewer = await signed_in(web_browser(), session, tenant, Role.VIEWER)
    await viewer.get(path)
    forms = {"payment": {"amount": "1000"}, "reminder": {}, "tag": {"tag": "x"}, "renew-link": {}}
    before = (await tenant.get("/v1/getDocument", id=document["id"], expandTag=1)).json()

    for action, data in forms.items():
        refused = await web.post(f"{path}/{action}", data)
        assert refused.status_code == 403, action
        assert "Formulario vencido" in text_of(refused)
        denied = await viewer.submit(f"{path}/{action}", data)
        assert denied.status_code == 403, action
        assert "Acción no permitida" in text_of(denied)

    assert (await tenant.get("/v1/getDocument", id=document["id"], expandTag=1)).json() == before
    assert session.scalars(select(EmailMessage)).all() == []


async def test_the_timeline_gathers_sii_notes_and_webhooks(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await create_webhook(tenant, "http://127.0.0.1:9/hook", ["document.created", "document.updated"])
    invoice = await store(tenant, invoice_xml(tenant, 8801, total=119_000))
    await store(tenant, note_xml(tenant, 61, 31, 19_000, ref_folio=8801))
    received = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    session.execute(
        update(Document)
        .where(Document.id == int(invoice["id"]))
        .values(
            sii_received_at=received,
            sii_accepted_at=received + timedelta(days=1),
            sii_synced_at=received + timedelta(days=2),
        )
    )
    session.commit()
    await signed_in(web, session, tenant, Role.VIEWER)

    text = text_of(await web.get(f"/app/documents/{invoice['id']}"))

    assert "Diferencias con el Registro de Ventas" not in text  # SII's figures unknown: nothing to compare

    assert "Estado Aceptado por el cliente (acuse de recibo)" in text
    assert "Esquema No válido Firma Sin firma Timbre (TED) Sin timbre" in text  # an unsigned test DTE
    assert "the document carries no XML signature" in text
    assert "Notas de crédito $19.000" in text
    assert "Saldo $100.000" in text
    assert "01-12-2026 10:00 · Recibido por el SII" in text  # Santiago's summer time
    assert "02-12-2026 10:00 · Acuse de recibo del cliente en el SII" in text
    assert "Nota de crédito electrónica N° 31 $19.000, emitida el 10-01-2024: Corrige montos" in text
    assert "Recordatorio «Nota de crédito o débito» en la bandeja de salida" in text
    assert "Webhook document.created Entregas: 0 entregada(s), 1 pendiente(s), 0 fallida(s)" in text
    assert "Webhook document.updated" in text  # the note changed its balance
    assert "XML del documento" in text


async def test_a_disagreement_with_sii_s_register_shows_on_the_page(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    document = await furnish(tenant)
    received = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    session.execute(
        update(Document)
        .where(Document.id == int(document["id"]))
        .values(
            sii_received_at=received,
            sii_synced_at=received + timedelta(days=2),
            sii_total_cents=120_000_000,
            sii_issue_date=datetime(2020, 1, 2).date(),  # never furnish's own date
        )
    )
    session.commit()
    await signed_in(web, session, tenant, Role.VIEWER)

    text = text_of(await web.get(f"/app/documents/{document['id']}"))

    issued = datetime.fromisoformat(document["issueDate"]).strftime("%d-%m-%Y")
    assert "Diferencias con el Registro de Ventas" in text
    assert "Total: $1.190.000 en dtehub, $1.200.000 en el Registro de Ventas del SII." in text
    assert f"Fecha de emisión: {issued} en dtehub, 02-01-2020 en el Registro de Ventas del SII." in text
    assert "dtehub conserva sus valores; revise cuál es el correcto." in text
