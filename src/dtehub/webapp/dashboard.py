"""``/app/``: the company's dashboard; ``/app/portfolio``: every company of the user side by side;
``/app/documents``: the open documents a figure is made of (each figure links to its list)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.dependencies import SessionDep
from dtehub.errors import BadRequest
from dtehub.kit.dates import today_in_santiago
from dtehub.reports import service as reports
from dtehub.reports.repository import Activity, OpenFilter
from dtehub.users import service as users
from dtehub.webapp import charts, forms, pages
from dtehub.webapp.layout import ROLE_NAMES, layout
from dtehub.webapp.web import NowDep, StaffDep, app_route

router = APIRouter()

OptionalText = Annotated[str | None, Query()]

ACTIONS = {
    "createDocument": "creó un documento",
    "createDocumentFromXml": "cargó un DTE",
    "deleteDocument": "eliminó un documento",
    "createPayment": "registró un pago",
    "updatePayment": "actualizó un pago",
    "createClient": "creó un cliente",
    "updateClient": "actualizó un cliente",
    "updateCompany": "cambió la configuración",
    "import": "importó DTE",
    "app.signIn": "ingresó",
    "app.signOut": "cerró sesión",
    "app.switchCompany": "cambió de empresa",
    "app.changePassword": "cambió su contraseña",
    "app.setPassword": "creó su contraseña",
    "app.enableTotp": "activó el segundo factor",
    "app.requireTotp": "cambió la exigencia de segundo factor",
    "app.inviteUser": "invitó a un usuario",
    "app.createToken": "creó un token de API",
    "app.revokeToken": "revocó un token de API",
    "app.tagDocument": "agregó una etiqueta a un documento",
    "app.sendReminder": "pidió enviar un recordatorio",
    "renewDocumentKey": "renovó el enlace de un documento",
    "users.create": "creó un usuario (línea de comandos)",
}


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
    }
    return pages.page("dashboard.html", context)


@router.get("/portfolio")
@app_route()
def portfolio(staff: StaffDep, session: SessionDep, now: NowDep) -> Response:
    """Every company of the user: what each is owed and what is overdue."""
    companies = users.companies_of(session, staff.user_id)
    figures = reports.portfolio(session, [c.company_id for c in companies], today_in_santiago(now))
    rows = [(c, figures.get(c.company_id), ROLE_NAMES.get(c.role, c.role)) for c in companies]
    totals = (sum(f.owed for f in figures.values()), sum(f.overdue for f in figures.values()))
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
) -> OpenFilter:
    """The list's query parameters (the documents page's and its exports') as a filter, or a 400."""
    if status not in _STATUSES:
        raise BadRequest("status: open, overdue o pending", field="status")
    return OpenFilter(
        currency=(currency or reports.CURRENCY).strip().upper()[:3],
        overdue=_STATUSES[status],
        due_since=_day(due_since, "dueSince"),
        due_until=_day(due_until, "dueUntil"),
        client_id=forms.number(client_id, "clientId"),
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
    page: OptionalText = None,
) -> Response:
    """Open documents, the oldest due first, with their count and what they owe in all."""
    wanted = open_filter(status, dueSince, dueUntil, clientId, currency)
    listed = reports.open_list(
        session, staff.company_id, wanted, today_in_santiago(now), forms.page_number(page)
    )
    title = _STATUS_NAMES[wanted.overdue]
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
