"""The answer of ``GET /v1/getDocumentCedibility`` as ``/openapi.json`` publishes it (the endpoint sends the
JSON of :meth:`dtehub.factoring.cedibility.Verdict.as_json`; tests hold it to this schema)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema

from dtehub.documents.schemas import DocumentDetailOut
from dtehub.dte.checks import XmlChecksOut
from dtehub.kit.base64 import base64_schema
from dtehub.kit.dates import Day
from dtehub.kit.email import check_email, email_pattern
from dtehub.kit.model import min_length_pattern
from dtehub.kit.money import AmountIn
from dtehub.kit.rut import RutStr
from dtehub.kit.schema import MAX_ID, ApiInput, ApiModel, JsonObject

CheckStatus = Literal["passed", "failed", "pending", "warning", "not_applicable", "not_checked"]
CheckSource = Literal["xml", "dtehub", "sii", "rtc"]


class CheckOut(ApiModel):
    status: CheckStatus = Field(
        description="passed, failed, pending (not yet), warning (cedible, but read this), "
        "not_applicable, not_checked (dtehub could not ask)"
    )
    source: CheckSource = Field(
        description="Where the answer comes from: the DTE's XML, dtehub's records, SII's "
        "acceptance/claim service, SII's RTC"
    )
    message: str


class XmlCheckOut(CheckOut):
    signature: str | None = Field(description="valid | unsigned | invalid | unverifiable; null: no XML")
    ted: str | None = Field(description="valid | absent | invalid; null: no XML")
    xml_schema: str | None = Field(alias="schema", description="valid | invalid | unverifiable; null: no XML")


class TypeCheckOut(CheckOut):
    code: int = Field(description="SII's document type")


class AmountsCheckOut(CheckOut):
    total: str
    credited: str
    debited: str
    paid: str
    due: str = Field(description="What is left to collect")


class SiiEventOut(ApiModel):
    code: str = Field(description="ACD, ERM, RCD, RFP, RFT, NCA, ENC")
    description: str
    responsible_rut: str
    at: str = Field(description="ISO 8601, Santiago's offset")


class SiiCheckOut(CheckOut):
    checked_at: str | None = Field(default=None, description="When SII was asked")
    received_at: str | None = Field(default=None, description="When SII received the document")
    window_ends_at: str | None = Field(default=None, description="8 days after SII's reception")
    code: int | None = Field(default=None, description="SII's cedibility code (consultarDocDteCedible)")
    description: str | None = None
    sii: list[SiiEventOut] | None = Field(default=None, description="The claims SII lists")


class NoteRefOut(ApiModel):
    code: int
    number: str
    total: str
    voids: bool = Field(description="The note cancels the document (CodRef 1)")


class CreditNotesCheckOut(CheckOut):
    dtehub: list[NoteRefOut] = Field(description="Credit notes dtehub holds that refer to the document")
    sii: list[SiiEventOut] = Field(description="SII's NCA (cancelling) and ENC events")


class ChecksOut(ApiModel):
    xml: XmlCheckOut
    type: TypeCheckOut
    amounts: AmountsCheckOut
    sii_reception: SiiCheckOut
    sii_cedibility: SiiCheckOut
    claims: SiiCheckOut
    window: SiiCheckOut
    credit_notes: CreditNotesCheckOut
    rtc_cession: CheckOut


class ReasonOut(ApiModel):
    check: str = Field(description="The key of the check in checks")
    status: CheckStatus
    source: CheckSource
    message: str = Field(description="What was found")
    action: str = Field(description="What to do")


class CedibilityOut(ApiModel):
    cedible: bool = Field(description="No check failed or is pending, and every deciding check was made")
    checked_at: str = Field(description="When the checks ran (Santiago, YYYY-MM-DD HH:MM:SS)")
    reasons: list[ReasonOut] = Field(description="Every check that did not pass, with what to do")
    checks: ChecksOut


class CesionFromXml(ApiInput):
    xml: Annotated[
        str, WithJsonSchema(base64_schema("The AEC (electronic cession file) received, base64-encoded"))
    ] = Field(min_length=1)


class AecCheckOut(ApiModel):
    """One check of an AEC (as the error's ``details`` of a refusal list the failed ones)."""

    check: Literal["xml", "schema", "signature", "dte", "chain"]
    status: Literal["passed", "failed"]
    part: str | None = Field(
        default=None,
        description="The signed part (DocumentoDTECedido, DocumentoCesion <n>, DocumentoAEC) or the chain's "
        "rule (sequence, document, assignors, amounts, cover, holder)",
    )
    message: str
    signer: str | None = Field(default=None, description="A signature's signer (RUT of its certificate)")
    signed_form: JsonObject | None = Field(
        default=None,
        description="The namespace context in which a signature held: asFound, or the declarations the part "
        "was signed without (added/removed)",
    )
    signed_at: str | None = Field(default=None, description="When the part says it was signed (Chile time)")
    problems: list[str] | None = Field(default=None, description="The schema's complaints, line by line")
    xml_checks: XmlChecksOut | None = Field(
        default=None, description="The DTE inside, as the pipeline judged it"
    )


class HeldDocumentOut(ApiModel):
    document: DocumentDetailOut = Field(description="The held document, as getDocument shows it")
    checks: list[AecCheckOut] = Field(description="Every check of the AEC, each signature on its own")


# --- createCesion ------------------------------------------------------------------------------------------


Rut = RutStr  # kit.rut publishes its pattern and format
Email = Annotated[
    str,
    Field(min_length=6, max_length=80, json_schema_extra={"pattern": email_pattern(min_length=6)}),
    AfterValidator(check_email),
]

ADDRESS_PATTERN = min_length_pattern(5)
"""An address of 5 characters or more, white space around it aside (SII's cession schema)."""


class AssigneeIn(ApiInput):
    """Who the document is ceded to (the factoring company): the cession's Cesionario."""

    rut: Rut
    name: str = Field(min_length=1, max_length=100, description="Razón social")
    address: str = Field(min_length=5, max_length=80, pattern=ADDRESS_PATTERN)
    email: Email


class AssignorIn(ApiInput):
    """The company's own address and e-mail as the cession states them (Cedente); by default the DTE's
    issuer address (DirOrigen, CmnaOrigen) and e-mail (CorreoEmisor), else the company's replyTo."""

    address: str | None = Field(default=None, min_length=5, max_length=80, pattern=ADDRESS_PATTERN)
    email: Email | None = None


class CessionContactIn(ApiInput):
    """Whom SII (and the assignee) may ask about the cession: the cover's contact."""

    name: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=40)
    email: Email | None = None


class CessionCreate(ApiInput):
    document_id: int = Field(
        ge=1, le=MAX_ID, description="The document to cede (an invoice the company issued)"
    )
    assignee: AssigneeIn
    amount: AmountIn | None = Field(
        default=None, description="What is ceded, whole pesos (default: the document's total)"
    )
    last_due_date: Day | None = Field(
        default=None,
        description="UltimoVencimiento: the last day the debtor has to pay (default: the due date)",
    )
    contact: CessionContactIn | None = None
    declaration: str | None = Field(
        default=None,
        max_length=512,
        description="The sworn declaration (DeclaracionJurada); default: the text SII's format prescribes, "
        "naming the company, the assignee and the debtor",
    )
    assignor: AssignorIn | None = None
