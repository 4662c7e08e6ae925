"""What every ``/app`` route shares: the signed-in person (from the session cookie), the CSRF check of
every state-changing request, the role a route needs, the clock, and the unit of work.

A route is a plain function decorated with :func:`app_route` (under the router's decorator). It may
take ``StaffDep`` (who is signed in, on which company, with which role), ``SessionDep`` (the unit of
work's session) and ``NowDep`` (the app's clock: ``app.state.clock``, which tests replace). The cookie
is read, the session looked up (and touched), the role and the CSRF token checked, the route run and the
unit of work committed in **one** thread-pool call, as :func:`dtehub.dependencies.transactional` does
for the API::

    @router.post("/settings/thing")
    @app_route(role=Role.OWNER)
    def change_thing(staff: StaffDep, session: SessionDep, now: NowDep, value: FormText) -> Response:
        ...
        record(session, staff, Action.APP_…, object_type=…, object_id=…, summary={…})
        return pages.redirect("/app/settings?ok=thing")

Without a live session a GET is sent to the sign-in page (``?expirada=1`` when it timed out) and any
other method answers the 401 page. Every non-GET route takes the form field ``csrf_token`` (or the
header ``X-CSRF-Token``): the session's token (``Staff.csrf_token``, in every form of the layout), or,
on the pages before sign-in (``signed_in=False``), the value of the ``dtehub_form`` cookie that the
page set (double submit). Without it: 403, nothing changed.
"""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.config import Settings
from dtehub.dependencies import AfterCommit, SessionDep, run_unit_of_work
from dtehub.errors import CsrfRefused, Forbidden
from dtehub.kit.secrets import same_secret
from dtehub.models import Actor, Role
from dtehub.users.service import SessionEnded, Staff, resolve
from dtehub.webapp import pages

SESSION_COOKIE = "dtehub_session"
FORM_COOKIE = "dtehub_form"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOGIN = "/app/login"
SECOND_FACTOR = "/app/login/totp"
ENROLL = "/app/settings/totp"


def _provided_by_app_route() -> Any:
    raise RuntimeError("an /app route that takes StaffDep or NowDep must be decorated with @app_route")


StaffDep = Annotated[Staff, Depends(_provided_by_app_route)]
"""Who is signed in: user, company, role, the session's CSRF token."""
NowDep = Annotated[datetime, Depends(_provided_by_app_route)]
"""The app's clock (``app.state.clock()``), read once per request."""
SettingsOf = Callable[[], Settings]


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def set_cookie(response: Response, settings: Settings, name: str, value: str) -> None:
    """HttpOnly, SameSite=Lax, for ``/app`` only; Secure when dtehub is served over HTTPS."""
    response.set_cookie(name, value, path="/app", httponly=True, samesite="lax", secure=settings.https)


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/app", httponly=True, samesite="lax", secure=settings.https)


def form_token(request: Request) -> tuple[str, bool]:
    """The CSRF token of a page before sign-in: the ``dtehub_form`` cookie's value, or a new one
    (then ``True``: the page must set it)."""
    current = request.cookies.get(FORM_COOKIE, "")
    if len(current) >= 32:
        return current, False
    return secrets.token_urlsafe(32), True


def record(
    session: Session,
    staff: Staff,
    action: Action,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    summary: dict[str, Any] | None = None,
    company_id: int | None = None,
) -> None:
    """The signed-in person's action in the audit log, in the route's unit of work."""
    record_user(
        session,
        staff.user_id,
        company_id if company_id is not None else staff.company_id,
        action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
    )


def record_user(
    session: Session,
    user_id: int,
    company_id: int,
    action: Action,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    summary: dict[str, Any] | None = None,
) -> None:
    """A user's action in one company's audit log (before sign-in: a password set through a link)."""
    audit.record(
        session,
        company_id,
        actor=Actor.USER,
        user_id=user_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
    )


def _login_url(request: Request, expired: bool) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"{LOGIN}?siguiente={quote(target, safe='')}"
    return url + "&expirada=1" if expired else url


Route = Callable[..., Response | AfterCommit]
AsyncRoute = Callable[..., Coroutine[Any, Any, Response]]


def app_route(
    *, role: Role = Role.VIEWER, signed_in: bool = True, second_factor: bool = True, records: bool = False
) -> Callable[[Route], AsyncRoute]:
    """Run an ``/app`` route as one unit of work (see the module's text).

    ``role``: the least role the route needs (403 below it). ``signed_in=False``: a page before sign-in
    (no ``StaffDep``; its forms carry the ``dtehub_form`` token). ``second_factor=False``: a route open
    to a session that still owes its TOTP code (the code's page, enrolling, signing out).
    ``records=True``: a GET that is an action of the audit log (an export): its unit of work writes."""

    def decorate(route: Route) -> AsyncRoute:
        return _decorated(route, role, signed_in, second_factor, records)

    return decorate


def _decorated(route: Route, role: Role, signed_in: bool, second_factor: bool, records: bool) -> AsyncRoute:
    signature = inspect.signature(route, eval_str=True)
    parameters = list(signature.parameters.values())
    staff_name = next((p.name for p in parameters if p.annotation == StaffDep), None)
    session_name = next((p.name for p in parameters if p.annotation == SessionDep), None)
    now_name = next((p.name for p in parameters if p.annotation == NowDep), None)
    if signed_in != (staff_name is not None):
        raise TypeError(
            f"{route.__name__}: a signed-in route takes StaffDep, a route before sign-in does not"
        )
    keyword = inspect.Parameter.KEYWORD_ONLY
    kept = [p.replace(kind=keyword) for p in parameters if p.name not in (staff_name, session_name, now_name)]
    # FastAPI hands the request to one parameter only: the route's own, when it takes one.
    request_name = next((p.name for p in parameters if p.annotation is Request), None)
    added = [] if request_name else [inspect.Parameter("app_request", keyword, annotation=Request)]

    def run(request: Request, given_csrf: str, arguments: dict[str, Any]) -> Response:
        settings: Settings = request.app.state.settings
        now: datetime = request.app.state.clock()
        changes = request.method != "GET"  # a GET's CSRF token is not asked for: it changes nothing
        writes = changes or records
        if now_name is not None:
            arguments[now_name] = now
        given = given_csrf or request.headers.get(CSRF_HEADER, "")
        if changes and not signed_in:
            expected = request.cookies.get(FORM_COOKIE, "")
            if not expected or not given or not same_secret(given, expected):
                raise CsrfRefused("this form has no valid CSRF token; reload the page and try again")

        def work(session: Session) -> Response | AfterCommit:
            if session_name is not None:
                arguments[session_name] = session
            if staff_name is None:
                return route(**arguments)
            try:
                staff = resolve(session, request.cookies.get(SESSION_COOKIE), now, settings)
            except SessionEnded as ended:  # the expired session's row goes with this commit
                if not changes:
                    return pages.redirect(_login_url(request, ended.expired))
                return pages.error_page(401, "not signed in")
            if changes and (not given or not same_secret(given, staff.csrf_token)):
                raise CsrfRefused("this form has no valid CSRF token; reload the page and try again")
            if second_factor and staff.second_factor_needed:
                if changes:
                    raise Forbidden("the second factor is needed first")
                return pages.redirect(SECOND_FACTOR if staff.totp_enabled else ENROLL)
            if not staff.may(role):
                raise Forbidden(f"this needs the role {role.value}")
            arguments[staff_name] = staff
            return route(**arguments)

        outcome = run_unit_of_work(
            request.app.state.sessionmaker, work, writes=writes, busy_timeout=settings.db_busy_timeout
        )
        # A route with an effect outside the database (an e-mail) has it only once its change is committed.
        return outcome.answer() if isinstance(outcome, AfterCommit) else outcome

    async def in_unit_of_work(**arguments: Any) -> Response:
        app_request: Request = arguments[request_name] if request_name else arguments.pop("app_request")
        given = ""
        if app_request.method != "GET":
            # Parsed once: the framework has read the form already when the route takes fields of it.
            value = (await app_request.form()).get(CSRF_FIELD)
            given = value if isinstance(value, str) else ""
        return await run_in_threadpool(run, app_request, given, arguments)

    in_unit_of_work.__name__ = route.__name__
    in_unit_of_work.__qualname__ = route.__qualname__
    in_unit_of_work.__doc__ = route.__doc__
    in_unit_of_work.__module__ = route.__module__
    in_unit_of_work.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*added, *kept], return_annotation=Response
    )
    in_unit_of_work.app_role = role  # type: ignore[attr-defined]
    in_unit_of_work.app_signed_in = signed_in  # type: ignore[attr-defined]
    return in_unit_of_work
