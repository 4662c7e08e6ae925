"""Every action of the web app is in the audit log with the user who took it, reads included when they
take data out: an export of the documents list (CSV or XLSX) names its user, format and filter, and an
upload to /app/import is recorded when it is accepted, whatever its files turn out to hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.models import AuditEvent, Role
from dtehub.webapp.dashboard import ACTIONS
from tests.conftest import Tenant
from tests.webapp.helpers import PASSWORD, Clock, WebBrowser, add_user, text_of
from tests.webapp.test_clients import client_with
from tests.webapp.test_document import furnish


def events(session: Session, company_id: int, action: str) -> list[tuple[str, int | None, dict[str, Any]]]:
    session.expire_all()
    found = session.execute(
        select(AuditEvent.actor, AuditEvent.user_id, AuditEvent.summary)
        .where(AuditEvent.company_id == company_id, AuditEvent.action == action)
        .order_by(AuditEvent.id)
    ).all()
    return [(actor, user_id, summary) for actor, user_id, summary in found]


async def test_each_export_is_in_the_audit_log_with_its_user_format_and_filter(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await client_with(tenant, "ALFA LTDA", "96874030-K", (1_190_000, -10), (500_000, 5))
    viewer = add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")

    csv_answer = await web.get("/app/documents.csv", status="overdue")
    xlsx_answer = await web.get("/app/documents.xlsx")

    assert (csv_answer.status_code, xlsx_answer.status_code) == (200, 200)
    assert events(session, tenant.company_id, "app.exportDocuments") == [
        ("user", viewer.id, {"format": "csv", "query": "status=overdue"}),
        ("user", viewer.id, {"format": "xlsx", "query": ""}),
    ]


async def test_recent_activity_says_each_action_in_words(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    owner = add_user(session, tenant.company_id, Role.OWNER, email="olga@example.cl")
    await web.signed_in("olga@example.cl")
    await web.get("/app/documents.csv")

    dashboard = text_of(await web.get("/app/"))

    assert "exportó la lista de documentos" in dashboard
    assert "app.exportDocuments" not in dashboard
    assert owner.email in dashboard
    unnamed = [action.value for action in Action if not ACTIONS.get(action)]
    assert unnamed == [], "actions the dashboard and the timeline would show by their code name"


async def test_a_refused_export_is_not_recorded(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")

    refused = await web.get("/app/documents.csv", status="lost")

    assert refused.status_code == 400
    assert "Solicitud no válida" in text_of(refused)
    assert events(session, tenant.company_id, "app.exportDocuments") == []


@pytest.fixture
def mailbox(app: FastAPI, tmp_path: Path) -> Iterator[Path]:
    before = app.state.settings
    app.state.settings = before.model_copy(update={"mail_folder": str(tmp_path)})
    yield tmp_path
    app.state.settings = before


async def test_a_documents_actions_name_their_user(
    web: WebBrowser, tenant: Tenant, session: Session, mailbox: Path
) -> None:
    document = await furnish(tenant)
    collector = add_user(session, tenant.company_id, Role.COLLECTOR, email="cobra@example.cl")
    await web.signed_in("cobra@example.cl")
    path = f"/app/documents/{document['id']}"
    await web.get(path)

    assert (await web.submit(f"{path}/tag", {"tag": "Cobranza judicial"})).status_code == 303
    await web.get(path)
    assert (await web.submit(f"{path}/reminder")).status_code == 303
    await web.get(path)
    assert (await web.submit(f"{path}/renew-link")).status_code == 303

    company = tenant.company_id
    [(actor, user_id, summary)] = events(session, company, "app.tagDocument")
    assert (actor, user_id, summary["tag"]) == ("user", collector.id, "Cobranza judicial")
    assert [(a, u) for a, u, _ in events(session, company, "app.sendReminder")] == [("user", collector.id)]
    assert [(a, u) for a, u, _ in events(session, company, "renewDocumentKey")] == [("user", collector.id)]


async def test_a_persons_own_actions_name_them(
    web: WebBrowser, tenant: Tenant, other_tenant: Tenant, session: Session, clock: Clock, mailbox: Path
) -> None:
    owner = add_user(session, tenant.company_id, Role.OWNER, email="ana@example.cl")
    add_user(session, other_tenant.company_id, Role.VIEWER, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    company = tenant.company_id

    await web.get("/app/settings/totp")
    assert (await web.submit("/app/settings/totp")).status_code == 303
    shown = text_of(await web.get("/app/settings/totp")).split("agregue una cuenta con esta clave: ")[1]
    code = pyotp.TOTP(shown.split(" ")[0]).at(clock.now)
    assert (await web.submit("/app/settings/totp/confirm", {"code": code})).status_code == 303
    await web.get("/app/settings")
    assert (await web.submit("/app/settings/require-totp", {"required": "1"})).status_code == 303
    await web.get("/app/settings")
    new = "otra frase larga para entrar"
    changed = await web.submit(
        "/app/settings/password", {"current": PASSWORD, "password": new, "confirmation": new}
    )
    assert changed.status_code == 303
    await web.get("/app/password-reset")
    assert (await web.submit("/app/password-reset", {"email": "ana@example.cl"})).status_code == 303

    for action in ("app.enableTotp", "app.requireTotp", "app.changePassword", "app.requestPasswordReset"):
        assert [(a, u) for a, u, _ in events(session, company, action)] == [("user", owner.id)], action

    clock.advance(seconds=30)  # the next code: one is taken once
    assert (await web.sign_in("ana@example.cl", new)).status_code == 303
    await web.get("/app/login/totp")
    await web.get("/app/login/totp")
    wrong = await web.submit("/app/login/totp", {"code": "000000"})
    assert wrong.status_code == 401
    second = await web.submit("/app/login/totp", {"code": pyotp.TOTP(shown.split(" ")[0]).at(clock.now)})
    assert second.status_code == 303
    # The password's step says a code was still owed; the code's step, given once, completes it.
    signed_in = events(session, company, "app.signIn")
    assert [(a, u, s) for a, u, s in signed_in[-1:]] == [("user", owner.id, {"secondFactor": "pending"})]
    assert [(a, u) for a, u, _ in events(session, company, "app.secondFactor")] == [("user", owner.id)]
    await web.get("/app/")
    switched = await web.submit("/app/company", {"company": str(other_tenant.company_id)})
    assert switched.headers["location"] == "/app/?ok=company"
    [(actor, user_id, _)] = events(session, other_tenant.company_id, "app.switchCompany")
    assert (actor, user_id) == ("user", owner.id)  # in the log of the company it went to
