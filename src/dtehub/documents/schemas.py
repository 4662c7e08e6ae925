from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from dtehub.clients.schemas import ClientOut
from dtehub.documents.sii_states import SiiOut
from dtehub.dte.checks import XmlChecksOut
from dtehub.dte.published import DteOut
from dtehub.files.schemas import FileOut
from dtehub.kit.base64 import base64_schema
from dtehub.kit.dates import Day
from dtehub.kit.money import AmountIn, AmountOut
from dtehub.kit.parameters import BODY_OPTION
from dtehub.kit.rut import ClientTaxId, RutStr
from dtehub.kit.schema import MAX_ID, ApiInput, ApiModel, IdRef
from dtehub.models import Origin
from dtehub.tags.schemas import TagName, TagOut

RECEIVABLE_CODES = frozenset({33, 34, 39, 41, 43, 46, 110})
"""SII codes dtehub keeps as documents (credit and debit notes are notes, not documents)."""


def _folio_as_text(value: object) -> object:
    """A folio sent as a JSON number (PHP's json_encode of an int) is its digits (``702.0`` too: JSON
    Schema calls it an integer); a negative, a fraction or a boolean stays what it is, and is refused
    as no text."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID:
        return str(value)
    return value


Number = Annotated[
    str,
    BeforeValidator(_folio_as_text),
    Field(min_length=1, max_length=40),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": 40},
                {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            ],
            "description": "Folio or number: text, or a whole number (read as its digits)",
        }
    ),
]
Send = Annotated[
    bool,
    BODY_OPTION,
    Field(
        description="1: send the new-document reminder now (0 by default); any other value: 0, with a warning"
    ),
]
ReceivableCode = Annotated[int, WithJsonSchema({"type": "integer", "enum": sorted(RECEIVABLE_CODES)})]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code, e.g. CLP or USD")]


class DocumentCreate(ApiInput):
    client_id: int = Field(ge=1, le=MAX_ID)
    number: Number
    issue_date: Day
    due_date: Day | None = Field(default=None, description="Default: issue date + the payment term")
    total: AmountIn
    taxes: AmountIn
    code: ReceivableCode | None = Field(default=None, description="SII code: 33, 34, 39, 41, 43, 46 or 110")
    currency: Currency = "CLP"
    purchase_order: str = Field(default="", max_length=255)
    gloss: str = Field(default="", max_length=255)
    notes: str = Field(default="", max_length=100_000)
    send: Send = False
    tags: list[TagName] = Field(default_factory=list, max_length=50)

    @field_validator("code")
    @classmethod
    def _receivable(cls, code: int | None) -> int | None:
        if code is not None and code not in RECEIVABLE_CODES:
            raise ValueError(f"{code} is not a receivable document code ({sorted(RECEIVABLE_CODES)})")
        return code

    @field_validator("currency")
    @classmethod
    def _upper(cls, currency: str) -> str:
        return currency.upper()


class DocumentFromXml(ApiInput):
    xml: Annotated[str, WithJsonSchema(base64_schema("The DTE XML, base64-encoded"))] = Field(min_length=1)
    country_code: str = Field(default="CL", min_length=1, description="Only CL (Chile) is supported")
    tax_id: RutStr | None = Field(default=None, description="Client RUT; default the XML's RUTRecep")
    send: Send = False


class DocumentDelete(ApiInput):
    client_tax_id: ClientTaxId = Field(description="RUT, or a foreign client's tax id")
    number: Number
    code: int | None = Field(default=None, ge=1, le=999, description="Needed only for an ambiguous number")


class DocumentDeleted(ApiModel):
    id: str
    msg: str


class IssuerOut(ApiModel):
    tax_id: str = Field(description="The issuer's RUT")
    name: str


class AssigneeOut(ApiModel):
    rut: str
    name: str
    address: str
    email: str


class CessionOut(ApiModel):
    """The document's last cession through SII's RTC (createCesion)."""

    assignee: AssigneeOut
    amount: AmountOut
    date: str = Field(description="TmstCesion: when it was signed, YYYY-MM-DD HH:MM:SS, Santiago time")
    last_due_date: dt.date
    track_id: str = Field(description="SII's track id of the upload")
    sii_state: str = Field(
        description="pending (SII has not decided yet), accepted (SII registered it: the document is "
        "ceded) or rejected (siiMessage says why)"
    )
    sii_code: str = Field(description="SII's state of the upload (EOK, RCS…); empty before SII is asked")
    sii_message: str = Field(description="What SII said, in words")


class DocumentOut(ApiModel):
    id: str
    client_tax_id: str
    number: str
    created_at: str = Field(description="YYYY-MM-DD HH:MM:SS, Santiago time")
    issue_date: date
    due_date: date
    status: int = Field(description="1 Pagada, 2 Por vencer, 3 Vencida, 4 Anulada")
    status_name: str
    currency: str
    net: AmountOut
    taxes: AmountOut
    total: AmountOut
    paid_amount: AmountOut
    paid_date: date | None
    amount_due: AmountOut
    amount_credit: AmountOut
    amount_debit: AmountOut
    purchase_order: str
    gloss: str
    notes: str
    code: int | None
    source: Origin | None = Field(
        description="How it came into dtehub: api (createDocument, createDocumentFromXml), import "
        "(dtehub import), mipyme (mipyme_get_document), sii (the SII sync), demo, rtc (a held document "
        "known from SII's RTC, no AEC yet: dtehub factoring sync-cessions); null: stored before dtehub "
        "recorded it"
    )
    held: bool = Field(
        description="true: the company holds it (bought through a cession, createCesionFromXml); another "
        "company issued it"
    )
    issuer: IssuerOut | None = Field(description="A held document's issuer; null for the company's own")
    history: bool = Field(
        description="true: brought in by the SII sync and issued before the company's "
        "collectionsStartDate; shown, never reminded, never in a debt summary. Follows that setting "
        "(moving the date moves it); false for every document that came another way"
    )
    url: str
    xml: str
    pdf: str
    xml_checks: XmlChecksOut | None = Field(
        description="The XML pipeline's verdicts; null for a document created by fields"
    )
    sii: SiiOut | None = Field(
        description="SII's states of it (Registro de Ventas), as the last SII sync read them; null: no "
        "sync has found it at SII (docs/sii-sync.md)"
    )
    client: ClientOut | IdRef
    tags: list[TagOut] | list[IdRef]
    files: list[FileOut] | list[IdRef]
    is_ceded: bool = Field(description="SII registered a cession of it (its cession's siiState is accepted)")
    cession: CessionOut | None = Field(
        description="Its last cession (createCesion), whatever SII said; null: none"
    )


class NoteSummary(ApiModel):
    id: str
    number: str
    code: int
    type: str = Field(description="credit or debit")
    issue_date: str
    total: AmountOut
    reason: int | None = Field(description="CodRef: 1 anula, 2 corrige texto, 3 corrige montos")
    moves_money: bool
    xml: str = Field(description="The note's DTE as received (a link its customer can open)")
    pdf: str = Field(description="The note printed, with its timbre")


class DocumentDetailOut(DocumentOut):
    """One document (getDocument and the create methods): the listing's fields, its credit and debit
    notes, and every field read from its DTE."""

    credit_debit_notes: list[NoteSummary] = Field(description="Credit and debit notes that reference it")
    dte: DteOut | None = Field(
        description="Every field read from its DTE (null for a document created by fields): header, "
        "parties, totals, lines, references, discounts, other taxes, other currency, transport"
    )
