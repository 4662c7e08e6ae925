"""The reminders' outbox page (``/app/reminders``): every message of the company, newest first, with
its client, document, recipients and how it stands (queued, sent, failed and why), filtered by status,
kind, client or document; read-only, the same for every role."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy.orm import Session

from dtehub.kit.dates import utcnow
from dtehub.models import Client, Document, EmailMessage, Role
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of
from tests.webapp.test_clients import client_with


def message(
    session: Session, company_id: int, client_id: int, kind: str, status: str, **values: object
) -> None:
    defaults: dict[str, object] = {
        "subject_id": client_id, "reminder_day": date(2026, 3, 2), "attempts": 1,
        "next_attempt_at": utcnow(), "created_at": utcnow(),
        "recipients": "pagos@alfa.example.cl\nana@alfa.example.cl",
    }  # fmt: skip
    session.add(
        EmailMessage(
            company_id=company_id, client_id=client_id, kind=kind, status=status, **{**defaults, **values}
        )
    )
    session.commit()


def rows_of(page: httpx.Response) -> str:
    """The table's text (the filters' options name every kind and status)."""
    text = text_of(page)
    return text.split(" Intentos ", 1)[1] if " Intentos " in text else ""


async def test_the_outbox_lists_queued_sent_and_failed_messages(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    alfa = int(await client_with(tenant, "ALFA LTDA", "96874030-K", (1_190_000, -10)))
    document = session.query(Document).filter(Document.client_id == alfa).one()
    now = utcnow()
    message(session, tenant.company_id, alfa, "expired", "sent", document_id=document.id,
            subject_id=document.id, sent_at=now, created_at=now - timedelta(hours=3))  # fmt: skip
    message(session, tenant.company_id, alfa, "debtSummary", "failed", last_error="550 buzón inexistente",
            created_at=now - timedelta(hours=2))  # fmt: skip
    message(session, tenant.company_id, alfa, "soonToExpire", "pending", document_id=document.id,
            subject_id=document.id, created_at=now - timedelta(hours=1))  # fmt: skip
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")

    page = await web.get("/app/reminders")

    assert page.status_code == 200
    assert "3 mensajes" in text_of(page)
    text = rows_of(page)
    assert text.index("Próximo a vencer") < text.index("Resumen de deuda") < text.index("Vencido ALFA")
    assert "Factura electrónica N° 96871" in text
    assert "pagos@alfa.example.cl, ana@alfa.example.cl" in text
    assert "Falló 550 buzón inexistente" in text
    assert "En cola" in text
    assert "Enviado" in text
    assert f'href="/app/documents/{document.id}"' in page.text
    assert f'href="/app/clients/{alfa}"' in page.text
    assert 'method="post"' not in page.text.split("<main")[1]  # read-only: no action on the page

    failed = rows_of(await web.get("/app/reminders", status="failed"))
    assert "Resumen de deuda" in failed
    assert "Próximo a vencer" not in failed
    by_document = await web.get("/app/reminders", documentId=str(document.id))
    assert "2 mensajes" in text_of(by_document)
    assert "Resumen de deuda" not in rows_of(by_document)
    by_kind = await web.get("/app/reminders", kind="expired", clientId=str(alfa))
    assert "1 mensaje " in text_of(by_kind)
    assert "Cliente: ALFA LTDA" in text_of(by_kind)
    assert "Vencido ALFA LTDA" in rows_of(by_kind)


async def test_another_companys_messages_are_not_there(
    web: WebBrowser, tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    theirs = Client(company_id=other_tenant.company_id, tax_id="77777777-7", name="DE OTRA EMPRESA")
    session.add(theirs)
    session.commit()
    message(session, other_tenant.company_id, theirs.id, "expired", "sent")
    add_user(session, tenant.company_id, Role.OWNER, email="ana@example.cl")
    await web.signed_in("ana@example.cl")

    page = text_of(await web.get("/app/reminders"))
    assert "0 mensajes" in page
    assert "DE OTRA EMPRESA" not in page
    by_client = text_of(await web.get("/app/reminders", clientId=str(theirs.id)))
    assert "0 mensajes" in by_client
    assert "DE OTRA EMPRESA" not in by_client


async def test_a_filter_it_cannot_use_is_a_400_that_says_so(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")
    for params in ({"status": "lost"}, {"kind": "poem"}, {"clientId": "x"}, {"page": "x"}):
        answer = await web.get("/app/reminders", **params)
        assert answer.status_code == 400, params
        assert "Solicitud no válida" in text_of(answer)
