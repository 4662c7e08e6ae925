"""The factoring company's side: an AEC received makes the invoice a held document (createCesionFromXml),
listed, paid and shown like any other; an AEC that fails a check is refused with every failed check."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.factoring.acceptance import document_ref
from dtehub.models import Company, Document, DocumentHolding
from dtehub.sii.ws.reclamo import DocumentRef
from tests.conftest import Tenant, make_tenant
from tests.dte_factory import build_dte
from tests.factoring.aecs import DEBTOR, SELLER, TOTAL, aec_to

FACTORING_RUT = "77665544-9"
FIXTURES = Path(__file__).parent.parent / "fixtures"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def factoring(session: Session, client: httpx.AsyncClient, rut: str = FACTORING_RUT) -> Tenant:
    return make_tenant(session, client, rut, "FACTORING CAPITAL SPA")


async def hold(tenant: Tenant, data: bytes) -> dict[str, Any]:
    response = await tenant.post("/v1/createCesionFromXml", {"xml": b64(data)})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def refusal(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "aec_invalid"
    assert error["field"] == "xml"
    return error


def stored(session: Session, company_id: int) -> tuple[int, int]:
    documents = session.scalar(select(func.count()).where(Document.company_id == company_id))
    holdings = session.scalar(select(func.count()).where(DocumentHolding.company_id == company_id))
    return documents or 0, holdings or 0


async def test_a_valid_aec_makes_the_invoice_a_held_document(
    session: Session, client: httpx.AsyncClient
) -> None:
    tenant = factoring(session, client)
    answer = await hold(tenant, aec_to(FACTORING_RUT, 3001))

    document = answer["document"]
    assert document["held"] is True
    assert document["issuer"] == {"taxId": SELLER.rut, "name": "EMPRESA EMISORA SPA"}
    assert document["clientTaxId"] == DEBTOR
    assert document["number"] == "3001"
    assert document["code"] == 33
    assert document["total"] == f"{TOTAL}.00"
    assert document["amountDue"] == f"{TOTAL}.00"
    assert document["dueDate"] == "2026-12-27"
    assert document["xmlChecks"]["signature"] == "valid"
    checks = [(c["check"], c.get("part"), c["status"]) for c in answer["checks"]]
    assert ("signature", "DocumentoDTECedido", "passed") in checks
    assert ("signature", "DocumentoCesion 1", "passed") in checks
    assert ("signature", "DocumentoAEC", "passed") in checks
    assert ("chain", "holder", "passed") in checks

    client_of = await tenant.get("/v1/getClient", id=document["client"]["id"])
    assert client_of.json()["name"] == "COMPRADORA DEUDORA SA"
    assert stored(session, tenant.company_id) == (1, 1)


async def test_the_same_aec_again_answers_what_is_stored(session: Session, client: httpx.AsyncClient) -> None:
    tenant = factoring(session, client)
    data = aec_to(FACTORING_RUT, 3002)
    first = await hold(tenant, data)
    again = await hold(tenant, data)

    assert again["document"]["id"] == first["document"]["id"]
    assert stored(session, tenant.company_id) == (1, 1)
    other = await tenant.post(
        "/v1/createCesionFromXml", {"xml": b64(aec_to(FACTORING_RUT, 3002, amount=1000))}
    )
    assert other.status_code == 409, other.text


async def test_held_and_own_documents_share_folios_and_listings(
    session: Session, client: httpx.AsyncClient
) -> None:
    tenant = factoring(session, client)
    held = (await hold(tenant, aec_to(FACTORING_RUT, 3003)))["document"]
    own_xml = build_dte(33, 3003, FACTORING_RUT, "96790240-3", 50_000, issue_date=date(2026, 11, 28))
    own_response = await tenant.post("/v1/createDocumentFromXml", {"xml": b64(own_xml)})
    assert own_response.status_code == 200, own_response.text
    own = own_response.json()
    assert own["held"] is False
    assert own["issuer"] is None
    # Another seller's invoice with the same type and folio, ceded to the same company.
    another_seller = SELLER.__class__(
        "76111111-6", "OTRA VENDEDORA SPA", "Calle Corta 45, Santiago", "a@b.cl"
    )
    other_held = (await hold(tenant, aec_to(FACTORING_RUT, 3003, seller=another_seller)))["document"]

    async def listed(**params: object) -> list[str]:
        response = await tenant.get("/v1/getDocuments", **params)
        assert response.status_code == 200, response.text
        return sorted(item["id"] for item in response.json()["items"])

    assert await listed() == sorted([held["id"], own["id"], other_held["id"]])
    assert await listed(held=1) == sorted([held["id"], other_held["id"]])
    assert await listed(held=0) == [own["id"]]


async def test_a_held_document_is_paid_and_shown_like_any_other(
    session: Session, client: httpx.AsyncClient
) -> None:
    tenant = factoring(session, client)
    document = (await hold(tenant, aec_to(FACTORING_RUT, 3004)))["document"]

    payment = await tenant.post(
        "/v1/createPayment",
        {
            "date": "2026-12-10",
            "amount": 190_000,
            "clientId": document["client"]["id"],
            "documents": [{"id": document["id"], "amount": 190_000}],
        },
    )
    assert payment.status_code == 200, payment.text
    now = (await tenant.get("/v1/getDocument", id=document["id"])).json()
    assert now["amountDue"] == "1000000.00"
    assert now["paidAmount"] == "190000.00"
    assert now["held"] is True

    page = await client.get(document["url"].removeprefix("http://testserver"))
    assert page.status_code == 200, page.text
    assert (
        "Factura emitida por EMPRESA EMISORA SPA, RUT 76.399.752-9, cedida a FACTORING CAPITAL SPA"
        in page.text
    )
    pdf = await client.get(document["pdf"].removeprefix("http://testserver"))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


async def test_an_aec_with_a_tampered_amount_is_refused_with_each_failed_check(
    session: Session, client: httpx.AsyncClient
) -> None:
    tenant = factoring(session, client)
    data = aec_to(FACTORING_RUT, 3005, amount=1_000_000)
    tampered = data.replace(b"<MontoCesion>1000000</MontoCesion>", b"<MontoCesion>1100000</MontoCesion>")

    error = refusal(await tenant.post("/v1/createCesionFromXml", {"xml": b64(tampered)}))

    failed = [(d["check"], d["part"], d["status"]) for d in error["details"]]
    assert failed == [
        ("signature", "DocumentoCesion 1", "failed"),
        ("signature", "DocumentoAEC", "failed"),
    ]
    assert error["message"].startswith("the AEC does not hold (2 failed checks): ")
    assert stored(session, tenant.company_id) == (0, 0)


async def test_an_aec_ceded_to_another_company_is_refused(
    session: Session, client: httpx.AsyncClient
) -> None:
    tenant = factoring(session, client)
    error = refusal(await tenant.post("/v1/createCesionFromXml", {"xml": b64(aec_to("96790240-3", 3006))}))

    assert error["details"] == [
        {
            "check": "chain",
            "status": "failed",
            "part": "holder",
            "message": f"the last assignee is 96790240-3, not this company ({FACTORING_RUT}): "
            "the invoice is not yours",
        }
    ]
    assert stored(session, tenant.company_id) == (0, 0)


async def test_what_is_not_an_aec_is_refused(session: Session, client: httpx.AsyncClient) -> None:
    tenant = factoring(session, client)
    dte = build_dte(33, 3007, SELLER.rut, DEBTOR, 1000, issue_date=date(2026, 11, 27))
    error = refusal(await tenant.post("/v1/createCesionFromXml", {"xml": b64(dte)}))
    assert [d["check"] for d in error["details"]] == ["xml"]
    not_base64 = await tenant.post("/v1/createCesionFromXml", {"xml": "%%%"})
    assert not_base64.status_code == 400


async def test_an_aec_sii_registered_is_held_with_every_signature_reported(
    session: Session, client: httpx.AsyncClient
) -> None:
    tenant = factoring(session, client, "76389992-6")
    answer = await hold(tenant, (FIXTURES / "aec" / "AEC--76399752-9--33--25568--SEQ-1.xml").read_bytes())

    assert answer["document"]["issuer"]["taxId"] == "76399752-9"
    assert answer["document"]["number"] == "25568"
    signatures = {c["part"]: c for c in answer["checks"] if c["check"] == "signature"}
    assert set(signatures) == {"DocumentoDTECedido", "DocumentoCesion 1", "DocumentoAEC"}
    assert signatures["DocumentoCesion 1"]["signedForm"]["asFound"] is False
    assert all(c["status"] == "passed" for c in answer["checks"])


async def test_sii_is_asked_about_a_held_document_by_its_issuer(
    session: Session, client: httpx.AsyncClient
) -> None:
    tenant = factoring(session, client)
    document = (await hold(tenant, aec_to(FACTORING_RUT, 3009)))["document"]
    company = session.get(Company, tenant.company_id)
    row = session.get(Document, int(document["id"]))
    assert company is not None
    assert row is not None

    assert document_ref(company, row) == DocumentRef(SELLER.rut, 33, 3009)
