"""POST /v1/createCesion: a cedible invoice is ceded through SII's RTC (the emulator over TLS), its track id
followed to SII's verdict; every refusal of dtehub's own is a clear 4xx that changes nothing and sends nothing
to the RTC."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dtehub.companies.sii_certificate import store_certificate
from dtehub.config import Settings
from dtehub.documents.schemas import DocumentDetailOut
from dtehub.factoring.cedibility import SiiAccess
from dtehub.factoring.cession import follow_due
from dtehub.models import DocumentCession, DocumentSource, EmailMessage, WebhookEvent
from dtehub.portal.links import Links
from dtehub.sii.certificate import load_pfx
from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from dtehub.sii.ws.auth import DEFAULT_TOKENS
from tests.conftest import Tenant, error_of
from tests.factoring.conftest import (
    ASSIGNEE,
    BUYER,
    PASSWORD,
    SELLER,
    SELLER_PERSON,
    cede,
    cedible,
    cessions,
    post_dte,
    receive,
)
from tests.webhooks import create_webhook


async def test_a_cedible_invoice_is_ceded_and_followed_until_sii_registers_it(
    seller: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess
) -> None:
    await create_webhook(seller, "http://127.0.0.1:9/hook", ["document.ceded"])
    document = await cedible(seller, sii)
    sii.rtc.processing_queries = 1

    response = await cede(seller, document, contact={"name": "Vera", "phone": "+56 2 2345 6789"})

    assert response.status_code == 200, response.text
    shown = response.json()
    DocumentDetailOut.model_validate(shown)
    assert shown["id"] == document["id"]
    assert shown["isCeded"] is False
    cession = shown["cession"]
    assert cession["assignee"] == ASSIGNEE
    assert cession["amount"] == document["total"] == "1190000.00"
    assert cession["siiState"] == "pending"
    assert cession["lastDueDate"] == document["dueDate"]
    upload = sii.rtc.upload(int(cession["trackId"]))
    assert upload is not None
    assert (upload.company, upload.person, upload.code) == (SELLER, SELLER_PERSON, "EOK")

    # The file uploaded carries the DTE as dtehub stored it, byte for byte.
    row = session.scalars(select(DocumentCession)).one()
    source = session.get(DocumentSource, int(str(document["id"])))
    assert source is not None
    assert source.content[source.content.index(b"<DTE") :].rstrip() in row.aec

    links = Links("http://testserver")
    first = follow_due(session, sii_access, links)
    assert (first.asked, first.accepted) == (1, 0)
    still = (await seller.get("/v1/getDocument", id=document["id"])).json()["cession"]
    assert (still["siiState"], still["siiCode"]) == ("pending", "RCP")

    second = follow_due(session, sii_access, links)
    assert (second.asked, second.accepted) == (1, 1)
    ceded = (await seller.get("/v1/getDocument", id=document["id"])).json()
    assert ceded["isCeded"] is True
    assert ceded["cession"]["siiState"] == "accepted"
    assert ceded["cession"]["siiCode"] == "EOK"
    assert "registered the cession" in ceded["cession"]["siiMessage"]
    assert follow_due(session, sii_access, links).asked == 0  # nothing pending any more
    notices = session.scalars(select(EmailMessage).where(EmailMessage.kind == "cessionNotice")).all()
    assert [(n.document_id, n.subject_id) for n in notices] == [(int(str(document["id"])), row.id)]

    listing = await seller.get("/v1/getDocuments", isCeded=1)
    assert listing.status_code == 200, listing.text
    listed = listing.json()["items"]
    assert [d["id"] for d in listed] == [document["id"]]
    others = (await seller.get("/v1/getDocuments", isCeded=0)).json()["items"]
    assert document["id"] not in [d["id"] for d in others]
    events = session.scalars(select(WebhookEvent).where(WebhookEvent.type == "document.ceded")).all()
    assert len(events) == 1
    assert f'"id":"{document["id"]}"' in events[0].data

    check = (await seller.get("/v1/getDocumentCedibility", id=document["id"])).json()
    assert check["cedible"] is False
    assert (check["checks"]["rtcCession"]["status"], check["checks"]["rtcCession"]["source"]) == (
        "failed",
        "dtehub",
    )
    assert ASSIGNEE["name"] in check["checks"]["rtcCession"]["message"]

    again = await cede(seller, document)
    assert again.status_code == 409
    assert error_of(again)["code"] == "document_already_ceded"


async def test_sii_s_rejection_is_told_in_words_and_the_invoice_can_be_ceded_again(
    seller: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess
) -> None:
    document = await post_dte(seller)
    # SII's record names another receiver than the DTE: dtehub's checks pass, SII's document rule does not.
    sii.acceptances.receive(
        SELLER,
        33,
        int(str(document["number"])),
        "96790240-3",
        at=sii.acceptances.now() - timedelta(days=9),
    )
    response = await cede(seller, document, amount=1_000_000)
    assert response.status_code == 200, response.text

    follow_due(session, sii_access, Links("http://testserver"))

    shown = (await seller.get("/v1/getDocument", id=document["id"])).json()
    assert shown["isCeded"] is False
    assert shown["cession"]["siiState"] == "rejected"
    assert shown["cession"]["siiCode"] == "RDC"
    assert "ceded document is not valid" in shown["cession"]["siiMessage"]
    assert "receptor" in shown["cession"]["siiMessage"]
    assert shown["cession"]["amount"] == "1000000.00"
    # A rejected cession does not stand: the seller may cede the invoice again.
    retry = await cede(seller, document)
    assert retry.status_code == 200, retry.text


async def refused(
    tenant: Tenant, sii: Emulator, session: Session, document: dict[str, object], **changes: object
) -> dict[str, Any]:
    """The refusal's error, having checked that nothing was stored and nothing reached the RTC."""
    uploads, stored = sii.rtc.uploads, cessions(session)
    before = (await tenant.get("/v1/getDocument", id=document["id"])).json()
    response = await cede(tenant, document, **changes)
    assert 400 <= response.status_code < 500, response.text
    assert (sii.rtc.uploads, cessions(session)) == (uploads, stored)
    assert (await tenant.get("/v1/getDocument", id=document["id"])).json() == before
    return {"status": response.status_code, **error_of(response)}


async def test_an_amount_over_the_total_is_refused(seller: Tenant, sii: Emulator, session: Session) -> None:
    document = await cedible(seller, sii)
    error = await refused(seller, sii, session, document, amount="1190000.01")
    assert (error["status"], error["code"], error["field"]) == (422, "cession_amount_invalid", "amount")
    over = await refused(seller, sii, session, document, amount=2_000_000)
    assert "over the document's total (1190000.00)" in over["message"]


async def test_an_invoice_the_receiver_may_still_claim_is_not_cedible(
    seller: Tenant, sii: Emulator, session: Session
) -> None:
    document = await post_dte(seller)
    receive(sii, document)  # today: the 8 days have not passed, and the receiver has not acknowledged it
    error = await refused(seller, sii, session, document)
    assert (error["status"], error["code"], error["field"]) == (422, "document_not_cedible", "documentId")
    assert "window" in error["message"]
    assert "getDocumentCedibility" in error["message"]


async def test_a_document_without_xml_is_not_cedible(seller: Tenant, sii: Emulator, session: Session) -> None:
    client = await seller.post("/v1/createClient", {"name": "COMPRADORA SA", "taxId": BUYER})
    assert client.status_code in (200, 201), client.text
    made = await seller.post(
        "/v1/createDocument",
        {
            "clientId": client.json()["id"],
            "number": "555",
            "issueDate": "2026-11-02",
            "total": 1190,
            "taxes": 190,
        },
    )
    assert made.status_code in (200, 201), made.text
    error = await refused(seller, sii, session, made.json())
    assert error["code"] == "document_not_cedible"
    assert "no DTE XML" in error["message"]


async def test_a_missing_certificate_or_an_expired_one_is_refused_before_sii_is_asked(
    seller: Tenant, sii: Emulator, session: Session, settings: Settings, ws_data: Any
) -> None:
    document = await cedible(seller, sii)
    seeds = sii.ws.tokens.seeds
    removed = await seller.http.request("DELETE", "/v1/deleteCompanySiiCertificate", headers=seller.headers)
    assert removed.status_code == 200, removed.text
    missing = await refused(seller, sii, session, document)
    assert (missing["status"], missing["code"]) == (404, "sii_certificate_missing")

    authority = TestCertificateAuthority.load_or_create(ws_data / "ca")
    pfx = authority.issue_person_certificate(
        rut=SELLER_PERSON, name="Vera", password=PASSWORD.encode(), expired=True
    )
    expired = load_pfx(pfx, PASSWORD)
    store_certificate(
        session, seller.company_id, pfx, PASSWORD, settings, now=expired.not_before + timedelta(days=1)
    )
    error = await refused(seller, sii, session, document)
    assert (error["status"], error["code"]) == (422, "certificate_expired")
    assert sii.ws.tokens.seeds == seeds  # SII was not even asked for a seed


async def test_the_assignee_is_checked_before_anything_is_asked(
    seller: Tenant, sii: Emulator, session: Session
) -> None:
    document = await cedible(seller, sii)
    bad = await refused(seller, sii, session, document, assignee={**ASSIGNEE, "rut": "77665544-8"})
    assert (bad["status"], bad["field"]) == (400, "rut")
    assert "77665544-8" in bad["message"]
    short = await refused(seller, sii, session, document, assignee={**ASSIGNEE, "address": "Av."})
    assert (short["status"], short["field"]) == (400, "address")
    no_mail = await refused(seller, sii, session, document, assignor={})
    assert (no_mail["status"], no_mail["field"]) == (422, "assignor.email")


@pytest.mark.parametrize(
    ("status", "http", "code"), [(9, 503, "sii_ws_unavailable"), (1, 422, "sii_ws_not_authorized")]
)
async def test_an_upload_the_rtc_refuses_stores_nothing(
    seller: Tenant, sii: Emulator, session: Session, status: int, http: int, code: str
) -> None:
    document = await cedible(seller, sii)
    sii.rtc.upload_status = status
    stored = cessions(session)
    response = await cede(seller, document)
    assert response.status_code == http, response.text
    assert error_of(response)["code"] == code
    assert cessions(session) == stored
    shown = (await seller.get("/v1/getDocument", id=document["id"])).json()
    assert (shown["isCeded"], shown["cession"]) == (False, None)


async def test_no_token_signature_or_file_reaches_the_logs(
    seller: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess, caplog: pytest.LogCaptureFixture
) -> None:
    document = await cedible(seller, sii)
    with caplog.at_level(logging.DEBUG):
        response = await cede(seller, document)
        assert response.status_code == 200, response.text
        follow_due(session, sii_access, Links("http://testserver"))
        refused = await cede(seller, document)  # a refusal is logged as a refusal, without the file
        assert refused.status_code == 409
    logged = "\n".join(record.getMessage() for record in caplog.records)
    caches = (sii_access.tokens, DEFAULT_TOKENS)  # the follow-up's, and the API's
    tokens = [cached.value for cache in caches for cached in cache._tokens.values()]
    assert tokens
    for token in tokens:
        assert token not in logged
    assert "SignatureValue" not in logged
    assert "<AEC" not in logged
    assert "PRIVATE KEY" not in logged
    assert PASSWORD not in logged
