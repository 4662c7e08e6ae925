"""``/app/``: the company's dashboard; ``/app/portfolio``: every company of the user side by side;
``/app/documents``: the open documents a figure is made of (each figure links to its list)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.clients import repository as clients_repository
from dtehub.dependencies import SessionDep
from dtehub.documents import service as documents_service
from dtehub.documents.filters import DateBy, DocumentFilters, OrderBy
from dtehub.documents.repository import DocumentRow
from dtehub.documents.sii_states import SiiStateFilter
from dtehub.documents.status import STATUS_NAMES, DocumentStatus, status_of
from dtehub.dte.checks import Verdict
from dtehub.errors import BadRequest
from dtehub.kit.dates import today_in_santiago
from dtehub.kit.pagination import PageRequest
from dtehub.kit.rut import RUT_PATTERN, InvalidRut, normalize_client_tax_id
from dtehub.models.document import DocumentState
from dtehub.reports import service as reports
from dtehub.reports.repository import Activity, OpenFilter
from dtehub.sii_sync import service as sync
from dtehub.tags import repository as tags_repository
from dtehub.users import service as users
from dtehub.users.service import Staff
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


RUT_SHAPE = re.compile(RUT_PATTERN)

_FIGURE_STATUSES = (None, "", "open", "overdue", "pending")
_LIST_STATUSES: dict[str, DocumentStatus | None] = {
    "paid": DocumentStatus.PAID,
    "voided": DocumentStatus.VOIDED,
    "all": None,
    "overdue": DocumentStatus.OVERDUE,
    "pending": DocumentStatus.PENDING,
}
ESTADOS = (("open", "Por cobrar"), ("pending", "Por vencer"), ("overdue", "Vencida"), ("paid", "Pagada"),
           ("voided", "Anulada"), ("all", "Todos"))  # fmt: skip
SII_STATES = (("received", "Recibido"), ("accepted", "Aceptado"),
              ("tacitly_accepted", "Aceptado tácitamente"),
              ("claimed", "Reclamado"), ("never_synced", "Nunca sincronizado"))  # fmt: skip
VERDICTS = (("valid", "Válida"), ("invalid", "Inválida"), ("unsigned", "Sin firma"),
            ("unverifiable", "No verificable"), ("absent", "Sin timbre"))  # fmt: skip
ORDERS = (("1", "Fecha de emisión"), ("2", "Fecha de creación"), ("3", "Vencimiento"), ("4", "Folio"),
          ("5", "Total"))  # fmt: skip
CODES = (33, 34, 39, 41, 43, 46, 52, 56, 61, 110, 111, 112)
FIGURE_PARAMETERS = ("status", "dueSince", "dueUntil", "clientId", "currency", "siiState")
"""A figure's list's parameters, in :func:`open_filter`'s order."""
LIST_PARAMETERS = ("q", "since", "until", "dateBy", "tagId", "code", "xmlSchema", "xmlSignature", "xmlTed",
                   "orderBy", "order")  # fmt: skip
"""The documents page's parameters beyond a figure's: any of them lists through getDocuments' query."""


def _choice(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if value is None or not value.strip():
        return None
    if value.strip() not in allowed:
        raise BadRequest(f"{name}: uno de {', '.join(allowed)}", field=name)
    return value.strip()


@dataclass(frozen=True)
class Listing:
    """What the documents page lists through getDocuments' own query."""

    filters: DocumentFilters
    order_by: OrderBy
    descending: bool
    matching_clients: list[tuple[int, str, str]]
    """The search's text matched several clients (id, name, RUT): the page asks which; nothing is listed."""
    nothing: bool = False
    """The search's text matched no client."""


def document_listing(session: Session, company_id: int, asked: dict[str, str | None]) -> Listing:
    """The page's full filter as getDocuments' filter object, or a 400 in Spanish."""
    status = asked.get("status")
    if status not in (None, "", "open", *_LIST_STATUSES):
        raise BadRequest("status: open, pending, overdue, paid, voided o all", field="status")
    if (asked.get("dueSince") or "").strip() or (asked.get("dueUntil") or "").strip():
        raise BadRequest(
            "dueSince y dueUntil solo filtran las listas del tablero: use desde/hasta (fecha de emisión)",
            field="dueSince",
        )
    currency = (asked.get("currency") or "").strip().upper()
    if currency and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        raise BadRequest("currency: un código de 3 letras, p. ej. CLP", field="currency")
    code = forms.number(asked.get("code"), "code")
    if code is not None and not 1 <= code <= 999:
        raise BadRequest("code: un código SII de 1 a 999", field="code")
    date_by = _choice(asked.get("dateBy"), ("1", "2"), "dateBy")
    order_by = _choice(asked.get("orderBy"), tuple(k for k, _ in ORDERS), "orderBy")
    order = _choice((asked.get("order") or "").upper() or None, ("ASC", "DESC"), "order")
    sii_state = _choice(asked.get("siiState"), tuple(k for k, _ in SII_STATES), "siiState")
    verdicts = {}
    for name in ("xmlSchema", "xmlSignature", "xmlTed"):
        verdicts[name] = _choice(asked.get(name), tuple(k for k, _ in VERDICTS), name)
    number: str | None = None
    client_tax_id: str | None = None
    client_id = forms.number(asked.get("clientId"), "clientId")
    matching: list[tuple[int, str, str]] = []
    nothing = False
    text = (asked.get("q") or "").strip()[:100]
    if text.isascii() and text.isdigit():
        number = text
    elif text and RUT_SHAPE.match(text):
        try:
            client_tax_id = normalize_client_tax_id(text)
        except InvalidRut:
            raise BadRequest(
                "Búsqueda: el RUT no es válido (revise el dígito verificador)", field="q"
            ) from None
    elif text:
        found, _ = clients_repository.list_page(
            session,
            company_id,
            tax_id=None,
            name=text,
            order_column="name",
            descending=False,
            offset=0,
            limit=20,
        )
        # A name searched replaces a client chosen before (the form keeps that one as a hidden field).
        client_id = found[0].id if len(found) == 1 else None
        nothing = not found
        matching = [(c.id, c.name, c.tax_id) for c in found] if len(found) > 1 else []
    wanted_status = _LIST_STATUSES.get(status or "")
    filters = DocumentFilters(
        date_by=DateBy(int(date_by or 1)),
        since=_day(asked.get("since"), "since"),
        until=_day(asked.get("until"), "until"),
        status=wanted_status,
        open_only=status in (None, "", "open"),
        number=number,
        code=code,
        currency=currency or None,
        client_id=client_id,
        client_tax_id=client_tax_id,
        tag_id=forms.number(asked.get("tagId"), "tagId"),
        xml_schema=Verdict(verdicts["xmlSchema"]) if verdicts["xmlSchema"] else None,
        xml_signature=Verdict(verdicts["xmlSignature"]) if verdicts["xmlSignature"] else None,
        xml_ted=Verdict(verdicts["xmlTed"]) if verdicts["xmlTed"] else None,
        sii_state=SiiStateFilter(sii_state) if sii_state else None,
    )
    return Listing(filters, OrderBy(int(order_by or 1)), order != "ASC", matching, nothing)


def is_figure_list(asked: dict[str, str | None]) -> bool:
    """Only a figure's parameters: the page lists exactly what the figure counts."""
    if any((asked.get(name) or "").strip() for name in LIST_PARAMETERS):
        return False
    return asked.get("status") in _FIGURE_STATUSES and asked.get("siiState") in (None, "", CLAIMED)


def _form(session: Session, company_id: int, asked: dict[str, str | None]) -> dict[str, object]:
    tags, _ = tags_repository.list_page(
        session, company_id, name=None, order_by=1, descending=False, offset=0, limit=200
    )
    return {
        "asked": {k: (v or "") for k, v in asked.items()},
        "estados": ESTADOS,
        "sii_states": SII_STATES,
        "verdicts": VERDICTS,
        "orders": ORDERS,
        "codes": [(c, pages.type_name(c)) for c in CODES],
        "tags": [(t.id, t.name) for t in tags],
    }


@router.get("/documents")
@app_route()
def documents(
    request: Request,
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
    """Open documents, the oldest due first, with their count and what they owe in all (a figure's
    list); with any other filter of the form, getDocuments' own listing of the company's documents."""
    asked: dict[str, str | None] = {
        "status": status, "dueSince": dueSince, "dueUntil": dueUntil, "clientId": clientId,
        "currency": currency, "siiState": siiState,
        **{name: request.query_params.get(name) for name in LIST_PARAMETERS},
    }  # fmt: skip
    today = today_in_santiago(now)
    if not is_figure_list(asked):
        return _full_list(session, staff, asked, today, page)
    wanted = open_filter(status, dueSince, dueUntil, clientId, currency, siiState)
    listed = reports.open_list(session, staff.company_id, wanted, today, forms.page_number(page))
    title = _STATUS_NAMES[wanted.overdue] + (" reclamados en el SII" if wanted.claimed else "")
    context = {
        "layout": layout(session, staff, "documents"),
        "full": False,
        "listed": listed,
        "title": title,
        "type_name": pages.type_name,
        "page_href": lambda n: (
            href(listed.filter) + ("&" if "?" in href(listed.filter) else "?") + f"page={n}"
        ),
        "export_href": lambda extension: href(listed.filter).replace(
            "/app/documents", f"/app/documents.{extension}", 1
        ),
        **_form(session, staff.company_id, asked),
    }
    return pages.page("documents.html", context)


PAGE_SIZE = 50


def _full_list(
    session: Session, staff: Staff, asked: dict[str, str | None], today: date, page: str | None
) -> Response:
    listing = document_listing(session, staff.company_id, asked)

    def fetch(offset: int, limit: int) -> tuple[list[DocumentRow], int]:
        if listing.matching_clients or listing.nothing:
            return [], 0
        wanted = PageRequest(page=offset // limit + 1, per_page=limit)
        return documents_service.list_documents(
            session,
            staff.company_id,
            listing.filters,
            order_by=listing.order_by,
            descending=listing.descending,
            page=wanted,
            today=today,
            expand=documents_service.Expand(),
        )

    rows, total, number, pages_count = forms.paged(fetch, page, PAGE_SIZE)
    names = clients_repository.by_ids(session, staff.company_id, {row.client_id for row in rows})
    shown = [
        (row, STATUS_NAMES[status_of(DocumentState(row.state), row.due_date, today)],
         names[row.client_id].name if row.client_id in names else "")
        for row in rows
    ]  # fmt: skip
    query = {k: v for k, v in asked.items() if v}
    chosen = listing.filters.client_id
    client = clients_repository.get(session, staff.company_id, chosen) if chosen is not None else None

    def page_href(n: int) -> str:
        return "/app/documents?" + urlencode({**query, "page": str(n)})

    def client_href(client_id: int) -> str:
        return "/app/documents?" + urlencode(
            {**{k: v for k, v in query.items() if k != "q"}, "clientId": client_id}
        )

    context = {
        "layout": layout(session, staff, "documents"),
        "full": True,
        "title": "Documentos",
        "rows": shown,
        "total": total,
        "page": number,
        "pages": pages_count,
        "page_href": page_href,
        "client_href": client_href,
        "export_href": lambda extension: f"/app/documents.{extension}?" + urlencode(query),
        "matching_clients": listing.matching_clients,
        "client": client,
        "type_name": pages.type_name,
        **_form(session, staff.company_id, asked),
    }
    return pages.page("documents.html", context)
