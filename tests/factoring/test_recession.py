"""A re-cession by the current holder: the factoring company that bought an invoice (its AEC received through
createCesionFromXml) cedes it onwards with ``POST /v1/createCesion``, as a seller cedes its own; the new file
keeps the earlier parts byte for byte and SII's RTC (the emulator over TLS) registers the chain, or refuses
a chain that is not its record."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dtehub.documents.schemas import DocumentDetailOut
from dtehub.dte.aec import Party, Signer, Terms, build_aec, ceded_dte
from dtehub.factoring.cedibility import SiiAccess
from dtehub.factoring.cession import follow_due
from dtehub.models import DocumentCession, DocumentSource
from dtehub.portal.links import Links
from dtehub.sii.emulator import Emulator
from tests.conftest import Tenant, error_of
from tests.factoring.conftest import ASSIGNEE, SELLER, cede, cedible, cessions
from tests.sii.ws.conftest import FACTOR, FACTOR_PERSON, People

ONWARDS = {
    "rut": "96790240-3",
    "name": "OTRO FONDO SA",
    "address": "Av. Vitacura 2500, Vitacura",
    "email": "ops@otrofondo.cl",
}


async def registered(
    seller: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess
) -> tuple[dict[str, object], DocumentCession]:
    """A new invoice of the seller, ceded to the factoring company and registered by SII: the seller's
    document and its cession."""
    document = await cedible(seller, sii)
    response = await cede(seller, document)
    assert response.status_code == 200, response.text
    follow_due(session, sii_access, Links("http://testserver"))
    row = session.scalars(
        select(DocumentCession).where(DocumentCession.document_id == int(str(document["id"])))
    ).one()
    assert row.sii_state == "accepted"
    return document, row


async def hold(factor: Tenant, aec: bytes) -> dict[str, Any]:
    held = await factor.post("/v1/createCesionFromXml", {"xml": base64.b64encode(aec).decode()})
    assert held.status_code == 200, held.text
    document: dict[str, Any] = held.json()["document"]
    return document


async def ceded_to_factor(
    seller: Tenant, factor: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess
) -> tuple[dict[str, object], dict[str, Any], bytes]:
    """The seller's registered cession to the factoring company, which holds the invoice from the very
    file that was uploaded: the seller's document, the held one and that file."""
    document, row = await registered(seller, sii, session, sii_access)
    return document, await hold(factor, row.aec), row.aec


async def onwards(factor: Tenant, held: dict[str, Any], **changes: object) -> Any:
    body: dict[str, object] = {"documentId": held["id"], "assignee": ONWARDS}
    body.update(changes)
    return await factor.post("/v1/createCesion", body)


async def test_the_holder_cedes_a_bought_invoice_onwards_and_sii_registers_the_chain(
    seller: Tenant, factor: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess
) -> None:
    _, held, first = await ceded_to_factor(seller, factor, sii, session, sii_access)
    check = (await factor.get("/v1/getDocumentCedibility", id=held["id"])).json()
    assert check["cedible"] is True, check["reasons"]
    assert check["checks"]["rtcCession"]["status"] == "passed"
    assert "holder" in check["checks"]["rtcCession"]["message"]

    response = await onwards(factor, held, amount=1_000_000)

    assert response.status_code == 200, response.text
    shown = response.json()
    DocumentDetailOut.model_validate(shown)
    assert (shown["held"], shown["isCeded"]) == (True, False)
    cession = shown["cession"]
    assert cession["assignee"] == ONWARDS
    assert (cession["amount"], cession["siiState"]) == ("1000000.00", "pending")
    upload = sii.rtc.upload(int(cession["trackId"]))
    assert upload is not None
    assert (upload.company, upload.person, upload.code) == (FACTOR, FACTOR_PERSON, "EOK")

    # The new file carries the first one's DTECedido and cession byte for byte, then the holder's own.
    row = session.scalars(
        select(DocumentCession).where(DocumentCession.company_id == factor.company_id)
    ).one()
    earlier = first[first.index(b"<Cesiones>") + len(b"<Cesiones>") : first.rindex(b"</Cesiones>")]
    assert earlier in row.aec
    assert row.seq == 2
    assert b"<SeqCesion>2</SeqCesion>" in row.aec
    assert b"<RutCedente>" + FACTOR.encode() + b"</RutCedente>" in row.aec
    # Its address and e-mail as the seller wrote them in the cession to it.
    assert f"<Direccion>{ASSIGNEE['address']}</Direccion>".encode() in row.aec.split(earlier)[1]

    follow_due(session, sii_access, Links("http://testserver"))
    ceded = (await factor.get("/v1/getDocument", id=held["id"])).json()
    assert (ceded["isCeded"], ceded["cession"]["siiState"]) == (True, "accepted")
    chain = sii.rtc.cessions((SELLER, 33, int(held["number"])))
    assert [(c.seq, c.assignor, c.assignee, c.amount) for c in chain] == [
        (1, SELLER, FACTOR, 1_190_000),
        (2, FACTOR, ONWARDS["rut"], 1_000_000),
    ]

    # Ceded onwards already: refused, nothing sent.
    uploads = sii.rtc.uploads
    again = await onwards(factor, held)
    assert again.status_code == 409, again.text
    assert error_of(again)["code"] == "document_already_ceded"
    assert ONWARDS["name"] in error_of(again)["message"]
    assert sii.rtc.uploads == uploads


async def test_a_re_cession_is_refused_as_a_first_one_is(
    seller: Tenant, factor: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess
) -> None:
    sold, held, _ = await ceded_to_factor(seller, factor, sii, session, sii_access)
    uploads, stored = sii.rtc.uploads, cessions(session)

    over = await onwards(factor, held, amount=2_000_000)
    assert over.status_code == 422, over.text
    assert (error_of(over)["code"], error_of(over)["field"]) == ("cession_amount_invalid", "amount")
    early = await onwards(factor, held, lastDueDate="2001-01-01")
    assert early.status_code == 422, early.text
    assert error_of(early)["field"] == "lastDueDate"

    # The seller holds it no more: its own cession stands, so it cannot cede it again either.
    seller_again = await cede(seller, sold)
    assert seller_again.status_code == 409, seller_again.text

    assert (sii.rtc.uploads, cessions(session)) == (uploads, stored)
    shown = (await factor.get("/v1/getDocument", id=held["id"])).json()
    assert (shown["isCeded"], shown["cession"]) == (False, None)


async def test_a_chain_that_is_not_sii_s_record_is_rejected_by_the_rtc_in_words(
    seller: Tenant, factor: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess, people: People
) -> None:
    # SII registered the seller's cession of the whole invoice; the factoring company was given another
    # file of it (for less), valid in itself: SII refuses a re-cession whose first cession is not its record.
    sold, row = await registered(seller, sii, session, sii_access)
    source = session.get(DocumentSource, int(str(sold["id"])))
    assert source is not None
    person = people.seller
    terms = Terms(
        Party(SELLER, "VENDEDORA SPA", "Calle Larga 123, Santiago", "cobranza@vendedora.cl"),
        Party(FACTOR, ASSIGNEE["name"], ASSIGNEE["address"], ASSIGNEE["email"]),
        900_000,
        row.last_due_date,
        sii.acceptances.now().replace(microsecond=0) - timedelta(hours=1),
    )
    signer = Signer(person.key, person.certificate, person.holder_rut, person.holder_name)
    held = await hold(factor, build_aec(ceded_dte(source.content), terms, signer))

    response = await onwards(factor, held)
    assert response.status_code == 200, response.text
    follow_due(session, sii_access, Links("http://testserver"))

    shown = (await factor.get("/v1/getDocument", id=held["id"])).json()
    assert (shown["isCeded"], shown["cession"]["siiState"], shown["cession"]["siiCode"]) == (
        False,
        "rejected",
        "RCS",
    )
    assert "the cession is not valid" in shown["cession"]["siiMessage"]
    assert "no corresponde a la cesion registrada" in shown["cession"]["siiMessage"]
    assert len(sii.rtc.cessions((SELLER, 33, int(held["number"])))) == 1
