"""Retrieve a MIPYME document for ``POST /V1/mipyme_get_document``: read the request, drive the SII
client, and store the DTE when asked. The certificate and its password are read from the request into
memory and go nowhere else."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy.orm import Session

from dtehub.companies import service as companies_service
from dtehub.dte.checks import XmlChecksOut
from dtehub.errors import DtehubError, Forbidden
from dtehub.errors_http import mipyme_status
from dtehub.ingest import service as ingest
from dtehub.kit import base64 as strict_base64
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.mipyme.schemas import (
    MAX_FOLIO,
    MIPYME_TYPES,
    ErrorDetail,
    MipymeAnswer,
    MipymeDocument,
    MipymeRequest,
)
from dtehub.mipyme.statuses import MipymeStatus
from dtehub.sii.errors import InvalidRequest, SiiError
from dtehub.sii.retrieval import RetrievedDocument, retrieve
from dtehub.sii.sessions import SessionPool

MAX_PFX_BYTES = 256 * 1024
"""A personal certificate's PKCS#12 is a few kilobytes; anything much larger is not one."""


@dataclass(frozen=True, repr=False)
class DocumentRequest:
    """A valid request. ``repr`` leaves out the certificate and the password."""

    company_rut: str
    type_code: int
    folio: int
    include_pdf: bool
    import_document: bool
    pfx: bytes = field(repr=False)
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"DocumentRequest({self.company_rut}, type {self.type_code}, folio {self.folio})"


def read_request(body: bytes) -> DocumentRequest:
    """The request, or :class:`InvalidRequest` (status 1) naming the field at fault."""
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidRequest("the body is not JSON") from None
    except RecursionError:  # "[[[[…" deeper than the interpreter's stack: not a request, never a 500
        raise InvalidRequest("the body nests deeper than any request") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object")
    try:
        request = MipymeRequest.model_validate(data)
    except ValidationError as invalid:
        problem = invalid.errors(include_input=False)[0]
        name = ".".join(str(part) for part in problem["loc"])
        message = f"{name} is required" if problem["type"] == "missing" else f"{name}: {problem['msg']}"
        raise InvalidRequest(message, field=name) from None
    try:
        company = normalize_rut(request.tax_id_code)
    except InvalidRut as wrong:
        raise InvalidRequest(str(wrong), field="tax_id_code") from None
    return DocumentRequest(
        company_rut=company,
        type_code=_type_code(request.document_type_taxbureau),
        folio=_folio(request.document_number),
        include_pdf=request.include_pdf,
        import_document=request.import_document,
        pfx=_pfx(request.certificate_pfx_base64.get_secret_value()),
        password=request.certificate_password.get_secret_value(),
    )


def _type_code(value: int | str) -> int:
    text = str(value).strip()
    if not text.isdigit() or int(text) not in MIPYME_TYPES:
        raise InvalidRequest(
            f"document_type_taxbureau {text!r} is not a type SII's MIPYME portal issues "
            f"({', '.join(map(str, MIPYME_TYPES))})",
            field="document_type_taxbureau",
        )
    return int(text)


def _folio(value: int | str) -> int:
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < MAX_FOLIO:
        raise InvalidRequest(
            f"document_number {text!r} is not a folio (a positive integer)", field="document_number"
        )
    return int(text)


def _pfx(encoded: str) -> bytes:
    if strict_base64.decoded_size_bound(encoded) > MAX_PFX_BYTES:
        raise InvalidRequest(
            f"certificate_pfx_base64 is larger than {MAX_PFX_BYTES // 1024} KiB; a .pfx is a few KiB",
            field="certificate_pfx_base64",
        )
    try:
        decoded = strict_base64.decode(encoded)
    except strict_base64.InvalidBase64:
        raise InvalidRequest(
            "certificate_pfx_base64 is not valid base64", field="certificate_pfx_base64"
        ) from None
    if not decoded:
        raise InvalidRequest("certificate_pfx_base64 is empty", field="certificate_pfx_base64")
    return decoded


async def fetch(pool: SessionPool, request: DocumentRequest) -> RetrievedDocument:
    certificate = await pool.certificate(request.pfx, request.password)
    return await retrieve(
        pool,
        certificate,
        company_rut=request.company_rut,
        type_code=request.type_code,
        folio=request.folio,
        include_pdf=request.include_pdf,
    )


def success(retrieved: RetrievedDocument) -> MipymeAnswer:
    fields = retrieved.checked.fields
    document = MipymeDocument(
        tax_id_code=retrieved.company_rut,
        document_type_taxbureau=retrieved.type_code,
        document_number=retrieved.folio,
        issue_date=fields.issue_date.isoformat(),
        receiver_tax_id=fields.receiver.rut,
        receiver_name=fields.receiver.name,
        total_amount=Decimal(fields.total_cents).scaleb(-2),
        sii_state=retrieved.sii_state,
        document_xml=base64.b64encode(retrieved.xml).decode("ascii"),
        document_pdf=base64.b64encode(retrieved.pdf).decode("ascii") if retrieved.pdf is not None else None,
        xml_checks=XmlChecksOut.model_validate(retrieved.checked.checks.as_json()),
    )
    return MipymeAnswer(status=MipymeStatus.SUCCESS, message="document retrieved from SII", document=document)


def failure(error: SiiError) -> tuple[MipymeStatus, int, MipymeAnswer]:
    """The answer of a failure: its ``status`` and HTTP status (the error's row in
    :data:`dtehub.errors_http.ERRORS`), with the ``error`` object every dtehub error has."""
    status, http_status = mipyme_status(error)
    detail = ErrorDetail(code=error.code, message=error.message, field=error.field)
    return status, http_status, MipymeAnswer(status=status, message=error.message, error=detail)


def require_importable(session: Session, company_id: int, request: DocumentRequest) -> None:
    """``import`` stores documents of the token's own company only: anything else is a 403, the API's own
    error (as a 401), before SII is asked; the request is well-formed, the token may not do it."""
    company_rut = companies_service.require(session, company_id).rut
    if company_rut != request.company_rut:
        raise Forbidden(
            f"import stores documents of this token's company ({company_rut}) only, "
            f"not of {request.company_rut}",
            field="import",
        )


def record_import(answer: MipymeAnswer, outcome: ingest.Stored | DtehubError) -> None:
    """What the import made of the DTE (a document or a note), or why it was refused."""
    if isinstance(outcome, DtehubError):
        answer.import_error = ErrorDetail(code=outcome.code, message=outcome.message, field=None)
    elif outcome.kind == ingest.Kind.NOTE:
        answer.note_id = str(outcome.id)
    else:
        answer.document_id = str(outcome.id)
