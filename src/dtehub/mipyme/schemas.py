"""``POST /V1/mipyme_get_document``: Koywe's request and answer, field for field."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, SecretStr, WithJsonSchema

from dtehub.dte.checks import XmlChecksOut
from dtehub.kit.base64 import base64_schema
from dtehub.kit.rut import RUT_SCHEMA

MIPYME_TYPES = (33, 34, 43, 46, 52, 56, 61, 110)
"""The document types SII's MIPYME portal issues."""

MAX_FOLIO = 10**10
"""Folios are below this (SII's are at most 10 digits)."""

_TYPE_SCHEMA = {
    "anyOf": [
        {"type": "integer", "enum": list(MIPYME_TYPES)},
        {"type": "string", "enum": [str(code) for code in MIPYME_TYPES]},
    ]
}
_FOLIO_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": MAX_FOLIO - 1},
        {"type": "string", "pattern": "^0*[1-9][0-9]{0,9}$"},
    ]
}


class MipymeRequest(BaseModel):
    """The request body. The certificate and its password are ``SecretStr``: no ``repr``, log or error
    shows them."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)

    certificate_pfx_base64: Annotated[
        SecretStr, WithJsonSchema(base64_schema("The person's PKCS#12 (.pfx) file, base64."))
    ]
    certificate_password: SecretStr = Field(description="The PKCS#12 file's password.")
    tax_id_code: Annotated[str, WithJsonSchema(RUT_SCHEMA)] = Field(
        description="RUT of the company that issued the document, e.g. 76399752-9."
    )
    document_type_taxbureau: Annotated[int | str, WithJsonSchema(_TYPE_SCHEMA)] = Field(
        description=f"SII's document type: one of {MIPYME_TYPES}."
    )
    document_number: Annotated[int | str, WithJsonSchema(_FOLIO_SCHEMA)] = Field(description="The folio.")
    include_pdf: bool = Field(default=True, description="Also fetch SII's PDF (document_pdf).")
    import_document: bool = Field(
        default=False,
        alias="import",
        description="Also store the DTE among the token's company's documents (only for that company).",
    )


def pesos_number(pesos: Decimal) -> int | float:
    """An amount of pesos as a JSON number: whole pesos as an integer (every peso DTE), else with its
    cents. A JSON number is read as a binary64 by its readers: one of up to 15 significant digits (below
    ten trillion pesos with cents) is written with exactly the amount's digits."""
    if pesos == pesos.to_integral_value():
        return int(pesos)
    return float(pesos)


PesosNumber = Annotated[
    Decimal,
    PlainSerializer(pesos_number, return_type=int | float),
    WithJsonSchema({"type": "number", "examples": [230992]}),
]


class MipymeDocument(BaseModel):
    tax_id_code: str = Field(description="The issuer's RUT.")
    document_type_taxbureau: int
    document_number: int = Field(description="The folio.")
    issue_date: str = Field(description="FchEmis, YYYY-MM-DD.")
    receiver_tax_id: str
    receiver_name: str
    total_amount: PesosNumber = Field(
        description="MntTotal in pesos, exactly: a whole number for every peso DTE; an export's total in "
        "pesos (OtraMoneda) with its cents when it has them."
    )
    sii_state: str = Field(
        description="The document's state as the portal shows it, e.g. 'Documento Emitido'."
    )
    document_xml: str = Field(description="Base64 of the DTE's original bytes, as SII sent them.")
    document_pdf: str | None = Field(
        description="Base64 of SII's PDF; null when not asked for or SII had none."
    )
    xml_checks: XmlChecksOut = Field(description="The XML pipeline's verdicts: schema, signature, TED.")


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None


class MipymeAnswer(BaseModel):
    """Every answer carries ``status`` and ``message``; a success its ``document``, an import its
    ``document_id`` (or ``note_id`` for a credit or debit note, or ``import_error``), a failure the
    ``error`` object every dtehub error has."""

    status: int = Field(description="0 success, 1 invalid parameters, 2 certificate error, 3 SII login "
                        "error, 4 SII unavailable (retry later), 5 document not found")  # fmt: skip
    message: str
    document: MipymeDocument | None = None
    document_id: str | None = None
    note_id: str | None = None
    import_error: ErrorDetail | None = None
    error: ErrorDetail | None = None
