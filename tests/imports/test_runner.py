"""The web imports' runner outside a request (its own units of work, committed for real): an import
queued behind another when the server stops ends as failed, saying so, and its files go."""

from __future__ import annotations

import io
import tempfile
import threading
from pathlib import Path

from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.imports import service
from dtehub.imports.runner import ImportRunner, Upload, safe_name
from dtehub.kit.dates import utcnow


def _folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("dtehub-import-*"))


def test_a_queued_import_is_cancelled_with_its_files(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    company_id, _ = committed_company
    engine = create_engine(settings.database_url, pool_size=1)
    factory = create_sessionmaker(engine)
    runner = ImportRunner()
    held = threading.Event()
    try:
        with unit_of_work(factory) as session:
            job = service.start(session, company_id, None, [service.UploadedFile("a.xml", 5)], utcnow())
            import_id = job.id
        runner._pool.submit(held.wait, 30)  # the runner's one thread, busy with another import
        before = _folders()
        runner.submit(
            factory, settings, Upload(import_id, company_id, None, [("a.xml", io.BytesIO(b"<a/>"))])
        )
        assert len(_folders() - before) == 1  # its files, waiting

        assert runner.cancel_queued() == 1

        assert _folders() - before == set()
        with unit_of_work(factory, writes=False) as session:
            cancelled = service.require(session, company_id, import_id)
            assert cancelled.state == "failed"
            assert cancelled.error_message is not None
            assert "suba los archivos otra vez" in cancelled.error_message
    finally:
        held.set()
        runner.stop()
        engine.dispose()


def test_file_names_are_kept_on_disk_safely() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\\\facturas\\\\F33 N°12.xml") == "F33_N_12.xml"
    assert safe_name("..") == "archivo"
    assert safe_name("a" * 300) == "a" * 120
