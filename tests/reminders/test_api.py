"""The outbox through the API: getEmails (filters, Duemint's envelope) and getEmail, per company."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from tests.conftest import Tenant, random_rut

from dtehub.kit.dates import utcnow
from dtehub.models import Client, EmailMessage


def _message(session: Session, tenant: Tenant, kind: str, status: str) -> EmailMessage:
    client = Client(company_id=tenant.company_id, tax_id=random_rut(), name="Constructora Andes")
    session.add(client)
    session.flush()
    message = EmailMessage(
        company_id=tenant.company_id,
        client_id=client.id,
        kind=kind,
        subject_id=client.id,
        reminder_day=date(2026, 3, 2),
        status=status,
        attempts=1,
        next_attempt_at=utcnow(),
        created_at=utcnow(),
        recipients="pagos@andes.cl",
        subject="DUEMINT SPA: resumen de su deuda al 02-03-2026",
        text_body="Estimado cliente",
        html_body="<p>Estimado cliente</p>",
    )
    session.add(message)
    session.commit()
    return message


async def test_get_emails_lists_and_filters_the_outbox(tenant: Tenant, session: Session) -> None:
    sent = _message(session, tenant, "debtSummary", "sent")
    _message(session, tenant, "expired", "skipped")

    everything = (await tenant.get("/v1/getEmails")).json()
    only_sent = (await tenant.get("/v1/getEmails", status="sent")).json()
    by_client = (await tenant.get("/v1/getEmails", clientId=sent.client_id, kind="debtSummary")).json()

    assert everything["records"]["totalRecords"] == 2
    assert [item["id"] for item in only_sent["items"]] == [str(sent.id)]
    [item] = by_client["items"]
    assert item["recipients"] == ["pagos@andes.cl"]
    assert item["from"] is None
    assert item["status"] == "sent"
    assert item["day"] == "2026-03-02"
    assert "html" not in item
    bad = await tenant.get("/v1/getEmails", status="lost")
    assert bad.status_code == 400


async def test_get_email_shows_the_rendered_message_to_its_company_only(
    tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    message = _message(session, tenant, "debtSummary", "sent")

    mine = await tenant.get("/v1/getEmail", id=message.id)
    theirs = await other_tenant.get("/v1/getEmail", id=message.id)
    listed = (await other_tenant.get("/v1/getEmails")).json()

    assert mine.status_code == 200
    assert mine.json()["html"] == "<p>Estimado cliente</p>"
    assert mine.json()["text"] == "Estimado cliente"
    assert theirs.status_code == 404
    assert listed["records"]["totalRecords"] == 0
