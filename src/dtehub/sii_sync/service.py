"""What the API and the CLI ask of the sync: queue a run, read runs (filtered by company)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from dtehub.companies.sii_certificate import certificate_of
from dtehub.errors import NotFound, SiiCertificateMissing
from dtehub.kit.pagination import PageRequest
from dtehub.models import SiiSyncLease, SiiSyncRun
from dtehub.sii_sync import repository, runs
from dtehub.sii_sync.executor import SyncExecutor
from dtehub.sii_sync.periods import Period


def request_run(
    session: Session,
    executor: SyncExecutor,
    company_id: int,
    *,
    since: str | None,
    until: str | None,
    trigger: str,
    stored_certificate: bool = True,
) -> tuple[SiiSyncRun, SiiSyncLease | None]:
    """Queue a sync of the company on ``executor`` (or resume its interrupted one); it starts once the
    caller's unit of work commits. It logs in with the company's stored certificate (unless
    ``stored_certificate`` is False: the caller brings one), so a company without one is refused at once."""
    if repository.company(session, company_id) is None:
        raise NotFound("no such company")
    if stored_certificate and certificate_of(session, company_id) is None:
        raise SiiCertificateMissing(
            "the company has no SII certificate to sync with: add one with updateCompanySiiCertificate "
            "(or dtehub companies certificate)",
            field="certificate",
        )
    run = executor.request(
        session,
        company_id,
        since=Period.parse(since, "since") if since else None,
        until=Period.parse(until, "until") if until else None,
        trigger=trigger,
    )
    return run, repository.lease_of(session, company_id)


# The lease is read before the run(s) it is judged with. On PostgreSQL each statement sees what was
# committed when it began: read the other way round, a run read while still running and its lease read
# just after the run finished (the lease given back) would show a finished run as interrupted.


def get_run(session: Session, company_id: int, run_id: int) -> tuple[SiiSyncRun, SiiSyncLease | None]:
    lease = repository.lease_of(session, company_id)
    return runs.require_run(session, company_id, run_id), lease


def latest_run(session: Session, company_id: int) -> tuple[SiiSyncRun | None, SiiSyncLease | None]:
    """The company's newest run (None: it never synced), and its lease (is an active run alive)."""
    lease = repository.lease_of(session, company_id)
    run = repository.latest_run(session, company_id)
    return run, lease if run is not None else None


def list_runs(
    session: Session, company_id: int, page: PageRequest
) -> tuple[Sequence[SiiSyncRun], int, SiiSyncLease | None]:
    lease = repository.lease_of(session, company_id)
    found, total = repository.list_runs(session, company_id, page)
    return found, total, lease


def now_of(executor: SyncExecutor) -> datetime:
    return executor.clock()
