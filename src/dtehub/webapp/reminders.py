"""``/app/reminders``: the reminders' outbox, newest first (queued, sent, failed, not sent and why),
filtered by status, kind, client or document; read-only for every role (the outbox sends itself: the
document page's «Enviar recordatorio ahora» and serve's job put messages in it)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.clients import repository as clients_repository
from dtehub.dependencies import SessionDep
from dtehub.errors import BadRequest
from dtehub.models import MessageStatus, ReminderKind
from dtehub.reminders.repository import EmailFilters
from dtehub.reports import outbox
from dtehub.webapp import forms, pages
from dtehub.webapp.document import REMINDER_KINDS
from dtehub.webapp.layout import layout
from dtehub.webapp.web import StaffDep, app_route

router = APIRouter()

PAGE_SIZE = 50
OptionalText = Annotated[str | None, Query()]

STATUS_NAMES = {
    "pending": "En cola",
    "claimed": "Enviándose",
    "sending": "Enviándose",
    "sent": "Enviado",
    "failed": "Falló",
    "skipped": "No enviado",
    "unknown": "Resultado desconocido",
}
_IN_FLIGHT = (MessageStatus.CLAIMED, MessageStatus.SENDING)
STATUS_CHOICES = [(s.value, STATUS_NAMES[s.value]) for s in MessageStatus if s not in _IN_FLIGHT]
BADGES = {"sent": "paid", "failed": "overdue", "pending": "pending", "skipped": "voided", "unknown": "voided"}


@router.get("/reminders")
@app_route()
def reminders_page(
    staff: StaffDep,
    session: SessionDep,
    status: OptionalText = None,
    kind: OptionalText = None,
    clientId: OptionalText = None,
    documentId: OptionalText = None,
    page: OptionalText = None,
) -> Response:
    """The company's outbox, newest first, 50 a page."""
    status = (status or "").strip() or None
    kind = (kind or "").strip() or None
    if status is not None and status not in STATUS_NAMES:
        raise BadRequest("status: " + ", ".join(STATUS_NAMES), field="status")
    if kind is not None and kind not in {k.value for k in ReminderKind}:
        raise BadRequest("kind: " + ", ".join(k.value for k in ReminderKind), field="kind")
    client_id, document_id = forms.number(clientId, "clientId"), forms.number(documentId, "documentId")
    filters = EmailFilters(status=status, kind=kind, client_id=client_id, document_id=document_id)
    company_id = staff.company_id
    lines, total, number, pages_count = forms.paged(
        lambda offset, limit: outbox.outbox_page(session, company_id, filters, offset=offset, limit=limit),
        page,
        PAGE_SIZE,
    )
    client = clients_repository.get(session, staff.company_id, client_id) if client_id else None
    query = {
        name: value
        for name, value in (
            ("status", status),
            ("kind", kind),
            ("clientId", clientId and str(client_id)),
            ("documentId", documentId and str(document_id)),
        )
        if value
    }
    context = {
        "layout": layout(session, staff, "reminders"),
        "lines": lines,
        "total": total,
        "filters": filters,
        "client_name": client.name if client is not None else None,
        "statuses": STATUS_CHOICES,
        "status_names": STATUS_NAMES,
        "kinds": REMINDER_KINDS,
        "badges": BADGES,
        "type_name": pages.type_name,
        "page": number,
        "pages": pages_count,
        "page_href": lambda n: "/app/reminders?" + urlencode({**query, "page": n}),
        "kept": {k: v for k, v in query.items() if k in ("clientId", "documentId")},
    }
    return pages.page("reminders.html", context)
