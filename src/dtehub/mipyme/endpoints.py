from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.companies import service as companies_service
from dtehub.dependencies import CallerDep, run_unit_of_work
from dtehub.errors import DtehubError
from dtehub.ingest import service as ingest
from dtehub.kit.schema import respond
from dtehub.mipyme import service
from dtehub.mipyme.schemas import MipymeAnswer, MipymeRequest
from dtehub.mipyme.statuses import MipymeStatus
from dtehub.sii.errors import InvalidRequest, SiiError
from dtehub.sii.retrieval import RetrievedDocument
from dtehub.sii.sessions import SessionPool

router = APIRouter(prefix="/V1", tags=["mipyme"])

_ANSWERS = {
    status.http_status: {
        "model": MipymeAnswer,
        "description": f"status {status.value}: {status.name.lower()}",
    }
    for status in MipymeStatus
    if status != MipymeStatus.SUCCESS
}


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
    try:
        query = service.read_request(await request.body())
        if query.import_document:
            company_rut = await run_in_threadpool(
                run_unit_of_work, factory, lambda s: companies_service.require(s, caller.company_id).rut
            )
            if company_rut != query.company_rut:
                raise InvalidRequest(
                    f"import stores documents of this token's company ({company_rut}) only, not of "
                    f"{query.company_rut}",
                    field="import",
                )
        pool: SessionPool = request.app.state.sii_pool
        retrieved = await service.fetch(pool, query)
    except SiiError as error:
        status, failure = service.failure(error)
        return respond(failure, status.http_status)
    answer = service.success(retrieved)
    if query.import_document:
        await _import(request, caller.company_id, retrieved, answer)
    return respond(answer)


async def _import(
    request: Request, company_id: int, retrieved: RetrievedDocument, answer: MipymeAnswer
) -> None:
    def store(session: Session) -> ingest.Stored:
        return ingest.store(session, company_id, retrieved.checked)

    try:
        stored = await run_in_threadpool(run_unit_of_work, request.app.state.sessionmaker, store)
    except DtehubError as refused:  # e.g. the company's strict xmlPolicy: the XML is still answered
        answer.import_error = service.import_failure(refused)
        return
    if stored.kind == ingest.Kind.NOTE:
        answer.note_id = str(stored.id)
    else:
        answer.document_id = str(stored.id)
