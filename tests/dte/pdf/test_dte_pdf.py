"""A DTE printed as SII requires: what a person reads on it, and what a scanner reads in its timbre."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from datetime import date

import pytest
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from dtehub.dte.pdf import IssuerPrintSettings, Paper, PrintError, render_dte_pdf
from tests.dte.pdf.documents import (
    CREDIT_NOTE,
    CREDIT_NOTE_CLEANED,
    INVOICE,
    INVOICE_CLEANED,
    REAL_DTES,
    SETTINGS,
    UNSTAMPED,
    fixture,
    logo_png,
    many_lines,
    rich_invoice,
)
from tests.dte.pdf.pdfs import LETTER, ROLL_WIDTH, images, pages, payload, scan, sizes, text
from tests.dte_factory import build_dte

LEGAL_LEGENDS = ("Timbre Electrónico SII", "Res. 80 de 2014", "Verifique documento: www.sii.cl")
ACUSE = (
    "El acuse de recibo que se declara en este acto, de acuerdo a lo dispuesto en la letra b) del Art. 4°, "
    "y la letra c) del Art. 5° de la Ley 19.983, acredita que la entrega de mercaderías o servicio(s) "
    "prestado(s) ha(n) sido recibido(s)."
)
CM = 72 / 2.54


def with_logo(settings: IssuerPrintSettings, png: bytes) -> IssuerPrintSettings:
    return dataclasses.replace(settings, logo_png=png, logo_sha256=hashlib.sha256(png).hexdigest())


# --- the real documents ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [INVOICE, INVOICE_CLEANED])
@pytest.mark.parametrize("paper", list(Paper))
def test_the_invoice_shows_what_sii_requires(name: str, paper: Paper) -> None:
    shown = text(render_dte_pdf(fixture(name), SETTINGS, paper=paper))

    # The red box and the office under it.
    for expected in ("R.U.T.: 76.399.752-9", "FACTURA ELECTRÓNICA", "N° 25568", "S.I.I. - SANTIAGO CENTRO"):
        assert expected in shown
    # Issuer.
    for expected in (
        "COMERCIALIZADORA INNOVA MOBEL SPA",
        "COMERCIALIZACION DE PRODUCTOS PARA EL HOGAR",
        "LOS CIPRESES 2834, LA PINTANA, SANTIAGO",
        "87 472133",
        "ANGEL.PEZO@APCASESORIAS.CL",
    ):
        assert expected in shown
    # Receiver, with the RUT as people write it.
    for expected in ("EMPRESAS LA POLAR S.A.", "96.874.030-K", "HUECHURABA", "N° Lote Despacho: 20921554"):
        assert expected in shown
    assert "Crédito" in shown  # FmaPago 2
    # The line, the totals, the reference (an orden de compra).
    for expected in ("19586316", "JUEGO_LIVI - CHOCOLATE", "ROMA 3.1.1", "194.111", "UN"):
        assert expected in shown
    for expected in ("Neto $ 194.111", "IVA 19% $ 36.881", "Total $ 230.992"):
        assert expected in shown
    assert "Orden de compra" in shown
    assert "638370" in shown
    for legend in LEGAL_LEGENDS:
        assert legend in shown
    assert "CEDIBLE" not in shown


def test_letter_dates_are_in_words_and_the_roll_s_are_short() -> None:
    letter = text(render_dte_pdf(fixture(INVOICE), SETTINGS))
    roll = text(render_dte_pdf(fixture(INVOICE), SETTINGS, paper=Paper.ROLL_80MM))
    assert "29 de marzo de 2019" in letter
    assert "28 de marzo de 2019" in letter  # the reference's date
    assert "29-03-2019" in roll
    assert "28-03-2019" in roll


@pytest.mark.parametrize("name", [CREDIT_NOTE, CREDIT_NOTE_CLEANED])
@pytest.mark.parametrize("paper", list(Paper))
def test_a_credit_note_prints_like_an_invoice_with_its_reference(name: str, paper: Paper) -> None:
    shown = text(render_dte_pdf(fixture(name), SETTINGS, paper=paper))
    for expected in (
        "R.U.T.: 96.670.340-7",
        "NOTA DE CRÉDITO ELECTRÓNICA",
        "N° 110616",
        "Bata Chile S.A.",
        "Sucursal: Camino a Melipilla N",
        "Comercializadora S.A",
        "81.675.600-6",
        "Comision Corner",
        "Comision Venta Corner Hites Julio 2019",
        "48.190.822",
        "Neto $ 48.190.822",
        "IVA 19% $ 9.156.256",
        "Total $ 57.347.078",
        "Valor a pagar $ 57.347.078",
        # The reference: the invoice it corrects, and why.
        "Factura electrónica",
        "115885",
        "Corrige montos - Comision venta corner Hites",
        *LEGAL_LEGENDS,
    ):
        assert expected in shown, expected


@pytest.mark.parametrize("name", REAL_DTES)
@pytest.mark.parametrize("paper", list(Paper))
def test_a_scanner_reads_the_timbre_exactly(name: str, paper: Paper) -> None:
    content = fixture(name)
    pdf = render_dte_pdf(content, SETTINGS, paper=paper)
    scanned = scan(pdf)
    assert [symbol.content for symbol in scanned] == [payload(content)]


def test_the_timbre_keeps_within_sii_s_sizes_on_letter() -> None:
    [symbol] = scan(render_dte_pdf(fixture(INVOICE), SETTINGS))
    assert 5 * CM <= symbol.width_pt <= 9 * CM
    assert 2 * CM <= symbol.height_pt <= 4 * CM


def test_the_roll_s_timbre_is_narrower_and_fits_the_printable_width() -> None:
    [letter] = scan(render_dte_pdf(fixture(INVOICE), SETTINGS))
    [roll] = scan(render_dte_pdf(fixture(INVOICE), SETTINGS, paper=Paper.ROLL_80MM))
    assert roll.width_pt < letter.width_pt
    assert roll.width_pt <= 72 / 25.4 * 72


def test_the_timbre_still_scans_at_a_printer_s_lower_resolution() -> None:
    content = fixture(CREDIT_NOTE)
    for paper in Paper:
        pdf = render_dte_pdf(content, SETTINGS, paper=paper)
        assert [symbol.content for symbol in scan(pdf, dpi=200)] == [payload(content)]


# --- paper -----------------------------------------------------------------------------------------------


def test_letter_is_letter_and_the_roll_is_80_mm_wide_and_as_long_as_its_content() -> None:
    assert sizes(render_dte_pdf(fixture(INVOICE), SETTINGS)) == [LETTER]
    short = sizes(render_dte_pdf(fixture(INVOICE), SETTINGS, paper=Paper.ROLL_80MM))
    long = sizes(render_dte_pdf(many_lines(), SETTINGS, paper=Paper.ROLL_80MM))
    assert len(short) == len(long) == 1
    assert short[0][0] == pytest.approx(ROLL_WIDTH, abs=0.01)
    assert long[0][0] == pytest.approx(ROLL_WIDTH, abs=0.01)
    assert long[0][1] > short[0][1] + 60 * 8  # sixty lines make the roll longer


def test_sixty_lines_run_over_letter_pages_with_the_timbre_on_the_last() -> None:
    content = many_lines(60)
    pdf = render_dte_pdf(content, SETTINGS, cedible=True)
    texts = pages(pdf)
    count = len(texts)
    assert count >= 2
    assert sizes(pdf) == [LETTER] * count
    for number, page in enumerate(texts, 1):
        assert f"Página {number} de {count}" in page
    # Every line once, in order.
    shown = " ".join(texts)
    positions = [shown.index(f"Producto número {n} ") for n in range(1, 61)]
    assert positions == sorted(positions)
    assert all(shown.count(f"Producto número {n} ") == 1 for n in range(1, 61))
    # The header once, continuation pages still say which document they belong to.
    assert "S.I.I. - SANTIAGO CENTRO" in texts[0]
    for page in texts[1:]:
        assert "S.I.I. -" not in page
        assert "FACTURA ELECTRÓNICA N° 4101" in page
        assert "R.U.T.: 76.453.707-6" in page
    # Totals, timbre and the CEDIBLE copy's parts on the last page only.
    for expected in ("Total $ 2.177.700", *LEGAL_LEGENDS, "CEDIBLE", "Recinto:"):
        assert expected in texts[-1]
        assert all(expected not in page for page in texts[:-1])
    assert [symbol.content for symbol in scan(pdf, page=count - 1)] == [payload(content)]
    assert all(scan(pdf, page=page) == [] for page in range(count - 1))


# --- CEDIBLE -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("paper", list(Paper))
def test_a_cedible_copy_carries_the_word_and_the_acuse_de_recibo(paper: Paper) -> None:
    content = fixture(INVOICE)
    pdf = render_dte_pdf(content, SETTINGS, paper=paper, cedible=True)
    shown = text(pdf)
    assert "CEDIBLE" in shown
    assert "CEDIBLE CON SU FACTURA" not in shown
    for label in ("Nombre:", "R.U.T.:", "Fecha:", "Recinto:", "Firma:"):
        assert label in shown
    assert ACUSE in shown
    assert [symbol.content for symbol in scan(pdf)] == [payload(content)]


def test_a_guia_s_cedible_copy_goes_with_its_invoice() -> None:
    shown = text(render_dte_pdf(rich_invoice(code=52, folio=12), SETTINGS, cedible=True))
    assert "GUÍA DE DESPACHO ELECTRÓNICA" in shown
    assert "CEDIBLE CON SU FACTURA" in shown


@pytest.mark.parametrize("name", [CREDIT_NOTE, CREDIT_NOTE_CLEANED])
def test_a_credit_note_has_no_cedible_copy(name: str) -> None:
    with pytest.raises(PrintError) as caught:
        render_dte_pdf(fixture(name), SETTINGS, cedible=True)
    assert caught.value.code == "not_cedible"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("code", [56, 61, 110, 111, 112])
def test_notes_and_exports_cannot_be_ceded(code: int) -> None:
    content = build_dte(code, 9, "76453707-6", "96874030-K", 119000, issue_date=date(2024, 1, 2))
    with pytest.raises(PrintError) as caught:
        render_dte_pdf(content, SETTINGS, cedible=True)
    assert caught.value.code == "not_cedible"


# --- what the fixtures lack --------------------------------------------------------------------------------


@pytest.mark.parametrize("paper", list(Paper))
def test_lines_discounts_taxes_and_references_are_all_printed(paper: Paper) -> None:
    content = rich_invoice()
    pdf = render_dte_pdf(content, SETTINGS, paper=paper)
    shown = text(pdf)
    for expected in (
        # Lines: code, name, description, quantity and unit, unit price, discount %, surcharge, amount.
        "SKU-1",
        "Silla ergonómica",
        "Respaldo de malla",
        "50.000",
        "10%",
        "90.000",
        "SKU-2",
        "Escritorio",
        "120.000",
        "5.000",
        "125.000",
        # A global discount, its total, the additional tax by its name.
        "Descuento global 10%: Cliente frecuente",
        "-$ 21.500",
        "Neto $ 193.500",
        "IVA 19% $ 36.765",
        "IVA retenido total 19% $ 1.000",
        "Total $ 229.265",
        # Due date and payment form; references with their reason.
        "Crédito",
        "Orden de compra",
        "OC-99",
        "Factura electrónica",
        "1200",
        "Corrige montos - Corrige montos de la factura",
    ):
        assert expected in shown, expected
    assert [symbol.content for symbol in scan(pdf)] == [payload(content)]


def test_due_date_is_printed() -> None:
    shown = text(render_dte_pdf(rich_invoice(), SETTINGS))
    assert "Vencimiento: 14 de abril de 2024" in shown
    assert "Fecha de emisión: 15 de marzo de 2024" in shown


def test_text_the_fonts_lack_is_replaced_not_fatal() -> None:
    shown = text(render_dte_pdf(rich_invoice(), SETTINGS))
    assert "CLIENTE ÑANDÚ ?? LIMITADA" in shown


def test_markup_in_the_xml_is_printed_as_text() -> None:
    hostile = "<b>ACME</b> &amp; (Hnos.) \\ <font size=90>"
    content = build_dte(
        33, 10, "76453707-6", "96874030-K", 119000, issue_date=date(2024, 1, 2), receiver_name=hostile
    )
    assert hostile in text(render_dte_pdf(content, SETTINGS))


@pytest.mark.parametrize("paper", list(Paper))
def test_long_texts_are_cut_with_an_ellipsis_inside_the_page(paper: Paper) -> None:
    content = build_dte(
        33,
        11,
        "76453707-6",
        "96874030-K",
        119000,
        issue_date=date(2024, 1, 2),
        receiver_name="R" * 400,
        issuer_name="EMISORA " * 60,
        lines=[("N" * 900 + " " + "palabra " * 200, 100000)],
    )
    pdf = render_dte_pdf(content, SETTINGS, paper=paper)
    assert "…" in text(pdf)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    # Letter keeps half-inch margins; a thermal printer prints the middle 72 mm of its 80.
    margin = 36 if paper == Paper.LETTER else 4 / 25.4 * 72
    right_edge = float(page.mediabox.width) - margin
    overflowing: list[str] = []
    seen: list[str] = []

    def visit(shown: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        shown = shown.strip()
        if not shown or font is None:
            return
        seen.append(shown)
        name = str(font.get("/BaseFont"))[1:]  # type: ignore[attr-defined]
        left = tm[4] + cm[4]
        right = left + stringWidth(shown, name, size)
        if left < margin - 0.01 or right > right_edge + 0.01:
            overflowing.append(shown)

    page.extract_text(visitor_text=visit)
    assert len(seen) > 20
    assert overflowing == []


# --- no timbre, unreadable content ---------------------------------------------------------------------


@pytest.mark.parametrize("paper", list(Paper))
def test_a_dte_without_timbre_says_so_where_the_barcode_goes(paper: Paper) -> None:
    pdf = render_dte_pdf(fixture(UNSTAMPED), SETTINGS, paper=paper)
    shown = text(pdf)
    assert "Documento sin timbre electrónico" in shown
    assert "Timbre Electrónico SII" not in shown
    assert scan(pdf) == []
    for expected in ("DUEMINT SPA", "R.U.T.: 76.453.707-6", "N° 696", "CLIENTE EJEMPLO", "Total $ 96.272"):
        assert expected in shown
    assert "80.900,67" in shown  # the unit price, with its decimals


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not xml at all",
        b"<Documento><Encabezado/></Documento>",
        b'<?xml version="1.0"?><!DOCTYPE DTE [<!ENTITY x "y">]><DTE>&x;</DTE>',
        b"<DTE><Documento><Encabezado><IdDoc><TipoDTE>33</TipoDTE></IdDoc></Encabezado></Documento></DTE>",
    ],
    ids=["empty", "not-xml", "bare-documento", "doctype", "no-folio"],
)
def test_content_that_is_not_a_dte_is_refused(content: bytes) -> None:
    with pytest.raises(PrintError) as caught:
        render_dte_pdf(content, SETTINGS)
    assert caught.value.code == "dte_unreadable"


def test_an_envelope_of_two_dtes_is_refused() -> None:
    one = fixture(UNSTAMPED)
    envelope = b"<SetDTE>" + one + one + b"</SetDTE>"
    with pytest.raises(PrintError) as caught:
        render_dte_pdf(envelope, SETTINGS)
    assert caught.value.code == "dte_unreadable"


# --- settings, logo, determinism -------------------------------------------------------------------------


def test_without_resolution_or_office_the_legends_say_nothing_false() -> None:
    shown = text(render_dte_pdf(fixture(INVOICE), IssuerPrintSettings()))
    assert "Res." not in shown
    assert "S.I.I." in shown
    assert "Timbre Electrónico SII" in shown


@pytest.mark.parametrize("paper", list(Paper))
def test_the_logo_is_drawn_when_given_and_only_then(paper: Paper) -> None:
    content = fixture(INVOICE)
    assert images(render_dte_pdf(content, SETTINGS, paper=paper)) == 0
    assert images(render_dte_pdf(content, with_logo(SETTINGS, logo_png()), paper=paper)) == 1
    assert images(render_dte_pdf(content, with_logo(SETTINGS, logo_png((40, 200))), paper=paper)) == 1


def test_a_logo_that_cannot_be_decoded_is_left_out() -> None:
    settings = with_logo(SETTINGS, b"\x89PNG\r\n\x1a\n not really")
    pdf = render_dte_pdf(fixture(INVOICE), settings)
    assert images(pdf) == 0
    assert "FACTURA ELECTRÓNICA" in text(pdf)


@pytest.mark.parametrize("paper", list(Paper))
@pytest.mark.parametrize("cedible", [False, True])
def test_the_same_input_gives_the_same_bytes(paper: Paper, cedible: bool) -> None:
    settings = with_logo(SETTINGS, logo_png())  # the first render decodes the logo, the second reuses it
    first = render_dte_pdf(fixture(INVOICE), settings, paper=paper, cedible=cedible)
    second = render_dte_pdf(fixture(INVOICE), settings, paper=paper, cedible=cedible)
    assert first == second
    assert first != render_dte_pdf(fixture(INVOICE_CLEANED), settings, paper=paper, cedible=not cedible)


def test_an_export_prints_its_totals_in_its_currency() -> None:
    content = build_dte(110, 5, "76453707-6", "55555555-5", 150000, issue_date=date(2024, 1, 2), signed=True)
    pdf = render_dte_pdf(content, SETTINGS)
    shown = text(pdf)
    assert "FACTURA DE EXPORTACIÓN ELECTRÓNICA" in shown
    assert "Moneda: PESO CL" in shown
    assert "Total $ 150.000" in shown
    assert [symbol.content for symbol in scan(pdf)] == [payload(content)]


def test_windows_1252_text_declared_as_latin_1_prints_as_its_issuer_meant() -> None:
    # Issuers declare ISO-8859-1 and write windows-1252: 0x93/0x94 are quotes there, controls in Latin-1.
    content = build_dte(
        33, 12, "76453707-6", "96874030-K", 119000, issue_date=date(2024, 1, 2), receiver_name="QUOTED"
    ).replace(b"QUOTED", b"\x93La Estrella\x94 Ltda.")
    assert "“La Estrella” Ltda." in text(render_dte_pdf(content, SETTINGS))
