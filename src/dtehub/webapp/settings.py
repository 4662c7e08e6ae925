"""``/app/settings``: the person's own account (password, second factor) and, for owners, the
company's requirement of a second factor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.config import Settings
from dtehub.dependencies import SessionDep
from dtehub.errors import BadRequest, Forbidden, PasswordRefused
from dtehub.models import Role
from dtehub.users import service as users
from dtehub.webapp import pages
from dtehub.webapp.layout import layout
from dtehub.webapp.web import SESSION_COOKIE, NowDep, StaffDep, app_route, clear_cookie, record

router = APIRouter()

FormText = Annotated[str, Form()]


def _settings_page(
    session: Session, staff: users.Staff, ok: str | None, *, error: str | None = None, status_code: int = 200
) -> Response:
    context = {
        "layout": layout(session, staff, "settings", ok),
        "error": error,
        "owner": staff.may(Role.OWNER),
    }
    return pages.page("settings.html", context, status_code=status_code)


@router.get("/settings")
@app_route()
def settings_page(
    staff: StaffDep, session: SessionDep, ok: Annotated[str | None, Query()] = None
) -> Response:
    """The account (password, second factor) and, for owners, the company's settings."""
    return _settings_page(session, staff, ok)


@router.post("/settings/password")
@app_route()
def change_password(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    current: FormText = "",
    password: FormText = "",
    confirmation: FormText = "",
) -> Response:
    """A new password: every session of the user ends, this one too."""
    if password != confirmation:
        return _settings_page(
            session, staff, None, error="Las contraseñas nuevas no coinciden.", status_code=400
        )
    try:
        users.change_password(session, staff.user_id, current, password, now)
    except (PasswordRefused, BadRequest) as refused:  # checked before anything changed
        return _settings_page(session, staff, None, error=refused.message.capitalize() + ".", status_code=400)
    record(session, staff, Action.APP_CHANGE_PASSWORD, object_type="user", object_id=staff.user_id)
    response = pages.redirect("/app/login?ok=password")
    clear_cookie(response, request.app.state.settings, SESSION_COOKIE)
    return response


@router.get("/settings/totp")
@app_route(second_factor=False)
def totp_page(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    """Turn on the second factor: a secret to enter in an authenticator app, then its first code."""
    settings: Settings = request.app.state.settings
    pending = None if staff.totp_enabled else users.pending_totp_secret(session, staff.user_id, settings)
    context = {
        "layout": layout(session, staff, "settings"),
        "secret": pending,
        "uri": users.provisioning_uri(pending, staff.email) if pending else None,
        "error": None,
        "required": staff.second_factor_needed and not staff.totp_enabled,
    }
    return pages.page("totp_setup.html", context)


@router.post("/settings/totp")
@app_route(second_factor=False)
def begin_totp(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    if staff.second_factor_needed and staff.totp_enabled:
        raise Forbidden("give the code of the second factor in force first")
    users.begin_totp(session, staff.user_id, request.app.state.settings)
    return pages.redirect("/app/settings/totp")


@router.post("/settings/totp/confirm")
@app_route(second_factor=False)
def confirm_totp(
    request: Request, staff: StaffDep, session: SessionDep, now: NowDep, code: FormText = ""
) -> Response:
    settings: Settings = request.app.state.settings
    if staff.second_factor_needed and staff.totp_enabled:
        raise Forbidden("give the code of the second factor in force first")
    if not users.confirm_totp(session, staff, code, now, settings):
        pending = users.pending_totp_secret(session, staff.user_id, settings)
        context = {
            "layout": layout(session, staff, "settings"),
            "secret": pending,
            "uri": users.provisioning_uri(pending, staff.email) if pending else None,
            "error": "El código no es correcto. Revise la hora de su teléfono e intente de nuevo.",
            "required": staff.second_factor_needed,
        }
        return pages.page("totp_setup.html", context, status_code=400)
    record(session, staff, Action.APP_ENABLE_TOTP, object_type="user", object_id=staff.user_id)
    return pages.redirect("/app/settings?ok=totp")


@router.post("/settings/require-totp")
@app_route(role=Role.OWNER)
def require_totp(staff: StaffDep, session: SessionDep, required: FormText = "") -> Response:
    """Owners: every member signs in with a TOTP code as well (or turn it off)."""
    on = required == "1"
    users.require_totp(session, staff.company_id, on)
    record(
        session,
        staff,
        Action.APP_REQUIRE_TOTP,
        object_type="company",
        object_id=staff.company_id,
        summary={"requireTotp": on},
    )
    return pages.redirect("/app/settings?ok=require-totp")
