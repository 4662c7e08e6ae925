"""The files behind a document's and a note's links: the PDF (letter, 80 mm, CEDIBLE), shown inline,
and the XML exactly as it was received."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import httpx
import pypdf
import pytest

from dtehub.app import create_app
from dtehub.companies.service import print_settings
from dtehub.config import Settings
from dtehub.portal import service as portal_service
from tests.conftest import Tenant, served
from tests.dte_factory import build_dte
from tests.notes import credit_xml, invoice_xml
from tests.portal.helpers import (
    FACTURA,
    Page,
    assert_portal_headers,
    create_client,
    create_document,
    local,
    upload,
)


def pdf_of(response: httpx.Response, filename: str) -> pypdf.PdfReader:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="{filename}"'
    assert_portal_headers(response)
    return pypdf.PdfReader(io.BytesIO(response.content))


def words(reader: pypdf.PdfReader) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


async def test_the_pdf_of_a_real_invoice_in_letter_size(other_tenant: Tenant) -> None:
    document = await upload(other_tenant, FACTURA)

    reader = pdf_of(await other_tenant.http.get(local(document["pdf"])), "DTE-33-25568.pdf")

    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (612, 792)  # 8.5 × 11 in
    printed = words(reader)
    assert "25568" in printed
    assert "COMERCIALIZADORA INNOVA MOBEL SPA" in printed
    assert "CEDIBLE" not in printed


async def test_the_80mm_pdf_is_a_narrow_roll(other_tenant: Tenant) -> None:
    document = await upload(other_tenant, FACTURA)

    response = await other_tenant.http.get(local(document["pdf"]) + "?format=80mm")

    reader = pdf_of(response, "DTE-33-25568-80mm.pdf")
    width = float(reader.pages[0].mediabox[2])
    assert round(width / 72 * 25.4) == 80
    assert "25568" in words(reader)


@pytest.mark.parametrize("query", ["?cedible=1", "?cedible=1&format=letter"])
async def test_the_cedible_copy_says_so(other_tenant: Tenant, query: str) -> None:
    document = await upload(other_tenant, FACTURA)

    reader = pdf_of(await other_tenant.http.get(local(document["pdf"]) + query), "DTE-33-25568-CEDIBLE.pdf")

    assert "CEDIBLE" in words(reader)


async def test_cedible_0_is_the_ordinary_copy(other_tenant: Tenant) -> None:
    document = await upload(other_tenant, FACTURA)

    reader = pdf_of(
        await other_tenant.http.get(local(document["pdf"]) + "?cedible=0&format=letter"), "DTE-33-25568.pdf"
    )

    assert "CEDIBLE" not in words(reader)
    assert "FACTURA ELECTRÓNICA" in words(reader)


async def test_a_type_that_cannot_be_ceded_has_no_cedible_copy(tenant: Tenant) -> None:
    boleta = await upload(tenant, invoice_xml(tenant, 9001, 5000, code=39))

    response = await tenant.http.get(local(boleta["pdf"]) + "?cedible=1")

    # 404, not 400: cedible=1 is a value the link takes (as /openapi.json says); this copy does not exist.
    assert response.status_code == 404
    assert_portal_headers(response)
    assert Page(response).one('//p[@class="lead"]') == (
        "Un documento de tipo boleta electrónica no tiene copia CEDIBLE: "
        "solo las facturas y guías de despacho se pueden ceder."
    )


async def test_a_document_created_by_fields_prints_a_summary(tenant: Tenant) -> None:
    client = await create_client(tenant, "FERRETERÍA LOS ÁLAMOS LTDA", "77.111.222-6")
    document = await create_document(tenant, client["id"], "4410", total="96272", taxes="15371")

    letter = pdf_of(await tenant.http.get(local(document["pdf"])), "DTE-33-4410.pdf")
    roll = pdf_of(await tenant.http.get(local(document["pdf"]) + "?format=80mm"), "DTE-33-4410-80mm.pdf")

    for reader in (letter, roll):
        printed = words(reader)
        assert "4410" in printed
        assert "96.272" in printed
        assert "FERRETERÍA LOS ÁLAMOS LTDA" in printed
    cedible = await tenant.http.get(local(document["pdf"]) + "?cedible=1&format=letter")
    assert cedible.status_code == 404
    assert "XML" in Page(cedible).one('//p[@class="lead"]')


async def test_a_notes_pdf_and_xml(tenant: Tenant) -> None:
    await upload(tenant, invoice_xml(tenant, 100, 1190))
    content = credit_xml(tenant, 7, 190, 100)
    note = await upload(tenant, content)

    reader = pdf_of(await tenant.http.get(local(note["pdf"])), "DTE-61-7.pdf")
    roll = pdf_of(await tenant.http.get(local(note["pdf"]) + "?format=80mm"), "DTE-61-7-80mm.pdf")
    xml = await tenant.http.get(local(note["xml"]))
    cedible = await tenant.http.get(local(note["pdf"]) + "?cedible=1")

    assert "NOTA DE CRÉDITO" in words(reader).upper()
    assert round(float(roll.pages[0].mediabox[2]) / 72 * 25.4) == 80
    assert xml.status_code == 200
    assert xml.content == content
    assert xml.headers["content-type"] == "application/xml"
    assert xml.headers["content-disposition"] == 'attachment; filename="DTE-61-7.xml"'
    assert_portal_headers(xml)
    assert cedible.status_code == 404
    assert Page(cedible).one('//p[@class="lead"]') == "Las notas de crédito y débito no tienen copia CEDIBLE."


async def test_the_invoice_xml_is_the_stored_file_byte_for_byte(other_tenant: Tenant) -> None:
    document = await upload(other_tenant, FACTURA)

    response = await other_tenant.http.get(local(document["xml"]))

    assert response.status_code == 200
    assert response.content == FACTURA
    assert response.headers["content-disposition"] == 'attachment; filename="DTE-33-25568.xml"'
    assert_portal_headers(response)


async def test_pdfs_are_printed_with_the_connection_back_in_the_pool(
    settings: Settings, committed_company: tuple[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Printing takes tens of milliseconds and no database: a request holds no connection while it prints.
    company_id, token = committed_company
    app = create_app(settings)
    pool = app.state.engine.pool
    checked_out: dict[str, int] = {}

    def watched(name: str, render: Callable[..., bytes]) -> Callable[..., bytes]:
        def printing(*args: object, **kwargs: object) -> bytes:
            checked_out[name] = pool.checkedout()
            return render(*args, **kwargs)

        return printing

    def settings_read(session: object, company: object) -> object:
        checked_out["reading"] = pool.checkedout()
        return print_settings(session, company)

    monkeypatch.setattr(portal_service, "render_dte_pdf", watched("dte", portal_service.render_dte_pdf))
    monkeypatch.setattr(
        portal_service, "render_summary_pdf", watched("fields", portal_service.render_summary_pdf)
    )
    monkeypatch.setattr(portal_service.companies_service, "print_settings", settings_read)

    async with served(app) as http:
        rut = (await http.get("/v1/getCompany", headers={"Authorization": f"Bearer {token}"})).json()["rut"]
        tenant = Tenant(company_id, rut, token, http)
        from_xml = await upload(
            tenant, build_dte(33, 501, rut, "96874030-K", 1190, issue_date=date(2024, 1, 2))
        )
        client = await create_client(tenant, "Deli", "99.999.999-9")
        by_fields = await create_document(tenant, client["id"], "502")
        printed = [await http.get(local(document["pdf"])) for document in (from_xml, by_fields)]

    assert [p.content[:5] for p in printed] == [b"%PDF-", b"%PDF-"]
    # Read with the request's connection; printed once it went back.
    assert checked_out == {"reading": 1, "dte": 0, "fields": 0}
