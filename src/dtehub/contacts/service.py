from __future__ import annotations

from sqlalchemy.orm import Session

from dtehub.clients import repository as clients_repository
from dtehub.clients import service as clients_service
from dtehub.contacts import repository
from dtehub.contacts.schemas import ContactCreate
from dtehub.errors import MissingParameter, NotFound
from dtehub.models import Contact


def create_contact(session: Session, company_id: int, data: ContactCreate) -> Contact:
    if data.client_id is not None:
        client = clients_service.require(session, company_id, data.client_id, field="clientId")
    elif data.client_tax_id is not None:
        found = clients_repository.get_by_tax_id(session, company_id, data.client_tax_id)
        if found is None:
            raise NotFound(f"no client with tax id {data.client_tax_id}", field="clientTaxId")
        client = found
    else:
        raise MissingParameter("clientId or clientTaxId is required", field="clientId")
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
    session.flush()
    return contact


def require(session: Session, company_id: int, contact_id: int) -> Contact:
    contact = repository.get(session, company_id, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found", field="id")
    return contact
