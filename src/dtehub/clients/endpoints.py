"""/v1 client methods."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.clients import repository, service
from dtehub.clients.schemas import ClientCreate, ClientOut, ClientUpdate
from dtehub.clients.views import client_view, contact_views
from dtehub.contacts import repository as contacts_repository
from dtehub.dependencies import AuthDep, SessionDep, SettingsDep, transactional
from dtehub.errors import MissingAlternative, NotFound
from dtehub.errors_http import error_responses
from dtehub.kit.pagination import Page, PageDep, page_json
from dtehub.kit.parameters import OrderQuery, choice, flag
from dtehub.kit.rut import ClientTaxId
from dtehub.kit.schema import MAX_ID, NO_NUL, JsonObject, RenewKey, respond_json
from dtehub.models import Client
from dtehub.portal.links import Links

router = APIRouter(prefix="/v1", tags=["clients"])

_ORDER_COLUMNS = {1: "name", 2: "created_at", 3: "tax_id"}
ExpandContact = Annotated[bool, flag("expandContact", "1: include full contacts")]


def _present(
    session: Session, company_id: int, clients: list[Client], links: Links, expand_contact: bool
) -> list[JsonObject]:
    contacts = contacts_repository.by_client(session, company_id, [c.id for c in clients])
    return [
        client_view(client, links, contact_views(contacts.get(client.id, []), expand=expand_contact))
        for client in clients
    ]


@router.get("/getClients", response_model=Page[ClientOut], responses=error_responses())
@transactional
def get_clients(
    auth: AuthDep,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    tax_id: Annotated[ClientTaxId | None, Query(alias="taxId", description="Exact RUT or tax code")] = None,
    name: Annotated[str | None, Query(max_length=255, pattern=NO_NUL, description="Part of the name")] = None,
    order_by: Annotated[
        int, choice("orderBy", "1 name (default), 2 creation, 3 tax id", _ORDER_COLUMNS, ge=1, le=3)
    ] = 1,
    order: OrderQuery = "ASC",
    expand_contact: ExpandContact = False,
) -> Response:
    """List the company's clients."""
    clients, total = repository.list_page(
        session,
        auth.company_id,
        tax_id=tax_id,
        name=name,
        order_column=_ORDER_COLUMNS[order_by],
        descending=order == "DESC",
        offset=page.offset,
        limit=page.per_page,
    )
    items = _present(session, auth.company_id, clients, Links(settings.public_base), expand_contact)
    return respond_json(page_json(items, total, page))


@router.get("/getClient", response_model=ClientOut, responses=error_responses(404))
@transactional
def get_client(
    auth: AuthDep,
    session: SessionDep,
    settings: SettingsDep,
    id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="The client's id (or give taxId)")] = None,
    tax_id: Annotated[
        ClientTaxId | None, Query(alias="taxId", description="The client's RUT or tax code")
    ] = None,
    expand_contact: ExpandContact = False,
) -> Response:
    """One client by id or by tax id: give one of them (without either, 422 `missing_alternative`, a
    rule between parameters this document cannot state); with both, id is used."""
    if id is not None:
        client = service.require(session, auth.company_id, id)
    elif tax_id is not None:
        found = repository.get_by_tax_id(session, auth.company_id, tax_id)
        if found is None:
            raise NotFound(f"no client with tax id {tax_id}", field="taxId")
        client = found
    else:
        raise MissingAlternative("give id or taxId", field="id")
    [view] = _present(session, auth.company_id, [client], Links(settings.public_base), expand_contact)
    return respond_json(view)


@router.post("/createClient", response_model=ClientOut, responses=error_responses(409))
@transactional(audit=Action.CREATE_CLIENT)
def create_client(auth: AuthDep, session: SessionDep, settings: SettingsDep, body: ClientCreate) -> Response:
    """Create a client. Chilean clients are identified by a valid RUT, unique within the company."""
    client = service.create_client(session, auth.company_id, body)
    [view] = _present(session, auth.company_id, [client], Links(settings.public_base), False)
    return respond_json(view)


@router.post("/updateClient", response_model=ClientOut, responses=error_responses(404, 409))
@transactional(audit=Action.UPDATE_CLIENT)
def update_client(auth: AuthDep, session: SessionDep, settings: SettingsDep, body: ClientUpdate) -> Response:
    """Change the fields given; the others stay as they are."""
    client = service.update_client(session, auth.company_id, body)
    [view] = _present(session, auth.company_id, [client], Links(settings.public_base), False)
    return respond_json(view)


@router.post("/renewClientKey", response_model=ClientOut, responses=error_responses(404))
@transactional(audit=Action.RENEW_CLIENT_KEY)
def renew_client_key(auth: AuthDep, session: SessionDep, settings: SettingsDep, body: RenewKey) -> Response:
    """Give the client's page link (url) a new key; the old one answers 404 from now on."""
    client = service.renew_portal_key(session, auth.company_id, body.id)
    [view] = _present(session, auth.company_id, [client], Links(settings.public_base), False)
    return respond_json(view)
