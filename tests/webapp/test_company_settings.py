"""``/app/settings``, the company's part: its data, print settings and logo, reminder timing, users and
roles, webhooks. Owners change them through the API's services (the API reads back what the page saved);
what is refused says why in Spanish and changes nothing; collectors and viewers read, and their posts
answer 403; every change is in the audit log with the user."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from dtehub.config import Settings
from dtehub.models import AuditEvent, Membership, Role, Webhook
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of


def audit_of(session: Session, company_id: int) -> list[tuple[str, int | None, dict[str, Any]]]:
    session.expire_all()
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.user_id, AuditEvent.summary)
        .where(AuditEvent.company_id == company_id, AuditEvent.action != "app.signIn")
        .order_by(AuditEvent.id)
    ).all()
    return [(action, user_id, summary) for action, user_id, summary in rows]


async def company_of(tenant: Tenant) -> dict[str, Any]:
    answer = await tenant.get("/v1/getCompany")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


async def test_an_owner_changes_the_companys_data_printing_and_reminders(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    owner = add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    page = text_of(await web.get("/app/settings"))
    assert "Datos de la empresa" in page

    saved = await web.submit(
        "/app/settings/company",
        {"name": "DUEMINT CHILE SPA", "payment_term": "45", "collections_start_date": "2026-01-01",
         "sii_sync_from": "2025-06"},
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    assert "Datos de la empresa guardados." in text_of(await web.get("/app/settings?ok=company-data"))
    await web.submit(
        "/app/settings/printing",
        {"sii_resolution_number": "80", "sii_resolution_date": "2014-08-22", "sii_office": "santiago centro"},
    )
    await web.get("/app/settings")
    await web.submit(
        "/app/settings/reminders",
        {"reminder_days_before": "5", "reminder_overdue_every": "10", "debt_summary_period": "weekly",
         "debt_summary_day": "1", "reply_to": "cobranza@duemint.cl"},
    )  # fmt: skip

    company = await company_of(tenant)
    assert (company["name"], company["paymentTerm"], company["collectionsStartDate"]) == (
        "DUEMINT CHILE SPA", 45, "2026-01-01",
    )  # fmt: skip
    assert company["siiSyncFrom"] == "2025-06"
    assert (company["siiResolutionNumber"], company["siiResolutionDate"], company["siiOffice"]) == (
        80, "2014-08-22", "SANTIAGO CENTRO",
    )  # fmt: skip
    assert (company["reminderDaysBefore"], company["reminderOverdueEvery"]) == (5, 10)
    assert (company["debtSummaryPeriod"], company["debtSummaryDay"], company["replyTo"]) == (
        "weekly", 1, "cobranza@duemint.cl",
    )  # fmt: skip
    events = audit_of(session, tenant.company_id)
    assert [(action, user) for action, user, _ in events] == [("updateCompany", owner.id)] * 3
    assert events[0][2]["changed"] == [
        "collections_start_date", "name", "payment_term_days", "sii_sync_from",
    ]  # fmt: skip


async def test_a_refused_value_changes_nothing_and_says_why(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    before = await company_of(tenant)
    # The page answers the status the API gives the same refusal: 400 for a malformed value, 422 for one
    # the form describes but dtehub cannot accept (docs/decisions.md).
    cases = [
        (
            "/app/settings/company",
            {"name": "OTRO NOMBRE", "payment_term": "5000"},
            "Plazo de pago: un número",
            400,
        ),
        (
            "/app/settings/company",
            {"name": "OTRO NOMBRE", "sii_sync_from": "2016-01"},
            "Sincronizar desde",
            400,
        ),
        ("/app/settings/company", {"name": "   "}, "no puede quedar vacío", 400),
        ("/app/settings/printing", {"sii_resolution_date": "22-08-2014"}, "Fecha de resolución", 400),
        (
            "/app/settings/reminders",
            {"reminder_days_before": "3", "debt_summary_period": "weekly", "debt_summary_day": "9"},
            "Día del resumen",
            422,
        ),
        ("/app/settings/reminders", {"reply_to": "no es un correo"}, "Responder a", 400),
    ]
    for path, data, said, status in cases:
        await web.get("/app/settings")
        answer = await web.submit(path, data)
        assert answer.status_code == status, (path, data)
        assert said in text_of(answer), (path, data)
        assert 'value="OTRO NOMBRE"' in answer.text or "name" not in data or data["name"].strip() == ""

    assert await company_of(tenant) == before
    assert audit_of(session, tenant.company_id) == []


def a_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (10, 80, 160)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_an_owner_uploads_and_removes_the_logo(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    await web.get("/app/settings")

    refused = await web.http.post(
        "/app/settings/logo", data={"csrf_token": web.csrf}, files={"logo": ("logo.png", b"no es imagen")}
    )
    assert refused.status_code == 422  # as uploadCompanyLogo answers a file that is no image
    assert "no es una imagen PNG o JPEG" in text_of(refused)
    answer = await web.http.post(
        "/app/settings/logo",
        data={"csrf_token": web.csrf},
        files={"logo": ("logo.png", a_png(), "image/png")},
    )
    assert answer.status_code == 303
    page = await web.get("/app/settings?ok=logo")
    assert "Logo guardado." in text_of(page)
    assert 'src="data:image/png;base64,' in page.text
    assert (await company_of(tenant))["hasLogo"] is True

    assert (await web.submit("/app/settings/logo/delete")).status_code == 303
    assert (await company_of(tenant))["hasLogo"] is False
    assert [a for a, _, _ in audit_of(session, tenant.company_id)] == [
        "updateCompanyLogo",
        "deleteCompanyLogo",
    ]


async def test_roles_change_and_members_leave_but_never_the_last_owner(
    web_browser: Callable[[], WebBrowser], tenant: Tenant, session: Session
) -> None:
    owner = add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    collector = add_user(session, tenant.company_id, Role.COLLECTOR, email="cobra@example.cl")
    web = await web_browser().signed_in("duena@example.cl")
    theirs = await web_browser().signed_in("cobra@example.cl")
    page = await web.get("/app/settings")
    assert "cobra@example.cl" in text_of(page)

    changed = await web.submit(f"/app/settings/members/{collector.id}/role", {"role": "viewer"})
    assert changed.status_code == 303
    assert "Rol cambiado." in text_of(await web.get("/app/settings?ok=role"))
    assert (await theirs.get("/app/sii")).status_code == 200
    assert 'action="/app/sii/sync"' not in theirs.last.text  # type: ignore[union-attr]

    for path, data in (
        (f"/app/settings/members/{owner.id}/role", {"role": "collector"}),
        (f"/app/settings/members/{owner.id}/remove", {}),
    ):
        refused = await web.submit(path, data)
        assert refused.status_code == 409
        assert "al menos un administrador" in text_of(refused)
        await web.get("/app/settings")

    removed = await web.submit(f"/app/settings/members/{collector.id}/remove")
    assert removed.status_code == 303
    session.expire_all()
    roles = dict(
        session.execute(
            select(Membership.user_id, Membership.role).where(Membership.company_id == tenant.company_id)
        ).all()
    )
    assert roles == {owner.id: "owner"}
    left = await theirs.get("/app/")
    assert left.status_code == 303
    assert left.headers["location"].startswith("/app/login")
    events = audit_of(session, tenant.company_id)
    assert [(a, u, s.get("email")) for a, u, s in events] == [
        ("app.changeRole", owner.id, "cobra@example.cl"),
        ("app.removeMember", owner.id, "cobra@example.cl"),
    ]
    assert events[0][2]["from"] == "collector"
    assert events[0][2]["role"] == "viewer"
    assert (await web.submit("/app/settings/members/987654321/role", {"role": "viewer"})).status_code == 404


async def test_an_owner_creates_and_deletes_a_webhook_its_secret_shown_once(
    app: FastAPI, web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    owner = add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    await web.get("/app/settings")
    assert (await web.submit("/app/settings/webhooks", {"url": "http://127.0.0.1:9/hook"})).status_code == 400
    assert "Elija al menos un evento." in text_of(web.last)  # type: ignore[arg-type]

    created = await web.http.post(
        "/app/settings/webhooks",
        data={
            "csrf_token": web.csrf,
            "url": "http://127.0.0.1:9/hook",
            "events": ["payment.created", "document.created"],
        },
    )
    assert created.status_code == 200
    secret = created.text.split('id="secreto-webhook">')[1].split("<")[0]
    assert len(secret) >= 32
    listed = await tenant.get("/v1/getWebhooks")
    (hook,) = listed.json()["items"]
    assert hook["url"] == "http://127.0.0.1:9/hook"
    assert hook["events"] == ["document.created", "payment.created"]
    again = await web.get("/app/settings")
    assert secret not in again.text
    assert "Documento creado, Pago registrado" in text_of(again)

    deleted = await web.submit(f"/app/settings/webhooks/{hook['id']}/delete")
    assert deleted.status_code == 303
    assert (await tenant.get("/v1/getWebhooks")).json()["items"] == []
    events = audit_of(session, tenant.company_id)
    assert [(a, u) for a, u, _ in events] == [("createWebhook", owner.id), ("deleteWebhook", owner.id)]
    assert secret not in str(events)

    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update={"secret_key": None})
    try:
        page = await web.get("/app/settings")
        assert "no se pueden crear webhooks" in text_of(page)
        refused = await web.http.post(
            "/app/settings/webhooks",
            data={"csrf_token": web.csrf, "url": "http://127.0.0.1:9/hook", "events": ["payment.created"]},
        )
    finally:
        app.state.settings = settings
    assert refused.status_code == 503
    assert "DTEHUB_SECRET_KEY" in text_of(refused)
    assert session.scalars(select(Webhook).where(Webhook.company_id == tenant.company_id)).all() == []


async def test_collectors_and_viewers_read_the_companys_settings_and_cannot_change_them(
    web_browser: Callable[[], WebBrowser], tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.COLLECTOR, email="cobra@example.cl")
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    before = await company_of(tenant)
    for email in ("cobra@example.cl", "vera@example.cl"):
        web = await web_browser().signed_in(email)
        page = await web.get("/app/settings")
        shown = text_of(page)
        assert "Nombre DUEMINT SPA" in shown
        assert "Plazo de pago 7 días" in shown
        assert "Solo un administrador puede cambiar la configuración de la empresa." in shown
        for action in ("company", "printing", "reminders", "logo", "webhooks", "members"):
            assert f'action="/app/settings/{action}' not in page.text, (email, action)
        for path in ("/app/settings/company", "/app/settings/reminders", "/app/settings/webhooks"):
            answer = await web.submit(
                path, {"name": "TOMADA", "reminder_days_before": "1", "url": "http://x.cl"}
            )
            assert answer.status_code == 403, (email, path)
    assert await company_of(tenant) == before


async def test_an_owner_may_leave_when_another_owner_stays(
    web_browser: Callable[[], WebBrowser], tenant: Tenant, session: Session
) -> None:
    first = add_user(session, tenant.company_id, Role.OWNER, email="primera@example.cl")
    second = add_user(session, tenant.company_id, Role.OWNER, email="segunda@example.cl")
    web = await web_browser().signed_in("primera@example.cl")
    await web.get("/app/settings")

    demoted = await web.submit(f"/app/settings/members/{second.id}/role", {"role": "collector"})
    assert demoted.status_code == 303
    await web.get("/app/settings")
    assert (await web.submit(f"/app/settings/members/{first.id}/remove")).status_code == 409  # the last one
    await web.get("/app/settings")
    promoted = await web.submit(f"/app/settings/members/{second.id}/role", {"role": "owner"})
    assert promoted.status_code == 303
    await web.get("/app/settings")
    left = await web.submit(f"/app/settings/members/{first.id}/remove")
    assert left.status_code == 303
    assert left.headers["location"] == "/app/"
    after = await web.get("/app/")
    assert after.status_code == 303  # no company left: signed out
    assert after.headers["location"].startswith("/app/login")
    session.expire_all()
    owners = session.scalars(
        select(Membership.user_id).where(
            Membership.company_id == tenant.company_id, Membership.role == "owner"
        )
    ).all()
    assert owners == [second.id]
    assert (await web_browser().signed_in("segunda@example.cl")).last is not None


async def test_a_malformed_member_or_webhook_id_is_the_404_page(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    await web.get("/app/settings")
    for path, form in (
        ("/app/settings/members/abc/role", {"role": "viewer"}),
        ("/app/settings/members/0/remove", {}),
        ("/app/settings/webhooks/1x/delete", {}),
        ("/app/settings/webhooks/0/delete", {}),
    ):
        answer = await web.submit(path, form)
        assert answer.status_code == 404, path
        assert "Página no encontrada" in text_of(answer)
    assert audit_of(session, tenant.company_id) == []
