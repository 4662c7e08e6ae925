"""The SII emulator of tests/sii/ws (real TLS on loopback), a seller company in dtehub with its invoices
posted as DTE XML, and SII receiving them."""

from __future__ import annotations

import base64
from datetime import date, datetime

import httpx
import pytest
from sqlalchemy.orm import Session

from dtehub.dte.factory import Reference, build_dte
from dtehub.models import Company, Document
from dtehub.sii.emulator import Emulator
from tests.conftest import Tenant, make_tenant
from tests.sii.ws.conftest import (  # noqa: F401 (fixtures)
    BUYER,
    BUYER_PERSON,
    SELLER,
    SELLER_PERSON,
    buyer_ws,
    next_folio,
    people,
    running_ws_emulator,
    seller_ws,
    sii,
    tokens,
    ws_config,
    ws_data,
)


@pytest.fixture
def seller(session: Session, client: httpx.AsyncClient) -> Tenant:
    return make_tenant(session, client, SELLER, "VENDEDORA SPA")


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
