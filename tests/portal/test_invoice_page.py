"""The invoice page a document's ``url`` opens: what its customer reads on it."""

from __future__ import annotations

import base64
from datetime import date, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago
from dtehub.models import DocumentSource
from tests.conftest import Tenant
from tests.dte_factory import build_dte
from tests.notes import credit_xml, debit_xml, invoice_xml, note_xml
from tests.portal.helpers import (
    FACTURA,
    create_client,
    create_document,
    get_client,
    local,
    logo_png,
    mark_paid,
    open_page,
    text,
    upload,
)


async def test_the_page_of_a_real_invoice_shows_who_what_and_when(other_tenant: Tenant) -> None:
    document = await upload(other_tenant, FACTURA)

    page = await open_page(other_tenant.http, local(document["url"]))

    assert page.tree.get("lang") == "es"
    assert page.one("//h1") == "Factura electrónica N° 25568"
    assert page.one("//title") == "Factura electrónica N° 25568 · COMERCIALIZADORA INNOVA MOBEL SPA"
    assert page.one('//*[@class="brand-name"]') == "COMERCIALIZADORA INNOVA MOBEL SPA"
    assert page.one('//*[@class="brand-rut"]') == "RUT 76.399.752-9"
    assert page.one('//*[contains(@class, "badge")]') == "Vencida"  # due 28-04-2019 (30 days' term)
    assert page.facts("datos") == {
        "Emisor": "COMERCIALIZADORA INNOVA MOBEL SPA RUT 76.399.752-9",
        "Cliente": "EMPRESAS LA POLAR S.A. RUT 96.874.030-K",
        "Documento": "Factura electrónica N° 25568",
        "Fecha de emisión": "29-03-2019",
        "Fecha de vencimiento": "28-04-2019",
        "Estado": "Vencida",
    }
    assert page.table("Montos") == [
        ["Neto", "$ 194.111"],
        ["Impuestos", "$ 36.881"],
        ["Total", "$ 230.992"],
        ["Saldo por pagar", "$ 230.992"],
    ]
    assert page.texts('//dl[@class="figures"]/div') == [
        "Total $ 230.992",
        "Saldo por pagar $ 230.992",
        "Vencimiento 28-04-2019",
    ]
    assert "Aún no hay pagos registrados." in page.body
    assert "Este documento no tiene notas de crédito ni de débito." in page.body


async def test_downloads_offer_the_pdf_the_80mm_pdf_the_xml_and_the_cedible_copy(
    other_tenant: Tenant,
) -> None:
    document = await upload(other_tenant, FACTURA)
    key = document["url"].rsplit("/", 1)[1]
    base = f"/portal/showPdf/{document['id']}/{key}"

    page = await open_page(other_tenant.http, local(document["url"]))

    assert page.downloads() == {
        "Descargar PDF tamaño carta": (base, "DTE-33-25568.pdf"),
        "Descargar PDF 80 mm para impresora térmica": (f"{base}?format=80mm", "DTE-33-25568-80mm.pdf"),
        "Descargar XML el documento tributario electrónico": (
            f"/portal/downloadInvoiceXml/{document['id']}/{key}",
            "DTE-33-25568.xml",
        ),
        "Descargar Copia CEDIBLE para ceder la factura": (f"{base}?cedible=1", "DTE-33-25568-CEDIBLE.pdf"),
    }
    # The page's links are the API's: the pdf and xml a document answers open the same files.
    assert local(document["pdf"]) == base
    assert local(document["xml"]) == f"/portal/downloadInvoiceXml/{document['id']}/{key}"


async def test_a_document_created_by_fields_offers_no_xml_and_no_cedible_copy(tenant: Tenant) -> None:
    client = await create_client(tenant, "FERRETERÍA LOS ÁLAMOS LTDA", "77.111.222-6")
    document = await create_document(
        tenant, client["id"], "A-77", code=None, currency="USD", total="1234.56", taxes="0",
        issueDate="2024-05-02", dueDate="2024-06-01", gloss="Servicios de mayo", purchaseOrder="OC-991",
    )  # fmt: skip

    page = await open_page(tenant.http, local(document["url"]))

    assert page.one("//h1") == "Documento N° A-77"
    assert list(page.downloads()) == [
        "Descargar PDF tamaño carta",
        "Descargar PDF 80 mm para impresora térmica",
    ]
    assert page.downloads()["Descargar PDF tamaño carta"][1] == "Documento-A-77.pdf"
    assert page.table("Montos") == [
        ["Neto", "US$ 1.234,56"],
        ["Impuestos", "US$ 0,00"],
        ["Total", "US$ 1.234,56"],
        ["Saldo por pagar", "US$ 1.234,56"],
    ]
    assert page.facts("datos")["Cliente"] == "FERRETERÍA LOS ÁLAMOS LTDA RUT 77.111.222-6"
    assert page.facts("datos")["Fecha de emisión"] == "02-05-2024"
    assert page.facts("observaciones") == {"Glosa": "Servicios de mayo", "Orden de compra": "OC-991"}


async def test_a_boleta_has_no_cedible_copy(tenant: Tenant) -> None:
    document = await upload(tenant, invoice_xml(tenant, 9001, 5000, code=39))

    page = await open_page(tenant.http, local(document["url"]))

    assert page.one("//h1") == "Boleta electrónica N° 9001"
    assert [name for name in page.downloads() if "CEDIBLE" in name] == []
    assert "Descargar XML el documento tributario electrónico" in page.downloads()


async def test_credit_and_debit_notes_are_listed_with_their_own_files(tenant: Tenant) -> None:
    invoice = await upload(tenant, invoice_xml(tenant, 700, 119_000))
    credit = await upload(tenant, credit_xml(tenant, 31, 19_000, 700, reason_text="Descuento"))
    debit = await upload(tenant, debit_xml(tenant, 32, 2_380, 700, reason_text="Flete"))
    text_fix = await upload(tenant, note_xml(tenant, 61, 33, 0, ref_folio=700, reason=2, reason_text="Giro"))

    page = await open_page(tenant.http, local(invoice["url"]))

    assert page.table("Notas que modifican") == [
        ["Nota de crédito electrónica N° 31", "10-01-2024", "Corrige montos", "−$ 19.000", "PDF XML"],
        ["Nota de débito electrónica N° 32", "10-01-2024", "Corrige montos", "+$ 2.380", "PDF XML"],
        ["Nota de crédito electrónica N° 33", "10-01-2024", "Corrige texto", "$ 0", "PDF XML"],
    ]
    assert page.table("Montos")[-3:] == [
        ["Notas de crédito", "−$ 19.000"],
        ["Notas de débito", "+$ 2.380"],
        ["Saldo por pagar", "$ 102.380"],
    ]
    links = page.links()
    for note, number, kind in ((credit, 31, "crédito"), (debit, 32, "débito"), (text_fix, 33, "crédito")):
        label = f"de la nota de {kind} electrónica N° {number}"
        assert links[f"PDF {label}"] == local(note["pdf"])
        assert links[f"XML {label}"] == local(note["xml"])


async def test_a_note_to_another_customer_never_shows_on_this_customers_page(tenant: Tenant) -> None:
    """A note names its invoice by type and folio only; a mistaken folio must not show one customer's
    note (its number, amount, and links to a PDF with that customer's name) to another."""
    invoice = await upload(tenant, invoice_xml(tenant, 710, 119_000))
    await upload(tenant, credit_xml(tenant, 51, 19_000, 710, receiver="11111111-1"))

    page = await open_page(tenant.http, local(invoice["url"]))

    assert "N° 51" not in page.response.text
    assert "showNotePdf" not in page.response.text


async def test_a_payment_shows_the_amount_and_date_and_the_status_turns_paid(
    tenant: Tenant, session: Session
) -> None:
    invoice = await upload(tenant, invoice_xml(tenant, 701, 59_500, due_date=date(2024, 2, 9)))
    mark_paid(session, invoice["id"], date(2024, 2, 5))

    page = await open_page(tenant.http, local(invoice["url"]))

    assert page.one('//*[contains(@class, "badge")]') == "Pagada"
    assert page.table("Pagos recibidos") == [["05-02-2024", "$ 59.500"]]
    assert page.table("Montos")[-2:] == [["Pagado", "−$ 59.500"], ["Saldo por pagar", "$ 0"]]


async def test_statuses_read_as_the_customer_expects(tenant: Tenant) -> None:
    today = today_in_santiago()
    due_today = await upload(tenant, invoice_xml(tenant, 702, 1190, due_date=today))
    due_yesterday = await upload(tenant, invoice_xml(tenant, 703, 1190, due_date=today - timedelta(days=1)))
    voided = await upload(tenant, invoice_xml(tenant, 704, 1190))
    await upload(tenant, credit_xml(tenant, 40, 100, 704, reason=1, reason_text="Anula factura"))

    seen = {}
    for document in (due_today, due_yesterday, voided):
        page = await open_page(tenant.http, local(document["url"]))
        seen[document["number"]] = (
            page.one('//*[contains(@class, "badge")]'),
            page.table("Montos")[-1],
        )

    assert seen == {
        "702": ("Por vencer", ["Saldo por pagar", "$ 1.190"]),
        "703": ("Vencida", ["Saldo por pagar", "$ 1.190"]),
        "704": ("Anulada", ["Saldo por pagar", "$ 0"]),  # nothing is owed on a voided invoice
    }


async def test_the_page_does_not_open_the_customers_other_documents(tenant: Tenant) -> None:
    """An invoice link travels (to a factoring company, an accountant): it opens that invoice only."""
    document = await upload(tenant, invoice_xml(tenant, 705, 1190))
    client = await get_client(tenant, document["client"]["id"])

    page = await open_page(tenant.http, local(document["url"]))

    assert local(client["url"]) not in page.response.text
    assert [href for href in page.links().values() if "/portal/client/" in href] == []


async def test_the_page_lists_the_dtes_detail_lines_not_their_flat_text(tenant: Tenant) -> None:
    content = build_dte(
        33, 708, tenant.rut, "99999999-9", 11900, issue_date=date(2024, 1, 10),
        lines=[("Servicio de aseo", 6000), ("Insumos", 4000)],
    )  # fmt: skip
    document = await upload(tenant, content)

    page = await open_page(tenant.http, local(document["url"]))

    assert page.table("Lo que este documento cobra") == [
        ["Servicio de aseo", "1", "$ 6.000", "$ 6.000"],
        ["Insumos", "1", "$ 4.000", "$ 4.000"],
    ]
    assert "LINEAS DETALLE" not in page.response.text


async def test_the_logo_is_inline_and_nothing_comes_from_elsewhere(tenant: Tenant) -> None:
    response = await tenant.post("/v1/updateCompanyLogo", {"content": base64.b64encode(logo_png()).decode()})
    assert response.status_code == 200, response.text
    document = await upload(tenant, invoice_xml(tenant, 706, 1190))

    page = await open_page(tenant.http, local(document["url"]))

    (logo,) = page.tree.xpath("//header//img")
    assert logo.get("src").startswith("data:image/png;base64,")
    assert base64.b64decode(logo.get("src").split(",", 1)[1]).startswith(b"\x89PNG")
    (stylesheet,) = page.tree.xpath('//link[@rel="stylesheet"]')
    assert stylesheet.get("href").startswith("/portal/static/portal.css?v=")
    addresses = page.tree.xpath("//@href | //@src | //@action")
    assert [a for a in addresses if not a.startswith(("/portal/", "#", "data:"))] == []
    assert page.tree.xpath("//script | //@style | //style | //iframe | //form") == []


async def test_what_a_caller_wrote_is_shown_as_text_never_as_markup(tenant: Tenant) -> None:
    client = await create_client(tenant, '<script>alert("x")</script> & Cía', "11.111.111-1")
    document = await create_document(tenant, client["id"], "<b>1</b>", notes="<img src=x onerror=alert(1)>")

    page = await open_page(tenant.http, local(document["url"]))

    assert page.tree.xpath("//script | //b | //img") == []
    assert page.facts("datos")["Cliente"] == '<script>alert("x")</script> & Cía RUT 11.111.111-1'
    assert page.facts("observaciones")["Observaciones"] == "<img src=x onerror=alert(1)>"
    assert "&lt;script&gt;" in page.response.text


async def test_the_page_reads_on_its_own_without_the_stylesheet(tenant: Tenant) -> None:
    """Accessibility: one h1, a skip link to the main content, labelled tables and sections."""
    document = await upload(tenant, invoice_xml(tenant, 707, 1190))
    await upload(tenant, credit_xml(tenant, 41, 190, 707))

    page = await open_page(tenant.http, local(document["url"]))

    assert len(page.tree.xpath("//h1")) == 1
    (skip,) = page.tree.xpath('//a[@class="skip-link"]')
    assert (skip.get("href"), text(skip)) == ("#contenido", "Saltar al contenido")
    assert page.tree.xpath("//main/@id") == ["contenido"]
    assert page.tree.xpath('//meta[@name="viewport"]/@content') == ["width=device-width, initial-scale=1"]
    for table in page.tree.xpath("//table"):
        assert text(table.find("caption"))
        assert all(th.get("scope") in ("col", "row") for th in table.xpath(".//th"))
    for section in page.tree.xpath("//section"):
        assert page.tree.xpath(f'//*[@id="{section.get("aria-labelledby")}"]')


async def test_an_exempt_amount_is_shown_apart_from_the_net(tenant: Tenant) -> None:
    content = build_dte(
        33, 709, tenant.rut, "99999999-9", 13900, issue_date=date(2024, 1, 10), net=10000, exempt=2000,
        lines=[("Servicio afecto", 10000), ("Servicio exento", 2000)],
    )  # fmt: skip
    document = await upload(tenant, content)

    page = await open_page(tenant.http, local(document["url"]))

    assert document["net"] == "12000.00"  # MntNeto + MntExe, as Duemint's net
    assert page.table("Montos")[:4] == [
        ["Neto", "$ 10.000"],
        ["Exento", "$ 2.000"],
        ["Impuestos", "$ 1.900"],
        ["Total", "$ 13.900"],
    ]


async def test_fields_stored_in_another_shape_leave_the_page_without_its_detail(
    tenant: Tenant, session: Session
) -> None:
    content = build_dte(
        33, 710, tenant.rut, "99999999-9", 13900, issue_date=date(2024, 1, 10), net=10000, exempt=2000
    )
    document = await upload(tenant, content)
    session.execute(
        update(DocumentSource)
        .where(DocumentSource.document_id == int(document["id"]))
        .values(fields={"lines": [{"name": "no amount"}], "totals": "none"})
    )

    page = await open_page(tenant.http, local(document["url"]))

    assert page.one("//h1") == "Factura electrónica N° 710"
    assert [row[0] for row in page.table("Montos")] == ["Neto", "Impuestos", "Total", "Saldo por pagar"]
    assert "Lo que este documento cobra" not in page.body
