"""``/app/settings``: the person's own account (password, second factor) and, for owners, the
company's requirement of a second factor, invitations and API tokens (the company's data, printing,
reminders, users and webhooks: :mod:`dtehub.webapp.company_settings`; the page: :mod:`.settings_page`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from dtehub.audit.actions import Action
from dtehub.auth import service as auth
from dtehub.config import Settings
from dtehub.dependencies import AfterCommit, SessionDep
from dtehub.errors import BadRequest, Conflict, Forbidden, NotFound, PasswordRefused, SecretKeyMissing
from dtehub.models import Role
from dtehub.users import service as users
from dtehub.webapp import mails, pages
from dtehub.webapp.layout import layout
from dtehub.webapp.settings_page import settings_page as _settings_page
from dtehub.webapp.web import SESSION_COOKIE, NowDep, StaffDep, app_route, clear_cookie, record

router = APIRouter()

FormText = Annotated[str, Form()]


@router.get("/settings")
@app_route()
def settings_page(
    request: Request, staff: StaffDep, session: SessionDep, ok: Annotated[str | None, Query()] = None
) -> Response:
    """The account (password, second factor), the company's settings (owners change them)."""
    return _settings_page(request, session, staff, ok)


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
            request, session, staff, None, error="Las contraseñas nuevas no coinciden.", status_code=400
        )
    try:
        users.change_password(session, staff.user_id, current, password, now)
    except (PasswordRefused, BadRequest) as refused:  # checked before anything changed
        return _settings_page(
            request, session, staff, None, error=refused.message.capitalize() + ".", status_code=400
        )
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
    try:
        users.begin_totp(session, staff.user_id, request.app.state.settings)
    except SecretKeyMissing:  # waiting will not help: say who can fix it, as the webhooks' form does
        context = {
            "layout": layout(session, staff, "settings"),
            "secret": None,
            "uri": None,
            "error": NO_KEY,
            "required": staff.second_factor_needed and not staff.totp_enabled,
        }
        return pages.page("totp_setup.html", context, status_code=503)
    return pages.redirect("/app/settings/totp")


NO_KEY = (
    "Este servidor de dtehub no tiene DTEHUB_SECRET_KEY: sin esa clave no puede guardar el secreto del "
    "segundo factor. Pida a quien administra el servidor que la configure."
)
NO_KEY_TO_REQUIRE = (
    "Este servidor de dtehub no tiene DTEHUB_SECRET_KEY: sin esa clave nadie puede activar el segundo "
    "factor, y exigirlo dejaría a todos sin acceso. Pida a quien administra el servidor que la configure."
)


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
def require_totp(request: Request, staff: StaffDep, session: SessionDep, required: FormText = "") -> Response:
    """Owners: every member signs in with a TOTP code as well (or turn it off)."""
    on = required == "1"
    try:
        users.require_totp(session, staff.company_id, on, request.app.state.settings)
    except SecretKeyMissing:
        return _settings_page(request, session, staff, None, error=NO_KEY_TO_REQUIRE, status_code=503)
    record(
        session,
        staff,
        Action.APP_REQUIRE_TOTP,
        object_type="company",
        object_id=staff.company_id,
        summary={"requireTotp": on},
    )
    return pages.redirect("/app/settings?ok=require-totp")


@router.post("/settings/invite")
@app_route(role=Role.OWNER)
def invite(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    email: FormText = "",
    role: FormText = "",
) -> Response | AfterCommit:
    """Owners: give a person a role in the company, by e-mail (a new user gets a link to choose a
    password)."""
    settings: Settings = request.app.state.settings
    try:
        chosen = users.parse_role(role)
    except BadRequest:
        said = "Elija un rol: Administrador, Cobranza o Lectura."
        return _settings_page(request, session, staff, None, error=said, status_code=400)
    try:
        user, token = users.invite(session, staff.company_id, email, chosen, now)
    except (BadRequest, Conflict) as refused:  # checked before anything changed (in Spanish)
        return _settings_page(request, session, staff, None, error=refused.message, status_code=400)
    record(
        session,
        staff,
        Action.APP_INVITE_USER,
        object_type="user",
        object_id=user.id,
        summary={"email": user.email, "role": chosen.value},
    )
    company = layout(session, staff, "settings").company.name
    mail = mails.invitation_mail(settings, user.email, company, staff.email, token)

    def send() -> Response:
        sent = mails.send(settings, mail)
        return pages.redirect("/app/settings?ok=" + ("invited" if sent else "invite-unsent"))

    return AfterCommit(send)


@router.post("/settings/tokens")
@app_route(role=Role.OWNER)
def create_token(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    """Owners: a new API token of the company, shown on this answer only (never in a URL, never again)."""
    token_id, token = auth.issue_company_token(session, staff.company_id)
    record(session, staff, Action.APP_CREATE_TOKEN, object_type="token", object_id=token_id)
    return _settings_page(request, session, staff, None, new_token=token)


@router.post("/settings/tokens/{token_id}/revoke")
@app_route(role=Role.OWNER)
def revoke_token(staff: StaffDep, session: SessionDep, token_id: str) -> Response:
    """Owners: revoke one of the company's API tokens; requests with it answer 401 from now on."""
    if not (token_id.isascii() and token_id.isdigit()) or len(token_id) > 18:
        raise NotFound("no active token with this id")
    auth.revoke_company_token(session, staff.company_id, int(token_id))
    record(session, staff, Action.APP_REVOKE_TOKEN, object_type="token", object_id=int(token_id))
    return pages.redirect("/app/settings?ok=revoked")
