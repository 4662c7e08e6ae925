"""The web imports' runner outside a request (its own units of work, committed for real): an import
queued behind another when the server stops ends as failed, saying so, and its files go; an import the
database refuses midway ends as failed with what it had reported, and its files go."""

from __future__ import annotations

import io
import tempfile
import threading
from datetime import date, datetime, timedelta
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


def test_a_queued_import_is_alive_while_its_runner_beats_for_it(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    """An import queued behind another for longer than STALE_AFTER is still queued while the runner that
    holds it beats (its process is alive); one that no runner holds (its process stopped) shows as
    interrupted, and an import that ended is never beaten back to life."""
    company_id, _ = committed_company
    engine = create_engine(settings.database_url, pool_size=1)
    factory = create_sessionmaker(engine)
    runner = ImportRunner(beat_every=3600)  # the test beats, at the times it chooses
    held = threading.Event()
    start = utcnow()
    try:
        with unit_of_work(factory) as session:
            waiting = service.start(session, company_id, None, [service.UploadedFile("a.xml", 4)], start).id
            orphan = service.start(session, company_id, None, [service.UploadedFile("b.xml", 4)], start).id
            ended = service.start(session, company_id, None, [], start).id
            service.finish(session, company_id, ended, 0, start)
        runner._pool.submit(held.wait, 30)  # the runner's one thread, busy with a long import
        runner.submit(factory, settings, Upload(waiting, company_id, None, [("a.xml", io.BytesIO(b"<a/>"))]))

        for minutes in (9, 18, 27):
            assert runner.beat(start + timedelta(minutes=minutes)) == 1
        later = start + timedelta(minutes=35)

        with unit_of_work(factory, writes=False) as session:
            assert service.state_of(service.require(session, company_id, waiting), later) == "queued"
            assert service.progress(service.require(session, company_id, waiting), later)["state"] == "queued"
            assert service.state_of(service.require(session, company_id, orphan), later) == "interrupted"
            assert service.require(session, company_id, orphan).heartbeat_at == start
            assert service.require(session, company_id, ended).heartbeat_at == start
            assert service.state_of(service.require(session, company_id, ended), later) == "done"
        # The same import, once its runner stopped beating (its process gone), shows as interrupted.
        with unit_of_work(factory, writes=False) as session:
            job = service.require(session, company_id, waiting)
            last = start + timedelta(minutes=27)
            assert service.state_of(job, last + service.STALE_AFTER) == "queued"
            assert service.state_of(job, last + service.STALE_AFTER + timedelta(seconds=1)) == "interrupted"

        held.set()
        assert runner.wait(timeout=60)
        with unit_of_work(factory, writes=False) as session:
            assert service.require(session, company_id, waiting).state == "done"  # its turn came
    finally:
        held.set()
        runner.stop()
        engine.dispose()


class _Observed(ImportRunner):
    """A runner that says when its thread has beaten."""

    def __init__(self) -> None:
        super().__init__(beat_every=0.02)
        self.beaten = threading.Event()

    def beat(self, now: datetime) -> int:
        held = super().beat(now)
        self.beaten.set()
        return held


def test_the_runner_beats_by_itself_while_it_holds_imports(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    """The runner's own thread beats for what it holds (here every 20 ms), and ends once it holds none."""
    company_id, _ = committed_company
    engine = create_engine(settings.database_url, pool_size=2)
    factory = create_sessionmaker(engine)
    runner = _Observed()
    held = threading.Event()
    long_ago = utcnow() - timedelta(hours=1)
    try:
        with unit_of_work(factory) as session:
            files = [service.UploadedFile("a.xml", 4)]
            import_id = service.start(session, company_id, None, files, long_ago).id
        runner._pool.submit(held.wait, 30)
        assert runner._beater is None  # nothing held yet: no thread
        runner.submit(
            factory, settings, Upload(import_id, company_id, None, [("a.xml", io.BytesIO(b"<a/>"))])
        )
        beater = runner._beater
        assert beater is not None

        assert runner.beaten.wait(timeout=30)

        with unit_of_work(factory, writes=False) as session:
            job = service.require(session, company_id, import_id)
            assert job.heartbeat_at is not None
            assert job.heartbeat_at > long_ago
            assert service.state_of(job, utcnow()) == "queued"
        held.set()
        assert runner.wait(timeout=60)
        beater.join(timeout=30)
        assert not beater.is_alive()  # nothing held: no thread left beating
    finally:
        held.set()
        runner.stop()
        engine.dispose()


def test_an_upload_a_stopped_runner_cannot_take_ends_as_failed(
    settings: Settings, committed_company: tuple[int, str]
) -> None:
    """The server stopping as a request committed its import: the import is not left queued for nobody,
    it ends as failed saying to upload the files again, and its files go."""
    company_id, _ = committed_company
    engine = create_engine(settings.database_url, pool_size=1)
    factory = create_sessionmaker(engine)
    runner = ImportRunner()
    runner.stop()
    try:
        with unit_of_work(factory) as session:
            import_id = service.start(
                session, company_id, None, [service.UploadedFile("a.xml", 4)], utcnow()
            ).id
        before = _folders()

        runner.submit(
            factory, settings, Upload(import_id, company_id, None, [("a.xml", io.BytesIO(b"<a/>"))])
        )

        assert _folders() - before == set()
        with unit_of_work(factory, writes=False) as session:
            job = service.require(session, company_id, import_id)
            assert job.state == "failed"
            assert job.error_message is not None
            assert "suba los archivos otra vez" in job.error_message
    finally:
        engine.dispose()
