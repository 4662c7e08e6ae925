"""The summary of a document created from fields: what it says, and that it is not the tax document."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date

import pytest

from dtehub.dte.pdf import DocumentSummary, IssuerPrintSettings, Paper, render_summary_pdf
from tests.dte.pdf.documents import SETTINGS, logo_png
from tests.dte.pdf.pdfs import LETTER, ROLL_WIDTH, images, pages, scan, sizes, text

NOT_THE_TAX_DOCUMENT = (
    "Este resumen no es el documento tributario; el documento válido es el DTE timbrado emitido ante el SII."
)

SUMMARY = DocumentSummary(
    issuer_name="DUEMINT SPA",
    issuer_rut="76453707-6",
    client_name="CLIENTE EJEMPLO LIMITADA",
    client_tax_id="99999999-9",
    client_address="AV LAS CONDES 6903",
    client_comuna="LAS CONDES",
    client_city="SANTIAGO",
    code=33,
    number="696",
    issue_date=date(2018, 4, 6),
    due_date=date(2018, 5, 6),
    currency="CLP",
    net_cents=8090100,
    taxes_cents=1537100,
    total_cents=9627200,
    gloss="Servicios de abril",
    purchase_order="OC-1234",
    notes="Primera línea de las notas.\nSegunda línea.",
)


@pytest.mark.parametrize("paper", list(Paper))
def test_the_summary_shows_the_document_and_says_it_is_not_the_tax_document(paper: Paper) -> None:
    pdf = render_summary_pdf(SUMMARY, SETTINGS, paper=paper)
    assert len(pages(pdf)) == 1
    shown = text(pdf)
    assert NOT_THE_TAX_DOCUMENT in shown
    assert "NO ES UN DOCUMENTO TRIBUTARIO" in shown
    for expected in (
        "DUEMINT SPA",
        "R.U.T.: 76.453.707-6",
        "FACTURA ELECTRÓNICA N° 696",
        "CLIENTE EJEMPLO LIMITADA",
        "99.999.999-9",
        "AV LAS CONDES 6903",
        "LAS CONDES, SANTIAGO",
        "CLP",
        "Neto $ 80.901",
        "Impuestos $ 15.371",
        "Total $ 96.272",
        "Servicios de abril",
        "OC-1234",
        "Primera línea de las notas.",
        "Segunda línea.",
    ):
        assert expected in shown, expected
    # A summary has no timbre, and nothing that looks like one.
    assert scan(pdf) == []
    assert "Timbre Electrónico SII" not in shown
    assert "S.I.I. -" not in shown


def test_letter_dates_are_in_words_and_the_roll_s_are_short() -> None:
    letter = text(render_summary_pdf(SUMMARY, SETTINGS))
    roll = text(render_summary_pdf(SUMMARY, SETTINGS, paper=Paper.ROLL_80MM))
    assert "Fecha de emisión: 6 de abril de 2018" in letter
    assert "Vencimiento: 6 de mayo de 2018" in letter
    assert "Fecha de emisión: 06-04-2018" in roll
    assert "Vencimiento: 06-05-2018" in roll


def test_paper_sizes() -> None:
    assert sizes(render_summary_pdf(SUMMARY, SETTINGS)) == [LETTER]
    [(width, height)] = sizes(render_summary_pdf(SUMMARY, SETTINGS, paper=Paper.ROLL_80MM))
    assert width == pytest.approx(ROLL_WIDTH, abs=0.01)
    assert 200 < height < 1000


def test_a_document_without_type_is_a_documento_and_a_foreign_tax_code_prints_as_given() -> None:
    summary = dataclasses.replace(
        SUMMARY, code=None, client_tax_id="DE811569869", currency="USD", total_cents=123456, due_date=None
    )
    shown = text(render_summary_pdf(summary, SETTINGS))
    assert "Documento N° 696" in shown
    assert "FACTURA" not in shown
    assert "DE811569869" in shown
    assert "Total US$ 1.234,56" in shown
    assert "Vencimiento" not in shown


def test_long_notes_stay_on_one_page_and_end_with_an_ellipsis() -> None:
    summary = dataclasses.replace(SUMMARY, notes="Una nota larga que no cabe en una página. " * 800)
    pdf = render_summary_pdf(summary, SETTINGS)
    assert len(pages(pdf)) == 1
    assert pages(pdf)[0].endswith("…")


def test_the_logo_appears_when_given() -> None:
    png = logo_png()
    settings = dataclasses.replace(SETTINGS, logo_png=png, logo_sha256=hashlib.sha256(png).hexdigest())
    assert images(render_summary_pdf(SUMMARY, settings)) == 1
    assert images(render_summary_pdf(SUMMARY, IssuerPrintSettings())) == 0


def test_the_same_summary_gives_the_same_bytes() -> None:
    assert render_summary_pdf(SUMMARY, SETTINGS) == render_summary_pdf(SUMMARY, SETTINGS)
