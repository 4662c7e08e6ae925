"""Bulk import of DTE files: the engine behind ``dtehub import``.

Reading is CPU work with no database (:func:`dtehub.dte.pipeline.read_dte_file`), so it runs in worker
processes on chunks of files (:mod:`dtehub.ingest.reading`, which imports only the pipeline); the calling
process alone stores the results, one transaction per batch.
Everything streams: the file list is walked lazily, at most ``max_in_flight`` chunks are out at a time,
and a batch is forgotten once committed and reported, so memory stays flat whatever the number of files.

A report line is written only after its batch committed, so an interrupted import never claims more
than the database holds; storing is idempotent (the very same XML answers ``already_present``), so
running the same import again continues where the last one stopped.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import Session, sessionmaker

from dtehub.audit import service as audit
from dtehub.db import refresh_statistics, unit_of_work
from dtehub.errors import DtehubError
from dtehub.ingest.reading import (
    Outcome,
    ReadDte,
    Result,
    Source,
    init_worker,
    read_chunk,
    skipped,
    unreadable,
)
from dtehub.ingest.service import Incoming, Kind, Stored, store_many
from dtehub.models import Origin
from dtehub.portal.links import Links

__all__ = [  # Outcome, ReadDte, Result, Source and read_chunk are reading's, found here as before
    "ImportSummary",
    "Outcome",
    "ReadDte",
    "Result",
    "Source",
    "count_sources",
    "import_paths",
    "import_sources",
    "process_pool",
    "read_chunk",
    "walk_sources",
]

ANALYZE_EVERY = 10_000
"""DTEs stored between two refreshes of the planner's statistics during an import."""
BATCH_SIZE = 200
"""DTEs stored per transaction: large enough that commits (a full fsync on SQLite) are rare."""
CHUNK_FILES = 32
"""Files per task sent to a worker: enough to amortize the hop between processes."""
CHUNK_BYTES = 1024 * 1024
"""A chunk is also cut at this many bytes, so a task's results (the DTEs' bytes) stay small."""


@dataclass
class ImportSummary:
    """Counts of what was committed (and reported) so far."""

    documents: int = 0
    notes: int = 0
    already_present: int = 0
    attached: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    skipped: int = 0

    @property
    def imported(self) -> int:
        return self.documents + self.notes

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    @property
    def exit_code(self) -> int:
        return 1 if self.refused_total else 0

    def count(self, result: Result) -> None:
        if result.outcome is Outcome.IMPORTED:
            if result.note:
                self.notes += 1
            else:
                self.documents += 1
        elif result.outcome is Outcome.ALREADY_PRESENT:
            self.already_present += 1
        elif result.outcome is Outcome.ATTACHED:
            self.attached += 1
        elif result.outcome is Outcome.REFUSED:
            self.refused[result.code or "refused"] += 1
        else:
            self.skipped += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "documents": self.documents,
            "notes": self.notes,
            "alreadyPresent": self.already_present,
            "attached": self.attached,
            "refused": dict(sorted(self.refused.items())),
            "skipped": self.skipped,
        }


# Walking the sources (in the calling process: names and sizes only, never contents)


def _is_xml(name: str) -> bool:
    return name.lower().endswith(".xml")


def _is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def _zip_sources(path: str) -> Iterator[Source | Result]:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        yield Result(
            path, Outcome.REFUSED, code="zip_unreadable", message=f"not a readable zip archive: {exc}"
        )
        return
    for info in entries:
        if info.is_dir():
            continue
        shown = f"{path}!{info.filename}"
        if _is_xml(info.filename):
            yield Source(shown, path, entry=info.filename, size=info.file_size)
        else:
            yield skipped(shown)


def _folder_sources(folder: str) -> Iterator[Source | Result]:
    # scandir, unsorted and lazy: a folder of a million files is never held in memory at once.
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    yield from _folder_sources(entry.path)
                elif not entry.is_file():
                    continue  # sockets, fifos, dangling links
                elif _is_xml(entry.name):
                    try:
                        size = entry.stat().st_size
                    except OSError as exc:  # gone or forbidden since the listing: that file only
                        yield unreadable(entry.path, exc)
                        continue
                    yield Source(entry.path, entry.path, size=size)
                elif _is_zip(entry.name):
                    yield from _zip_sources(entry.path)
                else:
                    yield skipped(entry.path)
    except OSError as exc:
        yield unreadable(folder, exc)


def walk_sources(paths: Iterable[Path | str]) -> Iterator[Source | Result]:
    """Every file to read under ``paths``, lazily; files that will not be read come as their result.

    Folders are searched recursively for ``.xml`` files and ``.zip`` archives; archives give their
    ``.xml`` entries. A file named explicitly is read as XML whatever its extension.
    """
    for given in paths:
        path = os.fspath(given)
        if os.path.isdir(path):
            yield from _folder_sources(path)
        elif _is_zip(path):
            yield from _zip_sources(path)
        else:
            try:
                size = os.stat(path).st_size
            except OSError as exc:
                yield unreadable(path, exc)
                continue
            yield Source(path, path, size=size)


def process_pool(jobs: int) -> ProcessPoolExecutor:
    """The workers for :func:`import_sources`. Spawned, not forked: a fork would copy the caller's
    database connections and threads; a fresh interpreter holds neither."""
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker
    )


# Storing (in the calling process)


def _result(item: ReadDte, outcome: Stored | DtehubError) -> Result:
    fields = item.checked.fields
    if isinstance(outcome, DtehubError):
        return Result(
            item.path,
            Outcome.REFUSED,
            code=outcome.code,
            message=outcome.message,
            dte_type=fields.code,
            folio=fields.folio,
        )
    return Result(
        item.path,
        Outcome.IMPORTED
        if outcome.created
        else Outcome.ATTACHED
        if outcome.attached
        else Outcome.ALREADY_PRESENT,
        message="; ".join(outcome.disagreements) or None,
        dte_type=fields.code,
        folio=fields.folio,
        note=outcome.kind == Kind.NOTE,
    )


class _Batches:
    """Items waiting to be stored; each flush is one transaction, then its report lines."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        company_id: int,
        report: TextIO | None,
        summary: ImportSummary,
        batch_size: int,
        links: Links,
        user_id: int | None = None,
        on_batch: Callable[[list[Result]], None] | None = None,
    ) -> None:
        self.factory = factory
        self.user_id = user_id
        self.on_batch = on_batch
        self.company_id = company_id
        self.links = links
        self.report = report
        self.summary = summary
        self.batch_size = batch_size
        self.items: list[ReadDte | Result] = []
        self.stored_since_analyze = 0

    def add(self, items: Iterable[ReadDte | Result]) -> None:
        self.items.extend(items)
        while len(self.items) >= self.batch_size:  # an envelope may bring 2,000 DTEs at once
            batch, self.items = self.items[: self.batch_size], self.items[self.batch_size :]
            self._flush(batch)

    def flush(self) -> None:
        batch, self.items = self.items, []
        self._flush(batch)

    def _flush(self, batch: list[ReadDte | Result]) -> None:
        if not batch:
            return
        dtes = [item for item in batch if isinstance(item, ReadDte)]
        stored: dict[int, Result] = {}
        if dtes:
            # The batch's DTEs in one go: a refused DTE writes nothing and the others still commit.
            with unit_of_work(self.factory) as session:
                incoming = [Incoming(item.checked, source=Origin.IMPORT) for item in dtes]
                outcomes = store_many(session, self.company_id, incoming, self.links)
                # One audit event per committed batch: the CLI's, or the web app user's who uploaded it.
                created = [(o.kind.value, o.id) for o in outcomes if isinstance(o, Stored) and o.changed]
                audit.record_import_batch(session, self.company_id, created, user_id=self.user_id)
            stored = {id(item): _result(item, outcome) for item, outcome in zip(dtes, outcomes, strict=True)}
            self.stored_since_analyze += len(dtes)
            if self.stored_since_analyze >= ANALYZE_EVERY:
                # A big import outgrows the planner's statistics long before autovacuum catches up,
                # and PostgreSQL then looks keys up on the wrong index (50 ms instead of 1 ms a batch).
                self.stored_since_analyze = 0
                refresh_statistics(self.factory, ("documents", "document_sources", "notes", "clients"))
        results = [stored[id(item)] if isinstance(item, ReadDte) else item for item in batch]
        # Only now, after the commit: a reported import is never lost, whenever the process dies.
        if self.report is not None:
            self.report.write("".join(json.dumps(r.as_json(), ensure_ascii=False) + "\n" for r in results))
            self.report.flush()
        for result in results:
            self.summary.count(result)
        if self.on_batch is not None:
            self.on_batch(results)


class ImportStopped(KeyboardInterrupt):
    """A stop asked for (SIGTERM), taken between chunks and batches: as Ctrl-C, what was reported is
    stored."""


def import_sources(
    factory: sessionmaker[Session],
    company_id: int,
    sources: Iterable[Source | Result],
    *,
    executor: Executor,
    max_bytes: int,
    links: Links,
    report: TextIO | None = None,
    summary: ImportSummary | None = None,
    on_read: Callable[[int], None] | None = None,
    on_batch: Callable[[list[Result]], None] | None = None,
    user_id: int | None = None,
    batch_size: int = BATCH_SIZE,
    max_in_flight: int = 8,
    chunk_files: int = CHUNK_FILES,
    chunk_bytes: int = CHUNK_BYTES,
    stop_requested: Callable[[], bool] | None = None,
) -> ImportSummary:
    """Read ``sources`` on ``executor`` and store their DTEs for the company, batch by batch.

    ``summary`` (updated in place, so a caller still has it when the import is interrupted) counts what
    was committed; ``report`` gets one JSON line per result once its batch committed; ``on_read`` is
    told how many files were read each time some were (for a progress bar); ``on_batch`` gets each
    batch's results once it committed (the web app stores them as its report); ``user_id``: the web
    app's user who uploaded the files, for the audit log (the CLI's otherwise); ``links`` make the
    links of the objects in their webhook events. ``stop_requested`` is asked at each safe point (between
    files, chunks and batches): when it says so, :class:`ImportStopped` is raised there, never inside a
    statement or the process pool's bookkeeping, and the batch not yet committed is left out.
    """
    summary = summary if summary is not None else ImportSummary()

    def check_stop() -> None:
        if stop_requested is not None and stop_requested():
            raise ImportStopped

    batches = _Batches(factory, company_id, report, summary, batch_size, links, user_id, on_batch)
    pending: dict[Future[list[ReadDte | Result]], int] = {}  # each task and its number of files

    def collect_one_round() -> None:
        check_stop()
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            files = pending.pop(future)
            batches.add(future.result())
            if on_read is not None:
                on_read(files)

    def submit(chunk: list[Source]) -> None:
        while len(pending) >= max_in_flight:  # bounded: the walk waits for the workers, never piles up
            collect_one_round()
        pending[executor.submit(read_chunk, chunk, max_bytes)] = len(chunk)

    try:
        chunk: list[Source] = []
        chunk_size = 0
        for item in sources:
            check_stop()
            if isinstance(item, Result):
                batches.add([item])
                if on_read is not None:
                    on_read(1)
                continue
            chunk.append(item)
            chunk_size += item.size
            if len(chunk) >= chunk_files or chunk_size >= chunk_bytes:
                submit(chunk)
                chunk, chunk_size = [], 0
        if chunk:
            submit(chunk)
        while pending:
            collect_one_round()
        check_stop()
        batches.flush()
    finally:
        for future in pending:
            future.cancel()
    return summary


def import_paths(
    factory: sessionmaker[Session],
    company_id: int,
    paths: Iterable[Path | str],
    *,
    executor: Executor,
    max_bytes: int,
    links: Links,
    report: TextIO | None = None,
    summary: ImportSummary | None = None,
    on_read: Callable[[int], None] | None = None,
    max_in_flight: int = 8,
    stop_requested: Callable[[], bool] | None = None,
) -> ImportSummary:
    """:func:`import_sources` over the files, folders and zip archives in ``paths``."""
    return import_sources(
        factory,
        company_id,
        walk_sources(paths),
        executor=executor,
        max_bytes=max_bytes,
        links=links,
        report=report,
        summary=summary,
        on_read=on_read,
        max_in_flight=max_in_flight,
        stop_requested=stop_requested,
    )


def count_sources(paths: Iterable[Path | str]) -> int:
    """How many files :func:`walk_sources` gives (a second walk, for a progress bar's total)."""
    return sum(1 for _ in walk_sources(paths))
