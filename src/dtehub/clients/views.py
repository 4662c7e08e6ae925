"""A client as the API shows it (``ClientOut``'s shape), built as plain JSON-ready data.

A document listing with ``expandClient=1`` builds one per row, so it is a dict made straight from the
row (an ORM client or a :class:`~dtehub.clients.repository.ClientRow`) rather than a validated model.
``tests/documents/test_get_document.py`` and ``tests/clients`` hold it to ``ClientOut``, the schema
OpenAPI publishes.
"""

from __future__ import annotations

from collections.abc import Iterable

from dtehub.clients.repository import ClientRow
from dtehub.contacts.schemas import ContactOut
from dtehub.kit.dates import format_datetime
from dtehub.kit.schema import JsonObject, id_refs
from dtehub.models import Client, Contact
from dtehub.portal.links import Links


def contact_views(contacts: Iterable[Contact], *, expand: bool) -> list[JsonObject]:
    """A client's contacts: in full when expanded, else as id references."""
    if expand:
        return [ContactOut.of(c).model_dump(mode="json", by_alias=True) for c in contacts]
    return id_refs(c.id for c in contacts)


def client_view(client: Client | ClientRow, links: Links, contacts: list[JsonObject]) -> JsonObject:
    return {
        "id": str(client.id),
        "name": client.name,
        "taxId": client.tax_id,
        "activity": client.activity,
        "country": client.country,
        "region": client.region,
        "city": client.city,
        "comuna": client.comuna,
        "address": client.address,
        "zipcode": client.zipcode,
        "phone": client.phone,
        "fax": client.fax,
        "paymentTerm": client.payment_term_days,
        "sendReminders": {
            "newDocument": client.remind_new_document,
            "soonToExpire": client.remind_soon_to_expire,
            "expired": client.remind_expired,
            "newPayment": client.remind_new_payment,
            "debtSummary": client.remind_debt_summary,
        },
        "url": links.client_page(client.id, client.portal_key),
        "contacts": contacts,
        "createdAt": format_datetime(client.created_at),
    }
