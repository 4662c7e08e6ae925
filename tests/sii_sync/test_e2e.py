"""The sync end to end over real TLS: dtehub's RCV client against the emulator's Registro de Ventas (a
generated company of 900 documents over three months, on a fixed clock), runs executed as the server's
executor does, documents stored in the real database."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.models import Document, Note, SiiSyncRun
from dtehub.sii.certificate import PersonCertificate, load_pfx
from dtehub.sii.config import SiiConfig
from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from dtehub.sii.sessions import SessionPool
from dtehub.sii_sync.executor import RunContext, SyncExecutor
from dtehub.sii_sync.periods import Period
from dtehub.sii_sync.runs import Trigger
from dtehub.sii_sync.source import rcv_sources
from tests.conftest import LINKS, served
from tests.sii.rcv.conftest import COMPANY, HOLDER, PASSWORD, People
from tests.sii_sync.conftest import Committed, FakeClock, company_committed, person_pfx
from tests.sii_sync.test_api import until_finished

NOW = datetime(2026, 9, 20, 15, 0, tzinfo=UTC)  # the emulator's clock: noon in Santiago


@pytest.fixture
def company(settings: Settings) -> Iterator[Committed]:
    with company_committed(settings, COMPANY) as committed:
        yield committed


def sync(
    committed: Committed,
    config: SiiConfig,
    certificate: PersonCertificate,
    now: datetime = NOW,
    since: Period | None = Period(2026, 7),
    trigger: str = Trigger.CLI,
) -> SiiSyncRun:
    clock = FakeClock(now)

    async def certificate_of(_: RunContext) -> PersonCertificate:
        return certificate

    async def run() -> SiiSyncRun:
        pool = SessionPool(config)
        try:
            executor = SyncExecutor(
                committed.factory,
                rcv_sources(committed.factory, pool, config, certificate_of, LINKS, clock),
                clock=clock,
            )
            with unit_of_work(committed.factory) as session:
                queued = executor.request(
                    session, committed.company_id, since=since, until=None, trigger=trigger
                )
            return await executor.run(committed.company_id, queued.id)
        finally:
            await pool.aclose()

    return asyncio.run(run())


def counts(committed: Committed) -> tuple[int, int]:
    with unit_of_work(committed.factory, writes=False) as session:
        documents = session.scalar(select(func.count()).where(Document.company_id == committed.company_id))
        notes = session.scalar(select(func.count()).where(Note.company_id == committed.company_id))
    return documents or 0, notes or 0


def test_a_first_sync_brings_every_document_and_a_second_nothing_new(
    company: Committed, config: SiiConfig, people: People, sii: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    expected = sum(
        len(sii.register.visible(COMPANY, p, sii.register.now())) for p in ("202607", "202608", "202609")
    )

    first = sync(company, config, people.holder)

    assert first.state == "done", (first.error_code, first.error_message)
    assert first.periods_done == ["2026-07", "2026-08", "2026-09"]
    documents, notes = counts(company)
    assert documents > 0
    assert notes > 0
    assert documents + notes == first.documents_created == expected
    assert any("SII's register holds monthly totals of boletas, not documents" in m for m in first.messages)

    before = sii.rcv_requests
    second = sync(company, config, people.holder)
    asked = sii.rcv_requests - before

    assert second.state == "done"
    assert second.documents_created == 0
    assert counts(company) == (documents, notes)
    # SII's register has not changed since: the second sync asks each period's summary, no detail.
    assert asked["getResumen"] == 3
    assert asked["getDetalleVenta"] == 0
    assert PASSWORD not in caplog.text


def test_a_period_sii_changed_is_read_again_and_only_it(
    company: Committed, config: SiiConfig, people: People, sii: Emulator
) -> None:
    first_asked = sii.rcv_requests
    sync(company, config, people.holder)
    first_asked = sii.rcv_requests - first_asked
    # Nine days on, September's pending invoices are tacitly accepted: SII changes that month's register.
    later = sii.register.now() + timedelta(days=9)
    sii.register.set_clock(lambda: later)

    before = sii.rcv_requests
    second = sync(company, config, people.holder, NOW + timedelta(days=9))
    asked = sii.rcv_requests - before

    assert second.state == "done"
    assert second.documents_created == 0
    assert asked["getResumen"] == 3
    assert 0 < asked["getDetalleVenta"] < first_asked["getDetalleVenta"]


def test_a_holder_who_cannot_represent_the_company_fails_the_run_saying_so(
    company: Committed, config: SiiConfig, people: People, sii: Emulator
) -> None:
    run = sync(company, config, people.stranger)

    assert run.state == "failed"
    assert run.error_code == "sii_not_representative"
    assert COMPANY in (run.error_message or "")
    assert counts(company) == (0, 0)


def test_a_session_sii_ends_mid_run_is_opened_again_and_nothing_is_lost(
    company: Committed, config: SiiConfig, people: People, sii: Emulator
) -> None:
    sii.faults.rcv_session_expires_after = 3

    run = sync(company, config, people.holder)

    assert run.state == "done", run.error_message
    assert sum(counts(company)) == run.documents_created > 0


def test_a_default_sync_of_12_months_says_a_certificate_that_ends_within_30_days(
    company: Committed, config: SiiConfig, sii: Emulator, rcv_data: Path
) -> None:
    now = utcnow()
    ca = TestCertificateAuthority.load_or_create(rcv_data / "ca")
    ending = now + timedelta(days=10, hours=1)
    pfx = ca.issue_person_certificate(
        rut=HOLDER, name="Juana Pérez", password=PASSWORD.encode(), valid_until=ending
    )

    # The company's default range: the 12 months that end with the current one. The emulator holds
    # July to September 2026; the other months answer "no documents", which is no error.
    run = sync(company, config, load_pfx(pfx, PASSWORD), now, since=None)

    assert run.state == "done", (run.error_code, run.error_message)
    current = Period.of(today_in_santiago(now))
    assert run.periods_done == [str(current.shifted(back)) for back in range(-11, 1)]
    expected = sum(
        len(sii.register.visible(COMPANY, p, sii.register.now()))
        for p in ("202607", "202608", "202609")
        if f"{p[:4]}-{p[4:]}" in run.periods_done
    )
    assert sum(counts(company)) == run.documents_created == expected
    assert (
        f"the SII certificate expires in 10 days ({ending:%Y-%m-%d}): upload a new one with "
        "updateCompanySiiCertificate so that SII syncs go on"
    ) in run.messages


def emulated(settings: Settings, sii: Emulator) -> Settings:
    """The test settings with SII at the emulator (its own CA), at a pace the tests need not wait for."""
    url = sii.base_url
    return settings.model_copy(
        update={
            "sii_auth_url": url, "sii_portal_url": url, "sii_logout_url": url, "sii_rcv_url": url,
            "sii_ca_bundle": str(sii.ca_bundle), "sii_requests_per_second": 100.0,
        }
    )  # fmt: skip


async def test_through_the_api_a_stored_certificate_and_a_sync_asked_for(
    settings: Settings, company: Committed, sii: Emulator, rcv_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {"Authorization": f"Bearer {company.token}"}
    pfx = person_pfx(rcv_data)
    expected = sum(
        len(sii.register.visible(COMPANY, p, sii.register.now())) for p in ("202607", "202608", "202609")
    )
    app = create_app(emulated(settings, sii))
    try:
        async with served(app) as http:
            stored = await http.post(
                "/v1/updateCompanySiiCertificate",
                json={
                    "certificate_pfx_base64": base64.b64encode(pfx).decode(),
                    "certificate_password": PASSWORD,
                },
                headers=headers,
            )
            assert stored.status_code == 200, stored.text

            asked = await http.post("/v1/syncSii", json={"since": "2026-07"}, headers=headers)
            assert asked.status_code == 200, asked.text
            run = await until_finished(http, headers, asked.json()["id"])

            assert run["state"] == "done", run
            assert run["documentsCreated"] == expected
            listed = await http.get("/v1/getDocuments", headers=headers)
            notes = await http.get("/v1/getNotes", headers=headers)
            total = listed.json()["records"]["totalRecords"] + notes.json()["records"]["totalRecords"]
            assert total == expected
    finally:
        app.state.engine.dispose()
    assert PASSWORD not in caplog.text
    assert base64.b64encode(pfx).decode()[:40] not in caplog.text
