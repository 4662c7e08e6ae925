"""The web app's imports: started with the uploaded files' names, moved on by the runner
(:mod:`dtehub.imports.runner`) batch by batch, and read by the pages: progress and report.

An import's counters and report lines are written in the transaction after each stored batch, so
what a page shows is never more than what the database holds.

An import's heartbeat says that the process holding it is alive: the runner of that process beats for
every import it holds, queued behind another or running (:meth:`dtehub.imports.runner.ImportRunner.beat`,
every minute), and the running one's progress moves it too. A queued or running import whose heartbeat
has not moved for :data:`STALE_AFTER` was left by a process that stopped (killed, a crash, the machine
gone): it shows as interrupted, never as waiting for ever; what it reported is stored, and uploading the
same files again imports only the rest (the uploaded files lived in that process's temporary folder, so
no other runner can take it up). A server stopped in good order ends its queued imports as failed, saying
so, at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dtehub.errors import NotFound
from dtehub.imports import repository
from dtehub.models import AppImport, AppImportResult, ImportState

STALE_AFTER = timedelta(minutes=10)
INTERRUPTED = "interrupted"
"""What a page calls a queued or running import whose process stopped (never stored)."""
REPORT_LINES = 500
"""Lines of each part of a report a page shows (the counts are always whole)."""


@dataclass(frozen=True)
class UploadedFile:
    name: str
    size: int


def start(
    session: Session, company_id: int, user_id: int | None, files: Sequence[UploadedFile], now: datetime
) -> AppImport:
    """A queued import of the uploaded files (the runner takes it once this is committed)."""
    job = AppImport(
        company_id=company_id,
        user_id=user_id,
        state=ImportState.QUEUED.value,
        files=[{"name": f.name, "size": f.size} for f in files],
        created_at=now,
        heartbeat_at=now,
    )
    return repository.add(session, job)


def require(session: Session, company_id: int, import_id: int) -> AppImport:
    job = repository.get(session, company_id, import_id)
    if job is None:
        raise NotFound(f"import {import_id} not found", field="id")
    return job


def recent(session: Session, company_id: int, limit: int = 20) -> Sequence[AppImport]:
    return repository.recent(session, company_id, limit)


def state_of(job: AppImport, now: datetime) -> str:
    """The import's state as a page tells it: ``interrupted`` for one whose process stopped (no runner
    has beaten for it for :data:`STALE_AFTER`: see the module's text)."""
    if job.state in (ImportState.QUEUED, ImportState.RUNNING):
        beat = job.heartbeat_at or job.created_at
        if now - beat > STALE_AFTER:
            return INTERRUPTED
    return job.state


def progress(job: AppImport, now: datetime) -> dict[str, Any]:
    """What the progress view polls: the state and the counters (JSON)."""
    return {
        "id": str(job.id),
        "state": state_of(job, now),
        "total": job.total,
        "read": job.read,
        "documents": job.documents,
        "notes": job.notes,
        "alreadyPresent": job.already_present,
        "attached": job.attached,
        "refused": job.refused,
        "skipped": job.skipped,
    }


# --- the runner's steps (each in a unit of work of its own) ----------------------------------------


def begin(session: Session, company_id: int, import_id: int, total: int, now: datetime) -> None:
    repository.change(
        session,
        company_id,
        import_id,
        state=ImportState.RUNNING.value,
        total=total,
        started_at=now,
        heartbeat_at=now,
    )


def beat(session: Session, company_id: int, import_ids: Sequence[int], now: datetime) -> None:
    """The runner holding these imports of the company is alive at ``now`` (those that ended stay as
    they are)."""
    repository.touch(session, company_id, import_ids, now)


def read_so_far(session: Session, company_id: int, import_id: int, read: int, now: datetime) -> None:
    repository.change(session, company_id, import_id, read=read, heartbeat_at=now)


@dataclass(frozen=True)
class Line:
    """One line of a report, as the importer gives it (its path as the person uploaded it)."""

    path: str
    outcome: str
    note: bool = False
    code: str | None = None
    message: str | None = None
    dte_type: int | None = None
    folio: int | None = None


def record_batch(
    session: Session, company_id: int, import_id: int, lines: Sequence[Line], read: int, now: datetime
) -> None:
    """A committed batch's report lines and the counters they add."""
    counts: dict[str, int] = {}
    for line in lines:
        # Each outcome has its counter (already_present, attached, refused, skipped); an imported DTE
        # counts as a document or a note.
        column = ("notes" if line.note else "documents") if line.outcome == "imported" else line.outcome
        counts[column] = counts.get(column, 0) + 1
    repository.add_results(
        session,
        [
            {
                "import_id": import_id,
                "company_id": company_id,
                "path": line.path[:4000],
                "outcome": line.outcome,
                "note": line.note,
                "code": line.code,
                "message": (line.message or None) and line.message[:2000],
                "dte_type": line.dte_type,
                "folio": line.folio,
            }
            for line in lines
        ],
    )
    values: dict[str, Any] = {name: getattr(AppImport, name) + added for name, added in counts.items()}
    repository.change(session, company_id, import_id, read=read, heartbeat_at=now, **values)


def finish(session: Session, company_id: int, import_id: int, read: int, now: datetime) -> None:
    repository.change(
        session,
        company_id,
        import_id,
        state=ImportState.DONE.value,
        read=read,
        finished_at=now,
        heartbeat_at=now,
    )


def fail(session: Session, company_id: int, import_id: int, message: str, now: datetime) -> None:
    repository.change(
        session,
        company_id,
        import_id,
        state=ImportState.FAILED.value,
        error_message=message,
        finished_at=now,
        heartbeat_at=now,
    )


# --- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportPart:
    lines: Sequence[AppImportResult]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.lines)


@dataclass(frozen=True)
class Report:
    created: ReportPart
    duplicates: ReportPart
    refused: ReportPart


def report(session: Session, company_id: int, import_id: int) -> Report:
    """What the import did, file by file: created, already there (or attached to a row the SII
    sync made), refused or skipped with the reason; each part up to :data:`REPORT_LINES` lines."""

    def part(*outcomes: str) -> ReportPart:
        return ReportPart(
            repository.results(session, company_id, import_id, outcomes, REPORT_LINES),
            repository.count_results(session, company_id, import_id, outcomes),
        )

    return Report(part("imported"), part("already_present", "attached"), part("refused", "skipped"))
