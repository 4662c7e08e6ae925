"""/v1 credit and debit note methods, with Duemint's names, parameters and shapes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.audit.actions import Action
from dtehub.dependencies import AuthDep, SessionDep, SettingsDep, transactional
from dtehub.documents.filters import DateBy
from dtehub.errors_http import error_responses
from dtehub.kit.dates import Day
from dtehub.kit.pagination import Page, PageDep
from dtehub.kit.parameters import OrderQuery, choice, flag
from dtehub.kit.rut import ClientTaxId
from dtehub.kit.schema import MAX_ID, NO_NUL, RenewKey, respond
from dtehub.notes import service
from dtehub.notes.filters import NoteFilters, NoteOrderBy, NoteType
from dtehub.notes.schemas import NoteCode, NoteOut
from dtehub.portal.links import Links

router = APIRouter(prefix="/v1", tags=["notes"])

NotePage = Page[NoteOut]


@router.get("/getNotes", response_model=NotePage, responses=error_responses())
@transactional
def get_notes(
    auth: AuthDep,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    since: Annotated[Day | None, Query(description="From this date (YYYY-MM-DD), per dateBy")] = None,
    until: Annotated[Day | None, Query(description="Up to this date (YYYY-MM-DD), per dateBy")] = None,
    date_by: Annotated[DateBy, choice("dateBy", "1 issue date (default), 2 creation", DateBy)] = DateBy.ISSUE,
    type: Annotated[
        str | None, Query(pattern="(?i)^(credit|debit)$", description="credit (61, 112) or debit (56, 111)")
    ] = None,
    number: Annotated[
        str | None, Query(max_length=40, pattern=NO_NUL, description="The note's folio")
    ] = None,
    code: Annotated[NoteCode | None, Query(description="SII code: 56, 61, 111 or 112")] = None,
    currency: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$", description="ISO code, e.g. CLP")] = None,
    document_id: Annotated[
        int | None, Query(alias="documentId", ge=1, le=MAX_ID, description="The document the note names")
    ] = None,
    client_id: Annotated[int | None, Query(alias="clientId", ge=1, le=MAX_ID)] = None,
    client_tax_id: Annotated[
        ClientTaxId | None, Query(alias="clientTaxId", description="e.g. 99999999-9")
    ] = None,
    order_by: Annotated[
        NoteOrderBy,
        choice("orderBy", "1 issue date (default), 2 creation, 3 number, 4 total", NoteOrderBy),
    ] = NoteOrderBy.ISSUE_DATE,
    order: OrderQuery = "DESC",
    expand_file: Annotated[
        bool, flag("expandFile", "Accepted for compatibility: notes carry no files")
    ] = False,
) -> Response:
    """List the company's credit and debit notes (Duemint's getNotes)."""
    filters = NoteFilters(
        date_by=date_by,
        since=since,
        until=until,
        type=NoteType(type.lower()) if type else None,
        number=number,
        code=code,
        currency=currency.upper() if currency else None,
        document_id=document_id,
        client_id=client_id,
        client_tax_id=client_tax_id,
    )
    items, total = service.list_notes(
        session,
        auth.company_id,
        filters,
        order_by=order_by,
        descending=order == "DESC",
        page=page,
        links=Links(settings.public_base),
    )
    return respond(NotePage.of(items, total, page))


@router.get("/getNote", response_model=NoteOut, responses=error_responses(404))
@transactional
def get_note(
    auth: AuthDep,
    session: SessionDep,
    settings: SettingsDep,
    id: Annotated[int, Query(ge=1, le=MAX_ID, description="The note's id")],
) -> Response:
    """One credit or debit note by id."""
    note = service.require(session, auth.company_id, id)
    return respond(service.present(session, auth.company_id, note, Links(settings.public_base)))


@router.post("/renewNoteKey", response_model=NoteOut, responses=error_responses(404))
@transactional(audit=Action.RENEW_NOTE_KEY)
def renew_note_key(auth: AuthDep, session: SessionDep, settings: SettingsDep, body: RenewKey) -> Response:
    """Give the note's links (pdf, xml) a new key; the old ones answer 404 from now on."""
    note = service.renew_portal_key(session, auth.company_id, body.id)
    return respond(service.present(session, auth.company_id, note, Links(settings.public_base)))
