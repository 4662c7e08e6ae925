from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.auth.service import AuthContext
from dtehub.dependencies import CallerDep, run_unit_of_work
from dtehub.errors import DtehubError
from dtehub.errors_http import error_responses, mipyme_statuses
from dtehub.ingest import service as ingest
from dtehub.kit.schema import respond
from dtehub.mipyme import service
from dtehub.mipyme.schemas import MipymeAnswer, MipymeRequest
from dtehub.models import Actor, Origin
from dtehub.portal.links import Links
from dtehub.sii.errors import SiiError
from dtehub.sii.retrieval import RetrievedDocument
from dtehub.sii.sessions import SessionPool

router = APIRouter(prefix="/V1", tags=["mipyme"])

_ANSWERS = {
    http_status: {"model": MipymeAnswer, "description": f"status {status.value}: {status.name.lower()}"}
    for status, http_status in sorted(mipyme_statuses().items())
}
# No valid token, or an import for another company than the token's: the API's own JSON error, before
# SII is asked and before any status (a rule the document cannot state: it depends on the token).
_ANSWERS.update({code: error_responses(code)[code] for code in (401, 403)})


@router.post(
    "/mipyme_get_document",
    response_model=MipymeAnswer,
    responses=_ANSWERS,  # type: ignore[arg-type]
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": MipymeRequest.model_json_schema(by_alias=True)}},
        }
    },
)
async def mipyme_get_document(request: Request, caller: CallerDep) -> Response:
    """Retrieve an issued document from SII's MIPYME portal with the certificate of a person authorized
    for the company (Koywe-compatible). The certificate and password are used for this request only."""
    factory = request.app.state.sessionmaker
    busy_timeout: float = request.app.state.settings.db_busy_timeout
    links = Links(request.app.state.settings.public_base)
    try:
        query = service.read_request(await request.body())
        if query.import_document:  # refused before SII is asked
            await run_in_threadpool(
                lambda: run_unit_of_work(
                    factory,
                    lambda s: service.require_importable(s, caller.company_id, query),
                    writes=False,
                    busy_timeout=busy_timeout,
                )
            )
        pool: SessionPool = request.app.state.sii_pool
        retrieved = await service.fetch(pool, query)
    except SiiError as error:
        _, http_status, failure = service.failure(error)
        return respond(failure, http_status)
    answer = service.success(retrieved)
    if query.import_document:
        try:
            stored = await run_in_threadpool(
                lambda: run_unit_of_work(
                    factory,
                    lambda s: _store(s, caller, retrieved, links),
                    writes=True,
                    busy_timeout=busy_timeout,
                )
            )
        except DtehubError as refused:  # e.g. the company's strict xmlPolicy: the XML is still answered
            service.record_import(answer, refused)
        else:
            service.record_import(answer, stored)
    return respond(answer)


def _store(
    session: Session, caller: AuthContext, retrieved: RetrievedDocument, links: Links
) -> ingest.Stored:
    """Store the retrieved DTE and, when it is new, its audit event, in one unit of work."""
    stored = ingest.store(session, caller.company_id, retrieved.checked, links, source=Origin.MIPYME)
    if stored.changed:
        audit.record_stored(
            session,
            caller.company_id,
            actor=Actor.SII_RETRIEVAL,
            action=Action.MIPYME_GET_DOCUMENT,
            token_id=caller.token_id,
            kind=stored.kind.value,
            object_id=stored.id,
            sha256=retrieved.checked.sha256,
        )
    return stored
