"""``/app/``: the company's dashboard; ``/app/portfolio``: every company of the user side by side;
``/app/documents``: the open documents a figure is made of (each figure links to its list)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.audit.actions import Action
from dtehub.dependencies import SessionDep
from dtehub.documents.sii_states import SiiStateFilter
from dtehub.errors import BadRequest
from dtehub.kit.dates import today_in_santiago
from dtehub.reports import service as reports
from dtehub.reports.repository import Activity, OpenFilter
from dtehub.sii_sync import service as sync
from dtehub.users import service as users
from dtehub.webapp import charts, forms, pages
from dtehub.webapp.layout import ROLE_NAMES, layout
from dtehub.webapp.sii import shown_run
from dtehub.webapp.web import NowDep, StaffDep, app_route

router = APIRouter()

OptionalText = Annotated[str | None, Query()]
CLAIMED = SiiStateFilter.CLAIMED.value
"""The documents list's ``siiState`` (getDocuments' word): the only SII state it filters by."""

ACTIONS: dict[str, str] = {
    Action.CREATE_DOCUMENT: "creó un documento",
    Action.CREATE_DOCUMENT_FROM_XML: "cargó un DTE",
    Action.DELETE_DOCUMENT: "eliminó un documento",
    Action.RENEW_DOCUMENT_KEY: "renovó el enlace de un documento",
    Action.RENEW_NOTE_KEY: "renovó el enlace de una nota",
    Action.CREATE_CLIENT: "creó un cliente",
    Action.UPDATE_CLIENT: "actualizó un cliente",
    Action.RENEW_CLIENT_KEY: "renovó el enlace de un cliente",
    Action.CREATE_CONTACT: "agregó un contacto",
    Action.CREATE_TAG: "creó una etiqueta",
    Action.CREATE_FILE: "adjuntó un archivo",
    Action.UPDATE_COMPANY: "cambió la configuración",
    Action.UPDATE_COMPANY_LOGO: "cambió el logo",
    Action.DELETE_COMPANY_LOGO: "quitó el logo",
    Action.UPDATE_COMPANY_SII_CERTIFICATE: "cargó el certificado del SII",
    Action.DELETE_COMPANY_SII_CERTIFICATE: "quitó el certificado del SII",
    Action.CREATE_PAYMENT: "registró un pago",
    Action.UPDATE_PAYMENT: "actualizó un pago",
    Action.CREATE_WEBHOOK: "creó un webhook",
    Action.DELETE_WEBHOOK: "eliminó un webhook",
    Action.SYNC_SII: "pidió sincronizar con el SII",
    Action.CREATE_CESION_FROM_XML: "recibió una cesión (AEC)",
    Action.CREATE_CESION: "cedió un documento",
    Action.MIPYME_GET_DOCUMENT: "trajo un DTE del portal MIPYME",
    Action.COMPANIES_CREATE: "creó la empresa (línea de comandos)",
    Action.COMPANIES_UPDATE: "cambió la empresa (línea de comandos)",
    Action.COMPANIES_LOGO: "cambió el logo (línea de comandos)",
    Action.COMPANIES_CERTIFICATE: "cargó el certificado del SII (línea de comandos)",
    Action.TOKENS_CREATE: "creó un token de API (línea de comandos)",
    Action.TOKENS_REVOKE: "revocó un token de API (línea de comandos)",
    Action.USERS_CREATE: "creó un usuario (línea de comandos)",
    Action.USERS_ADD_COMPANY: "dio acceso a un usuario (línea de comandos)",
    Action.USERS_DISABLE: "desactivó un usuario (línea de comandos)",
    Action.DEMO: "creó la empresa de demostración",
    Action.APP_SIGN_IN: "ingresó",
    Action.APP_SIGN_OUT: "cerró sesión",
    Action.APP_SECOND_FACTOR: "confirmó el segundo factor al ingresar",
    Action.APP_SWITCH_COMPANY: "cambió de empresa",
    Action.APP_SET_PASSWORD: "creó su contraseña",
    Action.APP_CHANGE_PASSWORD: "cambió su contraseña",
    Action.APP_REQUEST_PASSWORD_RESET: "pidió restablecer su contraseña",
    Action.APP_ENABLE_TOTP: "activó el segundo factor",
    Action.APP_REQUIRE_TOTP: "cambió la exigencia de segundo factor",
    Action.APP_INVITE_USER: "invitó a un usuario",
    Action.APP_CREATE_TOKEN: "creó un token de API",
    Action.APP_REVOKE_TOKEN: "revocó un token de API",
    Action.APP_TAG_DOCUMENT: "agregó una etiqueta a un documento",
    Action.APP_SEND_REMINDER: "pidió enviar un recordatorio",
    Action.APP_CHANGE_ROLE: "cambió el rol de un usuario",
    Action.APP_REMOVE_MEMBER: "quitó el acceso de un usuario",
    Action.APP_EXPORT_DOCUMENTS: "exportó la lista de documentos",
    Action.APP_START_IMPORT: "subió archivos para importar",
    Action.IMPORT: "importó DTE",
    Action.SII_SYNC: "sincronizó con el SII",
}
"""What recent activity and a document's timeline say of each action (a test checks every action has
its words: none is shown by its code name)."""


def href(wanted: OpenFilter) -> str:
    """The list of the open documents a figure is made of."""
    query: dict[str, str] = {}
    if wanted.overdue is not None:
        query["status"] = "overdue" if wanted.overdue else "pending"
    if wanted.due_since is not None:
        query["dueSince"] = wanted.due_since.isoformat()
    if wanted.due_until is not None:
        query["dueUntil"] = wanted.due_until.isoformat()
    if wanted.client_id is not None:
        query["clientId"] = str(wanted.client_id)
    if wanted.currency != reports.CURRENCY:
        query["currency"] = wanted.currency
    if wanted.claimed:
        query["siiState"] = CLAIMED
    return "/app/documents" + ("?" + urlencode(query) if query else "")


def _who(activity: Activity) -> str:
    if activity.user_email:
        return activity.user_email
    if activity.actor == "api_token":
        return f"API (token {activity.token_id})"
    return {"cli": "Línea de comandos", "job": "dtehub", "portal": "Portal de clientes"}.get(
        activity.actor, activity.actor
    )


@router.get("/")
@app_route()
def dashboard(
    staff: StaffDep, session: SessionDep, now: NowDep, ok: Annotated[str | None, Query()] = None
) -> Response:
    """What the company is owed, at a glance; each figure links to the documents it is made of."""
    today = today_in_santiago(now)
    board = reports.dashboard(session, staff.company_id, today)
    run, lease = sync.latest_run(session, staff.company_id)
    aging_chart = charts.bars(
        "antiguedad",
        "Antigüedad de la deuda",
        [charts.Bar(b.label, b.cents, pages.money(b.cents)) for b in board.aging],
    )
    months_chart = charts.bars(
        "recaudacion",
        "Recaudado por mes, últimos 12 meses",
        [charts.Bar(m.label, m.cents, pages.money(m.cents)) for m in board.months],
        varied=False,
    )
    context = {
        "layout": layout(session, staff, "dashboard", ok),
        "board": board,
        "href": href,
        "debtor_href": lambda client_id: href(OpenFilter(reports.CURRENCY, client_id=client_id)),
        "aging_chart": aging_chart,
        "months_chart": months_chart,
        "who": _who,
        "actions": ACTIONS,
        "last_sync": shown_run(run, lease, now) if run is not None else None,
    }
    return pages.page("dashboard.html", context)


@router.get("/portfolio")
@app_route()
def portfolio(staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    """Every company of the user: what each is owed, what is overdue and what is claimed at SII."""
    companies = users.companies_of(session, staff.user_id)
    figures = reports.portfolio(session, [c.company_id for c in companies], today_in_santiago(now))
    rows = [(c, figures.get(c.company_id), ROLE_NAMES.get(c.role, c.role)) for c in companies]
    totals = tuple(sum(getattr(f, name) for f in figures.values()) for name in ("owed", "overdue", "claimed"))
    context = {"layout": layout(session, staff, "portfolio"), "rows": rows, "totals": totals}
    return pages.page("portfolio.html", context)


def _day(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(f"{name}: la fecha debe ser AAAA-MM-DD", field=name) from None


_STATUSES = {None: None, "": None, "open": None, "overdue": True, "pending": False}
_STATUS_NAMES = {None: "Documentos por cobrar", True: "Documentos vencidos", False: "Documentos por vencer"}


def open_filter(
    status: str | None,
    due_since: str | None,
    due_until: str | None,
    client_id: str | None,
    currency: str | None,
    sii_state: str | None = None,
) -> OpenFilter:
    """The list's query parameters (the documents page's and its exports') as a filter, or a 400."""
    if status not in _STATUSES:
        raise BadRequest("status: open, overdue o pending", field="status")
    if sii_state not in (None, "", CLAIMED):
        raise BadRequest(f"siiState: {CLAIMED} (reclamados en el SII) o vacío", field="siiState")
    return OpenFilter(
        currency=(currency or reports.CURRENCY).strip().upper()[:3],
        overdue=_STATUSES[status],
        due_since=_day(due_since, "dueSince"),
        due_until=_day(due_until, "dueUntil"),
        client_id=forms.number(client_id, "clientId"),
        claimed=sii_state == CLAIMED,
    )


@router.get("/documents")
@app_route()
def documents(
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    status: OptionalText = None,
    dueSince: OptionalText = None,
    dueUntil: OptionalText = None,
    clientId: OptionalText = None,
    currency: OptionalText = None,
    siiState: OptionalText = None,
    page: OptionalText = None,
) -> Response:
    """Open documents, the oldest due first, with their count and what they owe in all."""
    wanted = open_filter(status, dueSince, dueUntil, clientId, currency, siiState)
    listed = reports.open_list(
        session, staff.company_id, wanted, today_in_santiago(now), forms.page_number(page)
    )
    title = _STATUS_NAMES[wanted.overdue] + (" reclamados en el SII" if wanted.claimed else "")
    context = {
        "layout": layout(session, staff, "documents"),
        "listed": listed,
        "title": title,
        "type_name": pages.type_name,
        "page_href": lambda n: (
            href(listed.filter) + ("&" if "?" in href(listed.filter) else "?") + f"page={n}"
        ),
        "export_href": lambda extension: href(listed.filter).replace(
            "/app/documents", f"/app/documents.{extension}", 1
        ),
    }
    return pages.page("documents.html", context)
