from __future__ import annotations

from typing import Annotated

from pydantic import Field

from dtehub.contacts.schemas import ContactOut
from dtehub.kit.parameters import EMPTY_TEXT, NULL
from dtehub.kit.rut import RUT_SCHEMA, InvalidRut, normalize_rut
from dtehub.kit.schema import MAX_ID, ApiInput, ApiModel, IdRef

Text128 = Annotated[str, Field(max_length=128)]
Text255 = Annotated[str, Field(max_length=255)]
Text64 = Annotated[str, Field(max_length=64)]
PaymentTerm = Annotated[int, Field(ge=0, le=3650, description="Days from issue to due date")]

CHILE_NAMES = {"", "cl", "chile"}


def normalize_tax_id(tax_id: str, country: str | None) -> str:
    """Chilean clients are identified by RUT (validated); foreign ones by their own tax code."""
    if (country or "").strip().lower() in CHILE_NAMES:
        return normalize_rut(tax_id)
    if not tax_id.strip() or len(tax_id.strip()) > 32:
        raise InvalidRut("a tax id of 1 to 32 characters is required")
    return tax_id.strip()


class SendReminders(ApiModel):
    new_document: bool = True
    soon_to_expire: bool = True
    expired: bool = True
    new_payment: bool = True
    debt_summary: bool = True


class ClientFields(ApiInput):
    name: Text255 | None = None
    tax_id: str | None = Field(default=None, max_length=32, description="RUT for Chilean clients")
    activity: Text255 | None = Field(default=None, description="Giro")
    country: Text64 | None = None
    region: Text128 | None = None
    city: Text128 | None = None
    comuna: Text128 | None = None
    address: Text255 | None = None
    zipcode: Annotated[str, Field(max_length=32)] | None = None
    phone: Text64 | None = None
    fax: Text64 | None = None
    payment_term: PaymentTerm | None = None
    send_reminders: SendReminders | None = None


_CHILE = "[ \t]*(?:[cC][lL]|[cC][hH][iI][lL][eE])?[ \t]*$"
TAX_ID_BY_COUNTRY = {
    "anyOf": [
        {
            "properties": {
                "country": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": f"^{_CHILE}"}]},
                "taxId": RUT_SCHEMA,
            }
        },
        {
            "required": ["country"],
            "properties": {
                "country": {"type": "string", "pattern": f"^(?!{_CHILE})"},
                "taxId": {"type": "string", "pattern": "[^ \t\n\r]"},
            },
        },
    ],
    "description": "A Chilean client (country absent, empty, Chile or CL) has a RUT as taxId",
}
""":func:`normalize_tax_id`'s rule, as published."""

TAX_ID_BY_GIVEN_COUNTRY = {
    "anyOf": [
        # No country in the body: the client's stored country decides, which no schema can state
        # (a taxId that is not a RUT for a Chilean client is a 422).
        {"properties": {"country": NULL}},
        {
            "required": ["country"],
            "properties": {
                "country": {"type": "string", "pattern": f"^{_CHILE}"},
                "taxId": {"anyOf": [NULL, EMPTY_TEXT, RUT_SCHEMA]},
            },
        },
        {"required": ["country"], "properties": {"country": {"type": "string", "pattern": f"^(?!{_CHILE})"}}},
    ],
    "description": "A taxId given with a Chilean country (empty, Chile or CL) is a RUT; without a country, "
    "the client's own country decides (a Chilean client's taxId that is not a RUT: 422)",
}
""":func:`normalize_tax_id`'s rule in an update, as published."""


class ClientCreate(ClientFields):
    published_rules = (TAX_ID_BY_COUNTRY,)

    name: Text255 = Field(min_length=1)
    tax_id: str = Field(min_length=1, max_length=32, description="RUT for Chilean clients")


class ClientUpdate(ClientFields):
    published_rules = (TAX_ID_BY_GIVEN_COUNTRY,)

    id: int = Field(ge=1, le=MAX_ID)
    tax_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="RUT for Chilean clients; empty or null leaves it as it is",
    )


class ClientOut(ApiModel):
    id: str
    name: str
    tax_id: str
    activity: str
    country: str
    region: str
    city: str
    comuna: str
    address: str
    zipcode: str
    phone: str
    fax: str
    payment_term: int | None
    send_reminders: SendReminders
    url: str
    contacts: list[ContactOut] | list[IdRef]
    created_at: str
