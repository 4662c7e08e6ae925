"""One-time links: a first password (from ``dtehub users create``), valid 24 hours, once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dtehub.models import Role
from dtehub.users import service as users
from tests.conftest import Tenant
from tests.webapp.helpers import Clock, WebBrowser, text_of

NEW = "mi contraseña nueva y larga"


async def _invited(session: Session, tenant: Tenant, clock: Clock) -> str:
    user = users.create_user(session, "nueva@example.cl")
    users.grant(session, user, tenant.company_id, Role.COLLECTOR)
    token = users.issue_link(session, user, users.LinkPurpose.PASSWORD, clock.now)
    session.commit()
    return f"/app/password/{token}"


async def test_a_link_sets_the_password_once(
    web: WebBrowser, tenant: Tenant, session: Session, clock: Clock
) -> None:
    link = await _invited(session, tenant, clock)
    page = await web.get(link)
    assert page.status_code == 200
    assert "nueva@example.cl" in text_of(page)

    mismatch = await web.submit(link, {"password": NEW, "confirmation": NEW + "x"})
    short = await web.submit(link, {"password": "corta", "confirmation": "corta"})
    done = await web.submit(link, {"password": NEW, "confirmation": NEW})
    again = await web.get(link)

    assert mismatch.status_code == short.status_code == 400
    assert "no coinciden" in text_of(mismatch)
    assert "al menos 12 caracteres" in text_of(short)
    assert done.status_code == 303
    assert done.headers["location"] == "/app/login?ok=password"
    assert again.status_code == 404
    await web.signed_in("nueva@example.cl", NEW)
    log = (await tenant.get("/v1/getAuditLog", actor="user")).json()["items"]
    assert [e["action"] for e in log] == ["app.signIn", "app.setPassword"]


async def test_a_link_expires_after_24_hours(
    web: WebBrowser, tenant: Tenant, session: Session, clock: Clock
) -> None:
    link = await _invited(session, tenant, clock)
    clock.advance(hours=24)

    expired = await web.get(link)
    wrong = await web.get("/app/password/" + "A" * 43)

    assert expired.status_code == wrong.status_code == 404
    assert text_of(expired) == text_of(wrong)
