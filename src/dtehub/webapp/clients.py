"""``/app/clients``: the company's clients with what each owes and has overdue, searched by name or RUT;
``/app/clients/{id}``: one client (what it owes, its contacts, its reminder switches, its documents), and
the switches changed by collectors and owners through the service updateClient uses."""

from __future__ import annotations

import re
from typing import Annotated, NamedTuple
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response

from dtehub.audit.actions import Action
from dtehub.clients import repository as clients_repository
from dtehub.clients import service as clients
from dtehub.clients.schemas import ClientUpdate, SendReminders
from dtehub.contacts import repository as contacts_repository
from dtehub.contacts.schemas import CONTACT_TYPE_NAMES
from dtehub.dependencies import SessionDep
from dtehub.documents import repository as documents_repository
from dtehub.documents.filters import DocumentFilters, OrderBy
from dtehub.documents.repository import DocumentRow
from dtehub.documents.status import STATUS_NAMES, status_of
from dtehub.kit.dates import today_in_santiago
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.models import Client, DocumentState, Role
from dtehub.reports import service as reports
from dtehub.reports.repository import OpenFilter
from dtehub.webapp import forms, pages
from dtehub.webapp.dashboard import href
from dtehub.webapp.layout import layout
from dtehub.webapp.web import NowDep, StaffDep, app_route, record

router = APIRouter()

PAGE_SIZE = 50
OptionalText = Annotated[str | None, Query()]
Switch = Annotated[str, Form()]

SWITCHES = (
    ("new_document", "newDocument", "Documento nuevo", "al emitirse un documento"),
    ("soon_to_expire", "soonToExpire", "Próximo a vencer", "días antes del vencimiento"),
    ("expired", "expired", "Vencido", "después del vencimiento"),
    ("new_payment", "newPayment", "Pago recibido", "al registrarse un pago"),
    ("debt_summary", "debtSummary", "Resumen de deuda", "el resumen periódico de lo que adeuda"),
)
"""The client's reminder switches: field, form name, label, when it goes."""

_RUT_LIKE = re.compile(r"[0-9][0-9.\s]*(-[0-9kK]?|[kK])?")


class Search(NamedTuple):
    name: str | None = None
    tax_id_prefixes: tuple[str, ...] = ()


def _search(text: str) -> Search:
    """What a search box's text asks for: a RUT or its start (``76.453.707-6``, ``764537076``, ``7645``:
    the clients whose RUT starts so, or is that RUT made whole), else a part of the name."""
    text = text.strip()[:255]
    if not text:
        return Search()
    if not _RUT_LIKE.fullmatch(text):
        return Search(name=text)
    typed = re.sub(r"[.\s]", "", text).upper()
    try:
        whole = normalize_rut(typed)
    except InvalidRut:
        return Search(tax_id_prefixes=(typed,))
    return Search(tax_id_prefixes=(typed, whole) if whole != typed else (typed,))


@router.get("/clients")
@app_route()
def clients_page(
    staff: StaffDep, session: SessionDep, now: NowDep, q: OptionalText = None, page: OptionalText = None
) -> Response:
    """The clients, by name, with what each owes and has overdue today (history left out)."""
    search = _search(q or "")

    def listed(offset: int, limit: int) -> tuple[list[Client], int]:
        return clients_repository.list_page(
            session,
            staff.company_id,
            tax_id=None,
            name=search.name,
            tax_id_prefixes=search.tax_id_prefixes,
            order_column="name",
            descending=False,
            offset=offset,
            limit=limit,
        )

    found, total, number, pages_count = forms.paged(listed, page, PAGE_SIZE)
    owed = reports.owed_by_clients(session, staff.company_id, [c.id for c in found], today_in_santiago(now))
    query = (q or "").strip()[:255]
    context = {
        "layout": layout(session, staff, "clients"),
        "clients": found,
        "owed": owed,
        "total": total,
        "q": query,
        "page": number,
        "pages": pages_count,
        "page_href": lambda n: "/app/clients?" + urlencode({**({"q": query} if query else {}), "page": n}),
    }
    return pages.page("clients.html", context)


@router.get("/clients/{client_id}")
@app_route()
def client_page(
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    client_id: str,
    ok: OptionalText = None,
    page: OptionalText = None,
) -> Response:
    """One client: what it owes, its contacts, its reminder switches and its documents."""
    client = clients.require(session, staff.company_id, forms.path_id(client_id))
    today = today_in_santiago(now)
    owed = reports.owed_by_clients(session, staff.company_id, [client.id], today).get(client.id, [])
    contacts = contacts_repository.by_client(session, staff.company_id, [client.id]).get(client.id, [])

    def listed_documents(offset: int, limit: int) -> tuple[list[DocumentRow], int]:
        return documents_repository.list_page(
            session,
            staff.company_id,
            DocumentFilters(client_id=client.id),
            order_by=OrderBy.ISSUE_DATE,
            descending=True,
            offset=offset,
            limit=limit,
            today=today,
            with_client=False,
        )

    rows, total, number, pages_count = forms.paged(listed_documents, page, PAGE_SIZE)
    documents = [(row, status_of(DocumentState(row.state), row.due_date, today)) for row in rows]
    context = {
        "layout": layout(session, staff, "clients", ok),
        "client": client,
        "owed": owed,
        "owed_href": lambda currency, overdue: href(
            OpenFilter(currency, overdue=True if overdue else None, client_id=client.id)
        ),
        "contacts": contacts,
        "contact_type": lambda kind: CONTACT_TYPE_NAMES.get(kind, "Otro"),
        "switches": [(*switch, getattr(client, f"remind_{switch[0]}")) for switch in SWITCHES],
        "may_act": staff.may(Role.COLLECTOR),
        "documents": documents,
        "documents_total": total,
        "status_names": STATUS_NAMES,
        "type_name": pages.type_name,
        "page": number,
        "pages": pages_count,
    }
    return pages.page("client.html", context)


@router.post("/clients/{client_id}/reminders")
@app_route(role=Role.COLLECTOR)
def change_reminders(
    staff: StaffDep,
    session: SessionDep,
    client_id: str,
    newDocument: Switch = "",
    soonToExpire: Switch = "",
    expired: Switch = "",
    newPayment: Switch = "",
    debtSummary: Switch = "",
) -> Response:
    """Collectors: which reminders the client gets (a ticked box is on, any other is off), as
    updateClient's ``sendReminders`` does; audited as ``updateClient`` with the user."""
    target = forms.path_id(client_id)
    given = {
        "new_document": newDocument,
        "soon_to_expire": soonToExpire,
        "expired": expired,
        "new_payment": newPayment,
        "debt_summary": debtSummary,
    }
    flags = SendReminders(**{name: value == "1" for name, value in given.items()})
    clients.update_client(session, staff.company_id, ClientUpdate(id=target, send_reminders=flags))
    record(
        session,
        staff,
        Action.UPDATE_CLIENT,
        object_type="client",
        object_id=target,
        summary={"sendReminders": flags.model_dump(by_alias=True)},
    )
    return pages.redirect(f"/app/clients/{target}?ok=client-reminders")
