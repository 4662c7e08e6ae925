"""createCesion and getDocumentCedibility on committed data, through the real unit of work: no transaction
is open while SII answers, one upload per document however many requests arrive at once, nothing left
claimed when SII cannot be reached, and a request that stopped between its steps is settled from SII's
RTC."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from dtehub.app import create_app
from dtehub.companies.service import create_company
from dtehub.companies.sii_certificate import store_certificate
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.dte.pipeline import read_dte_file
from dtehub.errors import DocumentAlreadyCeded
from dtehub.factoring import repository
from dtehub.factoring.cedibility import SiiAccess
from dtehub.factoring.cession import CLAIM_STALE, create_cession, follow_pending
from dtehub.factoring.schemas import CessionCreate
from dtehub.factoring.units import JobUnits
from dtehub.ingest import service as ingest
from dtehub.kit.dates import utcnow
from dtehub.models import Client, Company, Document, DocumentCession
from dtehub.portal.links import Links
from dtehub.sii.emulator import Emulator
from dtehub.sii.errors import SiiTimeout
from dtehub.sii.ws.auth import TokenCache
from tests.conftest import served
from tests.dte_factory import build_dte
from tests.factoring.conftest import BUYER, PASSWORD, SELLER, next_folio

LINKS = Links("http://testserver")
ASSIGNEE = {
    "rut": "77665544-9",
    "name": "FACTORING CAPITAL SPA",
    "address": "Av. Apoquindo 4000, Las Condes",
    "email": "ops@factoring.cl",
}


@dataclass
class Seller:
    company_id: int
    token: str
    factory: sessionmaker[Session]
    settings: Settings

    def document(self, sii: Emulator) -> int:
        """A new invoice, committed, that SII received nine days ago: cedible."""
        folio = next_folio()
        issued = sii.acceptances.now().date() - timedelta(days=10)
        xml = build_dte(33, folio, SELLER, BUYER, 1_190_000, issue_date=issued, signed=True)
        [checked] = read_dte_file(xml, max_bytes=1 << 20)
        assert not isinstance(checked, Exception)
        sii.acceptances.receive(SELLER, 33, folio, BUYER, at=sii.acceptances.now() - timedelta(days=9))
        with unit_of_work(self.factory) as session:
            return ingest.store(session, self.company_id, checked, LINKS).id

    def cessions(self, document_id: int) -> list[tuple[str, int]]:
        with unit_of_work(self.factory, writes=False) as session:
            rows = session.scalars(select(DocumentCession).where(DocumentCession.document_id == document_id))
            return [(row.sii_state, row.track_id) for row in rows]


@pytest.fixture
def seller(settings: Settings, sii: Emulator, seller_pfx: bytes) -> Iterator[Seller]:
    """The seller, committed, with its certificate and a token; dtehub pointed at the emulator."""
    pointed = settings.model_copy(
        update={
            "sii_ws_url": sii.base_url,
            "sii_reclamo_url": sii.base_url,
            "sii_ca_bundle": str(sii.ca_bundle),
            "sii_ws_timeout": 10.0,
            "db_busy_timeout": 3.0,
            "run_background_jobs": False,
        }
    )
    engine = create_engine(settings.database_url, pool_size=2)
    factory = create_sessionmaker(engine)
    with unit_of_work(factory) as session:
        created = create_company(session, rut=SELLER, name="VENDEDORA SPA", payment_term_days=30)
        company_id, token = created.company.id, created.token
        store_certificate(session, company_id, seller_pfx, PASSWORD, settings)
    try:
        yield Seller(company_id, token, factory, pointed)
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(Document).where(Document.company_id == company_id))
            session.execute(delete(Client).where(Client.company_id == company_id))
            session.execute(delete(Company).where(Company.id == company_id))
        engine.dispose()


@pytest.fixture
async def http(seller: Seller) -> AsyncIterator[httpx.AsyncClient]:
    async with served(create_app(seller.settings)) as client:
        client.headers["Authorization"] = f"Bearer {seller.token}"
        yield client


def body(document_id: int) -> dict[str, Any]:
    return {"documentId": document_id, "assignee": ASSIGNEE, "assignor": {"email": "cobranza@vendedora.cl"}}


async def in_flight(sii: Emulator) -> None:
    """Until an upload waits at the emulator's gate."""
    arrived = await asyncio.to_thread(sii.rtc.upload_arrived.wait, 30)
    assert arrived, "no upload reached the RTC"


async def test_other_writers_go_on_while_the_rtc_takes_its_time(
    seller: Seller, http: httpx.AsyncClient, sii: Emulator
) -> None:
    document_id = seller.document(sii)
    sii.rtc.upload_gate = threading.Event()
    cession = asyncio.create_task(http.post("/v1/createCesion", json=body(document_id)))
    await in_flight(sii)

    # Another request writes while the upload waits at SII: it takes the write lock and commits.
    tag = await http.post("/v1/createTag", json={"name": "while SII uploads"})
    assert tag.status_code in (200, 201), tag.text
    assert not cession.done()
    assert seller.cessions(document_id) == [("uploading", 0)]  # the claim, committed and visible
    shown = (await http.get("/v1/getDocument", params={"id": document_id})).json()
    assert shown["cession"] is None  # a claim is not a cession yet
    check = (await http.get("/v1/getDocumentCedibility", params={"id": document_id})).json()
    assert check["checks"]["rtcCession"]["status"] == "pending"
    assert "is being uploaded to SII's RTC" in check["checks"]["rtcCession"]["message"]

    sii.rtc.upload_gate.set()
    response = await cession
    assert response.status_code == 200, response.text
    track_id = int(response.json()["cession"]["trackId"])
    assert seller.cessions(document_id) == [("pending", track_id)]


async def test_two_requests_at_once_upload_one_file_and_the_second_is_told_why(
    seller: Seller, http: httpx.AsyncClient, sii: Emulator
) -> None:
    document_id = seller.document(sii)
    uploads = sii.rtc.uploads
    sii.rtc.upload_gate = threading.Event()
    first = asyncio.create_task(http.post("/v1/createCesion", json=body(document_id)))
    await in_flight(sii)

    second = await http.post("/v1/createCesion", json=body(document_id))

    assert second.status_code == 409, second.text
    error = second.json()["error"]
    assert error["code"] == "document_already_ceded"
    assert "being ceded to FACTORING CAPITAL SPA (77665544-9) by another request" in error["message"]
    sii.rtc.upload_gate.set()
    assert (await first).status_code == 200
    assert sii.rtc.uploads == uploads + 1
    assert [state for state, _ in seller.cessions(document_id)] == ["pending"]


async def test_sii_unreachable_during_the_upload_is_a_503_and_leaves_nothing_claimed(
    seller: Seller, http: httpx.AsyncClient, sii: Emulator
) -> None:
    document_id = seller.document(sii)
    sii.rtc.upload_drops = 1

    response = await http.post("/v1/createCesion", json=body(document_id))

    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "sii_unavailable"
    assert "retry later" in error["message"]
    assert seller.cessions(document_id) == []
    retry = await http.post("/v1/createCesion", json=body(document_id))  # the person retries: it goes
    assert retry.status_code == 200, retry.text


def access(seller: Seller) -> SiiAccess:
    return SiiAccess(seller.settings, tokens=TokenCache())


def stopped_after_the_upload(seller: Seller, document_id: int, now: datetime) -> None:
    """createCesion until its upload, its process then killed: the record's unit of work never commits."""

    def killed(session: Session, row: DocumentCession) -> None:
        raise KeyboardInterrupt  # stands for the process's end, between the upload and its record

    with pytest.raises(KeyboardInterrupt):
        create_cession(
            JobUnits(seller.factory),
            seller.company_id,
            CessionCreate.model_validate(body(document_id)),
            access(seller),
            LINKS,
            killed,
            now=now,
        )


async def test_a_request_killed_after_its_upload_is_settled_from_the_rtc_by_the_follow_up(
    seller: Seller, http: httpx.AsyncClient, sii: Emulator
) -> None:
    document_id = seller.document(sii)
    uploads = sii.rtc.uploads
    killed_at = utcnow()
    stopped_after_the_upload(seller, document_id, killed_at)
    assert sii.rtc.uploads == uploads + 1
    assert seller.cessions(document_id) == [("uploading", 0)]
    blocked = await http.post("/v1/createCesion", json=body(document_id))
    assert blocked.status_code == 409  # not stale yet: its request may still be running

    early = follow_pending(seller.factory, access(seller), LINKS, now=killed_at + CLAIM_STALE / 2)
    assert (early.adopted, early.released) == (0, 0)
    later = follow_pending(seller.factory, access(seller), LINKS, now=killed_at + CLAIM_STALE * 1.1)

    assert (later.adopted, later.released) == (1, 0)
    assert sii.rtc.uploads == uploads + 1  # SII's RTC was asked, nothing was uploaded again
    shown = (await http.get("/v1/getDocument", params={"id": document_id})).json()
    assert shown["isCeded"] is True
    assert shown["cession"]["siiState"] == "accepted"
    assert "stopped before it recorded" in shown["cession"]["siiMessage"]
    with unit_of_work(seller.factory, writes=False) as session:
        row = session.scalars(select(DocumentCession).where(DocumentCession.document_id == document_id)).one()
        assert row.aec.startswith(b"<?xml")  # the file as uploaded was kept before it left


async def test_a_claim_whose_request_died_before_the_upload_is_released_by_the_next_request(
    seller: Seller, sii: Emulator
) -> None:
    document_id = seller.document(sii)
    claimed_at = utcnow() - CLAIM_STALE * 1.1
    # The claim of a request that stopped before its upload reached SII: SII's RTC has no cession of it.
    with unit_of_work(seller.factory) as session:
        session.add(
            DocumentCession(
                company_id=seller.company_id, document_id=document_id, seq=1, assignee_rut=ASSIGNEE["rut"],
                assignee_name=ASSIGNEE["name"], assignee_address=ASSIGNEE["address"],
                assignee_email=ASSIGNEE["email"], amount_cents=119_000_000,
                last_due_date=claimed_at.date(), declaration="", ceded_at=claimed_at, signed_by="1-9",
                aec=b"", track_id=0, sii_state="uploading", sii_code="", sii_message="",
                created_at=claimed_at,
            )
        )  # fmt: skip
    uploads = sii.rtc.uploads

    made = create_cession(
        JobUnits(seller.factory),
        seller.company_id,
        CessionCreate.model_validate(body(document_id)),
        access(seller),
        LINKS,
        lambda _, row: (row.sii_state, row.track_id),
    )

    assert made[0] == "pending"
    assert sii.rtc.uploads == uploads + 1
    assert seller.cessions(document_id) == [made]  # the stale claim released, this request's cession stands


def test_the_database_lets_one_claim_per_document_stand(seller: Seller, sii: Emulator) -> None:
    """Two requests that both found the document free (PostgreSQL: at the same moment): the second claim's
    insert is refused by the unique index, and the claim reports it without spoiling the unit of work."""
    document_id = seller.document(sii)
    now = utcnow()

    def claim(session: Session, state: str = "uploading") -> bool:
        row = DocumentCession(
            company_id=seller.company_id, document_id=document_id, seq=1, assignee_rut=ASSIGNEE["rut"],
            assignee_name=ASSIGNEE["name"], assignee_address=ASSIGNEE["address"],
            assignee_email=ASSIGNEE["email"], amount_cents=100, last_due_date=now.date(), declaration="",
            ceded_at=now, signed_by="1-9", aec=b"", track_id=0, sii_state=state, sii_code="", sii_message="",
        )  # fmt: skip
        return repository.claim(session, row)

    with unit_of_work(seller.factory) as session:
        assert claim(session)
    with unit_of_work(seller.factory) as session:
        assert not claim(session)
        assert not claim(session, "pending")
        assert claim(session, "rejected")  # a rejected cession does not stand
    assert sorted(seller.cessions(document_id)) == [("rejected", 0), ("uploading", 0)]


async def test_an_upload_sii_does_not_answer_in_time_stays_claimed_until_the_rtc_is_asked(
    seller: Seller, http: httpx.AsyncClient, sii: Emulator
) -> None:
    document_id = seller.document(sii)
    with unit_of_work(seller.factory, writes=False) as session:
        found = session.get(Document, document_id)
        assert found is not None
        key = (SELLER, 33, int(found.number))
    impatient = SiiAccess(seller.settings.model_copy(update={"sii_ws_timeout": 1.0}), tokens=TokenCache())
    sii.rtc.upload_gate = threading.Event()  # SII takes the file and says nothing in time

    with pytest.raises(SiiTimeout) as timed_out:
        create_cession(
            JobUnits(seller.factory),
            seller.company_id,
            CessionCreate.model_validate(body(document_id)),
            impatient,
            LINKS,
            lambda _, row: row.id,
        )

    assert "SII may have taken the file" in timed_out.value.message
    assert seller.cessions(document_id) == [("uploading", 0)]
    again = await http.post("/v1/createCesion", json=body(document_id))
    assert again.status_code == 409, again.text  # no second file while SII may hold the first
    sii.rtc.upload_gate.set()  # SII registers the file it took
    deadline = asyncio.get_running_loop().time() + 30
    while not sii.rtc.cessions(key):
        assert asyncio.get_running_loop().time() < deadline, "the emulator never registered the file"
        await asyncio.sleep(0.01)

    settled = follow_pending(seller.factory, access(seller), LINKS, now=utcnow() + CLAIM_STALE * 1.1)

    assert settled.adopted == 1
    assert [state for state, _ in seller.cessions(document_id)] == ["accepted"]


def test_the_next_request_settles_a_stale_claim_sii_registered_and_is_told_it_is_ceded(
    seller: Seller, sii: Emulator
) -> None:
    document_id = seller.document(sii)
    stopped_after_the_upload(seller, document_id, utcnow() - CLAIM_STALE * 1.1)
    uploads = sii.rtc.uploads

    with pytest.raises(DocumentAlreadyCeded) as refused:
        create_cession(
            JobUnits(seller.factory),
            seller.company_id,
            CessionCreate.model_validate(body(document_id)),
            access(seller),
            LINKS,
            lambda _, row: row.id,
        )

    assert "SII registered it" in refused.value.message
    assert sii.rtc.uploads == uploads  # nothing uploaded again
    assert [state for state, _ in seller.cessions(document_id)] == ["accepted"]


async def test_the_cedibility_check_holds_no_connection_while_sii_answers(
    seller: Seller, sii: Emulator
) -> None:
    document_id = seller.document(sii)
    app = create_app(seller.settings)
    sii.ws.faults.reclamo_gate = threading.Event()  # SII's acceptance/claim service takes its time
    async with served(app) as http:
        http.headers["Authorization"] = f"Bearer {seller.token}"
        check = asyncio.create_task(http.get("/v1/getDocumentCedibility", params={"id": document_id}))
        arrived = await asyncio.to_thread(sii.ws.faults.reclamo_arrived.wait, 30)
        assert arrived, "SII's acceptance/claim service was not asked"

        # While SII answers, the request holds no database connection (so no transaction), and another
        # request writes and commits.
        assert app.state.engine.pool.checkedout() == 0
        tag = await http.post("/v1/createTag", json={"name": "while SII answers"})
        assert tag.status_code in (200, 201), tag.text
        assert not check.done()

        sii.ws.faults.reclamo_gate.set()
        response = await check
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert (checks["siiReception"]["status"], checks["rtcCession"]["status"]) == ("passed", "passed")
    with unit_of_work(seller.factory, writes=False) as session:  # SII's answer, stored after the call
        stored = repository.acceptance(session, seller.company_id, document_id)
        assert stored is not None
        assert stored.received_at is not None
