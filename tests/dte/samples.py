"""DTEs for the reader's tests: the real files, the seed invoice changed element by element, a document
that uses every part of a DTE, and an export."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dtehub.dte.errors import DteUnreadable
from dtehub.dte.models import DteFields
from dtehub.dte.reader import dte_elements, read_fields
from dtehub.kit.xml import parse_untrusted

FIXTURES = Path(__file__).parents[1] / "fixtures"


POLAR = FIXTURES / "DTE--76399752-9--33--25568.xml"

POLAR_CLEANED = FIXTURES / "DTE--76399752-9--33--25568--cleaned.xml"

CREDIT_NOTE = FIXTURES / "DTE--96670340-7--61--110616.xml"

CREDIT_NOTE_CLEANED = FIXTURES / "DTE--96670340-7--61--110616--cleaned.xml"

SEED = (FIXTURES / "seed-duemint-example-33-696.xml").read_text("ascii")

SII_NAMESPACE = "http://www.sii.cl/SiiDte"


def read(data: bytes | str) -> DteFields:
    root = parse_untrusted(data.encode() if isinstance(data, str) else data, max_bytes=1 << 22)
    [dte] = dte_elements(root)
    return read_fields(dte)


def refusal(data: str) -> str:
    with pytest.raises(DteUnreadable) as caught:
        read(data)
    return str(caught.value)


def seed(**changes: str | None) -> str:
    """The seed invoice with the text of some elements changed, or the elements removed (None)."""
    text = SEED
    for name, value in changes.items():
        element = re.compile(rf"\s*<{name}>[^<]*</{name}>" if value is None else rf"<{name}>[^<]*</{name}>")
        text, count = element.subn("" if value is None else f"<{name}>{value}</{name}>", text, count=1)
        assert count == 1, name
    return text


def insert_after(text: str, element: str, snippet: str) -> str:
    closing = f"</{element}>"
    assert closing in text
    return text.replace(closing, closing + snippet, 1)


def replace_element(text: str, name: str, snippet: str) -> str:
    """Replace the whole first ``name`` element (and its children)."""
    new, count = re.subn(rf"<{name}>.*?</{name}>", snippet, text, count=1, flags=re.S)
    assert count == 1, name
    return new


def no_floats(value: Any) -> bool:
    if isinstance(value, dict):
        return all(no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(no_floats(v) for v in value)
    return not isinstance(value, float)


RICH = insert_after(
    seed(TipoDTE="33", FchEmis="2018-04-06"),
    "FmaPago",
    "<MntPagos><FchPago>2018-05-06</FchPago><MntPago>65950</MntPago><GlosaPagos>Primera cuota</GlosaPagos>"
    "</MntPagos><MntPagos><FchPago>2018-06-06</FchPago><MntPago>65950</MntPago></MntPagos>"
    "<PeriodoDesde>2018-03-01</PeriodoDesde><PeriodoHasta>2018-03-31</PeriodoHasta>"
    "<MedioPago>PE</MedioPago><TpoCtaPago>CORRIENTE</TpoCtaPago><NumCtaPago>00-123-45678-90</NumCtaPago>"
    "<BcoPago>BANCO DE CHILE</BcoPago><TermPagoCdg>FRF</TermPagoCdg>"
    "<TermPagoGlosa>60 días fecha factura</TermPagoGlosa><TermPagoDias>60</TermPagoDias>"
    "<FchVenc>2018-06-06</FchVenc>",
)


RICH = RICH.replace("<TpoTranCompra>", "<IndServicio>3</IndServicio><TpoTranCompra>")

RICH = insert_after(RICH, "GiroEmis", "<Telefono>22 123 4567</Telefono><Telefono>9 8765 4321</Telefono>")

RICH = insert_after(
    RICH, "Acteco", "<Acteco>620200</Acteco><Sucursal>CASA MATRIZ</Sucursal>"
)  # before CdgSIISucur

RICH = insert_after(RICH, "CiudadOrigen", "<CdgVendedor>V-17</CdgVendedor>")

RICH = insert_after(RICH, "Emisor", "<RUTMandante>76399752-9</RUTMandante>")

RICH = RICH.replace("<RznSocRecep>", "<CdgIntRecep>C-99</CdgIntRecep><RznSocRecep>")

RICH = insert_after(
    RICH,
    "GiroRecep",
    "<Contacto>María Pérez</Contacto><CorreoRecep>pagos@cliente.cl</CorreoRecep>",
)

RICH = insert_after(
    RICH,
    "CiudadRecep",
    "<DirPostal>CASILLA 13</DirPostal><CmnaPostal>PROVIDENCIA</CmnaPostal>"
    "<CiudadPostal>SANTIAGO</CiudadPostal>",
)

RICH = insert_after(
    RICH,
    "Receptor",
    "<RUTSolicita>11111111-1</RUTSolicita><Transporte>"
    "<Patente>ABCD12</Patente><RUTTrans>96874030-K</RUTTrans>"
    "<Chofer><RUTChofer>11111111-1</RUTChofer><NombreChofer>JUAN SOTO</NombreChofer></Chofer>"
    "<DirDest>AV. MATTA 100</DirDest><CmnaDest>SANTIAGO</CmnaDest>"
    "<CiudadDest>SANTIAGO</CiudadDest></Transporte>",
)

RICH = replace_element(
    RICH,
    "Totales",
    "<Totales><MntNeto>100000</MntNeto><MntExe>5000</MntExe><TasaIVA>19</TasaIVA><IVA>19000</IVA>"
    "<ImptoReten><TipoImp>27</TipoImp><TasaImp>10</TasaImp><MontoImp>10000</MontoImp></ImptoReten>"
    "<ImptoReten><TipoImp>28</TipoImp><MontoImp>1900</MontoImp></ImptoReten>"
    "<MntTotal>135900</MntTotal><MontoNF>-1000</MontoNF><SaldoAnterior>-4000</SaldoAnterior>"
    "<VlrPagar>130900</VlrPagar></Totales>"
    "<OtraMoneda><TpoMoneda>DOLAR USA</TpoMoneda><TpoCambio>650.5</TpoCambio>"
    "<MntNetoOtrMnda>153.7279</MntNetoOtrMnda><MntExeOtrMnda>7.6864</MntExeOtrMnda>"
    "<IVAOtrMnda>29.2083</IVAOtrMnda><ImpRetOtrMnda><TipoImpOtrMnda>27</TipoImpOtrMnda>"
    "<TasaImpOtrMnda>10</TasaImpOtrMnda><VlrImpOtrMnda>15.3728</VlrImpOtrMnda></ImpRetOtrMnda>"
    "<MntTotOtrMnda>208.9162</MntTotOtrMnda></OtraMoneda>",
)

RICH = replace_element(
    RICH,
    "Detalle",
    "<Detalle><NroLinDet>1</NroLinDet><CdgItem>"
    "<TpoCodigo>EAN13</TpoCodigo><VlrCodigo>7801234567890</VlrCodigo>"
    "</CdgItem><CdgItem><TpoCodigo>INT1</TpoCodigo><VlrCodigo>VINO-RES-750</VlrCodigo></CdgItem>"
    "<NmbItem>VINO RESERVA</NmbItem><DscItem>Caja de 6</DscItem>"
    "<QtyItem>2.5</QtyItem><UnmdItem>CAJ</UnmdItem>"
    "<PrcItem>40000.123456</PrcItem><DescuentoPct>10</DescuentoPct><DescuentoMonto>10000</DescuentoMonto>"
    "<CodImpAdic>27</CodImpAdic><MontoItem>90000</MontoItem></Detalle>"
    "<Detalle><NroLinDet>2</NroLinDet><IndExe>1</IndExe><NmbItem>FLETE</NmbItem><QtyItem>1</QtyItem>"
    "<PrcItem>5000</PrcItem><RecargoPct>5</RecargoPct><RecargoMonto>250</RecargoMonto>"
    "<MontoItem>5250</MontoItem></Detalle>"
    "<DscRcgGlobal><NroLinDR>1</NroLinDR><TpoMov>D</TpoMov><GlosaDR>Cliente frecuente</GlosaDR>"
    "<TpoValor>%</TpoValor><ValorDR>2.5</ValorDR></DscRcgGlobal>"
    "<DscRcgGlobal><NroLinDR>2</NroLinDR><TpoMov>R</TpoMov><TpoValor>$</TpoValor><ValorDR>1500</ValorDR>"
    "<IndExeDR>1</IndExeDR></DscRcgGlobal>"
    "<Referencia><NroLinRef>1</NroLinRef><TpoDocRef>801</TpoDocRef><FolioRef>4500012345</FolioRef>"
    "<FchRef>2018-03-30</FchRef></Referencia>"
    "<Referencia><NroLinRef>2</NroLinRef><TpoDocRef>HES</TpoDocRef><FolioRef>1000123-A</FolioRef>"
    "<FchRef>2018-04-02</FchRef><RazonRef>Hoja de entrada</RazonRef></Referencia>"
    "<Referencia><NroLinRef>3</NroLinRef><TpoDocRef>52</TpoDocRef>"
    "<IndGlobal>1</IndGlobal><FolioRef>0</FolioRef>"
    "<FchRef>2018-03-31</FchRef><RazonRef>Guías de marzo</RazonRef></Referencia>"
    "<Referencia><NroLinRef>4</NroLinRef><TpoDocRef>33</TpoDocRef><FolioRef>25568</FolioRef>"
    "<RUTOtr>76399752-9</RUTOtr><FchRef>2019-03-29</FchRef><CodRef>1</CodRef><RazonRef>Anula</RazonRef>"
    "</Referencia>"
    "<Referencia><NroLinRef>5</NroLinRef><TpoDocRef>SET</TpoDocRef><FolioRef>1</FolioRef>"
    "<FchRef>2018-04-06</FchRef><RazonRef>CASO 1234-1</RazonRef></Referencia>",
)


def export_xml(*, other_currency: str | None = None, totals: str | None = None) -> str:
    default_totals = (
        "<Totales><TpoMoneda>DOLAR USA</TpoMoneda><MntExe>1000.5</MntExe>"
        "<MntTotal>1000.5</MntTotal></Totales>"
    )
    default_other = (
        "<OtraMoneda><TpoMoneda>PESO CL</TpoMoneda><TpoCambio>700.1234</TpoCambio>"
        "<MntExeOtrMnda>700473.4617</MntExeOtrMnda><MntTotOtrMnda>700473.4617</MntTotOtrMnda></OtraMoneda>"
    )
    return (
        '<DTE version="1.0"><Exportaciones ID="EXP-110-77"><Encabezado>'
        "<IdDoc><TipoDTE>110</TipoDTE><Folio>77</Folio>"
        "<FchEmis>2019-05-10</FchEmis><IndServicio>3</IndServicio>"
        "<FmaPagExp>2</FmaPagExp><FchVenc>2019-06-09</FchVenc></IdDoc>"
        "<Emisor><RUTEmisor>76453707-6</RUTEmisor><RznSoc>DUEMINT SPA</RznSoc><GiroEmis>SOFTWARE</GiroEmis>"
        "<Acteco>724000</Acteco><DirOrigen>AV. LOS DOMINICOS 8630</DirOrigen>"
        "<CmnaOrigen>LAS CONDES</CmnaOrigen>"
        "<CiudadOrigen>SANTIAGO</CiudadOrigen><IdAdicEmisor>EXP-1</IdAdicEmisor></Emisor>"
        "<Receptor><RUTRecep>55555555-5</RUTRecep><RznSocRecep>ACME INC</RznSocRecep>"
        "<Extranjero><NumId>98-7654321</NumId><Nacionalidad>225</Nacionalidad></Extranjero>"
        "<GiroRecep>RETAIL</GiroRecep><DirRecep>1 MAIN ST</DirRecep>"
        "<CmnaRecep>NEW YORK</CmnaRecep></Receptor>"
        "<Transporte><Aduana><CodModVenta>1</CodModVenta><CodClauVenta>5</CodClauVenta>"
        "<TotClauVenta>1000.50</TotClauVenta>"
        "<CodViaTransp>4</CodViaTransp><NombreTransp>LA 601</NombreTransp>"
        "<CodPtoEmbarque>901</CodPtoEmbarque><CodPtoDesemb>225</CodPtoDesemb><PesoBruto>12.5</PesoBruto>"
        "<CodUnidPesoBruto>6</CodUnidPesoBruto><TotBultos>2</TotBultos>"
        "<TipoBultos><CodTpoBultos>75</CodTpoBultos>"
        "<CantBultos>2</CantBultos><Marcas>ACME NY</Marcas></TipoBultos><MntFlete>50.2500</MntFlete>"
        "<CodPaisRecep>225</CodPaisRecep><CodPaisDestin>225</CodPaisDestin></Aduana></Transporte>"
        f"{default_totals if totals is None else totals}"
        f"{default_other if other_currency is None else other_currency}"
        "</Encabezado>"
        "<Detalle><NroLinDet>1</NroLinDet><NmbItem>LICENCIA ANUAL</NmbItem><QtyItem>1</QtyItem>"
        "<PrcItem>1000.5</PrcItem><MontoItem>1000.5</MontoItem></Detalle>"
        "<Referencia><NroLinRef>1</NroLinRef><TpoDocRef>813</TpoDocRef><FolioRef>PO-2019-7</FolioRef>"
        "<FchRef>2019-05-01</FchRef></Referencia>"
        "</Exportaciones></DTE>"
    )
