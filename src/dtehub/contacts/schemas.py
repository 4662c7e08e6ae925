from __future__ import annotations

import enum
from typing import Annotated

import email_validator
from pydantic import EmailStr, Field, WithJsonSchema

from dtehub.kit.dates import format_datetime
from dtehub.kit.rut import ClientTaxId
from dtehub.kit.schema import MAX_ID, ApiInput, ApiModel
from dtehub.models import Contact


class ContactType(enum.IntEnum):
    """dtehub's catalogue of contact roles (Duemint's is not public)."""

    COLLECTIONS = 1
    BILLING = 2
    SALES = 3
    ACCOUNTING = 4
    OTHER = 5


CONTACT_TYPE_NAMES = {
    ContactType.COLLECTIONS: "Cobranza",
    ContactType.BILLING: "Facturación",
    ContactType.SALES: "Comercial",
    ContactType.ACCOUNTING: "Contabilidad",
    ContactType.OTHER: "Otro",
}

Name = Annotated[str, Field(max_length=128)]


def _any_case(word: str) -> str:
    return "".join(f"[{letter.lower()}{letter.upper()}]" for letter in word)


_SPECIAL_USE = "|".join(map(_any_case, email_validator.SPECIAL_USE_DOMAIN_NAMES))
EMAIL_SCHEMA = {
    "type": "string",
    "format": "email",
    "maxLength": 254,
    "pattern": f"^(?!.*@(?:.*\\.)?(?:{_SPECIAL_USE})$)",
    "description": "An address that can receive mail: not on a special-use domain "
    f"({', '.join('.' + name for name in email_validator.SPECIAL_USE_DOMAIN_NAMES)}), which no "
    "reminder could reach",
}
"""What :data:`Email` accepts, as published: ``format: email`` leaves out the special-use domains."""

Email = Annotated[EmailStr, Field(max_length=254), WithJsonSchema(EMAIL_SCHEMA)]


class ContactCreate(ApiInput):
    alternatives = ("client_id", "client_tax_id")

    client_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The client; or give clientTaxId"
    )
    client_tax_id: ClientTaxId | None = None
    name: Name = ""
    last_name: Name = ""
    email: Email
    position: Name = ""
    contact_type_id: ContactType = ContactType.COLLECTIONS


class ContactOut(ApiModel):
    id: str
    client_id: str
    name: str
    last_name: str
    email: str
    position: str
    contact_type_id: int
    contact_type_name: str
    divisions_keys: list[str]
    created_at: str

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        kind = ContactType(contact.contact_type_id)
        return cls(
            id=str(contact.id),
            client_id=str(contact.client_id),
            name=contact.name,
            last_name=contact.last_name,
            email=contact.email,
            position=contact.position,
            contact_type_id=int(kind),
            contact_type_name=CONTACT_TYPE_NAMES[kind],
            divisions_keys=[],
            created_at=format_datetime(contact.created_at),
        )
