"""``/app/documents/{id}``: everything about one document (amounts and status, client, SII, the XML's
verdicts, its cession), its timeline, its PDF and XML, and the actions of collectors and owners:
register a payment, send a reminder now, add a tag, renew the customer link. Each action goes through
the service the API uses, is in the audit log with the user, and answers with a redirect and a message
(or the page again with what to change, nothing changed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.config import Settings
from dtehub.dependencies import AfterCommit, SessionDep
from dtehub.documents import service as documents
from dtehub.dte.document_types import dte_type_name
from dtehub.errors import BadRequest, Conflict, DtehubError, Unprocessable
from dtehub.kit.dates import SANTIAGO, today_in_santiago
from dtehub.models import Role
from dtehub.payments import service as payments
from dtehub.payments.methods import PAYMENT_METHODS, method_name
from dtehub.payments.schemas import STATUS_NAMES as PAYMENT_STATUS_NAMES
from dtehub.payments.schemas import PaymentCreate
from dtehub.portal.links import Links
from dtehub.reminders import queue as reminders_queue
from dtehub.reminders import service as reminders
from dtehub.reports import service as reports
from dtehub.users.service import Staff
from dtehub.webapp import forms, pages
from dtehub.webapp.dashboard import ACTIONS
from dtehub.webapp.layout import layout
from dtehub.webapp.web import NowDep, StaffDep, app_route, record

router = APIRouter()

FormText = Annotated[str, Form()]

SOURCES = {
    "api": "por la API",
    "import": "importado (dtehub import)",
    "mipyme": "traído desde MIPYME (SII)",
    "sii": "desde el Registro de Ventas del SII",
    "demo": "de demostración",
    "rtc": "desde el Registro de Transferencia de Créditos del SII (cedido a la empresa, sin AEC aún)",
}
SII_STATES = {
    "received": "Recibido por el SII",
    "accepted": "Aceptado por el cliente (acuse de recibo)",
    "tacitly_accepted": "Aceptado tácitamente",
    "claimed": "Reclamado por el cliente",
}
VERDICTS = {
    "valid": "Válido",
    "invalid": "No válido",
    "unsigned": "Sin firma",
    "unverifiable": "No verificable",
    "absent": "Sin timbre",
}
CESSION_STATES = {"pending": "En revisión del SII", "accepted": "Registrada", "rejected": "Rechazada"}
REMINDER_KINDS = {
    "newDocument": "Documento nuevo",
    "soonToExpire": "Próximo a vencer",
    "expired": "Vencido",
    "newPayment": "Pago recibido",
    "creditDebitNote": "Nota de crédito o débito",
    "debtSummary": "Resumen de deuda",
    "cessionNotice": "Aviso de cesión",
}
REMINDER_STATUSES = {
    "pending": "en la bandeja de salida",
    "claimed": "enviándose",
    "sending": "enviándose",
    "sent": "enviado",
    "failed": "falló",
    "skipped": "no enviado",
    "unknown": "resultado desconocido",
}
DOCUMENT_ACTIONS = {
    **ACTIONS,
    "renewDocumentKey": "renovó el enlace del cliente",
    "createCesion": "cedió el documento",
    "app.tagDocument": "agregó una etiqueta",
    "app.sendReminder": "pidió enviar un recordatorio",
}


def _document_id(text: str) -> int:
    """A path's id: anything but a number of ours is a document that does not exist."""
    return forms.path_id(text)


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    when: datetime
    title: str
    detail: str = ""


def _who(line: Any) -> str:
    if line.user_email:
        return str(line.user_email)
    if line.actor == "api_token":
        return f"API (token {line.token_id})"
    names = {"cli": "Línea de comandos", "job": "dtehub", "portal": "Portal de clientes"}
    return names.get(str(line.actor), str(line.actor))


def _timeline(row: Any, view: dict[str, Any], history: reports.DocumentHistory) -> list[Entry]:
    money = pages.money
    entries = [Entry(row.created_at, "Documento creado", SOURCES.get(row.source or "api", ""))]
    if row.sii_received_at is not None:
        entries.append(Entry(row.sii_received_at, "Recibido por el SII"))
    if row.sii_accepted_at is not None:
        entries.append(Entry(row.sii_accepted_at, "Acuse de recibo del cliente en el SII"))
    if row.sii_claimed_at is not None:
        entries.append(Entry(row.sii_claimed_at, "Reclamado en el SII", row.sii_event_description or ""))
    for payment in history.payments:
        status = PAYMENT_STATUS_NAMES.get(payment.status, str(payment.status))  # type: ignore[call-overload]
        method = method_name(payment.method_id)
        detail = (
            f"{money(payment.allocated_cents, payment.currency)} a este documento, de un pago de "
            f"{money(payment.amount_cents, payment.currency)} del {pages.day(payment.paid_on)}"
            + (f", {method}" if method else "")
            + f". {status}."
        )
        entries.append(Entry(payment.created_at, f"Pago N° {payment.id} registrado", detail))
    for note in history.notes:
        name = (dte_type_name(note.code) or "Nota").capitalize()
        detail = f"{money(note.total_cents, note.currency)}, emitida el {pages.day(note.issue_date)}"
        entries.append(
            Entry(
                note.created_at,
                f"{name} N° {note.number}",
                detail + (f": {note.gloss}" if note.gloss else ""),
            )
        )
    for reminder in history.reminders:
        kind = REMINDER_KINDS.get(reminder.kind, reminder.kind)
        status = REMINDER_STATUSES.get(reminder.status, reminder.status)
        detail = f"Estado: {status}"
        if reminder.status in ("skipped", "failed") and reminder.last_error:
            detail += f" ({reminder.last_error})"
        entries.append(Entry(reminder.created_at, f"Recordatorio «{kind}» en la bandeja de salida", detail))
        if reminder.sent_at is not None:
            to = ", ".join((reminder.recipients or "").split())
            entries.append(Entry(reminder.sent_at, f"Recordatorio «{kind}» enviado", f"A {to}" if to else ""))
    for event in history.webhooks:
        counts = (event.delivered, event.pending, event.failed)
        detail = "Entregas: {} entregada(s), {} pendiente(s), {} fallida(s)".format(*counts)
        entries.append(Entry(event.created_at, f"Webhook {event.type}", detail))
    for entry in history.audit:
        action = DOCUMENT_ACTIONS.get(entry.action, entry.action)
        entries.append(Entry(entry.created_at, f"{_who(entry)} {action}", _summary(entry.summary)))
    cession = view.get("cession")
    if cession is not None:
        state = CESSION_STATES.get(cession["siiState"], cession["siiState"])
        detail = f"A {cession['assignee']['name']} (RUT {cession['assignee']['rut']}). {state}."
        entries.append(Entry(_instant(cession["date"], row.created_at), "Documento cedido", detail))
    return sorted(entries, key=lambda e: e.when, reverse=True)


def _summary(summary: dict[str, Any]) -> str:
    shown = {"tag": "etiqueta", "kind": "tipo", "amount": "monto"}
    parts = [f"{shown[k]}: {summary[k]}" for k in shown if k in summary]
    return ", ".join(parts)


def _instant(text: str, fallback: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return fallback
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SANTIAGO)
    return parsed


def _page(
    request: Request,
    session: Session,
    staff: Staff,
    now: datetime,
    document_id: int,
    ok: str | None = None,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    settings: Settings = request.app.state.settings
    links = Links(settings.public_base)
    today = today_in_santiago(now)
    row = documents.require_row(session, staff.company_id, document_id, documents.Expand(client=True))
    view = documents.present_detail(
        session, staff.company_id, row, documents.Expand(client=True, tag=True), links, today
    )
    history = reports.document_history(session, staff.company_id, document_id)
    sii = view["sii"]
    context = {
        "layout": layout(session, staff, "documents", ok),
        "row": row,
        "view": view,
        "title": f"{pages.type_name(row.code)} N° {row.number}",
        "sii_state": SII_STATES.get(sii["state"], sii["state"]) if sii else None,
        "verdicts": VERDICTS,
        "cession_states": CESSION_STATES,
        "timeline": _timeline(row, view, history),
        "may_act": staff.may(Role.COLLECTOR),
        "methods": sorted(PAYMENT_METHODS.items()),
        "today": today.isoformat(),
        "error": error,
        "form": form or {},
        "due_text": pages.money(row.due_cents, row.currency).lstrip("$") if row.currency == "CLP" else "",
    }
    return pages.page("document.html", context, status_code=status_code)


def _back(document_id: int, ok: str) -> Response:
    return pages.redirect(f"/app/documents/{document_id}?ok={ok}")


@router.get("/documents/{document_id}")
@app_route()
def document_page(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    document_id: str,
    ok: Annotated[str | None, Query()] = None,
) -> Response:
    """Everything about one document, its timeline and (for collectors and owners) its actions."""
    return _page(request, session, staff, now, _document_id(document_id), ok)


_REFUSED = (BadRequest, Conflict, Unprocessable)
"""What a service refuses before it changes anything: the page again, with what to change."""


IN_SPANISH = {
    "allocation_exceeds_due": "El monto es mayor que el saldo del documento.",
    "document_voided": "El documento está anulado: no recibe pagos.",
    "currency_mismatch": "El pago debe estar en la moneda del documento.",
    "document_not_owing": "El documento no tiene saldo por cobrar: no hay nada que recordar.",
}
"""What the page says of a refusal whose service message is written for programs (in English)."""


def _refused(
    request: Request, session: Session, staff: Staff, now: datetime, document_id: int, refused: DtehubError,
    form: dict[str, str] | None = None, *, said: str | None = None,
) -> Response:  # fmt: skip
    status = 409 if isinstance(refused, Conflict) else 400
    message = said or IN_SPANISH.get(refused.code, refused.message)
    return _page(request, session, staff, now, document_id, error=message, status_code=status, form=form)


@router.post("/documents/{document_id}/payment")
@app_route(role=Role.COLLECTOR)
def register_payment(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    document_id: str,
    amount: FormText = "",
    paid_on: Annotated[str, Form(alias="date")] = "",
    method: FormText = "",
    description: FormText = "",
) -> Response:
    """Collectors: a payment of the document's client that goes to this document (reconciled: the
    document's balance and status change at once, as createPayment does)."""
    target = _document_id(document_id)
    row = documents.require_row(session, staff.company_id, target)
    form = {"amount": amount, "date": paid_on, "method": method, "description": description}
    try:
        cents = forms.amount(amount)
        day = forms.day(paid_on, today_in_santiago(now))
        method_id = int(method) if method.strip().isdigit() and int(method) in PAYMENT_METHODS else None
        data = PaymentCreate.model_validate(
            {
                "date": day.isoformat(),
                "amount": forms.cents_text(cents),
                "currency": row.currency,
                "clientId": row.client_id,
                "paymentMethodId": method_id,
                "description": description.strip()[:255],
                "documents": [{"id": target, "amount": forms.cents_text(cents)}],
            }
        )
        payment = payments.create_payment(session, staff.company_id, data, _links(request))
    except ValidationError as invalid:
        message = "; ".join(str(e.get("msg", "")) for e in invalid.errors()) or "datos no válidos"
        return _refused(request, session, staff, now, target, BadRequest(message), form)
    except _REFUSED as refused:
        return _refused(request, session, staff, now, target, refused, form)
    record(
        session,
        staff,
        Action.CREATE_PAYMENT,
        object_type="payment",
        object_id=payment.id,
        summary={"documentId": str(target), "amount": forms.cents_text(cents), "currency": row.currency},
    )
    return _back(target, "payment")


def _links(request: Request) -> Links:
    settings: Settings = request.app.state.settings
    return Links(settings.public_base)


@router.post("/documents/{document_id}/reminder")
@app_route(role=Role.COLLECTOR)
def send_reminder(
    request: Request, staff: StaffDep, session: SessionDep, now: NowDep, document_id: str
) -> Response | AfterCommit:
    """Collectors: remind the client of the document now: queued in the outbox (the reminder its
    status calls for, once a day) and the company's outbox sent once this is committed."""
    target = _document_id(document_id)
    today = today_in_santiago(now)
    try:
        kind = reminders_queue.document_reminder(session, staff.company_id, target, today)
    except _REFUSED as refused:
        return _refused(request, session, staff, now, target, refused)
    record(
        session,
        staff,
        Action.APP_SEND_REMINDER,
        object_type="document",
        object_id=target,
        summary={"kind": kind.value if kind else "already queued today"},
    )
    if kind is None:
        return _back(target, "reminder-already")
    settings: Settings = request.app.state.settings
    factory = request.app.state.sessionmaker
    company_id = staff.company_id

    def send() -> Response:
        reminders.send_outbox(factory, settings, reminders.RunSummary(today), company_id=company_id)
        return _back(target, "reminder")

    return AfterCommit(send)


@router.post("/documents/{document_id}/tag")
@app_route(role=Role.COLLECTOR)
def add_tag(
    request: Request, staff: StaffDep, session: SessionDep, now: NowDep, document_id: str, tag: FormText = ""
) -> Response:
    """Collectors: put a tag on the document (a new name makes the tag)."""
    target = _document_id(document_id)
    try:
        found, added = documents.tag_document(session, staff.company_id, target, tag, _links(request))
    except _REFUSED as refused:
        said = "La etiqueta debe tener entre 1 y 100 caracteres." if isinstance(refused, BadRequest) else None
        return _refused(request, session, staff, now, target, refused, {"tag": tag}, said=said)
    if added:
        record(
            session,
            staff,
            Action.APP_TAG_DOCUMENT,
            object_type="document",
            object_id=target,
            summary={"tag": found.name, "tagId": str(found.id)},
        )
    return _back(target, "tag" if added else "tag-already")


@router.post("/documents/{document_id}/renew-link")
@app_route(role=Role.COLLECTOR)
def renew_link(staff: StaffDep, session: SessionDep, document_id: str) -> Response:
    """Collectors: a new key for the document's customer links; the old links answer 404 from now on."""
    target = _document_id(document_id)
    documents.renew_portal_key(session, staff.company_id, target)
    record(session, staff, Action.RENEW_DOCUMENT_KEY, object_type="document", object_id=target)
    return _back(target, "renewed")
