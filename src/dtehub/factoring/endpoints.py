from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.dependencies import (
    AuthDep,
    CallerDep,
    SessionDep,
    SettingsDep,
    UnitsOfWork,
    in_units,
    transactional,
)
from dtehub.documents import service as documents_service
from dtehub.documents.schemas import DocumentDetailOut
from dtehub.dte.aec import MAX_AEC_BYTES
from dtehub.errors import PayloadTooLarge
from dtehub.errors_http import error_responses
from dtehub.factoring import cedibility, cession, holding
from dtehub.factoring.schemas import CedibilityOut, CesionFromXml, CessionCreate, HeldDocumentOut
from dtehub.kit import base64
from dtehub.kit.dates import today_in_santiago
from dtehub.kit.schema import MAX_ID, respond_json
from dtehub.models import Actor, DocumentCession
from dtehub.portal.links import Links

router = APIRouter(prefix="/v1", tags=["factoring"])


@router.get("/getDocumentCedibility", response_model=CedibilityOut, responses=error_responses(404))
async def get_document_cedibility(
    request: Request,
    caller: CallerDep,
    settings: SettingsDep,
    id: Annotated[int, Query(ge=1, le=MAX_ID, description="The document's id")],
) -> Response:
    """Can this document be financed? Every check at once: the DTE's XML, its type, what SII's
    acceptance/claim service says now (reception, cedibility code, claims, cancelling credit notes; asked
    with the company's SII certificate and stored beside the document), the credit notes and payments
    dtehub holds, the 8-day window and the RTC. Each reason names its source and what to do."""
    # The document read, SII asked with no transaction open, its answers stored: in one thread-pool call.
    units = UnitsOfWork(request.app.state.sessionmaker, settings.db_busy_timeout)
    access = cedibility.SiiAccess(settings)
    verdict = await run_in_threadpool(cedibility.check_document, units, caller.company_id, id, access)
    return respond_json(verdict.as_json())


@router.post("/createCesionFromXml", response_model=HeldDocumentOut, responses=error_responses(409, 413, 422))
@transactional(audit=Action.CREATE_CESION_FROM_XML)
def create_cesion_from_xml(
    auth: AuthDep, session: SessionDep, settings: SettingsDep, body: CesionFromXml
) -> Response:
    """Hold an invoice the company bought: the AEC (electronic cession file, base64) that ceded it to this
    company is checked whole (schema, each signature in the context it was made in, the DTE inside, the
    chain of cessions, this company its last assignee) and its invoice becomes a held document: listed by
    getDocuments (``held=1`` for these alone), paid, reminded and shown like any other. An AEC that fails
    a check stores nothing: 422 ``aec_invalid`` with each failed check in the error's ``details``. The very
    same AEC again answers what is stored."""
    content = base64.decode_field(
        body.xml, field="xml", max_bytes=MAX_AEC_BYTES, what="the AEC", too_large=PayloadTooLarge
    )
    links = Links(settings.public_base)
    held = holding.hold_from_aec(session, auth.company_id, content, links, max_bytes=MAX_AEC_BYTES)
    dte = held.verification.dte
    assert dte is not None  # a held document's AEC carried a readable DTE
    audit.annotate(
        session,
        object_type="document",
        object_id=held.document_id,
        summary={"code": dte.fields.code, "folio": str(dte.fields.folio), "issuer": dte.fields.issuer.rut},
        skip=not (held.created or held.completed),
    )
    row = documents_service.require_row(session, auth.company_id, held.document_id)
    view = documents_service.present_detail(
        session, auth.company_id, row, documents_service.Expand(), links, today_in_santiago()
    )
    return respond_json({"document": view, "checks": [f.as_json() for f in held.verification.findings]})


@router.post(
    "/createCesion",
    response_model=DocumentDetailOut,
    responses=error_responses(404, 409, 422, 503),
)
@in_units(audit=Action.CREATE_CESION)
async def create_cesion(
    request: Request, caller: CallerDep, settings: SettingsDep, body: CessionCreate
) -> Response:
    """Cede a document through SII's RTC: dtehub checks that it can be ceded (getDocumentCedibility, the
    amount, the company's SII certificate), builds the electronic cession file (AEC) with the company's
    certificate, uploads it and answers the document with its ``cession`` (``siiState`` pending). dtehub then
    follows SII's track id until SII registers the cession (``isCeded``, webhook ``document.ceded``) or
    rejects it (``siiMessage`` says why). A refusal changes nothing and sends nothing to the RTC."""
    units = UnitsOfWork(request.app.state.sessionmaker, settings.db_busy_timeout)
    links = Links(settings.public_base)

    def finish(session: Session, made: DocumentCession) -> Response:
        summary = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
        summary.update(trackId=made.track_id, assignee=made.assignee_rut, amount=made.amount_cents // 100)
        audit.record(
            session, caller.company_id, actor=Actor.API_TOKEN, token_id=caller.token_id,
            action=Action.CREATE_CESION, object_type="document", object_id=made.document_id, summary=summary,
        )  # fmt: skip
        row = documents_service.require_row(session, caller.company_id, made.document_id)
        view = documents_service.present_detail(
            session, caller.company_id, row, documents_service.Expand(), links, today_in_santiago()
        )
        return respond_json(view)

    # The cession's steps (SII's calls between short units of work) in one thread-pool call.
    access = cedibility.SiiAccess(settings)
    return await run_in_threadpool(
        cession.create_cession, units, caller.company_id, body, access, links, finish
    )
