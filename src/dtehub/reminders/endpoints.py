"""/v1 e-mail methods: the reminders' outbox, read-only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.dependencies import AuthDep, SessionDep, transactional
from dtehub.errors_http import error_responses
from dtehub.kit.dates import SANTIAGO, Day
from dtehub.kit.pagination import Page, PageDep
from dtehub.kit.schema import MAX_ID, respond
from dtehub.models import MessageStatus, ReminderKind
from dtehub.reminders import service
from dtehub.reminders.repository import EmailFilters
from dtehub.reminders.schemas import EmailDetailOut, EmailOut

router = APIRouter(prefix="/v1", tags=["emails"])

Status = Annotated[MessageStatus | None, Query(description="Only messages in this status")]
Kind = Annotated[ReminderKind | None, Query(description="Only reminders of this kind")]


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), SANTIAGO) if day is not None else None


@router.get("/getEmails", response_model=Page[EmailOut], responses=error_responses())
@transactional
def get_emails(
    auth: AuthDep,
    session: SessionDep,
    page: PageDep,
    status: Status = None,
    kind: Kind = None,
    document_id: Annotated[int | None, Query(alias="documentId", ge=1, le=MAX_ID)] = None,
    client_id: Annotated[int | None, Query(alias="clientId", ge=1, le=MAX_ID)] = None,
    since: Annotated[Day | None, Query(description="Created on or after this day (Santiago)")] = None,
    until: Annotated[Day | None, Query(description="Created on or before this day (Santiago)")] = None,
) -> Response:
    """The company's e-mail outbox, newest first: each reminder with its recipients, status, attempts
    and last error."""
    filters = EmailFilters(
        status=status.value if status else None,
        kind=kind.value if kind else None,
        document_id=document_id,
        client_id=client_id,
        since=_start(since),
        until=_start(until + timedelta(days=1)) if until is not None else None,
    )
    items, total = service.list_emails(session, auth.company_id, filters, page)
    return respond(Page[EmailOut].of(items, total, page))


@router.get("/getEmail", response_model=EmailDetailOut, responses=error_responses(404))
@transactional
def get_email(
    auth: AuthDep,
    session: SessionDep,
    id: Annotated[int, Query(ge=1, le=MAX_ID, description="The e-mail's id")],
) -> Response:
    """One e-mail of the outbox with its rendered message (plain text and HTML)."""
    return respond(service.get_email(session, auth.company_id, id))
