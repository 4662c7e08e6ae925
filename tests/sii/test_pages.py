"""SII's pages as the protocol notes show them: malformed markup, errors in 200 answers."""

from __future__ import annotations

from datetime import date

from dtehub.sii import pages


def page(markup: str) -> pages.html.HtmlElement:
    return pages.parse(markup.encode("iso-8859-1"))


def test_an_alert_page_is_an_error_with_its_message_and_code() -> None:
    found = page(
        "<html><head><title>Redireccionando</title><script>"
        "alert('Certificado revocado. CODIGO: 01.01.215.500.440.35');history.go(-1);"
        "</script></head></html>"
    )
    assert pages.is_error_page(found)
    assert pages.alert(found) == "Certificado revocado. CODIGO: 01.01.215.500.440.35"
    assert pages.error_code(pages.error_text(found)) == "35"


def test_a_commented_out_alert_is_no_error() -> None:
    found = page("<html><head><title>Ok</title><script>//alert('old');\nvar x = 1;</script></head></html>")
    assert not pages.is_error_page(found)


def test_error_al_contribuyente_is_an_error_and_its_dotted_code_is_read() -> None:
    found = page(
        "<html><head><title>Error al contribuyente</title></head>"
        "<body>Ha ocurrido un error. CODIGO: 02.35.209</body></html>"
    )
    assert pages.is_error_page(found)
    assert pages.error_code(pages.error_text(found)) == "09"


def test_the_selector_with_unclosed_options() -> None:
    found = page(
        '<html><body><form name="fPrmEmpPOP" method="post"><select name="RUT_EMP">'
        '<option value="">Seleccione'
        '<option value="76192083-9">ACME REPUESTOS SPA 76192083-9'
        '<option value="76399752-9">COMERCIALIZADORA INNOVA MOBEL SPA 76399752-9'
        "</select></form></body></html>"
    )
    selector = pages.company_selector(found)
    assert selector == pages.CompanySelector(
        launcher=False,
        companies={"76192083-9": "ACME REPUESTOS SPA", "76399752-9": "COMERCIALIZADORA INNOVA MOBEL SPA"},
    )


def test_an_empty_selector_and_the_launcher() -> None:
    empty = page('<form name="fPrmEmpPOP" method="post"><select name="RUT_EMP"></select></form>')
    assert pages.company_selector(empty) == pages.CompanySelector(launcher=False, companies={})
    launcher = page("<html><head><title>Facturacion Electronica - Launcher</title></head></html>")
    assert pages.company_selector(launcher) == pages.CompanySelector(launcher=True, companies={})
    assert pages.company_selector(page("<html><title>Otra</title></html>")) is None


def test_listing_rows_with_the_receptor_cell_unclosed() -> None:
    found = page(
        '<table><tr> <td> <a href="/cgi-bin/Portal001/mipeGesDocEmi.cgi?ALL_PAGE_ANT=2&CODIGO=99000001">'
        '<img src="/Portal001/button_edit.gif"></a></td>\n'
        "  <td>76192083-9 <td>ACME REPUESTOS SPA</td> <td>Factura Electronica</td> <td>5</td>\n"
        "  <td>2026-09-08</td> <td>990000</td> <td>Documento Emitido</td> </tr>"
        '<tr><td><a href="mipeGesDocEmi.cgi?CODIGO=7">x</a></td><td>1-9<td>Ñandú Ltda.</td>'
        "<td>Nota de Crédito Electrónica</td><td>55</td><td>2026-09-09</td><td>-10</td><td>Anulado</td></tr>"
        "</table>"
    )
    rows = pages.listed_documents(found)
    assert rows == [
        pages.ListedDocument("99000001", "76192083-9", "ACME REPUESTOS SPA", 33, 5, date(2026, 9, 8), 990000,
                             "Documento Emitido"),
        pages.ListedDocument("7", "1-9", "Ñandú Ltda.", 61, 55, date(2026, 9, 9), -10, "Anulado"),
    ]  # fmt: skip


def test_record_count_of_the_respaldo_listing() -> None:
    found = page('<html><title>RESPALDO DE ARCHIVOS MIPYME</title><div id="cant_reg" value="3"></div></html>')
    assert pages.record_count(found) == 3
    assert pages.record_count(page("<html></html>")) is None


def test_pages_are_read_as_windows_1252() -> None:
    found = pages.parse("<html><title>Autenticación</title></html>".encode("cp1252"))
    assert pages.title(found) == "Autenticación"


def test_the_launcher_names_its_company() -> None:
    launcher = page(
        "<html><head><title>Facturacion Electronica - Launcher</title></head>"
        "<body><h3>ACME SPA 76.192.083-9</h3><p>Usuario 12345678-5; folio 1-2</p></body></html>"
    )
    assert pages.ruts_named(launcher) == {"76192083-9", "12345678-5"}


def test_a_blank_or_comment_only_answer_is_an_empty_page_not_a_crash() -> None:
    for content in (b"", b"   \n", b"<!-- nada -->"):
        found = pages.parse(content)
        assert not pages.is_error_page(found)
        assert pages.company_selector(found) is None
        assert pages.listed_documents(found) == []
