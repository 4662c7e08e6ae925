"""Store checked DTEs: receivables as documents, credit and debit notes as notes.

Every way a DTE comes in (createDocumentFromXml, ``dtehub import``, SII retrieval) reads it with
:func:`dtehub.dte.pipeline.read_dte_file` and stores it here, so the same rules apply to all of them:
the issuer must be the company, the type one dtehub keeps, and the company's ``xmlPolicy`` decides
whether a verdict other than ``valid`` refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from dtehub.companies import service as companies_service
from dtehub.documents import service as documents_service
from dtehub.documents.schemas import RECEIVABLE_CODES
from dtehub.dte.pipeline import CheckedDte, DteRefused, XmlPolicy, policy_refusal, read_dte_file
from dtehub.errors import BadRequest, DtehubError, PayloadTooLarge, Unprocessable
from dtehub.kit import base64
from dtehub.models import Document, Note
from dtehub.models.note import NOTE_CODES
from dtehub.notes import service as notes_service


@dataclass(frozen=True)
class Stored:
    """What a DTE became: a document or a note; ``created`` is False when the very same XML was
    already stored (an idempotent retry or re-import)."""

    document: Document | None
    note: Note | None
    created: bool


_BAD_XML_CODES = frozenset({"xml_malformed", "xml_forbidden_feature"})


def refusal_error(refused: DteRefused, *, field: str | None = "xml") -> DtehubError:
    """The API error for a refused DTE: 413 too large, 400 unsafe or malformed XML, 422 otherwise."""
    if refused.too_large or refused.code == "too_many_dtes":
        return PayloadTooLarge(refused.message, code=refused.code, field=field)
    if refused.code in _BAD_XML_CODES:
        return BadRequest(refused.message, code=refused.code, field=field)
    return Unprocessable(refused.message, code=refused.code, field=field)


def decode_base64_xml(encoded: str, *, max_bytes: int) -> bytes:
    if base64.decoded_size_bound(encoded) > max_bytes + 3:
        raise PayloadTooLarge(f"the XML is larger than {max_bytes} bytes", code="xml_too_large", field="xml")
    try:
        return base64.decode(encoded)
    except base64.InvalidBase64:
        raise BadRequest("xml is not valid base64", field="xml") from None


def read_single_dte(content: bytes, *, max_bytes: int) -> CheckedDte:
    """The one DTE of a request body, checked; anything else is the matching API error."""
    try:
        outcomes = read_dte_file(content, max_bytes=max_bytes)
    except DteRefused as refused:
        raise refusal_error(refused) from None
    if len(outcomes) != 1:
        raise Unprocessable(
            f"the envelope holds {len(outcomes)} DTEs; send exactly one", code="dte_unreadable", field="xml"
        )
    [outcome] = outcomes
    if isinstance(outcome, DteRefused):
        raise refusal_error(outcome)
    return outcome


def store(
    session: Session, company_id: int, checked: CheckedDte, *, tax_id: str | None = None, send: bool = False
) -> Stored:
    company = companies_service.require(session, company_id)
    fields = checked.fields
    if fields.issuer.rut != company.rut:
        raise Unprocessable(
            f"the DTE was issued by {fields.issuer.rut}, not by this company ({company.rut})",
            code="issuer_mismatch",
            field="xml",
        )
    if fields.code not in RECEIVABLE_CODES and fields.code not in NOTE_CODES:
        raise Unprocessable(
            f"document type {fields.code} is not a receivable or a note dtehub keeps",
            code="unsupported_document_type",
            field="xml",
        )
    refused = policy_refusal(checked.checks, XmlPolicy(company.xml_policy))
    if refused is not None:
        raise refusal_error(refused)
    if fields.code in NOTE_CODES:
        note, created = notes_service.create_from_checked(session, company_id, checked, tax_id=tax_id)
        return Stored(document=None, note=note, created=created)
    document, created = documents_service.create_from_checked(
        session, company_id, checked, tax_id=tax_id, send=send
    )
    return Stored(document=document, note=None, created=created)
