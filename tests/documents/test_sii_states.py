"""SII's states of a document: the ``sii`` object of getDocument and getDocuments, the ``siiState`` filter
(the same rules in SQL), and tacit acceptance on the Santiago day they are read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import jsonschema
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from dtehub.documents import repository
from dtehub.documents.filters import DocumentFilters, OrderBy
from dtehub.documents.sii_states import NOT_SYNCED, SiiFacts, SiiState, SiiStateFilter, state_of
from dtehub.models import Document
from tests.conftest import Tenant
from tests.documents.listing import new_client, new_document

# 3 March 2026, 23:30 in Santiago (UTC-3): the 4th in UTC. The 8 days after it run to the 11th.
RECEIVED = datetime(2026, 3, 4, 2, 30, tzinfo=UTC)
SYNCED = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def facts(**given: Any) -> SiiFacts:
    return SiiFacts(**{"sii_received_at": RECEIVED, "sii_synced_at": SYNCED, **given})


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 3, 3), SiiState.RECEIVED),
        (date(2026, 3, 11), SiiState.RECEIVED),  # the eighth day: it can still be claimed
        (date(2026, 3, 12), SiiState.TACITLY_ACCEPTED),
    ],
)
def test_a_factura_is_tacitly_accepted_once_the_8_days_after_its_reception_are_over(
    today: date, expected: SiiState
) -> None:
    # Received late on the 3rd in Santiago: its UTC date (the 4th) would move the deadline a day on.
    assert state_of(33, facts(), today) == expected


def test_what_the_customer_or_sii_did_decides_the_state() -> None:
    later = date(2026, 6, 1)
    accepted_at = datetime(2026, 3, 6, 13, 0, tzinfo=UTC)
    assert state_of(33, facts(sii_accepted_at=accepted_at), later) == SiiState.ACCEPTED
    assert state_of(33, facts(sii_event_code="C"), date(2026, 3, 5)) == SiiState.ACCEPTED
    assert state_of(33, facts(sii_claimed_at=accepted_at), later) == SiiState.CLAIMED
    assert state_of(33, facts(sii_event_code="R"), later) == SiiState.CLAIMED
    # A claim wins over an acceptance.
    assert state_of(33, facts(sii_accepted_at=accepted_at, sii_claimed_at=accepted_at), later) == "claimed"
    # SII's own word, before dtehub's count of days says so.
    assert state_of(34, facts(sii_event_code="A"), date(2026, 3, 5)) == SiiState.TACITLY_ACCEPTED
    # Notes and exports are never accepted or claimed: they stay received.
    assert state_of(61, facts(), later) == SiiState.RECEIVED
    assert state_of(110, facts(), later) == SiiState.RECEIVED
    assert state_of(33, NOT_SYNCED, later) is None


CASES: dict[str, tuple[int, SiiFacts]] = {
    "never": (33, NOT_SYNCED),
    "pending": (33, facts()),
    "export": (110, facts()),
    "accepted": (33, facts(sii_accepted_at=SYNCED, sii_event_code="C", sii_event_description="Recibo")),
    "claimed": (34, facts(sii_claimed_at=SYNCED, sii_event_code="R", sii_event_description="Reclamado")),
    "claimed-after-acuse": (33, facts(sii_accepted_at=SYNCED, sii_claimed_at=SYNCED)),
    "sii-says-tacit": (43, facts(sii_event_code="A", sii_event_description="No reclamado en plazo")),
    "paid-in-cash": (33, facts(sii_event_code="P", sii_event_description="Pagado al contado")),
}


async def _documents_in_every_state(tenant: Tenant, session: Session) -> dict[str, str]:
    """One document per case of :data:`CASES`, its SII facts written as a sync writes them."""
    client = await new_client(tenant, "76086428-5")
    ids = {}
    for number, (name, (code, stated)) in enumerate(CASES.items(), start=100):
        created = await new_document(tenant, client["id"], str(number), code=code)
        ids[name] = created["id"]
        session.execute(update(Document).where(Document.id == int(created["id"])).values(**stated.columns()))
    session.commit()
    return ids


def _listed(session: Session, company_id: int, wanted: SiiStateFilter, today: date) -> set[int]:
    rows, _ = repository.list_page(
        session,
        company_id,
        DocumentFilters(sii_state=wanted),
        order_by=OrderBy.CREATION,
        descending=False,
        offset=0,
        limit=100,
        today=today,
        with_client=False,
    )
    return {row.id for row in rows}


@pytest.mark.parametrize("today", [date(2026, 3, 5), date(2026, 3, 11), date(2026, 3, 12), date(2027, 1, 1)])
async def test_the_filter_finds_exactly_the_documents_in_each_state_on_any_day(
    tenant: Tenant, session: Session, today: date
) -> None:
    ids = await _documents_in_every_state(tenant, session)

    for wanted in SiiStateFilter:
        expected = {
            int(ids[name])
            for name, (code, stated) in CASES.items()
            if (state_of(code, stated, today) or "never_synced") == wanted.value
        }
        assert _listed(session, tenant.company_id, wanted, today) == expected, wanted
    # Every case has a state, and the pending factura's turns to tacitly accepted on the 12th.
    pending = state_of(33, CASES["pending"][1], today)
    assert pending == (SiiState.RECEIVED if today <= date(2026, 3, 11) else SiiState.TACITLY_ACCEPTED)


async def test_get_documents_shows_and_filters_by_sii_state(tenant: Tenant, session: Session) -> None:
    ids = await _documents_in_every_state(tenant, session)

    claimed = await tenant.get("/v1/getDocuments", siiState="claimed")
    never = await tenant.get("/v1/getDocuments", siiState="never_synced")
    tacit = await tenant.get("/v1/getDocuments", siiState="tacitly_accepted")
    one = await tenant.get("/v1/getDocument", id=ids["claimed"])

    assert claimed.status_code == 200, claimed.text
    assert {d["id"] for d in claimed.json()["items"]} == {ids["claimed"], ids["claimed-after-acuse"]}
    assert [d["id"] for d in never.json()["items"]] == [ids["never"]]
    assert never.json()["items"][0]["sii"] is None
    # Received in March 2026: the facturas no one accepted or claimed are long tacitly accepted today (the
    # one paid in cash too: that event is no acuse), the export is not.
    expected = {ids["pending"], ids["sii-says-tacit"], ids["paid-in-cash"]}
    assert {d["id"] for d in tacit.json()["items"]} == expected
    assert one.json()["sii"] == {
        "receivedAt": "2026-03-03 23:30:00",
        "acceptedAt": None,
        "claimedAt": "2026-03-05 09:00:00",
        "receiverEvent": {"code": "R", "description": "Reclamado"},
        "state": "claimed",
        "syncedAt": "2026-03-05 09:00:00",
        "disagreements": [],
    }


async def test_a_state_it_cannot_read_is_a_400_naming_the_parameter(tenant: Tenant) -> None:
    response = await tenant.get("/v1/getDocuments", siiState="pending")

    assert response.status_code == 400
    assert "siiState" in response.text


async def test_the_published_document_types_the_sii_object(tenant: Tenant, session: Session) -> None:
    ids = await _documents_in_every_state(tenant, session)
    openapi = (await tenant.http.get("/openapi.json")).json()
    schemas = openapi["components"]["schemas"]

    sii = schemas["DocumentOut"]["properties"]["sii"]
    assert {"$ref": "#/components/schemas/SiiOut"} in sii["anyOf"]
    assert {"type": "null"} in sii["anyOf"]
    published = schemas["SiiOut"]
    assert set(published["properties"]) == {
        "receivedAt", "acceptedAt", "claimedAt", "receiverEvent", "state", "syncedAt", "disagreements"
    }  # fmt: skip
    assert set(published["required"]) == set(published["properties"])
    disagreement = schemas["SiiDisagreementOut"]
    assert set(disagreement["properties"]) == set(disagreement["required"]) == {
        "field", "dtehub", "sii", "message"
    }  # fmt: skip
    assert schemas["SiiState"]["enum"] == ["received", "accepted", "tacitly_accepted", "claimed"]
    assert "$ref" in str(schemas["NoteOut"]["properties"]["sii"])
    parameters = {p["name"]: p for p in openapi["paths"]["/v1/getDocuments"]["get"]["parameters"]}
    assert "never_synced" in str(parameters["siiState"]["schema"])
    # Every view validates against it.
    schema = {"$ref": "#/components/schemas/DocumentDetailOut", "components": openapi["components"]}
    for document_id in ids.values():
        view = (await tenant.get("/v1/getDocument", id=document_id)).json()
        jsonschema.Draft202012Validator(schema).validate(view)
    listed = {"$ref": "#/components/schemas/DocumentOut", "components": openapi["components"]}
    items = (await tenant.get("/v1/getDocuments")).json()["items"]
    assert len(items) == len(ids)
    for item in items:
        jsonschema.Draft202012Validator(listed).validate(item)
