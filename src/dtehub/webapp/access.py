"""Signing in and out: the sign-in page (throttled), the TOTP code, one-time password links, switching
company."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.config import Settings
from dtehub.dependencies import AfterCommit, SessionDep
from dtehub.errors import BadRequest, NotFound, PasswordRefused
from dtehub.users import service as users
from dtehub.webapp import forms, mails, pages
from dtehub.webapp.web import (
    FORM_COOKIE,
    SESSION_COOKIE,
    NowDep,
    StaffDep,
    app_route,
    clear_cookie,
    client_address,
    form_token,
    record,
    record_user,
    set_cookie,
)

router = APIRouter()

FormText = Annotated[str, Form()]
WRONG = "Correo o contraseña incorrectos."
WRONG_CODE = "El código no es correcto. Revise la hora de su teléfono e intente de nuevo."


def _wait_text(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    unit = "minuto" if minutes == 1 else "minutos"
    return f"Demasiados intentos fallidos. Espere {minutes} {unit} e intente de nuevo."


def _target(next_url: str | None) -> str:
    """Where to go after signing in: a page of the app, never another site."""
    if (
        next_url
        and next_url.startswith("/app/")
        and not next_url.startswith("/app//")
        and "\\" not in next_url
    ):
        return next_url
    return "/app/"


def _form_page(
    request: Request, template: str, context: dict[str, object], *, status_code: int = 200
) -> Response:
    """A page before sign-in, with its form's CSRF token (and the cookie that holds it, when new)."""
    token, new = form_token(request)
    response = pages.page(template, {**context, "csrf_token": token}, status_code=status_code)
    if new:
        set_cookie(response, request.app.state.settings, FORM_COOKIE, token)
    return response


@router.get("/login")
@app_route(signed_in=False)
def login_page(
    request: Request,
    siguiente: Annotated[str | None, Query()] = None,
    expirada: Annotated[str | None, Query()] = None,
    salida: Annotated[str | None, Query()] = None,
    ok: Annotated[str | None, Query()] = None,
) -> Response:
    """The sign-in form."""
    notice = None
    if expirada:
        notice = "Su sesión expiró. Vuelva a ingresar."
    elif salida:
        notice = "Cerró su sesión."
    elif ok == "password":
        notice = "Contraseña guardada. Ingrese con la nueva."
    elif ok == "reset":
        notice = (
            "Si el correo corresponde a un usuario, le enviamos un enlace para crear una contraseña nueva."
        )
    return _form_page(
        request, "login.html", {"next": _target(siguiente), "notice": notice, "error": None, "email": ""}
    )


@router.post("/login")
@app_route(signed_in=False)
def login(
    request: Request,
    session: SessionDep,
    now: NowDep,
    email: FormText = "",
    password: FormText = "",
    siguiente: FormText = "/app/",
) -> Response:
    """Check the e-mail and password; a wrong password and an unknown e-mail answer the same."""
    settings: Settings = request.app.state.settings
    outcome = users.sign_in(session, email, password, client_address(request), now, settings)
    context = {"next": _target(siguiente), "notice": None, "email": email[:254]}
    if outcome.retry_after is not None:
        response = _form_page(
            request, "login.html", {**context, "error": _wait_text(outcome.retry_after)}, status_code=429
        )
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if outcome.user is None:
        return _form_page(request, "login.html", {**context, "error": WRONG}, status_code=401)
    token = users.start_session(session, outcome.user, now)
    staff = users.resolve(session, token, now, settings)
    # The password was right; when a code is still owed the log says so (app.secondFactor follows it).
    pending = {"secondFactor": "pending"} if staff.second_factor_needed else None
    record(session, staff, Action.APP_SIGN_IN, object_type="user", object_id=staff.user_id, summary=pending)
    response = pages.redirect(_target(siguiente))
    set_cookie(response, settings, SESSION_COOKIE, token)
    return response


@router.get("/login/totp")
@app_route(second_factor=False)
def second_factor_page(staff: StaffDep) -> Response:
    """The TOTP code, after the password, when the user has one or the company requires it."""
    if not staff.second_factor_needed:
        return pages.redirect("/app/")
    return pages.page("totp.html", {"staff": staff, "error": None})


@router.post("/login/totp")
@app_route(second_factor=False)
def second_factor(
    request: Request, staff: StaffDep, session: SessionDep, now: NowDep, code: FormText = ""
) -> Response:
    settings: Settings = request.app.state.settings
    address = client_address(request)
    wait = users.throttled(session, staff.email, address, now, settings)
    if wait is not None:
        return pages.page("totp.html", {"staff": staff, "error": _wait_text(wait)}, status_code=429)
    if not users.check_second_factor(session, staff, code, now, settings):
        users.record_failure(session, staff.email, address, now, settings)
        return pages.page("totp.html", {"staff": staff, "error": WRONG_CODE}, status_code=401)
    record(session, staff, Action.APP_SECOND_FACTOR, object_type="user", object_id=staff.user_id)
    return pages.redirect("/app/")


@router.post("/logout")
@app_route(second_factor=False)
def logout(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    """End this session."""
    users.end_session(session, staff)
    record(session, staff, Action.APP_SIGN_OUT, object_type="user", object_id=staff.user_id)
    response = pages.redirect("/app/login?salida=1")
    clear_cookie(response, request.app.state.settings, SESSION_COOKIE)
    return response


@router.post("/company")
@app_route()
def switch_company(staff: StaffDep, session: SessionDep, company: FormText = "") -> Response:
    """Work on another of the user's companies."""
    if not (company.isascii() and company.isdigit()):
        raise BadRequest("elija una empresa", field="company")
    target = forms.path_id(company, "company")  # a number no id can be: a company that does not exist
    users.switch_company(session, staff, target)
    record(
        session, staff, Action.APP_SWITCH_COMPANY, object_type="company", object_id=target, company_id=target
    )
    return pages.redirect("/app/?ok=company")


def _password_link_page(
    request: Request, session: Session, token: str, now: datetime, error: str | None, status: int = 200
) -> Response:
    try:
        _, user = users.open_link(session, token, now)
    except NotFound:
        return _gone_link()
    return _form_page(
        request,
        "password_link.html",
        {"email": user.email, "token": token, "error": error, "gone": False},
        status_code=status,
    )


def _gone_link() -> Response:
    """A link that does not exist, was used or expired: one same 404 page (it says nothing of which),
    telling the person how to get a new one rather than sending them to a panel they cannot enter."""
    return pages.page("password_link.html", {"gone": True}, status_code=404)


@router.get("/password/{token}")
@app_route(signed_in=False)
def password_link_page(request: Request, session: SessionDep, now: NowDep, token: str) -> Response:
    """A one-time link's page: choose a password (first one, reset, or an invitation)."""
    return _password_link_page(request, session, token, now, None)


@router.post("/password/{token}")
@app_route(signed_in=False)
def password_link(
    request: Request,
    session: SessionDep,
    now: NowDep,
    token: str,
    password: FormText = "",
    confirmation: FormText = "",
) -> Response:
    if password != confirmation:
        return _password_link_page(request, session, token, now, "Las contraseñas no coinciden.", 400)
    try:
        user = users.use_link(session, token, password, now)
    except PasswordRefused as refused:  # checked before anything changed
        return _password_link_page(request, session, token, now, refused.message.capitalize() + ".", 400)
    except NotFound:
        return _gone_link()
    for company in users.companies_of(session, user.id):
        record_user(
            session,
            user.id,
            company.company_id,
            Action.APP_SET_PASSWORD,
            object_type="user",
            object_id=user.id,
        )
    return pages.redirect("/app/login?ok=password")


@router.get("/password-reset")
@app_route(signed_in=False)
def reset_page(request: Request) -> Response:
    """Ask for a link to choose a new password."""
    return _form_page(request, "reset.html", {"error": None})


@router.post("/password-reset")
@app_route(signed_in=False)
def reset(request: Request, session: SessionDep, now: NowDep, email: FormText = "") -> Response | AfterCommit:
    """The same answer whether the e-mail is a user's or not; each request counts against the
    account and the address as a failed sign-in does (no one mails a person a hundred links)."""
    settings: Settings = request.app.state.settings
    address = client_address(request)
    wait = users.throttled(session, email, address, now, settings)
    if wait is not None:
        return _form_page(request, "reset.html", {"error": _wait_text(wait)}, status_code=429)
    users.record_failure(session, email, address, now, settings)
    found = users.request_reset(session, email, now)
    if found is None:
        return pages.redirect("/app/login?ok=reset")
    user, token = found
    for company in users.companies_of(session, user.id):
        record_user(
            session,
            user.id,
            company.company_id,
            Action.APP_REQUEST_PASSWORD_RESET,
            object_type="user",
            object_id=user.id,
        )
    mail = mails.reset_mail(settings, user.email, token)

    def send() -> Response:
        mails.send(settings, mail)  # a failure is logged; the answer must not tell
        return pages.redirect("/app/login?ok=reset")

    return AfterCommit(send)
