"""The SII emulator of tests/sii/ws (real TLS on loopback), a seller company in dtehub with its invoices
posted as DTE XML, SII receiving them, their cession to a factoring company (itself a dtehub company, with
its person's certificate)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.dte.factory import Reference, build_dte
from dtehub.factoring.cedibility import SiiAccess
from dtehub.models import Company, Document, DocumentCession
from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from dtehub.sii.ws.auth import TokenCache
from tests.conftest import Tenant, make_tenant
from tests.sii.ws import conftest as ws
from tests.sii.ws.conftest import (
    BUYER,
    BUYER_PERSON,
    FACTOR,
    FACTOR_PERSON,
    PASSWORD,
    SELLER,
    SELLER_PERSON,
    People,
    next_folio,
)

# The emulator's fixtures, shared with tests/sii/ws.
buyer_ws = ws.buyer_ws
people = ws.people
running_ws_emulator = ws.running_ws_emulator
seller_ws = ws.seller_ws
sii = ws.sii
tokens = ws.tokens
ws_config = ws.ws_config
ws_data = ws.ws_data
__all__ = ["BUYER_PERSON", "SELLER_PERSON", "next_folio"]

ASSIGNEE = {
    "rut": FACTOR,
    "name": "FACTORING CAPITAL SPA",
    "address": "Av. Apoquindo 4000, Las Condes",
    "email": "ops@factoring.cl",
}
ASSIGNOR = {"email": "cobranza@vendedora.cl"}


@pytest.fixture(scope="session")
def factoring_app(settings: Settings, running_ws_emulator: Emulator) -> Iterator[FastAPI]:
    """The API with SII's web services at the emulator."""
    app = create_app(
        settings.model_copy(
            update={
                "sii_ws_url": running_ws_emulator.base_url,
                "sii_reclamo_url": running_ws_emulator.base_url,
                "sii_ca_bundle": str(running_ws_emulator.ca_bundle),
                "sii_ws_timeout": 10.0,
            }
        )
    )
    yield app
    app.state.engine.dispose()


@pytest.fixture
async def factoring_client(
    factoring_app: FastAPI, session: Session, sii: Emulator
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of that API sharing the test's transaction."""
    factory = factoring_app.state.sessionmaker
    factoring_app.state.sessionmaker = lambda: session
    try:
        transport = httpx.ASGITransport(app=factoring_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        factoring_app.state.sessionmaker = factory


@pytest.fixture(scope="session")
def seller_pfx(ws_data: Path, people: People) -> bytes:
    """The seller's person's certificate as a PKCS#12 file (password ``PASSWORD``)."""
    authority = TestCertificateAuthority.load_or_create(ws_data / "ca")
    return authority.issue_person_certificate(
        rut=SELLER_PERSON, name="Vera Vendedora", password=PASSWORD.encode()
    )


@pytest.fixture(scope="session")
def factor_pfx(ws_data: Path, people: People) -> bytes:
    """The factoring company's person's certificate as a PKCS#12 file (password ``PASSWORD``)."""
    authority = TestCertificateAuthority.load_or_create(ws_data / "ca")
    return authority.issue_person_certificate(
        rut=FACTOR_PERSON, name="Fernanda Factoring", password=PASSWORD.encode()
    )


@pytest.fixture
def sii_access(settings: Settings, sii: Emulator) -> SiiAccess:
    """How the background follow-up reaches the emulator (the API's settings, a cache of its own)."""
    pointed = settings.model_copy(
        update={
            "sii_ws_url": sii.base_url,
            "sii_reclamo_url": sii.base_url,
            "sii_ca_bundle": str(sii.ca_bundle),
            "sii_ws_timeout": 10.0,
        }
    )
    return SiiAccess(pointed, tokens=TokenCache())


async def with_certificate(tenant: Tenant, pfx: bytes) -> Tenant:
    body = {"certificate_pfx_base64": base64.b64encode(pfx).decode(), "certificate_password": PASSWORD}
    response = await tenant.post("/v1/updateCompanySiiCertificate", body)
    assert response.status_code == 200, response.text
    return tenant


@pytest.fixture
async def factor(session: Session, factoring_client: httpx.AsyncClient, factor_pfx: bytes) -> Tenant:
    """The factoring company the seller cedes to, in dtehub, with its person's SII certificate."""
    return await with_certificate(
        make_tenant(session, factoring_client, FACTOR, "FACTORING CAPITAL SPA"), factor_pfx
    )


@pytest.fixture
async def seller(session: Session, factoring_client: httpx.AsyncClient, seller_pfx: bytes) -> Tenant:
    """The seller in dtehub, with its person's SII certificate stored through the API."""
    return await with_certificate(make_tenant(session, factoring_client, SELLER, "VENDEDORA SPA"), seller_pfx)


async def post_dte(
    tenant: Tenant,
    code: int = 33,
    folio: int | None = None,
    total: int = 1_190_000,
    *,
    issue_date: date | None = None,
    references: list[Reference] | None = None,
    signed: bool = True,
) -> dict[str, object]:
    """A DTE of the seller to the buyer, posted to dtehub; its document (or note) as the API answers it."""
    xml = build_dte(
        code,
        folio if folio is not None else next_folio(),
        SELLER,
        BUYER,
        total,
        issue_date=issue_date or date.today(),
        references=references or (),
        signed=signed,
    )
    response = await tenant.post("/v1/createDocumentFromXml", {"xml": base64.b64encode(xml).decode("ascii")})
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def receive(emulator: Emulator, document: dict[str, object], at: datetime | None = None) -> None:
    """SII receives the dtehub document (its type and folio), from the seller to the buyer."""
    emulator.acceptances.receive(
        SELLER, int(str(document["code"])), int(str(document["number"])), BUYER, at=at
    )


def rows(session: Session, document: dict[str, object]) -> tuple[Company, Document]:
    found = session.get(Document, int(str(document["id"])))
    assert found is not None
    company = session.get(Company, found.company_id)
    assert company is not None
    return company, found


async def cedible(tenant: Tenant, sii: Emulator, **dte: Any) -> dict[str, object]:
    """A new invoice of the seller, which SII received nine days ago: cedible."""
    document = await post_dte(tenant, **dte)
    receive(sii, document, at=sii.acceptances.now() - timedelta(days=9))
    return document


async def cede(tenant: Tenant, document: dict[str, object], **changes: object) -> httpx.Response:
    body: dict[str, object] = {"documentId": document["id"], "assignee": ASSIGNEE, "assignor": ASSIGNOR}
    body.update(changes)
    return await tenant.post("/v1/createCesion", body)


def cessions(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(DocumentCession)) or 0)
