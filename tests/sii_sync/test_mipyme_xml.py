"""The sync's MIPYME step end to end over real TLS: a company that issues in SII's MIPYME portal (the
emulator's generated company with its signed XML) gets the XML of every document the sync creates from
the register, in downloads of at most 20, on the run's one SII session; a second sync fetches nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.dte.pipeline import CheckedDte
from dtehub.models import Document, DocumentSource, Note, NoteSource, SiiSyncRun
from dtehub.sii.certificate import PersonCertificate, load_pfx
from dtehub.sii.config import SiiConfig
from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from dtehub.sii.emulator.generate import DEFAULT_COMPANY, DEFAULT_PERSON, generate
from dtehub.sii.rcv import RcvClient
from dtehub.sii.sessions import SessionPool
from dtehub.sii_sync.executor import RunContext, SyncExecutor
from dtehub.sii_sync.mipyme import MipymeXml
from dtehub.sii_sync.periods import Period
from dtehub.sii_sync.runs import Trigger
from dtehub.sii_sync.source import rcv_sources
from tests.conftest import LINKS
from tests.sii.rcv.conftest import PASSWORD
from tests.sii_sync.conftest import Committed, FakeClock, company_committed

NOW = datetime(2026, 9, 20, 12, 0)  # the emulator's clock, Santiago
SYNC_NOW = datetime(2026, 9, 20, 15, 0, tzinfo=UTC)
DOCUMENTS = 120
PERIODS = ("202608", "202609")
ELSEWHERE = "76192083-9"


@pytest.fixture(scope="module")
def mipyme_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("sii-mipyme")
    generate(data, DOCUMENTS, 2, xml="signed", now=NOW, seed=11)
    # A company of the same person that issues with its own software: nothing of it in MIPYME.
    generate(data, 40, 2, company=ELSEWHERE, company_name="OTRA SPA", xml="none", now=NOW, seed=12)
    return data


@pytest.fixture(scope="module")
def holder(mipyme_data: Path) -> PersonCertificate:
    ca = TestCertificateAuthority.load_or_create(mipyme_data / "ca")
    pfx = ca.issue_person_certificate(rut=DEFAULT_PERSON, name="Juana Pérez", password=PASSWORD.encode())
    return load_pfx(pfx, PASSWORD)


@pytest.fixture(scope="module")
def emulator(mipyme_data: Path, holder: PersonCertificate) -> Iterator[Emulator]:
    with Emulator(mipyme_data) as emulator:
        emulator.register.set_clock(lambda: NOW)
        yield emulator


@pytest.fixture
def config(emulator: Emulator) -> SiiConfig:
    url = emulator.base_url
    return SiiConfig(
        auth_url=url, portal_url=url, logout_url=url, rcv_url=url, ca_bundle=str(emulator.ca_bundle),
        timeout=10.0, requests_per_second=100.0,
    )  # fmt: skip


@pytest.fixture
def company(settings: Settings, emulator: Emulator) -> Iterator[Committed]:
    with company_committed(settings, DEFAULT_COMPANY) as committed:
        yield committed
    emulator.faults.reset()


def sync(committed: Committed, config: SiiConfig, certificate: PersonCertificate) -> SiiSyncRun:
    async def certificate_of(_: RunContext) -> PersonCertificate:
        return certificate

    async def run() -> SiiSyncRun:
        pool = SessionPool(config)
        try:
            clock = FakeClock(SYNC_NOW)
            sources = rcv_sources(committed.factory, pool, config, certificate_of, LINKS, clock)
            executor = SyncExecutor(committed.factory, sources, clock=clock)
            with unit_of_work(committed.factory) as session:
                queued = executor.request(
                    session, committed.company_id, since=Period(2026, 8), until=None, trigger=Trigger.CLI
                )
            return await executor.run(committed.company_id, queued.id)
        finally:
            await pool.aclose()

    return asyncio.run(run())


def without_xml(committed: Committed) -> tuple[int, int]:
    """(documents and notes, of them without their XML)."""
    with unit_of_work(committed.factory, writes=False) as session:
        total = 0
        missing = 0
        for table, source, key in ((Document, DocumentSource, DocumentSource.document_id),
                                   (Note, NoteSource, NoteSource.note_id)):  # fmt: skip
            total += session.scalar(select(func.count()).where(table.company_id == committed.company_id)) or 0
            missing += (
                session.scalar(
                    select(func.count())
                    .select_from(table)
                    .outerjoin(source, key == table.id)
                    .where(table.company_id == committed.company_id, key.is_(None))
                )
                or 0
            )
    return total, missing


def test_a_mipyme_company_gets_every_documents_signed_xml_and_a_second_sync_fetches_nothing(
    company: Committed, config: SiiConfig, holder: PersonCertificate, emulator: Emulator
) -> None:
    expected = sum(len(emulator.register.visible(DEFAULT_COMPANY, p, NOW)) for p in PERIODS)
    logins = emulator.logins
    before = emulator.portal_requests

    first = sync(company, config, holder)

    assert first.state == "done", (first.error_code, first.error_message)
    assert first.documents_created == expected
    assert first.xmls_fetched == expected
    assert without_xml(company) == (expected, 0)
    assert not [m for m in first.messages if "MIPYME" in m], first.messages
    asked = emulator.portal_requests - before
    assert 0 < asked["download.cgi"] <= expected // 10  # batches of up to 20 documents
    assert emulator.logins - logins == 1  # one SII session for the RCV and MIPYME together
    with unit_of_work(company.factory, writes=False) as session:
        checked = select(Document.xml_signature, Document.xml_ted)
        verdicts = set(session.execute(checked.where(Document.company_id == company.company_id)))
    assert verdicts == {("valid", "valid")}

    before = emulator.portal_requests
    second = sync(company, config, holder)

    assert second.state == "done"
    assert (second.documents_created, second.xmls_fetched) == (0, 0)
    asked = emulator.portal_requests - before
    assert asked["download.cgi"] == asked["lista_documentos.cgi"] == 0


def test_a_failure_of_mipyme_is_said_in_words_and_loses_no_document_and_the_next_sync_asks_again(
    company: Committed, config: SiiConfig, holder: PersonCertificate, emulator: Emulator
) -> None:
    expected = sum(len(emulator.register.visible(DEFAULT_COMPANY, p, NOW)) for p in PERIODS)
    emulator.faults.download_ignores_folio = True  # every download.cgi answers SII's 20-document error

    first = sync(company, config, holder)

    assert first.state == "done", first.error_message
    assert (first.documents_created, first.xmls_fetched) == (expected, 0)
    assert without_xml(company) == (expected, expected)
    [said] = [m for m in first.messages if "MIPYME" in m]
    assert said.startswith("2026-08: the signed XML of the documents created from SII's register could not")
    assert "the next sync asks again" in said

    emulator.faults.reset()
    second = sync(company, config, holder)

    assert (second.documents_created, second.xmls_fetched) == (0, expected)
    assert without_xml(company) == (expected, 0)


def test_a_company_that_does_not_issue_in_mipyme_is_asked_once_a_run(
    settings: Settings, config: SiiConfig, holder: PersonCertificate, emulator: Emulator
) -> None:
    with company_committed(settings, ELSEWHERE) as elsewhere:
        before = emulator.portal_requests
        run = sync(elsewhere, config, holder)
        asked = emulator.portal_requests - before
        documents, missing = without_xml(elsewhere)

    assert run.state == "done", run.error_message
    assert run.documents_created == documents == missing > 0
    assert run.xmls_fetched == 0
    assert not [m for m in run.messages if "MIPYME" in m]
    assert (asked["lista_documentos.cgi"], asked["download.cgi"]) == (1, 0)


def test_a_session_sii_ends_before_the_mipyme_step_is_opened_again_once(
    config: SiiConfig, holder: PersonCertificate, emulator: Emulator
) -> None:
    entries = emulator.register.visible(DEFAULT_COMPANY, "202609", NOW)
    wanted = {(entry.type_code, str(entry.folio)) for entry in entries}

    async def fetch() -> tuple[list[CheckedDte], int, list[str]]:
        pool = SessionPool(config)
        try:
            async with RcvClient(pool, holder, company_rut=DEFAULT_COMPANY, config=config) as rcv:
                emulator.expire_sessions()  # SII ends the run's session before MIPYME is asked
                step = MipymeXml(rcv, DEFAULT_COMPANY)
                found = await step.fetch(Period(2026, 9), wanted)
                return found, rcv.logins, step.messages
        finally:
            await pool.aclose()

    found, logins, messages = asyncio.run(fetch())

    assert messages == []
    assert {(dte.fields.code, str(dte.fields.folio)) for dte in found} == wanted
    assert logins == 2
