"""What ``dtehub import``'s worker processes run: read files and check their DTEs, no database.

This module imports the DTE pipeline (:mod:`dtehub.dte`) and nothing of the web app, its models or the
database: a spawned worker imports it to unpickle its task (:func:`read_chunk`), so it starts small and
quickly (tests/ingest/test_reading.py checks what it imports). The calling process walks the files
(:mod:`dtehub.ingest.importer`) and stores what comes back.
"""

from __future__ import annotations

import enum
import multiprocessing
import os
import signal
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for_sentinels
from typing import Any

from dtehub.dte.pipeline import CheckedDte, read_dte_file
from dtehub.errors import DteRefused, DteTooLarge


class Outcome(enum.StrEnum):
    IMPORTED = "imported"
    ALREADY_PRESENT = "already_present"
    ATTACHED = "attached"  # to the document or note the SII sync created from the Registro de Ventas
    REFUSED = "refused"
    SKIPPED = "skipped"  # not an .xml file inside a folder or an archive: never read


@dataclass(frozen=True, slots=True)
class Source:
    """One file to read: a file on disk, or an entry of a zip archive (``entry``)."""

    path: str  # as reported: the file's path, or ``archive.zip!entry.xml``
    file: str  # where the bytes are: the file itself, or the archive
    entry: str | None = None
    size: int = 0  # as listed (a zip entry's declared size); only used to cut chunks


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one DTE, or of a file that yielded none; one line of the report."""

    path: str
    outcome: Outcome
    code: str | None = None
    message: str | None = None
    dte_type: int | None = None
    folio: int | None = None
    note: bool = False  # imported as a credit or debit note rather than a document

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": self.dte_type,
            "folio": self.folio,
            "outcome": self.outcome.value,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class ReadDte:
    """A DTE that passed the pipeline in a worker, waiting to be stored."""

    path: str
    checked: CheckedDte


def skipped(path: str) -> Result:
    return Result(path, Outcome.SKIPPED, code="not_xml", message="not an .xml file; skipped")


def unreadable(path: str, exc: BaseException) -> Result:
    return Result(path, Outcome.REFUSED, code="file_unreadable", message=f"cannot be read: {exc}")


class _TooLarge(Exception):
    pass


def _read_bytes(source: Source, max_bytes: int, archives: dict[str, zipfile.ZipFile]) -> bytes:
    # Never read more than the limit plus one byte: a file's or a zip entry's listed size may lie.
    if source.entry is None:
        with open(source.file, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > max_bytes:
                raise _TooLarge
            data = handle.read(max_bytes + 1)
    else:
        archive = archives.get(source.file)
        if archive is None:
            archive = archives[source.file] = zipfile.ZipFile(source.file)
        info = archive.getinfo(source.entry)
        if info.file_size > max_bytes:
            raise _TooLarge
        with archive.open(info) as handle:
            data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _TooLarge
    return data


def _read_source(
    source: Source, max_bytes: int, archives: dict[str, zipfile.ZipFile]
) -> list[ReadDte | Result]:
    try:
        data = _read_bytes(source, max_bytes, archives)
    except _TooLarge:
        message = f"the XML is larger than {max_bytes} bytes (DTEHUB_MAX_XML_BYTES)"
        return [Result(source.path, Outcome.REFUSED, code=DteTooLarge.code, message=message)]
    except Exception as exc:  # missing, unreadable, encrypted or corrupt entry: that file only
        return [unreadable(source.path, exc)]
    try:
        outcomes = read_dte_file(data, max_bytes=max_bytes)
    except DteRefused as refused:
        return [Result(source.path, Outcome.REFUSED, code=refused.code, message=refused.message)]
    except Exception as exc:  # a reader bug on one odd file must not stop a million-file import
        code = getattr(exc, "code", None)
        return [
            Result(
                source.path,
                Outcome.REFUSED,
                code=code if isinstance(code, str) else "internal_error",
                message=f"{type(exc).__name__}: {exc}",
            )
        ]
    return [
        ReadDte(source.path, outcome)
        if isinstance(outcome, CheckedDte)
        else Result(source.path, Outcome.REFUSED, code=outcome.code, message=outcome.message)
        for outcome in outcomes
    ]


def read_chunk(sources: Sequence[Source], max_bytes: int) -> list[ReadDte | Result]:
    """Read and check a chunk of files (runs in a worker: no database here)."""
    archives: dict[str, zipfile.ZipFile] = {}
    try:
        return [item for source in sources for item in _read_source(source, max_bytes, archives)]
    finally:
        for archive in archives.values():
            archive.close()


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        wait_for_sentinels([parent.sentinel])
        os._exit(1)


def init_worker() -> None:
    # Ctrl-C reaches the whole process group: only the importer decides what to do with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker of a killed importer (SIGKILL) would wait for work forever: leave with the parent.
    threading.Thread(target=_exit_with_parent, name="exit-with-parent", daemon=True).start()
