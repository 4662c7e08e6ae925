"""What SII's acceptance/claim service says of a dtehub document, read on demand over TLS from the emulator
and stored beside the document."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from dtehub.factoring import repository
from dtehub.factoring.acceptance import SiiEvent, ask_sii, stored
from dtehub.kit.dates import SANTIAGO
from dtehub.models import Company, Document, DocumentSiiAcceptance
from dtehub.sii.emulator import Emulator
from dtehub.sii.ws.client import WsClient
from dtehub.sii.ws.reclamo import DocumentRef, register_event
from tests.conftest import Tenant
from tests.factoring.conftest import BUYER_PERSON, SELLER, post_dte, receive, rows


def read_from_sii(session: Session, company: Company, row: Document, ws: WsClient) -> DocumentSiiAcceptance:
    """SII asked (no database), its answer stored."""
    return repository.save_acceptance(session, ask_sii(company, row, ws))


async def test_reception_events_and_code_are_stored_beside_the_document(
    session: Session, seller: Tenant, sii: Emulator, seller_ws: WsClient, buyer_ws: WsClient
) -> None:
    document = await post_dte(seller)
    at = sii.acceptances.now().replace(microsecond=0)
    receive(sii, document, at=at)
    register_event(buyer_ws, DocumentRef(SELLER, 33, int(str(document["number"]))), "ERM")
    company, row = rows(session, document)

    saved = read_from_sii(session, company, row, seller_ws)

    again = stored(session, company.id, row.id)
    assert again is saved
    assert saved.received_at == at.replace(tzinfo=SANTIAGO).astimezone(UTC)
    assert (saved.cedibility_code, saved.cedibility_description) == (23, "DTE Cedible, sin reclamos")
    events = [SiiEvent.from_json(e) for e in saved.events]
    assert [(e.code, e.responsible_rut) for e in events] == [("ERM", BUYER_PERSON)]
    assert saved.checked_by == "12345678-5"
    assert saved.checked_at <= datetime.now(UTC)


async def test_a_second_reading_replaces_the_first(
    session: Session, seller: Tenant, sii: Emulator, seller_ws: WsClient, buyer_ws: WsClient
) -> None:
    document = await post_dte(seller)
    company, row = rows(session, document)
    first = read_from_sii(session, company, row, seller_ws)
    assert first.received_at is None
    assert first.cedibility_code is None  # SII has not received it: nothing more is asked

    receive(sii, document)
    register_event(buyer_ws, DocumentRef(SELLER, 33, int(str(document["number"]))), "RCD")
    second = read_from_sii(session, company, row, seller_ws)
    assert second is first  # the same row, replaced
    assert second.cedibility_code == 24
    assert [e["code"] for e in second.events] == ["RCD"]
