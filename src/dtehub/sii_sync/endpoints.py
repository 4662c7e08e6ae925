"""/v1 methods of the SII sync: syncSii, getSiiSyncRuns, getSiiSyncRun."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import event

from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.dependencies import AuthDep, SessionDep, transactional
from dtehub.errors_http import error_responses
from dtehub.kit.pagination import Page, PageDep
from dtehub.kit.schema import MAX_ID, respond
from dtehub.sii_sync import service
from dtehub.sii_sync.executor import SyncExecutor
from dtehub.sii_sync.runs import Trigger
from dtehub.sii_sync.schemas import SiiSyncRunOut, SyncSiiRequest

router = APIRouter(prefix="/v1", tags=["sii"])

RunPage = Page[SiiSyncRunOut]


async def _executor(request: Request) -> SyncExecutor:
    executor: SyncExecutor = request.app.state.sii_sync
    return executor


ExecutorDep = Annotated[SyncExecutor, Depends(_executor)]


@router.post("/syncSii", response_model=SiiSyncRunOut, responses=error_responses(404, 409, 503))
@transactional(audit=Action.SYNC_SII)
def sync_sii(auth: AuthDep, session: SessionDep, executor: ExecutorDep, body: SyncSiiRequest) -> Response:
    """Sync the company's documents with SII's Registro de Ventas now: its run is queued and answered
    (follow it with getSiiSyncRun). A run of the company already under way answers 409 naming it; one
    whose process stopped is resumed where it stopped."""
    run, lease = service.request_run(
        session, executor, auth.company_id, since=body.since, until=body.until, trigger=Trigger.API
    )
    audit.annotate(session, object_id=run.id, summary={"since": run.since, "until": run.until})
    event.listen(session, "after_commit", lambda _session: executor.wake(), once=True)
    return respond(SiiSyncRunOut.of(run, lease, service.now_of(executor)))


@router.get("/getSiiSyncRuns", response_model=RunPage, responses=error_responses())
@transactional
def get_sii_sync_runs(auth: AuthDep, session: SessionDep, executor: ExecutorDep, page: PageDep) -> Response:
    """The company's SII sync runs, newest first."""
    found, total, lease = service.list_runs(session, auth.company_id, page)
    now = service.now_of(executor)
    return respond(RunPage.of([SiiSyncRunOut.of(run, lease, now) for run in found], total, page))


@router.get("/getSiiSyncRun", response_model=SiiSyncRunOut, responses=error_responses(404))
@transactional
def get_sii_sync_run(
    auth: AuthDep,
    session: SessionDep,
    executor: ExecutorDep,
    run_id: Annotated[int, Query(alias="id", ge=1, le=MAX_ID, description="The run's id")],
) -> Response:
    """One SII sync run: its state, periods done of total, documents created and updated, XMLs fetched,
    and its messages."""
    run, lease = service.get_run(session, auth.company_id, run_id)
    return respond(SiiSyncRunOut.of(run, lease, service.now_of(executor)))
