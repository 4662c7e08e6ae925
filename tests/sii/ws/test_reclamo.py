"""The acceptance/claim service, client and emulator together over TLS: reception time, events, the
cedibility code over time, the receiver's actions with SII's rules, and each refusal in words."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dtehub.kit.dates import SANTIAGO
from dtehub.sii.emulator import Emulator
from dtehub.sii.emulator.register import Entry
from dtehub.sii.ws.auth import TokenCache
from dtehub.sii.ws.client import WsClient
from dtehub.sii.ws.config import WsConfig
from dtehub.sii.ws.errors import WsDocumentUnknown, WsNotAuthorized, WsTypeNotHandled, WsUnavailable
from dtehub.sii.ws.reclamo import DocumentRef, cedibility, history, reception_time, register_event
from tests.sii.ws.conftest import (
    BUYER,
    BUYER_PERSON,
    LOADED_INVOICE,
    SELLER,
    People,
    next_folio,
    received_invoice,
)


def test_the_reception_time_is_sii_s_in_santiago(sii: Emulator, seller_ws: WsClient) -> None:
    at = datetime(2026, 11, 30, 9, 41, 7)
    document = received_invoice(sii, at=at)
    assert reception_time(seller_ws, document) == at.replace(tzinfo=SANTIAGO)


def test_a_document_sii_has_not_received_has_no_reception_time(sii: Emulator, seller_ws: WsClient) -> None:
    assert reception_time(seller_ws, DocumentRef(SELLER, 33, next_folio())) is None


def test_a_fresh_invoice_is_not_cedible_yet_then_cedible_after_eight_days(
    sii: Emulator, seller_ws: WsClient
) -> None:
    document = received_invoice(sii)
    answer = cedibility(seller_ws, document)
    assert (answer.code, answer.description) == (22, "DTE no registra reclamos ni acuse de recibo")
    assert history(seller_ws, document).events == ()

    sii.acceptances.advance(timedelta(days=8, minutes=1))
    assert cedibility(seller_ws, document).code == 25


def test_the_buyer_s_receipt_makes_it_cedible_and_shows_in_the_history(
    sii: Emulator, seller_ws: WsClient, buyer_ws: WsClient
) -> None:
    document = received_invoice(sii)
    assert register_event(buyer_ws, document, "ERM").code == 0
    assert register_event(buyer_ws, document, "ERM").code == 7  # already recorded: nothing changes
    assert register_event(buyer_ws, document, "ACD").code == 0

    assert cedibility(seller_ws, document).code == 23
    listed = history(seller_ws, document)
    assert listed.answer.code == 15
    assert [(e.code, e.responsible_rut) for e in listed.events] == [
        ("ERM", BUYER_PERSON),
        ("ACD", BUYER_PERSON),
    ]
    assert listed.events[0].description == "Otorga Recibo de Mercaderías o Servicios"
    assert listed.events[0].at.tzinfo is SANTIAGO


def test_a_claim_makes_it_not_cedible_and_shuts_out_acceptance(
    sii: Emulator, seller_ws: WsClient, buyer_ws: WsClient
) -> None:
    document = received_invoice(sii)
    assert register_event(buyer_ws, document, "RCD").code == 0
    assert register_event(buyer_ws, document, "RFT").code == 0  # another kind of claim is recorded too
    refused = register_event(buyer_ws, document, "ACD")
    assert (refused.code, refused.description) == (
        12,
        "No se puede aceptar un documento que fue reclamado por RCD",
    )
    assert register_event(buyer_ws, document, "ERM").code == 6

    assert cedibility(seller_ws, document).code == 24
    sii.acceptances.advance(timedelta(days=30))
    assert cedibility(seller_ws, document).code == 24  # a claim stays


@pytest.mark.parametrize(("first", "then", "code"), [("ACD", "RCD", 11), ("ERM", "RFP", 13)])
def test_an_accepted_invoice_cannot_be_claimed(
    sii: Emulator, buyer_ws: WsClient, first: str, then: str, code: int
) -> None:
    document = received_invoice(sii)
    assert register_event(buyer_ws, document, first).code == 0
    assert register_event(buyer_ws, document, then).code == code


def test_no_event_after_eight_days(sii: Emulator, buyer_ws: WsClient) -> None:
    document = received_invoice(sii)
    sii.acceptances.advance(timedelta(days=8, seconds=1))
    assert register_event(buyer_ws, document, "RCD").code == 8


def test_a_cancelling_credit_note_within_eight_days_makes_it_never_cedible(
    sii: Emulator, seller_ws: WsClient
) -> None:
    # dtes/ holds invoice 7001 and a credit note 9001 that cancels it (CodRef 1), received the same day.
    document = DocumentRef(SELLER, 33, LOADED_INVOICE)
    assert cedibility(seller_ws, document).code == 21
    assert [e.code for e in history(seller_ws, document).events] == ["NCA"]

    other = received_invoice(sii)
    sii.acceptances.credit_note((SELLER, 33, other.folio), cancelling=False)
    assert [e.code for e in history(seller_ws, other).events] == ["ENC"]
    assert cedibility(seller_ws, other).code == 22


def test_only_the_receiver_acts(sii: Emulator, seller_ws: WsClient) -> None:
    document = received_invoice(sii)
    with pytest.raises(WsNotAuthorized, match="codResp 17"):
        register_event(seller_ws, document, "ACD")


def test_a_person_of_neither_company_is_told_to_store_another_certificate(
    sii: Emulator, ws_config: WsConfig, people: People, tokens: TokenCache
) -> None:
    document = received_invoice(sii)
    with (
        WsClient(ws_config, people.outsider, tokens=tokens) as outsider,
        pytest.raises(WsNotAuthorized) as caught,
    ):
        cedibility(outsider, document)
    assert "codResp 14" in caught.value.message
    assert "authorized for the company" in caught.value.message


def test_a_document_sii_has_not_received_is_unknown(sii: Emulator, seller_ws: WsClient) -> None:
    document = DocumentRef(SELLER, 33, next_folio())
    with pytest.raises(WsDocumentUnknown, match="codResp 18") as caught:
        cedibility(seller_ws, document)
    assert caught.value.sii_code == 18
    with pytest.raises(WsDocumentUnknown, match="has not received"):
        history(seller_ws, document)


def test_a_document_received_later_is_not_there_yet(sii: Emulator, seller_ws: WsClient) -> None:
    document = received_invoice(sii, at=sii.acceptances.now() + timedelta(hours=2))
    with pytest.raises(WsDocumentUnknown):
        cedibility(seller_ws, document)
    sii.acceptances.advance(timedelta(hours=3))
    assert cedibility(seller_ws, document).code == 22


def test_types_the_service_does_not_handle_never_reach_it(sii: Emulator, seller_ws: WsClient) -> None:
    with pytest.raises(WsTypeNotHandled, match="33, 34 and 43"):
        cedibility(seller_ws, DocumentRef(SELLER, 46, 1))


def test_sii_s_internal_error_is_a_retry_later(sii: Emulator, seller_ws: WsClient) -> None:
    document = received_invoice(sii)
    sii.ws.faults.reclamo_internal_error = True
    with pytest.raises(WsUnavailable, match=r"codResp -1\).*retry later"):
        cedibility(seller_ws, document)


def test_exempt_invoices_and_a_k_check_digit_are_asked_as_sii_wants(
    sii: Emulator, ws_config: WsConfig, people: People, tokens: TokenCache
) -> None:
    document = received_invoice(sii, type_code=34)
    with WsClient(ws_config, people.seller, tokens=tokens) as client:
        assert cedibility(client, document).code == 22
    sii.acceptances.receive("76123451-K", 33, 5, "96790240-3")
    with WsClient(ws_config, people.seller, tokens=tokens) as client, pytest.raises(WsNotAuthorized):
        cedibility(client, DocumentRef("76123451-K", 33, 5))  # read and judged: she acts for neither


def test_the_rcv_register_and_the_service_share_their_documents(
    sii: Emulator, seller_ws: WsClient, buyer_ws: WsClient
) -> None:
    # Two invoices and a note only the RCV's register holds (as `init --generate` makes them).
    now = sii.acceptances.now()
    claimed, accepted, cancelled = next_folio(), next_folio(), next_folio()

    def entry(type_code: int, folio: int, total: int, **extra: object) -> Entry:
        return Entry(type_code, folio, now.date(), BUYER, "COMPRADORA SA", 0, 0, 0, total, now, **extra)  # type: ignore[arg-type]

    sii.register.add(
        SELLER,
        [
            entry(33, claimed, 1190),
            entry(33, accepted, 1190),
            entry(33, cancelled, 2380),
            entry(61, next_folio(), 2380, ref_type=33, ref_folio=cancelled),
        ],
    )

    # A claim through the service is the register's claim.
    assert register_event(buyer_ws, DocumentRef(SELLER, 33, claimed), "RFP").code == 0
    row = sii.register.find(SELLER, 33, claimed)
    assert row is not None
    assert row.claim_event == "RFP"
    assert row.claimed_at is not None

    # The register's acceptance is the service's receipt.
    sii.register.accept(SELLER, 33, accepted)
    assert [e.code for e in history(seller_ws, DocumentRef(SELLER, 33, accepted)).events] == ["ERM"]
    assert cedibility(seller_ws, DocumentRef(SELLER, 33, accepted)).code == 23

    # A credit note of the whole amount in the register cancels the invoice.
    assert cedibility(seller_ws, DocumentRef(SELLER, 33, cancelled)).code == 21
