"""Company selection in its three shapes, and the issued documents' listing with SII's quirks."""

from __future__ import annotations

from dtehub.sii.emulator import Emulator
from tests.sii.emulator.browser import PORTAL, SELECTOR, Browser, alert, page, rows, selector_options, title
from tests.sii.emulator.conftest import (
    BATA,
    MIPYME,
    NADIE,
    NOT_MIPYME,
    PAGING_FOLIOS,
    PEDRO,
    RECEIVER,
    Certificates,
)

SELECTOR_QUERY = "DESDE_DONDE_URL=OPCION%3D2%26TIPO%3D4"


def test_a_person_with_several_companies_gets_the_selector(juana: Browser) -> None:
    response = juana.client.get(f"{SELECTOR}?{SELECTOR_QUERY}")

    assert response.status_code == 200
    assert selector_options(response) == [
        (MIPYME, f"EMPRESA MIPYME DE PRUEBA SPA {MIPYME}"),
        (BATA, f"Bata Chile S.A. {BATA}"),
        (NOT_MIPYME, f"ACME REPUESTOS SPA {NOT_MIPYME}"),
    ]
    assert (
        f'<option value="{MIPYME}">EMPRESA MIPYME DE PRUEBA SPA {MIPYME}\n<option' in response.text
    )  # unclosed


def test_selecting_a_company_answers_the_launcher(juana: Browser) -> None:
    response = juana.select(BATA)

    assert title(response) == "Facturacion Electronica - Launcher"
    assert alert(response) is None  # the page's //alert( is commented out
    assert "//alert(" in response.text


def test_a_company_the_person_may_not_use_answers_the_selector_again(juana: Browser) -> None:
    response = juana.select("76086428-5")

    assert "fPrmEmpPOP" in response.text
    assert alert(juana.listing(folio="1", code="33")) == "Usted no ha seleccionado una Empresa."


def test_a_person_without_companies_gets_an_empty_selector(
    emulator: Emulator, certificates: Certificates
) -> None:
    with Browser(emulator, certificates.pem(NADIE)) as browser:
        browser.login()
        response = browser.client.get(f"{SELECTOR}?{SELECTOR_QUERY}")

        assert selector_options(response) == []


def test_a_person_with_one_company_gets_the_launcher_and_is_on_it(
    emulator: Emulator, certificates: Certificates
) -> None:
    with Browser(emulator, certificates.pem(PEDRO)) as browser:
        browser.login()
        assert [row[4] for row in rows(browser.listing(folio="25568", code="33"))] == ["25568"]  # preset

        response = browser.client.get(f"{SELECTOR}?{SELECTOR_QUERY}")
        assert title(response) == "Facturacion Electronica - Launcher"
        assert MIPYME in response.text


def test_queries_before_selecting_a_company_are_refused(juana: Browser) -> None:
    response = juana.listing(folio="25568", code="33")

    assert title(response) == "Redireccionando"
    assert "no ha seleccionado una Empresa" in (alert(response) or "")


def test_listing_rows_are_written_as_sii_writes_them(juana: Browser) -> None:
    juana.select(BATA)
    response = juana.listing(folio="110616", code="61")

    [row] = rows(response)
    codigo, receiver, receiver_name, type_name, folio, issued, total, state = row
    assert (receiver, receiver_name, type_name, folio) == (
        RECEIVER,
        "Comercializadora S.A",
        "Nota de Credito Electronica",
        "110616",
    )
    assert (issued, total, state) == ("2019-08-02", "57347078", "Documento Emitido")
    assert codigo.isdigit()
    assert codigo != folio
    assert f"<td>{RECEIVER} <td>Comercializadora S.A</td>" in response.text  # the receptor cell unclosed
    assert f'<a href="{PORTAL}/mipeGesDocEmi.cgi?ALL_PAGE_ANT=2&CODIGO={codigo}">' in response.text


def test_the_folio_filter_is_a_prefix_and_the_state_comes_from_the_data(juana: Browser) -> None:
    juana.select(MIPYME)

    invoices = rows(juana.listing(folio="5", code="33"))
    assert sorted(int(row[4]) for row in invoices) == [5, 50, 55, 501]
    assert {row[3] for row in invoices} == {"Factura Electronica"}
    assert {row[4]: row[7] for row in invoices}["55"] == "Rechazado por el Receptor"

    any_type = rows(juana.listing(folio="5"))
    assert ("Nota de Credito Electronica", "5") in {(row[3], row[4]) for row in any_type}


def test_the_listing_pages_by_ten(juana: Browser) -> None:
    juana.select(MIPYME)

    pages = [juana.listing(folio="10", code="33", page=number) for number in (1, 2, 3)]

    listed = [[int(row[4]) for row in rows(response)] for response in pages]
    assert [len(folios) for folios in listed] == [10, 10, 5]
    assert sorted(folio for folios in listed for folio in folios) == list(PAGING_FOLIOS)
    markers = [page(response).get_element_by_id("paginacion").text_content() for response in pages]
    assert markers[0].startswith("Página 1 de 3")
    assert "Siguiente" in markers[0]
    assert "Anterior" in markers[1]
    assert "Siguiente" in markers[1]
    assert markers[2].startswith("Página 3 de 3")
    assert "Siguiente" not in markers[2]


def test_nothing_found_is_an_empty_listing(juana: Browser) -> None:
    juana.select(MIPYME)

    response = juana.listing(folio="999999", code="33")

    assert rows(response) == []
    assert title(response) == "Documentos Emitidos"
    assert "No existen documentos" in response.text


def test_a_company_without_mipyme_data_lists_nothing(juana: Browser) -> None:
    juana.select(NOT_MIPYME)

    assert rows(juana.listing(folio="1", code="33")) == []


def test_the_detail_page_links_the_pdf(juana: Browser) -> None:
    juana.select(MIPYME)
    [row] = rows(juana.listing(folio="25568", code="33"))

    response = juana.client.get(f"{PORTAL}/mipeGesDocEmi.cgi?CODIGO={row[0]}&ALL_PAGE_ANT=2")

    assert title(response) == "Detalle de Documento Emitido"
    assert f"mipeDisplayPDF.cgi?DHDR_CODIGO={row[0]}" in response.text
