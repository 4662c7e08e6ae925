"""Reading DTEs: the real files' values, a document that uses every part, exports, the messy values real
files carry (left out with a warning), and the drafts that are refused. The JSON the API shows from
them: test_views.py."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dtehub.dte.constants import MAX_WARNINGS
from dtehub.dte.detail_notes import NOTES_HEADER
from dtehub.dte.models import (
    DscRcgGlobal,
    DteCustoms,
    DteIssuer,
    DteLine,
    DtePackage,
    DtePayment,
    DteReceiver,
    DteReference,
    DteTax,
    DteTransport,
    Exportaciones,
    ItemCode,
    OtraMoneda,
)
from dtehub.dte.views import dte_json
from tests.dte.samples import (
    CREDIT_NOTE,
    POLAR,
    POLAR_CLEANED,
    RICH,
    SEED,
    SII_NAMESPACE,
    export_xml,
    insert_after,
    read,
    refusal,
    replace_element,
    seed,
)

# --- the real files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [POLAR, POLAR_CLEANED], ids=["as-served", "namespaced"])
def test_the_mipyme_invoice(path: Path) -> None:
    fields = read(path.read_bytes())

    assert (fields.code, fields.folio, fields.issue_date) == (33, 25568, date(2019, 3, 29))
    assert (fields.due_date, fields.payment_form, fields.currency) == (None, 2, "PESO CL")
    assert (fields.id_doc.purchase_transaction_type, fields.id_doc.sale_transaction_type) == (1, 1)
    assert fields.issuer == DteIssuer(
        rut="76399752-9",
        name="COMERCIALIZADORA INNOVA MOBEL SPA",
        activity="COMERCIALIZACION DE PRODUCTOS PARA EL HOGAR",
        address="LOS CIPRESES 2834",
        comuna="LA PINTANA",
        city="SANTIAGO",
        phones=("87 472133",),
        email="ANGEL.PEZO@APCASESORIAS.CL",
        activity_codes=("310001",),
        branch_code="078904860",
    )
    assert fields.receiver == DteReceiver(
        rut="96874030-K",
        name="EMPRESAS LA POLAR S.A.",
        activity="VENTA AL POR MENOR EN COMERCIOS DE VESTU",
        address="AVDA. SANTA CLARA 207  62 CIUDAD EMPRESARIAL",
        comuna="HUECHURABA",
        city="SANTIAGO",
        contact="N° Lote Despacho: 20921554 / N° Sello: 660620",
    )
    assert fields.totals is not None
    assert (fields.totals.net_cents, fields.totals.exempt_cents) == (19411100, None)
    assert (fields.totals.vat_rate, fields.totals.vat_cents, fields.totals.total_cents) == (
        Decimal("19.00"),
        3688100,
        23099200,
    )
    assert (fields.net_cents, fields.exempt_cents, fields.total_cents) == (19411100, 0, 23099200)
    assert fields.detail == (
        DteLine(
            number=1,
            name="JUEGO_LIVI - CHOCOLATE",
            amount=Decimal("194111"),
            codes=(ItemCode("SKU", "19586316"),),
            description="ROMA 3.1.1",
            quantity=Decimal("1.00"),
            unit="UN",
            unit_price=Decimal("194111.00"),
        ),
    )
    assert fields.references == (
        DteReference(number=1, document_type="801", folio="638370", date=date(2019, 3, 28)),
    )
    assert (fields.discounts, fields.other_currency, fields.export, fields.transport) == (
        (),
        None,
        None,
        None,
    )
    assert fields.warnings == ()
    assert fields.detail_notes == (
        f"{NOTES_HEADER}NroLinDet: 1 NmbItem: JUEGO_LIVI - CHOCOLATE DscItem: ROMA 3.1.1 "
        "QtyItem: 1.00 PrcItem: 194111.00 MontoItem: 194111 "
    )


def test_the_seed_example_keeps_its_price_exact() -> None:
    fields = read(SEED)

    [line] = fields.detail
    assert line.unit_price == Decimal("80900.67")
    assert line.amount == Decimal("80901")
    assert (line.quantity, line.unit) == (Decimal("1.00"), "uni")
    assert dte_json(fields)["lines"][0]["unitPrice"] == "80900.67"


@pytest.mark.parametrize("path", [POLAR, CREDIT_NOTE], ids=["invoice", "credit-note"])
@pytest.mark.parametrize("root", ["EnvioDTE", "SetDTE", "EnvioBOLETA"])
def test_envelopes_and_namespaces_give_the_same_fields(path: Path, root: str) -> None:
    text = path.read_bytes().decode("latin-1")
    dte = text[text.index("<DTE") :]
    xml = f'<?xml version="1.0" encoding="ISO-8859-1"?><{root} xmlns="{SII_NAMESPACE}">{dte}</{root}>'

    assert read(xml.encode("latin-1")) == read(path.read_bytes())


# --- a document that uses every part ------------------------------------------------------------------


def test_a_document_that_uses_every_part() -> None:
    fields = read(RICH)

    assert fields.warnings == ()
    assert fields.due_date == date(2018, 6, 6)
    id_doc = fields.id_doc
    assert id_doc.service_type == 3
    assert id_doc.payments == (
        DtePayment(date(2018, 5, 6), Decimal("65950"), "Primera cuota"),
        DtePayment(date(2018, 6, 6), Decimal("65950")),
    )
    assert (id_doc.period_from, id_doc.period_to) == (date(2018, 3, 1), date(2018, 3, 31))
    assert (id_doc.payment_method, id_doc.account_type, id_doc.account_number, id_doc.bank) == (
        "PE",
        "CORRIENTE",
        "00-123-45678-90",
        "BANCO DE CHILE",
    )
    assert (id_doc.payment_terms_code, id_doc.payment_terms_gloss, id_doc.payment_terms_days) == (
        "FRF",
        "60 días fecha factura",
        60,
    )
    assert fields.issuer.phones == ("22 123 4567", "9 8765 4321")
    assert fields.issuer.activity_codes == ("724000", "620200")
    assert (fields.issuer.branch, fields.issuer.branch_code, fields.issuer.seller_code) == (
        "CASA MATRIZ",
        "080561955",
        "V-17",
    )
    assert (fields.principal_rut, fields.requester_rut) == ("76399752-9", "11111111-1")
    receiver = fields.receiver
    assert (receiver.internal_code, receiver.contact, receiver.email) == (
        "C-99",
        "María Pérez",
        "pagos@cliente.cl",
    )
    assert (receiver.postal_address, receiver.postal_comuna, receiver.postal_city) == (
        "CASILLA 13",
        "PROVIDENCIA",
        "SANTIAGO",
    )
    assert fields.transport == DteTransport(
        plate="ABCD12",
        carrier_rut="96874030-K",
        driver_rut="11111111-1",
        driver_name="JUAN SOTO",
        destination_address="AV. MATTA 100",
        destination_comuna="SANTIAGO",
        destination_city="SANTIAGO",
    )
    totals = fields.totals
    assert totals is not None
    assert (totals.net_cents, totals.exempt_cents, totals.vat_rate, totals.vat_cents) == (
        10000000,
        500000,
        Decimal(19),
        1900000,
    )
    assert totals.other_taxes == (DteTax("27", Decimal(10), 1000000), DteTax("28", None, 190000))
    assert (totals.total_cents, totals.non_billable_cents, totals.previous_balance_cents) == (
        13590000,
        -100000,
        -400000,
    )
    assert totals.amount_due_cents == 13090000
    assert (fields.net_cents, fields.exempt_cents, fields.total_cents) == (10000000, 500000, 13590000)
    other = fields.other_currency
    assert other is not None
    assert (other.currency, other.exchange_rate, other.net, other.exempt, other.vat, other.total) == (
        "DOLAR USA",
        Decimal("650.5"),
        Decimal("153.7279"),
        Decimal("7.6864"),
        Decimal("29.2083"),
        Decimal("208.9162"),
    )
    assert [(t.code, t.rate, t.amount) for t in other.other_taxes] == [
        ("27", Decimal(10), Decimal("15.3728"))
    ]
    assert fields.detail == (
        DteLine(
            number=1,
            name="VINO RESERVA",
            amount=Decimal(90000),
            codes=(ItemCode("EAN13", "7801234567890"), ItemCode("INT1", "VINO-RES-750")),
            description="Caja de 6",
            quantity=Decimal("2.5"),
            unit="CAJ",
            unit_price=Decimal("40000.123456"),
            discount_pct=Decimal(10),
            discount_amount=Decimal(10000),
            tax_codes=("27",),
        ),
        DteLine(
            number=2,
            name="FLETE",
            amount=Decimal(5250),
            exempt_indicator=1,
            quantity=Decimal(1),
            unit_price=Decimal(5000),
            surcharge_pct=Decimal(5),
            surcharge_amount=Decimal(250),
        ),
    )
    assert fields.discounts == (
        DscRcgGlobal(1, "D", "%", Decimal("2.5"), gloss="Cliente frecuente"),
        DscRcgGlobal(2, "R", "$", Decimal(1500), exempt_indicator=1),
    )
    assert [
        (r.document_type, r.folio, r.global_reference, r.other_rut, r.reason_code) for r in fields.references
    ] == [
        ("801", "4500012345", False, None, None),
        ("HES", "1000123-A", False, None, None),
        ("52", "0", True, None, None),
        ("33", "25568", False, "76399752-9", 1),
        ("SET", "1", False, None, None),
    ]


# --- exports ------------------------------------------------------------------------------------------


def test_an_export_keeps_its_currency_and_stores_its_pesos() -> None:
    fields = read(export_xml())

    assert (fields.code, fields.currency, fields.totals) == (110, "DOLAR USA", None)
    assert fields.export == Exportaciones(
        currency="DOLAR USA", total=Decimal("1000.5"), exempt=Decimal("1000.5")
    )
    assert fields.other_currency == OtraMoneda(
        currency="PESO CL",
        exchange_rate=Decimal("700.1234"),
        exempt=Decimal("700473.4617"),
        total=Decimal("700473.4617"),
    )
    # The store's amounts are the pesos, rounded to the cent.
    assert (fields.net_cents, fields.exempt_cents, fields.total_cents) == (0, 70047346, 70047346)
    assert fields.id_doc.export_payment_form == "2"
    assert (fields.issuer.additional_id, fields.receiver.foreign_id, fields.receiver.nationality) == (
        "EXP-1",
        "98-7654321",
        "225",
    )
    assert fields.detail[0].amount == Decimal("1000.5")
    assert fields.references[0].folio == "PO-2019-7"
    assert fields.transport == DteTransport(
        customs=DteCustoms(
            sale_mode="1",
            sale_clause="5",
            sale_clause_total=Decimal("1000.50"),
            transport_way="4",
            vessel="LA 601",
            loading_port="901",
            unloading_port="225",
            gross_weight=Decimal("12.5"),
            gross_weight_unit="6",
            total_packages=2,
            packages=(DtePackage(kind="75", quantity=2, marks="ACME NY"),),
            freight=Decimal("50.2500"),
            receiver_country="225",
            destination_country="225",
        )
    )


def test_an_export_without_pesos_is_unreadable() -> None:
    message = refusal(export_xml(other_currency=""))

    assert message == (
        "the export DTE gives its amounts in DOLAR USA and none in pesos (OtraMoneda with TpoMoneda PESO CL)"
    )


def test_an_export_in_pesos_needs_no_other_currency() -> None:
    totals = (
        "<Totales><TpoMoneda>PESO CL</TpoMoneda><MntExe>700473</MntExe><MntTotal>700473</MntTotal></Totales>"
    )

    fields = read(export_xml(totals=totals, other_currency=""))

    assert (fields.exempt_cents, fields.total_cents) == (70047300, 70047300)


@pytest.mark.parametrize("total", ["1000,5", "-1", "mil"])
def test_an_export_total_that_is_not_an_amount_is_unreadable(total: str) -> None:
    totals = f"<Totales><TpoMoneda>DOLAR USA</TpoMoneda><MntTotal>{total}</MntTotal></Totales>"

    assert refusal(export_xml(totals=totals)) == f"MntTotal is {total!r}, not an amount"


def test_a_malformed_export_exempt_amount_is_left_out() -> None:
    totals = (
        "<Totales><TpoMoneda>DOLAR USA</TpoMoneda><MntExe>n/a</MntExe><MntTotal>1000.5</MntTotal></Totales>"
    )

    fields = read(export_xml(totals=totals))

    assert fields.export == Exportaciones(currency="DOLAR USA", total=Decimal("1000.5"))
    assert fields.warnings == ("MntExe 'n/a' is not a number; left out",)


# --- other bodies and types ---------------------------------------------------------------------------


def test_a_liquidacion_may_carry_negative_amounts() -> None:
    xml = seed(TipoDTE="43", MntNeto="-1000", IVA="-190", MntTotal="-1190", MontoItem="-1000")
    xml = xml.replace("Documento", "Liquidacion")

    fields = read(xml)

    assert (fields.code, fields.net_cents, fields.total_cents) == (43, -100000, -119000)
    assert fields.totals is not None
    assert fields.totals.vat_cents == -19000
    assert fields.detail[0].amount == Decimal(-1000)


def test_a_boleta_names_its_issuer_its_own_way() -> None:
    xml = seed(TipoDTE="39").replace("RznSoc>", "RznSocEmisor>").replace("GiroEmis>", "GiroEmisor>")
    xml = f'<EnvioBOLETA xmlns="{SII_NAMESPACE}" version="1.0"><SetDTE ID="B">{xml}</SetDTE></EnvioBOLETA>'

    fields = read(xml)

    assert fields.code == 39
    assert (fields.issuer.name, fields.issuer.activity) == (
        "DUEMINT SPA",
        "DESARROLLO Y VENTA DE SOFTWARES, SISTEMAS Y APPS",
    )


# --- messy values: left out, with a warning -----------------------------------------------------------


def test_malformed_optional_values_are_left_out_with_a_warning() -> None:
    xml = seed(QtyItem="1,5", PrcItem="80.900,67", TasaIVA="diecinueve", IVA="15.371,00", NroLinDet="uno")
    xml = xml.replace("<MontoItem>", "<IndExe>9</IndExe><MontoItem>")
    xml = insert_after(
        xml,
        "Detalle",
        "<DscRcgGlobal><NroLinDR>1</NroLinDR><TpoMov>X</TpoMov><TpoValor>%</TpoValor><ValorDR>diez</ValorDR>"
        "</DscRcgGlobal>"
        "<Referencia><NroLinRef>1</NroLinRef><TpoDocRef>33</TpoDocRef><FolioRef>695</FolioRef>"
        "<RUTOtr>123</RUTOtr><FchRef>02-04-2018</FchRef><CodRef>7</CodRef><RazonRef>Corrige</RazonRef>"
        "</Referencia>",
    )
    xml = insert_after(xml, "IVA", "<ImptoReten><TipoImp>27</TipoImp><MontoImp>-5</MontoImp></ImptoReten>")

    fields = read(xml)

    [line] = fields.detail
    assert (line.number, line.quantity, line.unit_price, line.exempt_indicator) == (1, None, None, None)
    assert (line.name, line.amount) == ("SERVICIOS VARIOS", Decimal(80901))
    assert fields.totals is not None
    assert (fields.totals.vat_rate, fields.totals.vat_cents, fields.totals.total_cents) == (
        None,
        None,
        9627200,
    )
    assert fields.totals.other_taxes == (DteTax("27", None, None),)
    assert fields.discounts == (DscRcgGlobal(1, "", "%", None),)
    assert fields.references == (
        DteReference(number=1, document_type="33", folio="695", date=None, reason="Corrige"),
    )
    assert fields.warnings == (
        "TasaIVA 'diecinueve' is not a number; left out",
        "IVA '15.371,00' is not an amount of 0 or more; left out",
        "ImptoReten: MontoImp '-5' is not an amount of 0 or more; left out",
        "Detalle line 1: NroLinDet 'uno' is not a line number; left out",
        "Detalle line 1: IndExe '9' is not one of 1, 2, 3, 4, 5, 6; left out",
        "Detalle line 1: QtyItem '1,5' is not a number; left out",
        "Detalle line 1: PrcItem '80.900,67' is not a number; left out",
        "DscRcgGlobal 1: TpoMov 'X' is not D or R; left out",
        "DscRcgGlobal 1: ValorDR 'diez' is not a number; left out",
        "Referencia 1: FchRef '02-04-2018' is not a date (YYYY-MM-DD); left out",
        "Referencia 1: RUTOtr '123' is not a valid RUT; left out",
        "Referencia 1: CodRef '7' is not one of 1, 2, 3; left out",
    )
    assert dte_json(fields)["warnings"] == list(fields.warnings)
    assert "QtyItem: 1,5 " in fields.detail_notes  # the raw text is not lost


def test_warnings_are_capped() -> None:
    line = re.search(r"<Detalle>.*</Detalle>", SEED, flags=re.S)
    assert line is not None
    bad = line.group(0).replace("<QtyItem>1.00<", "<QtyItem>x<").replace("<PrcItem>80900.67<", "<PrcItem>y<")

    fields = read(SEED.replace(line.group(0), bad * 60))

    assert len(fields.detail) == 60
    assert len(fields.warnings) == MAX_WARNINGS


def test_an_overlong_number_is_not_a_number() -> None:
    fields = read(seed(QtyItem="1" * 25))

    assert fields.detail[0].quantity is None
    assert fields.warnings == (f"Detalle line 1: QtyItem '{'1' * 25}' is not a number; left out",)


# --- drafts and other things that are not DTEs ----------------------------------------------------------


def _bare_documento(xml: str) -> str:
    return xml[xml.index("<Documento") : xml.index("</Documento>") + len("</Documento>")]


UNREADABLE = {
    "bare-documento": (
        _bare_documento(SEED),
        "the root element is Documento; expected DTE, SetDTE, EnvioDTE or EnvioBOLETA",
    ),
    "no-documento": ('<DTE version="1.0"><Signature/></DTE>', "the DTE has no Documento"),
    "no-receptor": (
        replace_element(SEED, "Receptor", ""),
        "the DTE's Encabezado lacks IdDoc, Emisor, Receptor or Totales",
    ),
    "no-folio": (seed(Folio=None), "the DTE has no IdDoc/Folio"),
    "folio-not-a-number": (seed(Folio="N696"), "Folio is 'N696', not a positive whole number"),
    "no-tipo-dte": (seed(TipoDTE=None), "the DTE has no IdDoc/TipoDTE"),
    "fch-emis-basic-format": (seed(FchEmis="20180406"), "FchEmis is '20180406', not a date (YYYY-MM-DD)"),
    "fch-emis-not-a-date": (seed(FchEmis="2018-02-30"), "FchEmis is '2018-02-30', not a date (YYYY-MM-DD)"),
    "fch-venc-not-iso": (
        insert_after(SEED, "FmaPago", "<FchVenc>31-05-2018</FchVenc>"),
        "FchVenc is '31-05-2018', not a date (YYYY-MM-DD)",
    ),
    "fma-pago-not-a-number": (seed(FmaPago="contado"), "FmaPago is 'contado', not a positive whole number"),
    "rut-emisor-without-check-digit": (
        seed(RUTEmisor="76453707"),
        "RUTEmisor '76453707' is not a valid RUT (digits, hyphen and check digit)",
    ),
    "rut-recep-wrong-check-digit": (
        seed(RUTRecep="99999999-8"),
        "RUTRecep '99999999-8' is not a valid RUT (digits, hyphen and check digit)",
    ),
    "no-mnt-total": (seed(MntTotal=None), "the DTE has no Totales/MntTotal"),
    "mnt-neto-three-decimals": (seed(MntNeto="80901.001"), "MntNeto: 80901.001 has more than two decimals"),
    "negative-monto-item": (seed(MontoItem="-80901"), "Detalle line 1 MontoItem: -80901 is negative"),
    "misspelt-mto-item": (
        SEED.replace("MontoItem>", "MtoItem>"),
        "Detalle line 1 has no MontoItem (it has MtoItem, which a DTE line does not)",
    ),
    "no-monto-item": (seed(MontoItem=None), "Detalle line 1 has no MontoItem"),
}


@pytest.mark.parametrize(("xml", "message"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_what_is_not_a_readable_dte_is_refused_with_a_clear_message(xml: str, message: str) -> None:
    assert refusal(xml) == message
