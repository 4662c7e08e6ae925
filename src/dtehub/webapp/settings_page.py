"""The ``/app/settings`` page itself, shared by its routes (:mod:`dtehub.webapp.settings`: the person's
account, tokens; :mod:`dtehub.webapp.company_settings`: the company's data, printing, logo, reminders,
users and webhooks): what everyone sees, and what only owners see and change."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.auth import service as auth
from dtehub.companies import service as companies
from dtehub.config import Settings
from dtehub.kit.pagination import PageRequest
from dtehub.models import Role
from dtehub.users import service as users
from dtehub.webapp import pages
from dtehub.webapp.layout import ROLE_NAMES, layout
from dtehub.webhooks import service as webhooks
from dtehub.webhooks.events import EVENT_TYPES

SUMMARY_PERIODS = {"off": "No enviar", "weekly": "Semanal", "monthly": "Mensual"}
EVENT_NAMES = {
    "document.created": "Documento creado",
    "document.updated": "Documento actualizado",
    "document.deleted": "Documento eliminado",
    "document.ceded": "Documento cedido",
    "note.created": "Nota de crédito o débito creada",
    "payment.created": "Pago registrado",
    "payment.updated": "Pago actualizado",
    "reminder.sent": "Recordatorio enviado",
}
MAX_WEBHOOKS_SHOWN = 100


def settings_page(
    request: Request,
    session: Session,
    staff: users.Staff,
    ok: str | None,
    *,
    error: str | None = None,
    status_code: int = 200,
    new_token: str | None = None,
    new_secret: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    settings: Settings = request.app.state.settings
    owner = staff.may(Role.OWNER)
    company = companies.require(session, staff.company_id)
    printing = companies.print_settings(session, company)
    logo = (
        "data:image/png;base64," + base64.b64encode(printing.logo_png).decode("ascii")
        if printing.logo_png
        else None
    )
    context: dict[str, Any] = {
        "layout": layout(session, staff, "settings", ok),
        "error": error,
        "owner": owner,
        "company": company,
        "sii_sync_from": f"{companies.sii_sync_from(company):%Y-%m}",
        "logo": logo,
        "summary_periods": SUMMARY_PERIODS,
        "members": users.members(session, staff.company_id) if owner else [],
        "role_names": ROLE_NAMES,
        "tokens": auth.company_tokens(session, staff.company_id) if owner else [],
        "new_token": new_token,
        "webhooks": (
            webhooks.list_webhooks(session, staff.company_id, PageRequest(1, MAX_WEBHOOKS_SHOWN))[0]
            if owner
            else []
        ),
        "event_names": [(event, EVENT_NAMES.get(event, event)) for event in EVENT_TYPES],
        "event_name": EVENT_NAMES,
        "new_secret": new_secret,
        "has_key": settings.secret_key is not None,
        "form": form or {},
    }
    return pages.page("settings.html", context, status_code=status_code)
