"""The web imports' runner outside a request (its own units of work, committed for real): an import
queued behind another when the server stops ends as failed, saying so, and its files go; an import the
database refuses midway ends as failed with what it had reported, and its files go."""

from __future__ import annotations

import io
import tempfile
import threading
from datetime import date
from pathlib import Path

from sqlalchemy import text

from dtehub import migrate
from dtehub.companies.service import create_company
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, is_sqlite, unit_of_work
from dtehub.db import database_url as parse_url
from dtehub.dte.factory import build_dte
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


def test_an_import_the_database_refuses_ends_as_failed(settings: Settings, scratch_url: str) -> None:
    """The documents' table gone (a real database error, on a database of the test's own): the import
    ends as failed, saying what to do; the batch that failed is not in its report (nothing of it was
    stored), and its files go."""
    migrate.upgrade(scratch_url)
    engine = create_engine(scratch_url, pool_size=1)
    factory = create_sessionmaker(engine)
    runner = ImportRunner()
    try:
        with unit_of_work(factory) as session:
            company_id = create_company(
                session, rut="76399752-9", name="EMISORA", payment_term_days=30
            ).company.id
            import_id = service.start(session, company_id, None, [], utcnow()).id
        with engine.begin() as connection:
            cascade = "" if is_sqlite(parse_url(scratch_url)) else " CASCADE"
            connection.execute(text(f"DROP TABLE documents{cascade}"))
        invoice = build_dte(33, 7, "76399752-9", "99999999-9", 11900, issue_date=date(2024, 3, 1))
        files = [("roto.xml", io.BytesIO(b"<DTE>")), ("F33-7.xml", io.BytesIO(invoice))]
        before = _folders()

        runner.submit(factory, settings, Upload(import_id, company_id, None, files))
        assert runner.wait(timeout=60)

        assert _folders() - before == set()
        with unit_of_work(factory, writes=False) as session:
            failed = service.require(session, company_id, import_id)
            assert failed.state == "failed"
            assert failed.error_message is not None
            assert "suba los mismos archivos otra vez" in failed.error_message
            assert failed.documents == 0
            report = service.report(session, company_id, import_id)
            assert (report.created.total, report.refused.total) == (0, 0)
    finally:
        runner.stop()
        engine.dispose()
