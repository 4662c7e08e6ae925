"""Who may cede for a company: the holder of the company's stored certificate must be a person SII lists as
authorized for it (SII's RTC upload answers STATUS 1 otherwise; its acceptance/claim service codResp 14).
The emulator applies SII's rule to its people; dtehub says whose certificate it is, for which company, and
what to do, and nothing is stored."""

from __future__ import annotations

import base64
from pathlib import Path

from sqlalchemy.orm import Session

from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from tests.conftest import Tenant, error_of
from tests.factoring.conftest import PASSWORD, SELLER, cede, cedible, cessions
from tests.sii.ws.conftest import BUYER_PERSON, OUTSIDER


async def certificate_of(tenant: Tenant, ws_data: Path, rut: str) -> None:
    """Store, for the company, the certificate of the person ``rut`` (known to the emulator)."""
    authority = TestCertificateAuthority.load_or_create(ws_data / "ca")
    pfx = authority.issue_person_certificate(rut=rut, name=f"Persona {rut}", password=PASSWORD.encode())
    body = {"certificate_pfx_base64": base64.b64encode(pfx).decode(), "certificate_password": PASSWORD}
    response = await tenant.post("/v1/updateCompanySiiCertificate", body)
    assert response.status_code == 200, response.text


async def test_a_person_sii_does_not_authorize_for_the_company_cannot_cede_its_invoice(
    seller: Tenant, sii: Emulator, session: Session, ws_data: Path
) -> None:
    document = await cedible(seller, sii)
    await certificate_of(seller, ws_data, OUTSIDER)  # a person SII knows, authorized for no company
    uploads, stored = sii.rtc.uploads, cessions(session)

    response = await cede(seller, document)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "sii_ws_not_authorized"
    assert (
        f"belongs to Persona {OUTSIDER} ({OUTSIDER}), whom SII does not list as authorized for {SELLER}"
        in (error["message"])
    )
    assert "store the certificate of a person authorized for the company at SII" in error["message"]
    assert (sii.rtc.uploads, cessions(session)) == (uploads, stored)

    check = (await seller.get("/v1/getDocumentCedibility", id=document["id"])).json()
    assert check["cedible"] is False
    reception = check["checks"]["siiReception"]
    assert (reception["status"], reception["source"]) == ("not_checked", "sii")
    [reason] = [r for r in check["reasons"] if r["check"] == "siiReception"]
    assert "updateCompanySiiCertificate" in reason["action"]


async def test_the_rtc_refuses_an_upload_by_someone_who_does_not_act_for_the_assignor(
    seller: Tenant, sii: Emulator, session: Session, ws_data: Path
) -> None:
    # The buyer's person may read the invoice at SII (its receiver's), so every check passes; SII's RTC
    # refuses the upload: that person does not act for the seller (STATUS 1).
    document = await cedible(seller, sii)
    await certificate_of(seller, ws_data, BUYER_PERSON)
    uploads, stored = sii.rtc.uploads, cessions(session)

    response = await cede(seller, document)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "sii_ws_not_authorized"
    assert error["message"].startswith(
        f"SII does not let {BUYER_PERSON} send cessions for {SELLER} (STATUS 1)"
    )
    assert "Envío de Documentos" in error["message"]
    assert (sii.rtc.uploads, cessions(session)) == (uploads, stored)
    shown = (await seller.get("/v1/getDocument", id=document["id"])).json()
    assert (shown["isCeded"], shown["cession"]) == (False, None)
