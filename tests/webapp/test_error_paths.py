"""What a person typing odd values into the web app's forms gets: a page in Spanish that says what to
change, nothing changed; never a server error (found by walking every page and form of the app)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.config import Settings
from dtehub.models import AuditEvent, Membership, Role
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of
from tests.webapp.test_company_settings import company_of

HUGE = "9" * 5000
"""More digits than Python turns into a number, and more than any id or setting can hold."""


def changes(session: Session, company_id: int) -> int:
    session.expire_all()
    query = select(func.count()).where(AuditEvent.company_id == company_id, AuditEvent.action != "app.signIn")
    return session.scalar(query) or 0


async def test_switching_to_a_company_number_no_id_can_be_is_a_missing_company(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    missing = await web.submit("/app/company", {"company": "987654321"})

    for number in ("99999999999999999999999", HUGE):
        await web.get("/app/")
        answer = await web.submit("/app/company", {"company": number})
        assert answer.status_code == 404, number
        assert text_of(answer) == text_of(missing)
    assert "DUEMINT SPA" in text_of(await web.get("/app/"))  # still on its company
    assert changes(session, tenant.company_id) == 0


async def test_settings_with_numbers_too_long_to_read_say_what_to_type(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    before = await company_of(tenant)
    cases = [
        ("/app/settings/company", {"name": "OTRO NOMBRE", "payment_term": HUGE}, "Plazo de pago: un número"),
        ("/app/settings/printing", {"sii_resolution_number": HUGE}, "Número de resolución: un número"),
        ("/app/settings/reminders", {"reminder_days_before": HUGE}, "Aviso antes del vencimiento"),
        ("/app/settings/reminders", {"reminder_overdue_every": HUGE}, "Repetir si está vencido"),
    ]
    for path, data, said in cases:
        await web.get("/app/settings")
        answer = await web.submit(path, data)
        assert answer.status_code == 400, (path, data)
        assert said in text_of(answer), (path, data)

    assert await company_of(tenant) == before
    assert changes(session, tenant.company_id) == 0


async def test_an_invitation_with_a_role_not_offered_says_so_in_spanish(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    await web.get("/app/settings")

    answer = await web.submit("/app/settings/invite", {"email": "nuevo@example.cl", "role": "superuser"})

    assert answer.status_code == 400
    assert "Elija un rol: Administrador, Cobranza o Lectura." in text_of(answer)
    assert "must be" not in text_of(answer)
    members = session.scalar(select(func.count()).where(Membership.company_id == tenant.company_id))
    assert members == 1
    assert changes(session, tenant.company_id) == 0


async def test_a_password_link_that_no_longer_works_says_how_to_get_another(
    web: WebBrowser, session: Session
) -> None:
    """A person who opens an old e-mail's link is not signed in: the page tells them to ask for a new
    link (the same page whether it was used, expired or never existed), not to go back to a panel."""
    for method in ("GET", "POST"):
        await web.get("/app/password-reset")  # the form cookie a POST needs
        path = "/app/password/" + "A" * 43
        answer = (
            await web.get(path)
            if method == "GET"
            else await web.submit(path, {"password": "x" * 20, "confirmation": "x" * 20})
        )
        assert answer.status_code == 404, method
        text = text_of(answer)
        assert "Este enlace ya no sirve" in text
        assert "ya se usó o venció" in text
        assert 'href="/app/password-reset"' in answer.text
        assert "Volver al panel" not in text


async def test_turning_on_the_second_factor_without_a_secret_key_says_who_can_fix_it(
    app: FastAPI, web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    """Not "try again later" (it would never work): the page says the server lacks DTEHUB_SECRET_KEY and
    who can set it, and nothing is stored."""
    user = add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    await web.get("/app/settings/totp")
    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update={"secret_key": None})
    try:
        answer = await web.submit("/app/settings/totp")
    finally:
        app.state.settings = settings

    assert answer.status_code == 503
    text = text_of(answer)
    assert "DTEHUB_SECRET_KEY" in text
    assert "Pida a quien administra el servidor" in text
    assert "Generar clave" in text  # the form again, for once the key is set
    session.refresh(user)
    assert user.totp_secret is None


async def test_requiring_the_second_factor_without_a_secret_key_is_refused(
    app: FastAPI, web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    """Nobody could enroll without the key, the owner included: requiring it would lock every member out
    of the app. It is refused, saying why, and the owner goes on working."""
    add_user(session, tenant.company_id, Role.OWNER, email="duena@example.cl")
    await web.signed_in("duena@example.cl")
    await web.get("/app/settings")
    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update={"secret_key": None})
    try:
        answer = await web.submit("/app/settings/require-totp", {"required": "1"})
        after = await web.get("/app/")
        turned_off = await web.submit("/app/settings/require-totp", {"required": "0"})  # always allowed
    finally:
        app.state.settings = settings

    assert answer.status_code == 503
    assert "dejaría a todos sin acceso" in text_of(answer)
    assert after.status_code == 200  # not sent to enroll: nothing was required
    assert turned_off.status_code == 303
    assert actions(session, tenant.company_id) == ["app.requireTotp"]  # turning it off


def actions(session: Session, company_id: int) -> list[str]:
    session.expire_all()
    query = (
        select(AuditEvent.action)
        .where(AuditEvent.company_id == company_id, AuditEvent.action != "app.signIn")
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(query))
