"""GET /v1/getDocumentCedibility: every source at once (the XML, the type, SII's acceptance/claim service
over TLS, dtehub's notes and payments, the 8-day window, the RTC), as a person reads the answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from dtehub.factoring.schemas import CedibilityOut
from dtehub.sii.emulator import Emulator
from dtehub.sii.ws.client import WsClient
from dtehub.sii.ws.reclamo import DocumentRef, register_event
from tests.conftest import Tenant, error_of, make_tenant
from tests.factoring.conftest import SELLER, post_dte, receive, rows


async def cedibility_of(tenant: Tenant, document: dict[str, object]) -> dict[str, Any]:
    response = await tenant.get("/v1/getDocumentCedibility", id=document["id"])
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    CedibilityOut.model_validate(answer)  # what /openapi.json says it is
    return answer


def reasons(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {reason["check"]: reason for reason in answer["reasons"]}


def ref(document: dict[str, object]) -> DocumentRef:
    return DocumentRef(SELLER, int(str(document["code"])), int(str(document["number"])))


async def test_an_invoice_received_over_eight_days_ago_is_cedible(seller: Tenant, sii: Emulator) -> None:
    document = await post_dte(seller)
    receive(sii, document, at=sii.acceptances.now() - timedelta(days=9))

    answer = await cedibility_of(seller, document)

    assert answer["cedible"] is True
    checks = answer["checks"]
    assert checks["xml"]["status"] == "passed"
    assert (checks["xml"]["signature"], checks["xml"]["ted"]) == ("valid", "valid")
    assert checks["type"]["status"] == "passed"
    assert checks["siiReception"]["status"] == "passed"
    assert (checks["siiCedibility"]["code"], checks["siiCedibility"]["status"]) == (25, "passed")
    assert checks["window"]["status"] == "passed"
    assert "presumed" in checks["window"]["message"]
    assert (
        checks["claims"]["status"]
        == checks["creditNotes"]["status"]
        == checks["amounts"]["status"]
        == "passed"
    )
    # SII's RTC was asked too: no cession of it is registered.
    assert list(reasons(answer)) == []
    assert (checks["rtcCession"]["status"], checks["rtcCession"]["source"]) == ("passed", "rtc")


async def test_an_invoice_the_rtc_has_a_cession_of_is_not_cedible(seller: Tenant, sii: Emulator) -> None:
    document = await post_dte(seller)
    receive(sii, document, at=sii.acceptances.now() - timedelta(days=9))
    sii.rtc.record((SELLER, 33, int(str(document["number"]))), "77665544-9", 1_190_000)

    answer = await cedibility_of(seller, document)

    assert answer["cedible"] is False
    reason = reasons(answer)["rtcCession"]
    assert (reason["status"], reason["source"]) == ("failed", "rtc")
    assert "registered" in reason["message"]


async def test_the_receivers_acknowledgement_makes_it_cedible_at_once(
    seller: Tenant, sii: Emulator, buyer_ws: WsClient
) -> None:
    document = await post_dte(seller)
    receive(sii, document)
    register_event(buyer_ws, ref(document), "ERM")

    answer = await cedibility_of(seller, document)
    assert answer["cedible"] is True
    assert answer["checks"]["siiCedibility"]["code"] == 23
    assert "acknowledged" in answer["checks"]["window"]["message"]


async def test_a_claimed_invoice_is_not_cedible(seller: Tenant, sii: Emulator, buyer_ws: WsClient) -> None:
    document = await post_dte(seller)
    receive(sii, document)
    register_event(buyer_ws, ref(document), "RFT")

    answer = await cedibility_of(seller, document)
    assert answer["cedible"] is False
    claims = reasons(answer)["claims"]
    assert (claims["status"], claims["source"]) == ("failed", "sii")
    assert "RFT" in claims["message"]
    assert "agree with the receiver" in claims["action"]
    assert reasons(answer)["siiCedibility"]["status"] == "failed"
    assert answer["checks"]["claims"]["sii"][0]["code"] == "RFT"


async def test_too_early_an_invoice_waits_for_the_eight_days(seller: Tenant, sii: Emulator) -> None:
    document = await post_dte(seller)
    receive(sii, document)

    answer = await cedibility_of(seller, document)
    assert answer["cedible"] is False
    assert reasons(answer)["siiCedibility"]["status"] == "pending"
    window = reasons(answer)["window"]
    assert window["status"] == "pending"
    assert "may still claim until" in window["message"]

    sii.acceptances.advance(
        timedelta(days=8, hours=1)
    )  # SII's clock; dtehub's window counts from its reception
    later = await cedibility_of(seller, document)
    assert later["checks"]["siiCedibility"]["code"] == 25


async def test_a_cancelling_credit_note_at_sii_makes_it_never_cedible(seller: Tenant, sii: Emulator) -> None:
    document = await post_dte(seller)
    receive(sii, document)
    sii.acceptances.credit_note((SELLER, 33, int(str(document["number"]))), cancelling=True)

    answer = await cedibility_of(seller, document)
    assert answer["cedible"] is False
    notes = reasons(answer)["creditNotes"]
    assert (notes["status"], notes["source"]) == ("failed", "sii")
    assert answer["checks"]["siiCedibility"]["code"] == 21


async def test_a_cancelling_credit_note_dtehub_holds_makes_it_never_cedible(
    seller: Tenant, sii: Emulator
) -> None:
    document = await post_dte(seller, total=119_000)
    receive(sii, document, at=sii.acceptances.now() - timedelta(days=10))
    await post_dte(seller, 61, total=119_000, references=[(33, int(str(document["number"])), 1, "Anula")])

    answer = await cedibility_of(seller, document)
    assert answer["cedible"] is False
    found = reasons(answer)
    assert (found["creditNotes"]["status"], found["creditNotes"]["source"]) == ("failed", "dtehub")
    assert answer["checks"]["creditNotes"]["dtehub"][0]["voids"] is True
    assert found["amounts"]["status"] == "failed"


async def test_a_partly_credited_invoice_is_cedible_with_a_warning(seller: Tenant, sii: Emulator) -> None:
    document = await post_dte(seller, total=119_000)
    receive(sii, document, at=sii.acceptances.now() - timedelta(days=10))
    await post_dte(seller, 61, total=11_900, references=[(33, int(str(document["number"])), 3, "Descuento")])

    answer = await cedibility_of(seller, document)
    assert answer["cedible"] is True
    assert reasons(answer)["amounts"]["status"] == "warning"
    assert answer["checks"]["amounts"]["due"] == "107100.00"
    assert reasons(answer)["creditNotes"]["status"] == "warning"


async def test_without_valid_xml_a_document_is_never_cedible(seller: Tenant, sii: Emulator) -> None:
    document = await post_dte(seller, signed=False)
    receive(sii, document, at=sii.acceptances.now() - timedelta(days=10))

    answer = await cedibility_of(seller, document)
    assert answer["cedible"] is False
    xml = reasons(answer)["xml"]
    assert (xml["status"], xml["source"]) == ("failed", "xml")
    assert "signature unsigned" in xml["message"]


async def test_a_document_sii_has_not_received_is_not_cedible(seller: Tenant, sii: Emulator) -> None:
    document = await post_dte(seller)
    answer = await cedibility_of(seller, document)
    assert answer["cedible"] is False
    assert reasons(answer)["siiReception"]["status"] == "failed"
    assert "send the DTE to SII" in reasons(answer)["siiReception"]["action"]


async def test_sii_out_of_service_is_not_checked_and_never_cedible(seller: Tenant, sii: Emulator) -> None:
    document = await post_dte(seller)
    receive(sii, document, at=sii.acceptances.now() - timedelta(days=10))
    sii.ws.faults.reclamo_internal_error = True

    answer = await cedibility_of(seller, document)
    assert answer["cedible"] is False
    for name in ("siiReception", "siiCedibility", "claims", "window"):
        assert reasons(answer)[name]["status"] == "not_checked"
    assert "SII could not be asked" in reasons(answer)["siiCedibility"]["message"]
    assert reasons(answer)["siiCedibility"]["action"] == "retry later"


async def test_without_a_certificate_sii_is_not_asked(
    session: Session, factoring_client: httpx.AsyncClient, sii: Emulator
) -> None:
    uncertified = make_tenant(session, factoring_client, SELLER, "VENDEDORA SPA")
    document = await post_dte(uncertified)
    receive(sii, document, at=sii.acceptances.now() - timedelta(days=10))
    answer = await cedibility_of(uncertified, document)
    assert answer["cedible"] is False
    found = reasons(answer)["siiCedibility"]
    assert found["status"] == "not_checked"
    assert "no SII certificate" in found["message"]
    assert "updateCompanySiiCertificate" in found["action"]


async def test_the_answer_from_sii_is_stored_beside_the_document(
    session: Session, seller: Tenant, sii: Emulator, buyer_ws: WsClient
) -> None:
    document = await post_dte(seller)
    receive(sii, document)
    register_event(buyer_ws, ref(document), "ACD")
    await cedibility_of(seller, document)

    from dtehub.factoring.acceptance import stored

    company, row = rows(session, document)
    saved = stored(session, company.id, row.id)
    assert saved is not None
    assert saved.cedibility_code == 23
    assert [e["code"] for e in saved.events] == ["ACD"]


async def test_another_companys_document_is_not_found(
    seller: Tenant, session: Session, factoring_client: httpx.AsyncClient
) -> None:
    document = await post_dte(seller)
    other = make_tenant(session, factoring_client, "76453707-6", "OTRA SPA")
    response = await other.get("/v1/getDocumentCedibility", id=document["id"])
    assert response.status_code == 404
    assert error_of(response)["field"] == "id"


@pytest.mark.parametrize("value", ["x", "0", ""])
async def test_a_bad_id_is_a_400(seller: Tenant, value: str) -> None:
    response = await seller.get("/v1/getDocumentCedibility", id=value)
    assert response.status_code == 400
