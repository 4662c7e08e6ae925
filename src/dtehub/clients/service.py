from __future__ import annotations

from sqlalchemy.orm import Session

from dtehub.clients import repository
from dtehub.clients.schemas import ClientCreate, ClientFields, ClientUpdate, normalize_tax_id
from dtehub.errors import BadRequest, Conflict, NotFound, Unprocessable
from dtehub.kit.rut import InvalidRut
from dtehub.kit.secrets import new_link_key
from dtehub.models import Client

_PLAIN_FIELDS = (
    "name",
    "activity",
    "country",
    "region",
    "city",
    "comuna",
    "address",
    "zipcode",
    "phone",
    "fax",
)


def _apply(client: Client, fields: ClientFields) -> None:
    given = fields.model_fields_set
    for name in _PLAIN_FIELDS:
        value = getattr(fields, name)
        if name in given and value is not None:
            setattr(client, name, value)
    if "payment_term" in given:
        client.payment_term_days = fields.payment_term
    if fields.send_reminders is not None:
        flags = fields.send_reminders
        client.remind_new_document = flags.new_document
        client.remind_soon_to_expire = flags.soon_to_expire
        client.remind_expired = flags.expired
        client.remind_new_payment = flags.new_payment
        client.remind_debt_summary = flags.debt_summary


def _tax_id(tax_id: str, country: str | None) -> str:
    try:
        return normalize_tax_id(tax_id, country)
    except InvalidRut as exc:
        raise BadRequest(str(exc), field="taxId") from None


def _updated_tax_id(client: Client, tax_id: str, country: str | None) -> str:
    """An update's taxId, judged by the country the body gives (a 400, as /openapi.json states) or,
    without one, by the client's stored country, which the document cannot state (a 422)."""
    if country is not None:
        return _tax_id(tax_id, country)
    try:
        return normalize_tax_id(tax_id, client.country)
    except InvalidRut as exc:
        raise Unprocessable(
            f"client {client.id} is Chilean (country {client.country!r}), so its taxId is a RUT: {exc}",
            field="taxId",
        ) from None


def _ensure_unique(session: Session, company_id: int, tax_id: str, *, except_id: int | None) -> None:
    existing = repository.get_by_tax_id(session, company_id, tax_id)
    if existing is not None and existing.id != except_id:
        raise Conflict(f"a client with tax id {tax_id} already exists (id {existing.id})", field="taxId")


def create_client(session: Session, company_id: int, data: ClientCreate) -> Client:
    tax_id = _tax_id(data.tax_id, data.country)
    _ensure_unique(session, company_id, tax_id, except_id=None)
    client = Client(company_id=company_id, tax_id=tax_id)
    _apply(client, data)
    session.add(client)
    session.flush()
    return client


def update_client(session: Session, company_id: int, data: ClientUpdate) -> Client:
    client = require(session, company_id, data.id)
    if data.tax_id is not None:
        tax_id = _updated_tax_id(client, data.tax_id, data.country)
        _ensure_unique(session, company_id, tax_id, except_id=client.id)
        client.tax_id = tax_id
    _apply(client, data)
    session.flush()
    return client


def require(session: Session, company_id: int, client_id: int, *, field: str = "id") -> Client:
    client = repository.get(session, company_id, client_id)
    if client is None:
        raise NotFound(f"client {client_id} not found", field=field)
    return client


def require_by_tax_id(session: Session, company_id: int, tax_id: str, *, field: str = "taxId") -> Client:
    """The company's client of ``tax_id`` (already normalized), or NotFound."""
    client = repository.get_by_tax_id(session, company_id, tax_id)
    if client is None:
        raise NotFound(f"client {tax_id} not found", field=field)
    return client


def upsert_receivers(
    session: Session, company_id: int, receivers: list[tuple[str, ClientFields, bool]]
) -> dict[str, Client]:
    """The clients that DTEs' Receptor name, by tax id, in one read: each created when new and its
    details refreshed when its ``update`` flag says so (in order: the last DTE's details win)."""
    clients = repository.by_tax_ids(session, company_id, {tax_id for tax_id, _, _ in receivers})
    for tax_id, fields, update in receivers:
        client = clients.get(tax_id)
        if client is None:
            client = clients[tax_id] = Client(company_id=company_id, tax_id=tax_id)
            _apply(client, fields)
            session.add(client)
        elif update:
            _apply(client, fields)
    session.flush()
    return clients


def renew_portal_key(session: Session, company_id: int, client_id: int) -> Client:
    """A new key for the client's page link: the old link stops working at once."""
    client = require(session, company_id, client_id)
    client.portal_key = new_link_key()
    session.flush()
    return client
