"""Owners create and revoke the company's API tokens in the web app."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from dtehub.models import Role
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of


async def test_an_owner_creates_a_token_shown_once_and_revokes_it(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.OWNER, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    await web.get("/app/settings")

    created = await web.submit("/app/settings/tokens")

    assert created.status_code == 200
    found = re.search(r'id="token-nuevo">(dth_[A-Za-z0-9_-]{43})<', created.text)
    assert found is not None
    token = found.group(1)
    works = await tenant.http.get("/v1/getCompany", headers={"Authorization": f"Bearer {token}"})
    assert works.status_code == 200
    assert works.json()["id"] == str(tenant.company_id)
    listing = await web.get("/app/settings")
    assert token not in listing.text  # shown once
    token_id = re.findall(r"/app/settings/tokens/(\d+)/revoke", listing.text)[0]

    revoked = await web.submit(f"/app/settings/tokens/{token_id}/revoke")

    assert revoked.headers["location"] == "/app/settings?ok=revoked"
    gone = await tenant.http.get("/v1/getCompany", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    page = text_of(await web.get("/app/settings?ok=revoked"))
    assert "Token revocado." in page
    assert f"N° {token_id}" in page
    again = await web.submit(f"/app/settings/tokens/{token_id}/revoke")
    assert again.status_code == 404
    log = (await tenant.get("/v1/getAuditLog", actor="user", objectType="token")).json()["items"]
    assert [(e["action"], e["objectId"]) for e in log] == [
        ("app.revokeToken", token_id),
        ("app.createToken", token_id),
    ]
    assert all(token not in str(e) for e in log)


async def test_only_owners_see_and_manage_tokens(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    add_user(session, tenant.company_id, Role.COLLECTOR, email="cobra@example.cl")
    await web.signed_in("cobra@example.cl")
    page = await web.get("/app/settings")
    assert "Tokens de API" not in text_of(page)

    created = await web.submit("/app/settings/tokens")
    revoked = await web.submit("/app/settings/tokens/1/revoke")

    assert created.status_code == revoked.status_code == 403
    assert (await tenant.get("/v1/getCompany")).status_code == 200  # the company's token still works
