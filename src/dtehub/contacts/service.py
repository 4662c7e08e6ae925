from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dtehub.clients import repository as clients_repository
from dtehub.clients import service as clients_service
from dtehub.contacts import repository
from dtehub.contacts.schemas import ContactCreate
from dtehub.errors import BadRequest, NotFound
from dtehub.models import Contact


async def create_contact(session: AsyncSession, company_id: int, data: ContactCreate) -> Contact:
    if data.client_id is not None:
        client = await clients_service.require(session, company_id, data.client_id, field="clientId")
    elif data.client_tax_id is not None:
        found = await clients_repository.get_by_tax_id(session, company_id, data.client_tax_id)
        if found is None:
            raise NotFound(f"no client with tax id {data.client_tax_id}", field="clientTaxId")
        client = found
    else:
        raise BadRequest("clientId or clientTaxId is required", code="missing_parameter", field="clientId")
    contact = Contact(
        company_id=company_id,
        client_id=client.id,
        name=data.name,
        last_name=data.last_name,
        email=str(data.email),
        position=data.position,
        contact_type_id=int(data.contact_type_id),
    )
    session.add(contact)
    await session.flush()
    return contact


async def require(session: AsyncSession, company_id: int, contact_id: int) -> Contact:
    contact = await repository.get(session, company_id, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found", field="id")
    return contact
