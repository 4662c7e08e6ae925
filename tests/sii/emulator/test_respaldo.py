"""The respaldo route (auth.cgi, lista_documentos.cgi, download.cgi) and the PDF."""

from __future__ import annotations

from lxml import etree

from dtehub.dte.envelope import split_dtes
from dtehub.dte.pipeline import read_dte_file
from dtehub.sii.emulator import Emulator
from tests.sii.emulator.browser import (
    LISTA,
    PDF,
    PORTAL,
    Browser,
    alert,
    cant_reg,
    contribuyente_code,
    page,
    rows,
    title,
)
from tests.sii.emulator.conftest import (
    BATA,
    CREDIT_NOTE_FIXTURE,
    INVOICE_FIXTURE,
    MIPYME,
    NOT_MIPYME,
)

MAX_BYTES = 10 * 1024 * 1024


def test_auth_cgi_offers_the_company_form(juana: Browser) -> None:
    juana.select(MIPYME)

    form = page(juana.client.get(f"{PORTAL}/auth.cgi"))

    assert form.find(".//input[@name='RUT_EMP']").get("value") == "76399752"
    assert form.find(".//input[@name='DV_EMP']").get("value") == "9"


def test_lista_documentos_answers_only_posts(juana: Browser) -> None:
    juana.select(MIPYME)

    response = juana.client.get(f"{LISTA}?TPO_DOC=33&FOLIO=25568&RUT_EMP=76399752&DV_EMP=9")

    assert response.status_code == 200
    assert contribuyente_code(response) == "02.35.200"


def test_lista_documentos_counts_the_documents_in_the_range(juana: Browser) -> None:
    juana.select(MIPYME)

    found = juana.lista(MIPYME, code="33", folio="25568", folio_to="25568")
    assert title(found) == "RESPALDO DE ARCHIVOS MIPYME"
    assert cant_reg(found) == 1
    assert '<div id="cant_reg" value="1">' in found.text
    assert cant_reg(juana.lista(MIPYME, code="34", folio="1", folio_to="21")) == 21
    assert cant_reg(juana.lista(MIPYME, code="33", folio="999999", folio_to="999999")) == 0


def test_a_company_that_never_used_mipyme_has_no_respaldo(juana: Browser) -> None:
    juana.select(NOT_MIPYME)

    response = juana.lista(NOT_MIPYME, code="33", folio="1", folio_to="1")

    assert title(response) == "Redireccionando"
    assert alert(response) == "No existe información en MIPYME para el rut ingresado"


def test_the_respaldo_is_only_for_the_selected_company(juana: Browser) -> None:
    juana.select(MIPYME)

    assert contribuyente_code(juana.lista(BATA, code="61", folio="110616", folio_to="110616")) == "02.35.201"
    assert (
        contribuyente_code(juana.download(BATA, code="61", folio="110616", folio_to="110616")) == "02.35.201"
    )


def test_the_download_is_a_latin1_set_holding_the_dte_bytes_as_stored(juana: Browser) -> None:
    juana.select(MIPYME)

    response = juana.download(MIPYME, code="33", folio="25568", folio_to="25568")

    assert response.status_code == 200
    assert response.content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<SetDTE')
    assert etree.fromstring(response.content).tag == "SetDTE"
    [piece] = split_dtes(response.content)
    assert piece == split_dtes(INVOICE_FIXTURE.read_bytes())[0]
    [checked] = read_dte_file(response.content, max_bytes=MAX_BYTES)
    assert checked.checks.signature.value == "valid"  # the signature still covers the served bytes


def test_the_download_brings_the_referenced_document_along(juana: Browser) -> None:
    juana.select(BATA)

    response = juana.download(BATA, code="61", folio="110616", folio_to="110616")

    credit_note, invoice = split_dtes(response.content)
    assert credit_note == split_dtes(CREDIT_NOTE_FIXTURE.read_bytes())[0]
    assert "Crédito".encode("iso-8859-1") in response.content  # ISO-8859-1, not re-encoded
    assert b"<TipoDTE>33</TipoDTE>" in invoice
    assert b"<Folio>115885</Folio>" in invoice


def test_more_than_twenty_documents_or_none_are_refused(juana: Browser) -> None:
    juana.select(MIPYME)

    twenty = juana.download(MIPYME, code="34", folio="1", folio_to="20")
    assert len(split_dtes(twenty.content)) == 20
    assert contribuyente_code(juana.download(MIPYME, code="34", folio="1", folio_to="21")) == "02.35.209"
    assert (
        contribuyente_code(juana.download(MIPYME, code="33", folio="999999", folio_to="999999"))
        == "02.35.209"
    )


def test_the_pdf_of_a_listed_document(juana: Browser) -> None:
    juana.select(MIPYME)
    [row] = rows(juana.listing(folio="25568", code="33"))

    response = juana.client.get(f"{PDF}?DHDR_CODIGO={row[0]}")

    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    assert b"25568" in response.content
    assert juana.client.get(f"{PDF}?DHDR_CODIGO={row[0]}").content == response.content


def test_no_pdf_for_an_unknown_or_foreign_document(emulator: Emulator, juana: Browser) -> None:
    juana.select(MIPYME)
    foreign = emulator.data.document(BATA, 61, 110616)
    assert foreign is not None

    for codigo in ("1", str(foreign.codigo)):
        response = juana.client.get(f"{PDF}?DHDR_CODIGO={codigo}")
        assert response.headers["content-type"].startswith("text/html")
        assert contribuyente_code(response) == "02.35.209"
