"""/v1 contact methods."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.audit.actions import Action
from dtehub.contacts import repository, service
from dtehub.contacts.schemas import ContactCreate, ContactOut
from dtehub.dependencies import AuthDep, SessionDep, transactional
from dtehub.errors_http import error_responses
from dtehub.kit.pagination import Page, PageDep
from dtehub.kit.parameters import OrderQuery, choice
from dtehub.kit.rut import ClientTaxId
from dtehub.kit.schema import MAX_ID, respond

router = APIRouter(prefix="/v1", tags=["contacts"])


@router.get("/getContacts", response_model=Page[ContactOut], responses=error_responses())
@transactional
def get_contacts(
    auth: AuthDep,
    session: SessionDep,
    page: PageDep,
    client_id: Annotated[int | None, Query(alias="clientId", ge=1, le=MAX_ID)] = None,
    client_tax_id: Annotated[ClientTaxId | None, Query(alias="clientTaxId")] = None,
    contact_type_id: Annotated[int | None, Query(alias="contactTypeId", ge=1, le=5)] = None,
    order_by: Annotated[
        int,
        choice("orderBy", "1 email (default), 2 name, 3 last name, 4 client name", (1, 2, 3, 4), ge=1, le=4),
    ] = 1,
    order: OrderQuery = "ASC",
) -> Response:
    """List the company's contacts."""
    contacts, total = repository.list_page(
        session,
        auth.company_id,
        client_id=client_id,
        client_tax_id=client_tax_id,
        contact_type_id=contact_type_id,
        order_by=order_by,
        descending=order == "DESC",
        offset=page.offset,
        limit=page.per_page,
    )
    return respond(Page[ContactOut].of([ContactOut.of(c) for c in contacts], total, page))


@router.get("/getContact", response_model=ContactOut, responses=error_responses(404))
@transactional
def get_contact(auth: AuthDep, session: SessionDep, id: Annotated[int, Query(ge=1, le=MAX_ID)]) -> Response:
    """One contact by id."""
    return respond(ContactOut.of(service.require(session, auth.company_id, id)))


@router.post("/createContact", response_model=ContactOut, responses=error_responses(404))
@transactional(audit=Action.CREATE_CONTACT)
def create_contact(auth: AuthDep, session: SessionDep, body: ContactCreate) -> Response:
    """Add a contact to a client (given by clientId or clientTaxId)."""
    return respond(ContactOut.of(service.create_contact(session, auth.company_id, body)))
