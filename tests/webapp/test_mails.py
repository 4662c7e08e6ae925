"""Password reset and invitations, through the mail transport (``.eml`` files in a folder here)."""

from __future__ import annotations

import email
import re
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from dtehub.models import Role
from tests.conftest import Tenant
from tests.webapp.helpers import Clock, WebBrowser, add_user, text_of

NEW = "una contraseña nueva y larga"


@pytest.fixture
def mailbox(app: FastAPI, tmp_path: Path) -> Iterator[Path]:
    before = app.state.settings
    app.state.settings = before.model_copy(update={"mail_folder": str(tmp_path)})
    yield tmp_path
    app.state.settings = before


def messages(folder: Path) -> list[Message]:
    return [email.message_from_bytes(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]


def link_in(message: Message) -> str:
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    payload = text.get_payload(decode=True)
    assert isinstance(payload, bytes)
    found = re.search(r"https://dtehub\.test(/app/password/[A-Za-z0-9_-]+)", payload.decode())
    assert found is not None, payload
    return found.group(1)


async def test_a_password_reset_by_e_mail(
    web: WebBrowser, tenant: Tenant, session: Session, mailbox: Path, clock: Clock
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.get("/app/password-reset")

    known = await web.submit("/app/password-reset", {"email": "ana@example.cl"})
    unknown = await web.submit("/app/password-reset", {"email": "nadie@example.cl"})

    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/app/login?ok=reset"
    [sent] = messages(mailbox)
    assert sent["To"] == "ana@example.cl"
    assert "contraseña nueva" in str(email.header.make_header(email.header.decode_header(sent["Subject"])))
    link = link_in(sent)
    await web.get(link)
    assert (await web.submit(link, {"password": NEW, "confirmation": NEW})).status_code == 303
    await web.signed_in("ana@example.cl", NEW)
    assert (await web.get(link)).status_code == 404


async def test_a_reset_link_lasts_an_hour(
    web: WebBrowser, tenant: Tenant, session: Session, mailbox: Path, clock: Clock
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.get("/app/password-reset")
    await web.submit("/app/password-reset", {"email": "ana@example.cl"})
    clock.advance(hours=1)

    assert (await web.get(link_in(messages(mailbox)[0]))).status_code == 404


async def test_an_owner_invites_a_new_user_who_chooses_a_password(
    web_browser: Callable[[], WebBrowser], tenant: Tenant, session: Session, mailbox: Path
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="ana@example.cl")
    owner, guest = web_browser(), web_browser()
    await owner.signed_in("ana@example.cl")
    await owner.get("/app/settings")

    bad = await owner.submit("/app/settings/invite", {"email": "no es correo", "role": "viewer"})
    done = await owner.submit("/app/settings/invite", {"email": "Nuevo@Example.cl", "role": "collector"})

    assert bad.status_code == 400
    assert "no es una dirección de correo válida" in text_of(bad)
    assert done.headers["location"] == "/app/settings?ok=invited"
    page = text_of(await owner.get("/app/settings?ok=invited"))
    assert "Invitación enviada." in page
    assert "nuevo@example.cl Cobranza Invitado" in page
    [sent] = messages(mailbox)
    link = link_in(sent)
    await guest.get(link)
    assert (await guest.submit(link, {"password": NEW, "confirmation": NEW})).status_code == 303
    await guest.signed_in("nuevo@example.cl", NEW)
    assert "DUEMINT SPA · RUT 76.453.707-6 · Cobranza" in text_of(guest.last)  # type: ignore[arg-type]
    log = (await tenant.get("/v1/getAuditLog", action="app.inviteUser")).json()["items"]
    assert [e["summary"] for e in log] == [{"email": "nuevo@example.cl", "role": "collector"}]


async def test_a_collector_cannot_invite(
    web: WebBrowser, tenant: Tenant, session: Session, mailbox: Path
) -> None:
    add_user(session, tenant.company_id, Role.COLLECTOR, email="cobra@example.cl")
    await web.signed_in("cobra@example.cl")
    await web.get("/app/settings")
    assert "Invitar" not in text_of(web.last)  # type: ignore[arg-type]

    answer = await web.submit("/app/settings/invite", {"email": "x@example.cl", "role": "owner"})

    assert answer.status_code == 403
    assert messages(mailbox) == []
