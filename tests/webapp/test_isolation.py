"""Who sees what in the web app, driven by its own routes: a user of company B gets exactly what a
missing object gives for anything of company A; a viewer's actions answer 403 and change nothing; a
disabled user's session stops at its next request, whatever the page.

Every ``/app`` route must have probes in :func:`probes` or a reason in ``NO_REFERENCE``: a new route
without a case fails :func:`test_every_app_route_has_a_case`."""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.imports import service as imports
from dtehub.kit.dates import utcnow
from dtehub.models import (
    ApiToken,
    AppImport,
    AuditEvent,
    Client,
    Company,
    CompanyLogo,
    CompanySiiCertificate,
    Document,
    DocumentTag,
    EmailMessage,
    Membership,
    Payment,
    Role,
    SiiSyncRun,
    Tag,
    User,
    Webhook,
)
from dtehub.users import service as users
from dtehub.webapp.endpoints import router
from tests.conftest import Tenant, api_routes
from tests.webapp.helpers import WebBrowser, add_user, text_of

MISSING_ID = "987654321"

NO_REFERENCE = {
    ("GET", "/app"): "a redirect to /app/",
    ("GET", "/app/static/app.css"): "the public stylesheet",
    ("GET", "/app/static/progress.js"): "the public progress script",
    ("GET", "/app/login"): "signing in",
    ("POST", "/app/login"): "signing in: the session starts on the user's own company",
    ("GET", "/app/login/totp"): "the session's own second factor",
    ("POST", "/app/login/totp"): "the session's own second factor",
    ("POST", "/app/logout"): "the caller's own session",
    ("GET", "/app/password-reset"): "a form",
    ("POST", "/app/password-reset"): "an e-mail, answered the same whoever has it",
    ("GET", "/app/password/{token}"): "the link's 256-bit secret is its only credential",
    ("POST", "/app/password/{token}"): "the link's 256-bit secret is its only credential",
    ("GET", "/app/"): "the session's company (covered by the snapshot: B's dashboard shows none of A)",
    ("GET", "/app/portfolio"): "the user's own companies (tested below: B's user sees none of A's)",
    ("GET", "/app/settings"): "the user's own account and the session's company",
    ("POST", "/app/settings/password"): "the user's own password",
    ("GET", "/app/settings/totp"): "the user's own second factor",
    ("POST", "/app/settings/totp"): "the user's own second factor",
    ("POST", "/app/settings/totp/confirm"): "the user's own second factor",
    ("POST", "/app/settings/require-totp"): "the session's company",
    ("POST", "/app/settings/invite"): "an e-mail, given a role in the session's company",
    ("POST", "/app/settings/tokens"): "a new token of the session's company",
    ("GET", "/app/import"): "the session's company's imports (B's page lists none of A's: below)",
    ("POST", "/app/import"): "a new import into the session's company",
    ("GET", "/app/sii"): "the session's company (B's page shows none of A's runs: tested below)",
    ("POST", "/app/sii/certificate"): "the session's company's certificate",
    ("POST", "/app/sii/certificate/delete"): "the session's company's certificate",
    ("POST", "/app/sii/sync"): "a sync of the session's company",
    ("POST", "/app/settings/company"): "the session's company's data",
    ("POST", "/app/settings/printing"): "the session's company's print settings",
    ("POST", "/app/settings/reminders"): "the session's company's reminder timing",
    ("POST", "/app/settings/logo"): "the session's company's logo",
    ("POST", "/app/settings/logo/delete"): "the session's company's logo",
    ("POST", "/app/settings/webhooks"): "a new webhook of the session's company",
}


def app_routes(app: FastAPI) -> dict[tuple[str, str], Any]:
    """Every route of the web app's router (those of the routers it includes under its prefix)."""
    found: dict[tuple[str, str], Any] = {}
    for entry in router.routes:
        nested = hasattr(entry, "original_router")
        for route in api_routes([entry]):
            path = router.prefix + route.path if nested else route.path
            found.update({(method, path): route.endpoint for method in route.methods if method != "HEAD"})
    assert any(route.path == "/app" for route in api_routes(app.routes))  # the app serves that router
    return found


@dataclass
class Probe:
    label: str
    theirs: str
    missing: str
    send: Callable[[str], Awaitable[httpx.Response]]


@dataclass
class Company_:
    tenant: Tenant
    client_id: str
    token_id: int
    document_id: str = "1"
    payment_id: str = "1"
    import_id: str = "1"
    run_id: str = "1"
    member_id: str = "1"
    webhook_id: str = "1"
    tag_id: str = "1"


async def furnish(tenant: Tenant, session: Session, mark: str) -> Company_:
    rut = "96874030-K" if mark == "A" else "77777777-7"
    client = await tenant.post("/v1/createClient", {"name": f"CLIENTE {mark}", "taxId": rut})
    assert client.status_code == 200, client.text
    body = {
        "clientId": client.json()["id"], "number": "1", "issueDate": "2024-01-01", "dueDate": "2099-01-01",
        "total": "1190", "taxes": "190", "code": 33, "tags": [f"etiqueta {mark}"],
    }  # fmt: skip
    document = await tenant.post("/v1/createDocument", body)
    assert document.status_code == 200
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.company_id == tenant.company_id))
    assert token_id is not None
    pending = {"date": "2024-01-02", "amount": "100", "clientId": client.json()["id"], "status": 0}
    payment = await tenant.post("/v1/createPayment", pending)
    assert payment.status_code == 200, payment.text
    upload = imports.start(
        session, tenant.company_id, None, [imports.UploadedFile(f"{mark}.zip", 9)], utcnow()
    )
    run = SiiSyncRun(
        company_id=tenant.company_id, state="done", trigger="api", since="2026-01", until="2026-02",
        periods=["2026-01", "2026-02"], periods_done=["2026-01", "2026-02"], documents_created=0,
        documents_updated=0, xmls_fetched=0, messages=[], resumed=0, queued_at=utcnow(),
    )  # fmt: skip
    session.add(run)
    session.commit()
    member = add_user(session, tenant.company_id, Role.COLLECTOR, email=f"miembro-{mark.lower()}@example.cl")
    hook = await tenant.post(
        "/v1/createWebhook", {"url": "http://127.0.0.1:9/a", "events": ["payment.created"]}
    )
    assert hook.status_code == 200, hook.text
    return Company_(
        tenant,
        client.json()["id"],
        token_id,
        document.json()["id"],
        payment.json()["id"],
        str(upload.id),
        str(run.id),
        str(member.id),
        hook.json()["id"],
        str(document.json()["tags"][0]["id"]),
    )


async def cells(answer: Awaitable[httpx.Response]) -> httpx.Response:
    """A workbook's cells as the answer's text (its zip holds the moment it was written)."""
    response = await answer
    if response.status_code != 200:
        return response
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    return httpx.Response(response.status_code, text=repr(rows))


def probes(a: Company_, b: WebBrowser) -> dict[tuple[str, str], list[Probe]]:
    return {
        ("POST", "/app/company"): [
            Probe(
                "company",
                str(a.tenant.company_id),
                MISSING_ID,
                lambda v: b.submit("/app/company", {"company": v}),
            )
        ],
        ("POST", "/app/settings/tokens/{token_id}/revoke"): [
            Probe(
                "token id",
                str(a.token_id),
                MISSING_ID,
                lambda v: b.submit(f"/app/settings/tokens/{v}/revoke"),
            )
        ],
        ("POST", "/app/settings/members/{user_id}/role"): [
            Probe(
                "user id",
                a.member_id,
                MISSING_ID,
                lambda v: b.submit(f"/app/settings/members/{v}/role", {"role": "owner"}),
            )
        ],
        ("POST", "/app/settings/members/{user_id}/remove"): [
            Probe("user id", a.member_id, MISSING_ID, lambda v: b.submit(f"/app/settings/members/{v}/remove"))
        ],
        ("POST", "/app/settings/webhooks/{webhook_id}/delete"): [
            Probe(
                "webhook id",
                a.webhook_id,
                MISSING_ID,
                lambda v: b.submit(f"/app/settings/webhooks/{v}/delete"),
            )
        ],
        ("GET", "/app/sii/runs/{run_id}/progress"): [
            Probe("run id", a.run_id, MISSING_ID, lambda v: b.get(f"/app/sii/runs/{v}/progress"))
        ],
        ("GET", "/app/documents/{document_id}"): [
            Probe("document id", a.document_id, MISSING_ID, lambda v: b.get(f"/app/documents/{v}"))
        ],
        ("POST", "/app/documents/{document_id}/payment"): [
            Probe(
                "document id",
                a.document_id,
                MISSING_ID,
                lambda v: b.submit(f"/app/documents/{v}/payment", {"amount": "100"}),
            )
        ],
        ("POST", "/app/documents/{document_id}/reminder"): [
            Probe(
                "document id",
                a.document_id,
                MISSING_ID,
                lambda v: b.submit(f"/app/documents/{v}/reminder"),
            )
        ],
        ("POST", "/app/documents/{document_id}/tag"): [
            Probe(
                "document id",
                a.document_id,
                MISSING_ID,
                lambda v: b.submit(f"/app/documents/{v}/tag", {"tag": "de B"}),
            )
        ],
        ("POST", "/app/documents/{document_id}/renew-link"): [
            Probe(
                "document id",
                a.document_id,
                MISSING_ID,
                lambda v: b.submit(f"/app/documents/{v}/renew-link"),
            )
        ],
        ("GET", "/app/payments"): [
            Probe("clientId", a.client_id, MISSING_ID, lambda v: b.get("/app/payments", clientId=v)),
        ],
        ("GET", "/app/payments/new"): [
            Probe("clientId", a.client_id, MISSING_ID, lambda v: b.get("/app/payments/new", clientId=v)),
            Probe("rut", "96874030-K", "11111111-1", lambda v: b.get("/app/payments/new", rut=v)),
        ],
        ("POST", "/app/payments"): [
            Probe(
                "clientId",
                a.client_id,
                MISSING_ID,
                lambda v: b.submit("/app/payments", {"clientId": v, "amount": "100"}),
            )
        ],
        ("GET", "/app/payments/{payment_id}"): [
            Probe("payment id", a.payment_id, MISSING_ID, lambda v: b.get(f"/app/payments/{v}"))
        ],
        ("POST", "/app/payments/{payment_id}/reconcile"): [
            Probe("payment id", a.payment_id, MISSING_ID, lambda v: b.submit(f"/app/payments/{v}/reconcile"))
        ],
        ("POST", "/app/payments/{payment_id}/discard"): [
            Probe("payment id", a.payment_id, MISSING_ID, lambda v: b.submit(f"/app/payments/{v}/discard"))
        ],
        ("GET", "/app/import/{import_id}"): [
            Probe("import id", a.import_id, MISSING_ID, lambda v: b.get(f"/app/import/{v}"))
        ],
        ("GET", "/app/import/{import_id}/progress"): [
            Probe("import id", a.import_id, MISSING_ID, lambda v: b.get(f"/app/import/{v}/progress"))
        ],
        ("GET", "/app/clients"): [
            Probe("RUT searched", "96874030-K", "11111111-1", lambda v: b.get("/app/clients", q=v))
        ],
        ("GET", "/app/clients/{client_id}"): [
            Probe("client id", a.client_id, MISSING_ID, lambda v: b.get(f"/app/clients/{v}"))
        ],
        ("POST", "/app/clients/{client_id}/reminders"): [
            Probe(
                "client id",
                a.client_id,
                MISSING_ID,
                lambda v: b.submit(f"/app/clients/{v}/reminders", {"newDocument": "1"}),
            )
        ],
        ("GET", "/app/reminders"): [
            Probe("clientId", a.client_id, MISSING_ID, lambda v: b.get("/app/reminders", clientId=v)),
            Probe("documentId", a.document_id, MISSING_ID, lambda v: b.get("/app/reminders", documentId=v)),
        ],
        ("GET", "/app/documents.csv"): [
            Probe("clientId", a.client_id, MISSING_ID, lambda v: b.get("/app/documents.csv", clientId=v))
        ],
        ("GET", "/app/documents.xlsx"): [
            Probe(
                "clientId", a.client_id, MISSING_ID, lambda v: cells(b.get("/app/documents.xlsx", clientId=v))
            )
        ],
        ("GET", "/app/documents"): [
            Probe("clientId", a.client_id, MISSING_ID, lambda v: b.get("/app/documents", clientId=v)),
            Probe(
                "clientId, overdue",
                a.client_id,
                MISSING_ID,
                lambda v: b.get("/app/documents", clientId=v, status="overdue"),
            ),
            Probe(
                "clientId, all",
                a.client_id,
                MISSING_ID,
                lambda v: b.get("/app/documents", clientId=v, status="all"),
            ),
            Probe("tagId", a.tag_id, MISSING_ID, lambda v: b.get("/app/documents", tagId=v, status="all")),
            Probe("q, name", "CLIENTE A", "CLIENTE Z", lambda v: b.get("/app/documents", q=v, status="all")),
        ],
    }


def snapshot(session: Session, company_id: int) -> dict[str, Any]:
    """What A holds that a web app action could change."""
    session.expire_all()
    return {
        "tokens": session.execute(
            select(ApiToken.id, ApiToken.revoked_at)
            .where(ApiToken.company_id == company_id)
            .order_by(ApiToken.id)
        ).all(),
        "members": session.execute(
            select(Membership.user_id, Membership.role)
            .where(Membership.company_id == company_id)
            .order_by(Membership.user_id)
        ).all(),
        "documents": session.execute(
            select(Document.id, Document.paid_cents, Document.due_cents, Document.portal_key)
            .where(Document.company_id == company_id)
            .order_by(Document.id)
        ).all(),
        "tags": session.scalar(select(func.count()).where(Tag.company_id == company_id)),
        "clients": session.execute(
            select(Client.id, Client.remind_new_document, Client.remind_expired, Client.remind_debt_summary)
            .where(Client.company_id == company_id)
            .order_by(Client.id)
        ).all(),
        "document_tags": session.scalar(
            select(func.count())
            .select_from(DocumentTag)
            .join(Document)
            .where(Document.company_id == company_id)
        ),
        "payments": session.execute(
            select(Payment.id, Payment.status, Payment.updated_at)
            .where(Payment.company_id == company_id)
            .order_by(Payment.id)
        ).all(),
        "imports": session.execute(
            select(AppImport.id, AppImport.state, AppImport.read)
            .where(AppImport.company_id == company_id)
            .order_by(AppImport.id)
        ).all(),
        "outbox": session.scalar(select(func.count()).where(EmailMessage.company_id == company_id)),
        "company": session.execute(
            select(
                Company.name,
                Company.payment_term_days,
                Company.sii_office,
                Company.reminder_days_before,
                Company.collections_start_date,
                Company.sii_sync_from,
            ).where(Company.id == company_id)
        ).all(),
        "logo": session.scalar(select(func.count()).where(CompanyLogo.company_id == company_id)),
        "webhooks": session.execute(
            select(Webhook.id, Webhook.url).where(Webhook.company_id == company_id).order_by(Webhook.id)
        ).all(),
        "sii_runs": session.execute(
            select(SiiSyncRun.id, SiiSyncRun.state).where(SiiSyncRun.company_id == company_id)
        ).all(),
        "sii_certificate": session.scalar(
            select(CompanySiiCertificate.fingerprint).where(CompanySiiCertificate.company_id == company_id)
        ),
        "require_totp": session.scalar(select(Company.require_totp).where(Company.id == company_id)),
        "events": session.scalar(select(func.count()).where(AuditEvent.company_id == company_id)),
        "users": session.execute(
            select(User.id, User.password_hash, User.totp_enabled_at).order_by(User.id)
        ).all(),
    }


def _masked(response: httpx.Response, reference: str) -> tuple[int, str]:
    return response.status_code, re.sub(
        rf"(?<![\w-]){re.escape(reference)}(?![\w-])", "<REF>", text_of(response)
    )


def test_every_app_route_has_a_case(app: FastAPI) -> None:
    a = Company_(Tenant(1, "", "", None), "1", 1)  # type: ignore[arg-type]
    covered = set(probes(a, None)) | set(NO_REFERENCE)  # type: ignore[arg-type]
    routes = set(app_routes(app))

    assert routes - covered == set(), "/app routes without a case: add them to probes() or NO_REFERENCE"
    assert covered - routes == set(), "cases for routes the app no longer has"


async def test_b_on_as_objects_is_exactly_a_missing_object(
    web: WebBrowser, tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    a = await furnish(tenant, session, "A")
    b_data = await furnish(other_tenant, session, "B")
    add_user(session, other_tenant.company_id, Role.OWNER, email="dueno-b@example.cl")
    await web.signed_in("dueno-b@example.cl")
    before = snapshot(session, tenant.company_id)
    tried = 0

    for route, cases in sorted(probes(a, web).items()):
        for probe in cases:
            await web.get("/app/settings")  # a page with a form: its CSRF token
            theirs = await probe.send(probe.theirs)
            await web.get("/app/settings")
            missing = await probe.send(probe.missing)
            assert theirs.status_code < 500, (route, probe.label)
            assert _masked(theirs, probe.theirs) == _masked(missing, probe.missing), (route, probe.label)
            tried += 1

    assert tried == 32
    assert snapshot(session, tenant.company_id) == before
    portfolio = text_of(await web.get("/app/portfolio"))
    dashboard = text_of(await web.get("/app/"))
    assert "DUEMINT SPA" not in portfolio + dashboard
    assert "CLIENTE A" not in dashboard
    assert "A.zip" not in text_of(await web.get("/app/import"))
    sii_page = (await web.get("/app/sii")).text
    assert re.findall(r'<th scope="row">(\d+)</th>', sii_page) == [b_data.run_id]


async def test_the_same_references_work_for_their_owner(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    a = await furnish(tenant, session, "A")
    add_user(session, tenant.company_id, Role.OWNER, email="duena-a@example.cl")
    await web.signed_in("duena-a@example.cl")

    page = await web.get(f"/app/documents/{a.document_id}")
    assert "CLIENTE A" in text_of(page)
    for action, data in (("tag", {"tag": "de A"}), ("renew-link", {}), ("payment", {"amount": "100"})):
        answer = await web.submit(f"/app/documents/{a.document_id}/{action}", data)
        assert answer.status_code == 303, (action, answer.text)
        await web.get(f"/app/documents/{a.document_id}")

    listed = await web.get("/app/documents", clientId=a.client_id)
    assert "CLIENTE A" in text_of(listed)
    assert "CLIENTE A" in text_of(await web.get(f"/app/clients/{a.client_id}"))
    assert "CLIENTE A" in text_of(await web.get("/app/clients", q="96874030-K"))
    assert "CLIENTE A" in (await web.get("/app/documents.csv", clientId=a.client_id)).text
    assert "Cliente: CLIENTE A" in text_of(await web.get("/app/reminders", clientId=a.client_id))
    switches = await web.submit(f"/app/clients/{a.client_id}/reminders", {"newDocument": "1"})
    assert switches.status_code == 303
    await web.get("/app/settings")
    answer = await web.submit(f"/app/settings/members/{a.member_id}/role", {"role": "viewer"})
    assert answer.status_code == 303
    answer = await web.submit(f"/app/settings/webhooks/{a.webhook_id}/delete")
    assert answer.status_code == 303
    progress = await web.get(f"/app/sii/runs/{a.run_id}/progress")
    assert progress.json()["state"] == "done"
    await web.get("/app/settings")
    assert (await web.submit(f"/app/settings/tokens/{a.token_id}/revoke")).status_code == 303


def _path(path: str) -> str:
    return (
        path.replace("{token_id}", "1")
        .replace("{token}", "A" * 43)
        .replace("{document_id}", "1")
        .replace("{client_id}", "1")
        .replace("{payment_id}", "1")
        .replace("{import_id}", "1")
        .replace("{run_id}", "1")
        .replace("{user_id}", "1")
        .replace("{webhook_id}", "1")
    )


async def test_a_viewers_actions_answer_403_and_change_nothing(
    app: FastAPI, web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await furnish(tenant, session, "A")
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")
    before = snapshot(session, tenant.company_id)
    beyond = [
        (method, path)
        for (method, path), endpoint in sorted(app_routes(app).items())
        if getattr(endpoint, "app_role", Role.VIEWER) != Role.VIEWER
    ]
    assert len(beyond) >= 4

    for method, path in beyond:
        await web.get("/app/settings")
        if method == "GET":  # a page of collectors' only (a form to register or upload)
            answer = await web.get(_path(path))
        else:
            form = {"email": "x@example.cl", "role": "owner", "required": "1"}
            answer = await web.submit(_path(path), form)
        assert answer.status_code == 403, (method, path)
        assert "Acción no permitida" in text_of(answer)
        assert snapshot(session, tenant.company_id) == before, (method, path)


async def test_a_disabled_users_session_stops_on_every_page(
    app: FastAPI, web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    user = add_user(session, tenant.company_id, Role.OWNER, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    token = web.csrf
    signed_in = sorted(
        (method, path)
        for (method, path), endpoint in app_routes(app).items()
        if getattr(endpoint, "app_signed_in", False)
    )
    assert len(signed_in) >= 15

    users.disable(session, user, utcnow())
    session.commit()

    for method, path in signed_in:
        if method == "GET":
            answer = await web.get(_path(path))
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/app/login?siguiente="), path
        else:
            answer = await web.post(_path(path), {"csrf_token": token, "company": str(tenant.company_id)})
            assert answer.status_code == 401, (method, path)
            assert "Su sesión terminó" in text_of(answer)
