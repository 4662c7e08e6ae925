"""``/app/settings``, the company's part (owners change it; the others read it): the company's data
(name, payment term, collections start, the first month SII syncs read), print settings (SII's
resolution and office) and logo, reminder timing, its users and their roles, and its webhooks.

Each change goes through the service the API and ``dtehub companies`` use (companies.service,
webhooks.service), with their rules; what they refuse shows the page again with what to change in
Spanish, nothing changed. Every change is in the audit log with the user: ``updateCompany``,
``updateCompanyLogo``, ``deleteCompanyLogo``, ``createWebhook``, ``deleteWebhook`` (as the API names
them) and ``app.changeRole``, ``app.removeMember``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.companies import service as companies
from dtehub.companies.logo import MAX_LOGO_BYTES
from dtehub.config import Settings
from dtehub.dependencies import SessionDep
from dtehub.errors import (
    BadRequest,
    Conflict,
    DtehubError,
    FileTooLarge,
    NotFound,
    SecretKeyMissing,
    TooManyWebhooks,
    Unprocessable,
)
from dtehub.errors_http import http_status
from dtehub.models import Role
from dtehub.users import service as users
from dtehub.users.service import Staff
from dtehub.webapp import forms, pages
from dtehub.webapp.settings_page import settings_page
from dtehub.webapp.web import StaffDep, app_route, record
from dtehub.webhooks import service as webhooks
from dtehub.webhooks.schemas import WebhookCreate

router = APIRouter()

FormText = Annotated[str, Form()]

FIELD_ERRORS = {
    "name": "El nombre de la empresa no puede quedar vacío.",
    "paymentTerm": "Plazo de pago: un número de días entre 0 y 3.650.",
    "collectionsStartDate": "Inicio de cobranza: elija un día (AAAA-MM-DD).",
    "siiSyncFrom": "Sincronizar desde: un mes AAAA-MM desde 2017-08, no posterior al mes actual.",
    "siiResolutionNumber": "Número de resolución: un número entre 0 y 999.999.",
    "siiResolutionDate": "Fecha de resolución: elija un día (AAAA-MM-DD).",
    "siiOffice": "Oficina del SII: a lo más 64 caracteres.",
    "reminderDaysBefore": "Aviso antes del vencimiento: un número de días entre 0 y 365.",
    "reminderOverdueEvery": "Repetir si está vencido: un número de días entre 0 y 365.",
    "debtSummaryPeriod": "Resumen de deuda: elija no enviar, semanal o mensual.",
    "debtSummaryDay": "Día del resumen: de 1 (lunes) a 7 (domingo) si es semanal; de 1 a 28 si es mensual.",
    "replyTo": "Responder a: escriba un correo válido, o déjelo vacío.",
}


def _refused(
    request: Request, session: Session, staff: Staff, message: str, status: int, form: dict[str, str]
) -> Response:
    return settings_page(request, session, staff, None, error=message, status_code=status, form=form)


def _number(text: str, field: str, limit: int) -> int | None:
    """A whole number typed in a form (``1.234`` too); empty: unchanged."""
    cleaned = text.strip().replace(".", "")
    if not cleaned:
        return None
    if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > 18 or int(cleaned) > limit:
        raise BadRequest(f"{field} is not a number from 0 to {limit}", field=field)
    return int(cleaned)


def _day(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest(f"{field} is not a date", field=field) from None


def _said(refused: DtehubError) -> str:
    return FIELD_ERRORS.get(refused.field or "", refused.message)


def _update(
    request: Request,
    session: Session,
    staff: Staff,
    form: dict[str, str],
    read: Callable[[], companies.CompanySettings],
    ok: str,
) -> Response:
    """Apply the changes ``read`` makes of the form through updateCompany's service."""
    company = companies.require(session, staff.company_id)
    try:
        changes = read()
        with session.begin_nested():  # a refusal half-way keeps none of the changes before it
            companies.update_settings(session, company, changes)
    except (BadRequest, Unprocessable) as refused:  # malformed (400) or not acceptable (422), as the API says
        return _refused(request, session, staff, _said(refused), http_status(refused), form)
    changed = sorted(name for name, value in vars(changes).items() if value is not None)
    record(
        session,
        staff,
        Action.UPDATE_COMPANY,
        object_type="company",
        object_id=staff.company_id,
        summary={"changed": changed},
    )
    return pages.redirect(f"/app/settings?ok={ok}")


@router.post("/settings/company")
@app_route(role=Role.OWNER)
def update_company(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    name: FormText = "",
    payment_term: FormText = "",
    collections_start_date: FormText = "",
    sii_sync_from: FormText = "",
) -> Response:
    """Owners: the company's name, payment term, collections start and first month SII syncs read."""
    form = {
        "name": name,
        "payment_term": payment_term,
        "collections_start_date": collections_start_date,
        "sii_sync_from": sii_sync_from,
    }

    def read() -> companies.CompanySettings:
        return companies.CompanySettings(
            name=name[:255],
            payment_term_days=_number(payment_term, "paymentTerm", 3650),
            collections_start_date=_day(collections_start_date, "collectionsStartDate"),
            sii_sync_from=sii_sync_from.strip() or None,
        )

    return _update(request, session, staff, form, read, "company-data")


@router.post("/settings/printing")
@app_route(role=Role.OWNER)
def update_printing(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    sii_resolution_number: FormText = "",
    sii_resolution_date: FormText = "",
    sii_office: FormText = "",
) -> Response:
    """Owners: what the printed documents carry under the timbre (SII's resolution) and the red box."""
    form = {
        "sii_resolution_number": sii_resolution_number,
        "sii_resolution_date": sii_resolution_date,
        "sii_office": sii_office,
    }

    def read() -> companies.CompanySettings:
        if len(sii_office) > 64:
            raise BadRequest("siiOffice is too long", field="siiOffice")
        return companies.CompanySettings(
            sii_resolution_number=_number(sii_resolution_number, "siiResolutionNumber", 999_999),
            sii_resolution_date=_day(sii_resolution_date, "siiResolutionDate"),
            sii_office=sii_office if sii_office.strip() else None,
        )

    return _update(request, session, staff, form, read, "printing")


@router.post("/settings/reminders")
@app_route(role=Role.OWNER)
def update_reminders(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    reminder_days_before: FormText = "",
    reminder_overdue_every: FormText = "",
    debt_summary_period: FormText = "",
    debt_summary_day: FormText = "",
    reply_to: FormText = "",
) -> Response:
    """Owners: when reminders go (days before the due date, how often once overdue), the clients'
    debt summary, and the Reply-To of the company's reminders."""
    form = {
        "reminder_days_before": reminder_days_before,
        "reminder_overdue_every": reminder_overdue_every,
        "debt_summary_period": debt_summary_period,
        "debt_summary_day": debt_summary_day,
        "reply_to": reply_to,
    }

    def read() -> companies.CompanySettings:
        if len(reply_to) > 254:
            raise BadRequest("replyTo is too long", field="replyTo")
        return companies.CompanySettings(
            reminder_days_before=_number(reminder_days_before, "reminderDaysBefore", 365),
            reminder_overdue_every=_number(reminder_overdue_every, "reminderOverdueEvery", 365),
            debt_summary_period=debt_summary_period.strip() or None,
            debt_summary_day=_number(debt_summary_day, "debtSummaryDay", 28),
            reply_to=reply_to.strip(),  # a form's stray spaces (the API takes an address as sent)
        )

    return _update(request, session, staff, form, read, "reminders")


@router.post("/settings/logo")
@app_route(role=Role.OWNER)
def upload_logo(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    logo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Owners: the logo of the company's PDFs and portal pages (PNG or JPEG, at most 1 MiB; dtehub
    keeps a re-encoded PNG of at most 600×300 pixels), as updateCompanyLogo."""
    content = logo.file.read(MAX_LOGO_BYTES + 1) if logo is not None else b""
    if not content:
        return _refused(request, session, staff, "Elija la imagen del logo.", 400, {})
    company = companies.require(session, staff.company_id)
    try:
        companies.set_logo(session, company, content)
    except FileTooLarge:
        return _refused(request, session, staff, "El logo pesa más de 1 MiB.", 413, {})
    except (BadRequest, Unprocessable) as refused:
        said = "El archivo no es una imagen PNG o JPEG que dtehub pueda usar."
        return _refused(request, session, staff, said, http_status(refused), {})
    record(session, staff, Action.UPDATE_COMPANY_LOGO, object_type="company", object_id=staff.company_id)
    return pages.redirect("/app/settings?ok=logo")


@router.post("/settings/logo/delete")
@app_route(role=Role.OWNER)
def remove_logo(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    """Owners: the documents print without a logo."""
    try:
        companies.remove_logo(session, companies.require(session, staff.company_id))
    except NotFound:
        return _refused(request, session, staff, "La empresa no tiene logo.", 404, {})
    record(session, staff, Action.DELETE_COMPANY_LOGO, object_type="company", object_id=staff.company_id)
    return pages.redirect("/app/settings?ok=logo-removed")


LAST_OWNER = "La empresa debe conservar al menos un administrador: nombre otro antes."


@router.post("/settings/members/{user_id}/role")
@app_route(role=Role.OWNER)
def change_role(
    request: Request, staff: StaffDep, session: SessionDep, user_id: str, role: FormText = ""
) -> Response:
    """Owners: another role for a member of the company (never leaving it without an owner)."""
    target = forms.path_id(user_id, "user")
    try:
        chosen = users.parse_role(role)
        user, before = users.change_role(session, staff.company_id, target, chosen)
    except BadRequest:
        return _refused(request, session, staff, "Elija un rol: Administrador, Cobranza o Lectura.", 400, {})
    except Conflict:
        return _refused(request, session, staff, LAST_OWNER, 409, {})
    record(
        session,
        staff,
        Action.APP_CHANGE_ROLE,
        object_type="user",
        object_id=user.id,
        summary={"email": user.email, "from": before, "role": chosen.value},
    )
    return pages.redirect("/app/settings?ok=role")


@router.post("/settings/members/{user_id}/remove")
@app_route(role=Role.OWNER)
def remove_member(request: Request, staff: StaffDep, session: SessionDep, user_id: str) -> Response:
    """Owners: a member leaves the company (its open sessions stop reaching it at their next request);
    never the company's last owner."""
    try:
        user, role = users.remove_member(session, staff.company_id, forms.path_id(user_id, "user"))
    except Conflict:
        return _refused(request, session, staff, LAST_OWNER, 409, {})
    record(
        session,
        staff,
        Action.APP_REMOVE_MEMBER,
        object_type="user",
        object_id=user.id,
        summary={"email": user.email, "role": role},
    )
    if user.id == staff.user_id:  # they left this company: on to another, or signed out
        return pages.redirect("/app/")
    return pages.redirect("/app/settings?ok=member-removed")


NO_KEY = (
    "Este servidor de dtehub no tiene DTEHUB_SECRET_KEY: sin esa clave no puede guardar el secreto de "
    "firma de un webhook. Pida a quien administra el servidor que la configure."
)


@router.post("/settings/webhooks")
@app_route(role=Role.OWNER)
def create_webhook(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    url: FormText = "",
    events: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Owners: a webhook, as createWebhook: its signing secret is shown on this answer only."""
    settings: Settings = request.app.state.settings
    form = {"url": url, **{f"event:{event}": "1" for event in events or []}}
    if not (events or []):
        return _refused(request, session, staff, "Elija al menos un evento.", 400, form)
    try:
        data = WebhookCreate.model_validate({"url": url.strip(), "events": events})
    except ValidationError:
        said = "Escriba una dirección http(s) de a lo más 2.048 caracteres y elija eventos de la lista."
        return _refused(request, session, staff, said, 400, form)
    try:
        webhook, secret = webhooks.create_webhook(session, staff.company_id, data, settings)
    except SecretKeyMissing:
        return _refused(request, session, staff, NO_KEY, 503, form)
    except TooManyWebhooks:
        said = f"Una empresa puede tener hasta {webhooks.MAX_WEBHOOKS} webhooks: elimine uno antes."
        return _refused(request, session, staff, said, 409, form)
    except BadRequest:
        said = (
            "La dirección no se acepta: debe ser http:// o https:// de un servidor público "
            "(no una dirección interna)."
        )
        return _refused(request, session, staff, said, 400, form)
    record(
        session,
        staff,
        Action.CREATE_WEBHOOK,
        object_type="webhook",
        object_id=webhook.id,
        summary={"url": webhook.url, "events": list(webhook.events)},
    )
    return settings_page(request, session, staff, "webhook", new_secret=secret)


@router.post("/settings/webhooks/{webhook_id}/delete")
@app_route(role=Role.OWNER)
def delete_webhook(staff: StaffDep, session: SessionDep, webhook_id: str) -> Response:
    """Owners: delete a webhook, as deleteWebhook: nothing more is sent to it."""
    webhook = webhooks.delete_webhook(session, staff.company_id, forms.path_id(webhook_id))
    record(session, staff, Action.DELETE_WEBHOOK, object_type="webhook", object_id=webhook.id)
    return pages.redirect("/app/settings?ok=webhook-deleted")
