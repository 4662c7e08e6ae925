"""dtehub serve's follow-up of pending cessions, on committed data: SII is asked in a reading unit of work and
its verdict written in one of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from dtehub.background import server_jobs
from dtehub.companies.service import create_company
from dtehub.companies.sii_certificate import store_certificate
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.dte.pipeline import read_dte_file
from dtehub.factoring.cedibility import SiiAccess
from dtehub.factoring.cession import create_cession, follow_pending
from dtehub.factoring.schemas import CessionCreate
from dtehub.factoring.units import JobUnits
from dtehub.ingest import service as ingest
from dtehub.models import Client, Company, Document, DocumentCession
from dtehub.portal.links import Links
from dtehub.sii.emulator import Emulator
from dtehub.sii.ws.auth import TokenCache
from tests.dte_factory import build_dte
from tests.factoring.conftest import BUYER, PASSWORD, SELLER, next_folio

LINKS = Links("http://testserver")


@pytest.fixture
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(settings.database_url, pool_size=2)
    yield create_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def seller_company(factory: sessionmaker[Session], settings: Settings, seller_pfx: bytes) -> Iterator[int]:
    """The seller, committed, with its certificate."""
    with unit_of_work(factory) as session:
        company_id = create_company(
            session, rut=SELLER, name="VENDEDORA SPA", payment_term_days=30
        ).company.id
        store_certificate(session, company_id, seller_pfx, PASSWORD, settings)
    try:
        yield company_id
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(Document).where(Document.company_id == company_id))
            session.execute(delete(Client).where(Client.company_id == company_id))
            session.execute(delete(Company).where(Company.id == company_id))


def test_the_job_follows_a_pending_cession_to_sii_s_verdict(
    factory: sessionmaker[Session], settings: Settings, sii: Emulator, seller_company: int
) -> None:
    pointed = settings.model_copy(
        update={
            "sii_ws_url": sii.base_url,
            "sii_reclamo_url": sii.base_url,
            "sii_ca_bundle": str(sii.ca_bundle),
        }
    )
    access = SiiAccess(pointed, tokens=TokenCache())
    folio = next_folio()
    issued = sii.acceptances.now().date() - timedelta(days=10)
    [checked] = read_dte_file(
        build_dte(33, folio, SELLER, BUYER, 1_190_000, issue_date=issued, signed=True), max_bytes=1 << 20
    )
    assert not isinstance(checked, Exception)
    sii.acceptances.receive(SELLER, 33, folio, BUYER, at=sii.acceptances.now() - timedelta(days=9))
    sii.rtc.processing_queries = 1
    with unit_of_work(factory) as session:
        document_id = ingest.store(session, seller_company, checked, LINKS).id
    body = {
        "documentId": document_id,
        "assignee": {
            "rut": "77665544-9",
            "name": "FACTORING",
            "address": "Av. Apoquindo 4000",
            "email": "a@b.cl",
        },
        "assignor": {"email": "cobranza@vendedora.cl"},
    }
    cession_id = create_cession(
        JobUnits(factory),
        seller_company,
        CessionCreate.model_validate(body),
        access,
        LINKS,
        lambda _, row: row.id,
    )

    first = follow_pending(factory, access, LINKS)
    second = follow_pending(factory, access, LINKS)

    assert (first.asked, first.accepted, first.failed) == (1, 0, 0)
    assert (second.asked, second.accepted, second.failed) == (1, 1, 0)
    with unit_of_work(factory, writes=False) as session:
        row = session.get(DocumentCession, cession_id)
        assert row is not None
        assert (row.sii_state, row.sii_code) == ("accepted", "EOK")
    assert follow_pending(factory, access, LINKS).asked == 0


def test_serve_runs_the_follow_up_unless_it_is_turned_off(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        factory = create_sessionmaker(engine)
        names = [job.name for job in server_jobs(settings, factory)]
        assert "cessions-follow" in names
        off = settings.model_copy(update={"cession_follow_interval": 0})
        assert "cessions-follow" not in [job.name for job in server_jobs(off, factory)]
    finally:
        engine.dispose()
