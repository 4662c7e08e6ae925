"""The web app's imports, run in the background of the server that took the upload: one at a time per
process, in a thread of their own, through the engine of ``dtehub import``
(:func:`dtehub.ingest.importer.import_sources`: the same pipeline, checks, batches and idempotence).

The uploaded files wait in a temporary folder (one sub-folder per file, so two files of the same name
stay apart) that goes once the import ends, whatever happened. Every file that cannot be read or
checked is a refused line of the report and the rest go on; an unexpected failure of the whole import
(the database gone) ends it as failed with what it had stored and reported so far.

Reading runs in a thread, not in worker processes as ``dtehub import`` does: an upload is bounded by
``DTEHUB_MAX_BODY_BYTES``, and a server's spare processes are not the import's to take.

What tells a page that an import's process is alive is the runner itself: while it holds imports
(queued behind another, or running), a thread of its own beats for every one of them every
:data:`BEAT_EVERY` seconds (:meth:`ImportRunner.beat`). An import queued for an hour behind a long one
is therefore still "En cola"; one whose process stopped (killed, the machine gone) stops being beaten
for and shows as interrupted once :data:`dtehub.imports.service.STALE_AFTER` has passed. A server that
stops in good order ends its queued imports as failed at once (:meth:`ImportRunner.stop`).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.imports import service
from dtehub.ingest import importer
from dtehub.kit.dates import utcnow
from dtehub.portal.links import Links

log = logging.getLogger("dtehub")

_NOT_STARTED = "El servidor se detuvo antes de empezar esta importación: suba los archivos otra vez."
PROGRESS_EVERY = 0.5
"""Seconds between two writes of how many files were read (the counters move with each batch)."""
BEAT_EVERY = 60.0
"""Seconds between two beats of a runner for the imports it holds: well under
:data:`dtehub.imports.service.STALE_AFTER`, so that a live runner's imports never look interrupted."""


@dataclass(frozen=True)
class Upload:
    """An import to run: its row, the company, the person who uploaded the files, and the files."""

    import_id: int
    company_id: int
    user_id: int | None
    files: Sequence[tuple[str, BinaryIO]]


def safe_name(name: str) -> str:
    """A file name to keep on disk: its last part, letters, digits, ``.-_`` only, at most 120."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^\w.\-]", "_", base, flags=re.ASCII).lstrip(".")[:120]
    return cleaned or "archivo"


class ImportRunner:
    """The process's queue of web imports (``app.state.imports``)."""

    def __init__(self, beat_every: float = BEAT_EVERY) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dtehub-import")
        self._futures: dict[Future[None], tuple[sessionmaker[Session], Upload, Path]] = {}
        # Reentrant: a future that has already ended runs its done-callback (which takes the lock) at
        # once, in the thread that adds it, which holds the lock then.
        self._lock = threading.RLock()
        self._beat_every = beat_every
        self._beater: threading.Thread | None = None
        self._stopped = threading.Event()

    def submit(self, factory: sessionmaker[Session], settings: Settings, upload: Upload) -> None:
        """Copy the uploaded files to a folder of their own, then queue the import. Called once the
        import's row is committed (the answer's ``AfterCommit``): the request's unit of work, which
        may run again, has no effect outside the database."""
        folder = Path(tempfile.mkdtemp(prefix="dtehub-import-"))
        try:
            paths = []
            for index, (name, content) in enumerate(upload.files):
                place = folder / str(index)
                place.mkdir()
                path = place / safe_name(name)
                content.seek(0)
                with path.open("wb") as out:
                    shutil.copyfileobj(content, out)
                paths.append(path)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            log.warning("import %s: the uploaded files could not be kept: %s", upload.import_id, exc)
            with unit_of_work(factory) as session:
                message = "No se pudieron guardar los archivos subidos en el servidor (¿disco lleno?)."
                service.fail(session, upload.company_id, upload.import_id, message, utcnow())
            return
        with self._lock:
            try:
                future = self._pool.submit(_run, factory, settings, upload, folder, paths)
            except RuntimeError:  # the server is stopping: it takes no more imports
                taken = False
            else:
                taken = True
                self._futures[future] = (factory, upload, folder)
                future.add_done_callback(self._forget)
                self._keep_beating()
        if not taken:
            shutil.rmtree(folder, ignore_errors=True)
            _record_not_started(factory, upload)

    def _keep_beating(self) -> None:
        """Start the thread that beats for the imports held, unless it runs (called under the lock)."""
        if self._beater is None and not self._stopped.is_set():
            self._beater = threading.Thread(target=self._beating, name="dtehub-import-beat", daemon=True)
            self._beater.start()

    def _beating(self) -> None:
        """Beat every :data:`BEAT_EVERY` seconds while the runner holds imports; the thread ends when it
        holds none (the next :meth:`submit` starts another) or when the runner stops."""
        while not self._stopped.wait(self._beat_every):
            try:
                self.beat(utcnow())
            except Exception:  # the database away for a moment: the next beat may pass
                log.exception("the web imports' heartbeat could not be recorded")
            with self._lock:
                if not self._futures:
                    self._beater = None
                    return

    def beat(self, now: datetime) -> int:
        """Record that this process is alive for every import it holds, queued or running (each
        company's in a unit of work of its own). How many imports it holds."""
        with self._lock:
            held = list(self._futures.values())
        ids: defaultdict[tuple[sessionmaker[Session], int], list[int]] = defaultdict(list)
        for factory, upload, _ in held:
            ids[(factory, upload.company_id)].append(upload.import_id)
        for (factory, company_id), import_ids in ids.items():
            with unit_of_work(factory) as session:
                service.beat(session, company_id, import_ids, now)
        return len(held)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.pop(future, None)

    def wait(self, timeout: float = 60) -> bool:
        """Until every import submitted so far has ended (tests, and a server stopping)."""
        with self._lock:
            pending = list(self._futures)
        deadline = time.monotonic() + timeout
        for future in pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                future.result(timeout=remaining)
            except TimeoutError:
                return False
        return True

    def stop(self) -> None:
        """Take no more imports; those still queued end as failed, saying so (:meth:`cancel_queued`),
        and the one running is waited for (an upload: seconds)."""
        self._pool.shutdown(wait=False)
        self.cancel_queued()
        self._pool.shutdown(wait=True)
        self._stopped.set()
        with self._lock:
            beater, self._beater = self._beater, None
        if beater is not None:
            beater.join(timeout=30)

    def cancel_queued(self) -> int:
        """Cancel the imports not started yet: each ends as failed, saying to upload the files again,
        and its files go. How many were cancelled."""
        with self._lock:
            pending = dict(self._futures)
        cancelled = 0
        for future, (factory, upload, folder) in pending.items():
            if not future.cancel():  # running or ended: it cleans up after itself
                continue
            cancelled += 1
            shutil.rmtree(folder, ignore_errors=True)
            _record_not_started(factory, upload)
        return cancelled


def _record_not_started(factory: sessionmaker[Session], upload: Upload) -> None:
    """An import the server stopped before starting ends as failed, saying to upload the files again
    (were it not recorded, the page shows it interrupted once no runner beats for it)."""
    try:
        with unit_of_work(factory) as session:
            service.fail(session, upload.company_id, upload.import_id, _NOT_STARTED, utcnow())
    except Exception:
        log.exception("import %s: its cancellation could not be recorded", upload.import_id)


def _shown(folder: Path, path: str) -> str:
    """The report's path as the person uploaded it: ``facturas.zip!F33-12.xml``, not the temporary
    folder's."""
    prefix = str(folder) + os.sep
    if path.startswith(prefix):
        rest = path[len(prefix) :]
        return rest.split(os.sep, 1)[1] if os.sep in rest else rest
    return path


def _run(
    factory: sessionmaker[Session], settings: Settings, upload: Upload, folder: Path, paths: list[Path]
) -> None:
    company_id, import_id = upload.company_id, upload.import_id
    read = 0
    last_write = 0.0
    try:
        total = importer.count_sources(paths)
        with unit_of_work(factory) as session:
            service.begin(session, company_id, import_id, total, utcnow())

        def on_read(files: int) -> None:
            nonlocal read, last_write
            read += files
            if time.monotonic() - last_write >= PROGRESS_EVERY:
                last_write = time.monotonic()
                with unit_of_work(factory) as session:
                    service.read_so_far(session, company_id, import_id, read, utcnow())

        def on_batch(results: list[importer.Result]) -> None:
            lines = [
                service.Line(
                    _shown(folder, r.path), r.outcome.value, r.note, r.code, r.message, r.dte_type, r.folio
                )
                for r in results
            ]
            with unit_of_work(factory) as session:
                service.record_batch(session, company_id, import_id, lines, read, utcnow())

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dtehub-import-read") as reader:
            importer.import_sources(
                factory,
                company_id,
                importer.walk_sources(paths),
                executor=reader,
                max_bytes=settings.max_xml_bytes,
                links=Links(settings.public_base),
                on_read=on_read,
                on_batch=on_batch,
                user_id=upload.user_id,
                max_in_flight=2,
            )
        with unit_of_work(factory) as session:
            service.finish(session, company_id, import_id, read, utcnow())
    except Exception as exc:
        log.exception("import %s of company %s failed", import_id, company_id)
        message = (
            f"La importación se detuvo por un error inesperado ({type(exc).__name__}). Lo informado "
            "abajo quedó guardado; suba los mismos archivos otra vez para importar el resto."
        )
        try:
            with unit_of_work(factory) as session:
                service.fail(session, company_id, import_id, message, utcnow())
        except Exception:
            log.exception("import %s: its failure could not be recorded", import_id)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
