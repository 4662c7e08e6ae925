"""/v1 getAuditLog: the company's log of changes, read-only (nothing in the API writes or deletes it)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.audit import service
from dtehub.audit.repository import AuditFilters
from dtehub.audit.schemas import ActorKind, AuditEventOut, ObjectType
from dtehub.dependencies import AuthDep, SessionDep, transactional
from dtehub.errors_http import error_responses
from dtehub.kit.dates import SANTIAGO, Day
from dtehub.kit.pagination import Page, PageDep
from dtehub.kit.schema import MAX_ID, NO_NUL, respond

router = APIRouter(prefix="/v1", tags=["audit"])

AuditPage = Page[AuditEventOut]


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), SANTIAGO)


@router.get("/getAuditLog", response_model=AuditPage, responses=error_responses())
@transactional
def get_audit_log(
    auth: AuthDep,
    session: SessionDep,
    page: PageDep,
    since: Annotated[Day | None, Query(description="On or after this day (YYYY-MM-DD, Santiago)")] = None,
    until: Annotated[Day | None, Query(description="On or before this day (YYYY-MM-DD, Santiago)")] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=64, pattern=NO_NUL, description="Only this action, e.g. createDocument, tokens.revoke"
        ),
    ] = None,
    actor: Annotated[ActorKind | None, Query(description="Only changes made this way")] = None,
    object_type: Annotated[ObjectType | None, Query(alias="objectType", description="e.g. document")] = None,
    object_id: Annotated[
        int | None, Query(alias="objectId", ge=1, le=MAX_ID, description="Only this object (with objectType)")
    ] = None,
) -> Response:
    """The company's audit log, newest first: who changed what (actor and token id), when, and a summary
    of the change. Append-only: no API method changes or deletes it."""
    filters = AuditFilters(
        since=_start(since) if since is not None else None,
        until=_start(until + timedelta(days=1)) if until is not None and until < date.max else None,
        action=action,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
    )
    events, total = service.list_events(session, auth.company_id, filters, page)
    return respond(AuditPage.of([AuditEventOut.of(event) for event in events], total, page))
