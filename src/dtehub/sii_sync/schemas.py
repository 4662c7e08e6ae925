"""The API's shapes of sync runs."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import Field

from dtehub.kit.dates import format_datetime
from dtehub.kit.schema import ApiInput, ApiModel
from dtehub.models import SiiSyncLease, SiiSyncRun
from dtehub.sii_sync.runs import presented_state

PERIOD_PATTERN = r"^\d{4}-\d{2}$"


class SyncSiiRequest(ApiInput):
    since: str | None = Field(
        default=None,
        pattern=PERIOD_PATTERN,
        description="First tax period, YYYY-MM (from 2017-08); by default the company's siiSyncFrom, else "
        "the twelve months that end with the current one.",
    )
    until: str | None = Field(
        default=None,
        pattern=PERIOD_PATTERN,
        description="Last tax period, YYYY-MM, not after the current month (the default). When the range "
        "reaches the current month the previous month is synced again too (SII changes it after it closes). "
        "A request that names since or until reads every period of its range; one that names neither "
        "leaves out the settled periods read less than a day ago, as the schedule does (docs/sii-sync.md).",
    )


class RunStateOut(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RunError(ApiModel):
    code: str = Field(description="interrupted, or the code of the error that stopped it")
    message: str = Field(description="What went wrong, in words a person can act on")


def _when(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment is not None else None


class SiiSyncRunOut(ApiModel):
    id: str
    state: RunStateOut = Field(
        description="queued, running, done or failed (a run whose process stopped shows failed, code "
        "interrupted, until the next sync of the company resumes it)"
    )
    trigger: str = Field(description="api, app (the web app), cli or schedule: who asked for it")
    since: str = Field(description="First tax period synced, YYYY-MM")
    until: str = Field(description="Last tax period synced, YYYY-MM")
    periods_done: int = Field(description="Periods whose documents are stored")
    periods_total: int = Field(
        description="Periods the run reads (a run that names no range leaves out the settled ones read "
        "less than a day ago: its messages list them)"
    )
    documents_created: int = Field(description="Documents and notes dtehub did not have, created from SII's")
    documents_updated: int = Field(description="Documents and notes whose SII state changed")
    xmls_fetched: int = Field(description="Signed XMLs retrieved from SII's MIPYME portal")
    messages: list[str] = Field(
        description="What a person should know or do (boletas skipped, a certificate about to expire, "
        "amounts that disagree with SII's…)"
    )
    error: RunError | None = Field(description="Why it failed; null unless failed")
    resumed: int = Field(description="Times it was taken over after its process stopped")
    queued_at: str = Field(description="YYYY-MM-DD HH:MM:SS, Santiago time")
    started_at: str | None
    finished_at: str | None
    heartbeat_at: str | None = Field(description="Last sign of life of the process running it")

    @classmethod
    def of(cls, run: SiiSyncRun, lease: SiiSyncLease | None, now: datetime) -> SiiSyncRunOut:
        shown = presented_state(run, lease, now)
        error = (
            RunError(code=shown.error_code, message=shown.error_message or "") if shown.error_code else None
        )
        return cls(
            id=str(run.id),
            state=RunStateOut(shown.state),
            trigger=run.trigger,
            since=run.since,
            until=run.until,
            periods_done=len(run.periods_done),
            periods_total=len(run.periods),
            documents_created=run.documents_created,
            documents_updated=run.documents_updated,
            xmls_fetched=run.xmls_fetched,
            messages=list(run.messages),
            error=error,
            resumed=run.resumed,
            queued_at=format_datetime(run.queued_at),
            started_at=_when(run.started_at),
            finished_at=_when(run.finished_at),
            heartbeat_at=_when(run.heartbeat_at),
        )
