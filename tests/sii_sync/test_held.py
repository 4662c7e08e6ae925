"""A held document (another issuer's invoice the company bought, createCesionFromXml) is not the company's:
the sync matches SII's register by (type, folio) among the company's own documents only, so its own folio
beside a held one is created, gets SII's states and is history as any synced document; the held one stays
as it was (no SII states, never history, its XML still wanted for the own folio)."""

from __future__ import annotations

import base64
from datetime import date

from sqlalchemy.orm import Session

from dtehub.kit.dates import utcnow
from dtehub.models import Company
from dtehub.sii_sync import repository
from dtehub.sii_sync.store import store_period
from tests.conftest import LINKS, Tenant
from tests.factoring.aecs import aec_to
from tests.sii_sync.rows import invoice


async def test_the_register_s_folio_is_the_company_s_own_not_the_held_one(
    tenant: Tenant, session: Session
) -> None:
    company = session.get(Company, tenant.company_id)
    assert company is not None
    company.collections_start_date = date(2026, 3, 1)  # the register's invoice (10 February) is history
    aec = base64.b64encode(aec_to(tenant.rut, 101)).decode()
    response = await tenant.post("/v1/createCesionFromXml", {"xml": aec})
    assert response.status_code == 200, response.text
    held = response.json()["document"]

    # The sync's MIPYME step still wants the XML of the company's own 33/101: it has none.
    assert repository.keys_of(session, tenant.company_id, {(33, "101")}) == set()
    stored = store_period(session, tenant.company_id, [invoice(101, 100_000)], LINKS, utcnow())
    session.commit()

    assert (stored.created, stored.existing_documents, stored.messages) == (1, {}, [])
    listing = (await tenant.get("/v1/getDocuments", number="101")).json()["items"]
    by_held = {item["held"]: item for item in listing}
    assert set(by_held) == {False, True}
    own, still = by_held[False], by_held[True]
    assert (own["source"], own["history"], own["total"]) == ("sii", True, "119000.00")
    assert own["sii"] is not None
    assert still == {key: held[key] for key in still}  # as it was: no SII states, not history
    assert (still["sii"], still["history"], still["source"]) == (None, False, "api")
    assert repository.keys_of(session, tenant.company_id, {(33, "101")}) == {(33, "101")}
