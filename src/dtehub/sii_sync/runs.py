"""A sync run's life, in the caller's unit of work (services never commit).

- :func:`request_run` queues a run for a company and takes its lease, or takes over the company's
  interrupted run (one whose holder stopped renewing its lease: a process killed, a server stopped) so
  that the periods it had done are not done again; while another run of the company holds the lease it
  refuses with :class:`~dtehub.sii_sync.errors.SyncAlreadyRunning`.
- :func:`start`, :func:`record_period`, :func:`finish` move it on, each only while its holder still
  holds the lease (the fence: a holder that lost it changes nothing more).
- :func:`presented_state` says what a person sees: a run left queued or running without a live lease
  is shown failed, with what happened and that the next sync resumes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from dtehub.errors import NotFound
from dtehub.kit.dates import format_datetime
from dtehub.models import RunState, SiiSyncLease, SiiSyncRun
from dtehub.sii_sync import repository
from dtehub.sii_sync.errors import LeaseLost, SyncAlreadyRunning
from dtehub.sii_sync.periods import Period, plan, settled


class Trigger:
    API = "api"
    APP = "app"  # the web app's "sincronizar ahora" (/app/sii)
    CLI = "cli"
    SCHEDULE = "schedule"


@dataclass
class PeriodOutcome:
    """What storing one period did: the counts a run adds up and anything a person should know."""

    created: int = 0
    updated: int = 0
    xmls: int = 0
    messages: list[str] = field(default_factory=list)


def request_run(
    session: Session,
    company_id: int,
    *,
    since: Period | None,
    until: Period | None,
    trigger: str,
    holder: str,
    now: datetime,
    lease: timedelta,
    today: date,
    start: Period | None = None,
) -> SiiSyncRun:
    """The company's run to execute now, queued, its lease held by ``holder``."""
    current = repository.lease_of(session, company_id)
    if current is not None and current.expires_at > now:
        raise SyncAlreadyRunning.of_run(current.run_id)
    planned = plan(today, since=since, until=until, start=start)
    periods = [str(p) for p in planned]
    messages: list[str] = []
    if since is None and until is None:  # no range named: settled periods read once a day
        reads = repository.period_reads(session, company_id)
        left_out = [p for p in planned if settled(p, reads.get(str(p)), now)]
        if left_out:
            periods = [str(p) for p in planned if p not in left_out]
            messages.append(_settled_words(left_out))
    latest = repository.latest_run(session, company_id)
    run: SiiSyncRun | None = None
    if latest is not None and latest.state in repository.ACTIVE:  # its holder is gone: interrupted
        stopped = _stopped_words(latest)
        if (since is None and until is None) or latest.periods == periods:
            run = latest
            run.state = RunState.QUEUED.value
            run.resumed += 1
            done = len(run.periods_done)
            run.messages = [
                *run.messages,
                f"{stopped}; resumed with {done} of {len(run.periods)} periods already done",
            ]
        else:
            latest.state = RunState.FAILED.value
            latest.finished_at = now
            latest.error_code = "interrupted"
            latest.error_message = (
                f"{stopped}; not resumed: run of {periods[0]} to {periods[-1]} asked instead"
            )
    if run is None:
        run = repository.add_run(
            session,
            SiiSyncRun(
                company_id=company_id,
                state=RunState.QUEUED.value,
                trigger=trigger,
                since=str(planned[0]),
                until=str(planned[-1]),
                periods=periods,
                periods_done=[],
                documents_created=0,
                documents_updated=0,
                xmls_fetched=0,
                messages=messages,
                resumed=0,
                queued_at=now,
            ),
        )
    if not repository.take_lease(session, company_id, run.id, holder, now, now + lease):
        taken = repository.lease_of(session, company_id)
        raise SyncAlreadyRunning.of_run(taken.run_id if taken is not None else run.id)
    session.flush()
    return run


def _settled_words(periods: list[Period]) -> str:
    listed = ", ".join(str(p) for p in periods)
    return (
        f"not read again, settled: {listed} (read less than a day ago, after every claim window of their "
        "documents had closed); a sync reads a settled period once a day, or whenever since and until ask "
        "for it"
    )


def _stopped_words(run: SiiSyncRun) -> str:
    last = run.heartbeat_at or run.started_at or run.queued_at
    return f"interrupted (the process running it stopped after {format_datetime(last)})"


def require_run(session: Session, company_id: int, run_id: int) -> SiiSyncRun:
    run = repository.run_of(session, company_id, run_id)
    if run is None:
        raise NotFound(f"no SII sync run {run_id}", field="id")
    return run


def _fenced(session: Session, company_id: int, run_id: int, holder: str) -> SiiSyncRun:
    if not repository.hold(session, company_id, run_id, holder):
        raise LeaseLost(f"run {run_id}: its lease is held by another process now")
    return require_run(session, company_id, run_id)


def start(session: Session, company_id: int, run_id: int, holder: str, now: datetime) -> SiiSyncRun:
    run = _fenced(session, company_id, run_id, holder)
    run.state = RunState.RUNNING.value
    run.started_at = run.started_at or now
    run.heartbeat_at = now
    return run


def remaining(run: SiiSyncRun) -> list[Period]:
    done = set(run.periods_done)
    return [Period.parse(text, "period") for text in run.periods if text not in done]


def note(session: Session, company_id: int, run_id: int, holder: str, messages: list[str]) -> SiiSyncRun:
    run = _fenced(session, company_id, run_id, holder)
    if messages:
        run.messages = [*run.messages, *messages]
    return run


def record_period(
    session: Session,
    company_id: int,
    run_id: int,
    holder: str,
    period: Period,
    outcome: PeriodOutcome,
    now: datetime,
) -> SiiSyncRun:
    """The checkpoint: ``period`` done, with its counts, in the transaction that stored its documents."""
    run = _fenced(session, company_id, run_id, holder)
    run.periods_done = [*run.periods_done, str(period)]
    run.documents_created += outcome.created
    run.documents_updated += outcome.updated
    run.xmls_fetched += outcome.xmls
    if outcome.messages:
        run.messages = [*run.messages, *outcome.messages]
    run.heartbeat_at = now
    return run


def finish(
    session: Session,
    company_id: int,
    run_id: int,
    holder: str,
    now: datetime,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
) -> SiiSyncRun:
    """Done (or failed with the error's code and message), and the lease given back."""
    run = _fenced(session, company_id, run_id, holder)
    run.state = RunState.FAILED.value if error_code else RunState.DONE.value
    run.error_code = error_code
    run.error_message = error_message
    run.finished_at = now
    repository.release(session, company_id, run_id, holder)
    return run


def stop(session: Session, company_id: int, run_id: int, holder: str, now: datetime, reason: str) -> None:
    """Give the lease back without finishing (a shutdown): the next sync of the company resumes it."""
    if repository.hold(session, company_id, run_id, holder):
        run = require_run(session, company_id, run_id)
        run.messages = [*run.messages, f"{reason} at {format_datetime(now)}; the next sync resumes it"]
        run.heartbeat_at = now
        repository.release(session, company_id, run_id, holder)


@dataclass(frozen=True)
class Presented:
    state: str
    error_code: str | None
    error_message: str | None


def presented_state(run: SiiSyncRun, lease: SiiSyncLease | None, now: datetime) -> Presented:
    """The state a person sees: an active run without a live lease was interrupted (shown failed)."""
    if run.state in repository.ACTIVE:
        live = lease is not None and lease.run_id == run.id and lease.expires_at > now
        if not live:
            return Presented(
                RunState.FAILED.value,
                "interrupted",
                f"{_stopped_words(run)}; the next sync of the company resumes it where it stopped",
            )
    return Presented(run.state, run.error_code, run.error_message)
