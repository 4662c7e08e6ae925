"""The dte object of a document (getDocument, the create methods): every field read from its DTE,
as :func:`dtehub.dte.views.dte_json` writes it once, when the DTE is stored.

Every key is always present (null or ``[]`` when the DTE has nothing). Amounts are strings with two
or more decimals (``"194111.00"``; export currencies have up to four), other numbers exact strings as
the DTE writes them (``"1.00"``), dates ISO 8601. Amounts are in the document's currency unless their
object names its own (otherCurrency); totals and otherTaxes are in pesos except on export
documents, whose totals are in their currency. Each field names the DTE element it comes from.

The API sends the stored JSON as it is; these models publish its schema in ``/openapi.json`` and give
the portal typed values (:class:`~decimal.Decimal`, :class:`~datetime.date`) when it reads the JSON
back. ``tests/dte/test_views.py`` holds :func:`~dtehub.dte.views.dte_json` to them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer, WithJsonSchema

from dtehub.kit.model import ApiModel

_CENT = Decimal("0.01")


def money_text(value: Decimal) -> str:
    """An amount with at least two decimals, like :func:`~dtehub.kit.money.format_cents`
    (``194111`` → ``194111.00``); more when the DTE gives more (export currencies have up to four)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(_CENT)
    return format(value, "f")


def number_text(value: Decimal) -> str:
    """A quantity, price, rate or percentage exactly as the DTE wrote it."""
    return format(value, "f")


Money = Annotated[
    Decimal,
    PlainSerializer(money_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2,}$", "examples": ["194111.00"]}),
]
"""An amount: a string with two or more decimals."""

Number = Annotated[
    Decimal,
    PlainSerializer(number_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["1.00"]}),
]
"""A quantity, price, rate or percentage: a string, exactly as the DTE writes it."""


class DteScheduledPaymentOut(ApiModel):
    """One scheduled payment of a document paid in instalments (MntPagos)."""

    date: dt.date | None = Field(description="FchPago")
    amount: Money | None = Field(description="MntPago, in the document's currency")
    gloss: str | None = Field(description="GlosaPagos")


class DtePaymentOut(ApiModel):
    """How the document is to be paid (IdDoc)."""

    form: int | None = Field(description="FmaPago: 1 cash (contado), 2 credit, 3 free of charge")
    export_form: str | None = Field(description="FmaPagExp: the customs code of an export's payment form")
    method: str | None = Field(
        description="MedioPago: CH cheque, CF cheque a fecha, LT letra, EF efectivo, PE cuenta corriente, "
        "TC tarjeta, OT otro"
    )
    terms_code: str | None = Field(description="TermPagoCdg")
    terms_gloss: str | None = Field(description="TermPagoGlosa")
    terms_days: int | None = Field(description="TermPagoDias")
    account_type: str | None = Field(description="TpoCtaPago: AHORRO, CORRIENTE or VISTA")
    account_number: str | None = Field(description="NumCtaPago")
    bank: str | None = Field(description="BcoPago")
    paid_date: dt.date | None = Field(description="FchCancel: when it was paid, if the DTE says so")
    paid_amount: Money | None = Field(description="MntCancel")
    unpaid_balance: Money | None = Field(description="SaldoInsol: what remains unpaid")
    schedule: list[DteScheduledPaymentOut] = Field(description="MntPagos: the instalments")


class DteIndicatorsOut(ApiModel):
    """SII's indicators of the document (IdDoc; codes from SII's format document)."""

    no_rebate: bool = Field(description="IndNoRebaja = 1: a credit note that does not reduce the VAT debit")
    gross_amounts: bool = Field(description="MntBruto = 1: line amounts include taxes")
    dispatch_type: int | None = Field(
        description="TipoDespacho: 1 by the receiver, 2 by the issuer to the receiver's premises, 3 elsewhere"
    )
    transfer_type: int | None = Field(description="IndTraslado (guías, 1-9): why goods are moved")
    print_format: str | None = Field(description="TpoImpresion: N normal, T ticket")
    service_type: int | None = Field(
        description="IndServicio: 1-3 periodic or other services, 4-6 export services"
    )
    purchase_transaction_type: int | None = Field(description="TpoTranCompra")
    sale_transaction_type: int | None = Field(description="TpoTranVenta")


class DtePeriodOut(ApiModel):
    """The period a service bill covers."""

    from_: dt.date | None = Field(alias="from", description="PeriodoDesde")
    to: dt.date | None = Field(description="PeriodoHasta")


class DteIssuerOut(ApiModel):
    """Who issued the document (Emisor)."""

    tax_id: str = Field(description="RUTEmisor, canonical (76399752-9)")
    name: str = Field(description='RznSoc (boletas: RznSocEmisor); "" when the DTE leaves it out')
    activity: str | None = Field(description="GiroEmis (boletas: GiroEmisor): the line of business")
    activity_codes: list[str] = Field(description="Acteco: SII's economic activity codes, as written")
    phones: list[str] = Field(description="Telefono, up to two")
    email: str | None = Field(description="CorreoEmisor")
    branch: str | None = Field(description="Sucursal: the issuer's own name or number for the branch")
    branch_code: str | None = Field(description="CdgSIISucur: the branch's code at SII, as written")
    seller_code: str | None = Field(description="CdgVendedor")
    additional_id: str | None = Field(description="IdAdicEmisor (export documents)")
    address: str | None = Field(description="DirOrigen")
    comuna: str | None = Field(description="CmnaOrigen")
    city: str | None = Field(description="CiudadOrigen")


class DteReceiverOut(ApiModel):
    """Who received the document (Receptor)."""

    tax_id: str = Field(description="RUTRecep, canonical (55555555-5 for a foreign receiver)")
    name: str = Field(description='RznSocRecep; "" when the DTE leaves it out')
    internal_code: str | None = Field(description="CdgIntRecep: the issuer's own code for the receiver")
    foreign_id: str | None = Field(description="Extranjero/NumId: a foreign receiver's tax id")
    nationality: str | None = Field(description="Extranjero/Nacionalidad: a foreign receiver's country code")
    activity: str | None = Field(description="GiroRecep: the line of business")
    contact: str | None = Field(description="Contacto")
    email: str | None = Field(description="CorreoRecep")
    address: str | None = Field(description="DirRecep")
    comuna: str | None = Field(description="CmnaRecep")
    city: str | None = Field(description="CiudadRecep")
    postal_address: str | None = Field(description="DirPostal")
    postal_comuna: str | None = Field(description="CmnaPostal")
    postal_city: str | None = Field(description="CiudadPostal")


class DteTotalsOut(ApiModel):
    """Totales: in pesos, or in an export document's currency (an export gives only exempt and
    total here; its pesos are in otherCurrency)."""

    net: Money | None = Field(description="MntNeto: taxed lines, after global discounts and surcharges")
    exempt: Money | None = Field(description="MntExe: exempt or non-taxed lines")
    meat_base: Money | None = Field(description="MntBase: the base of the VAT withheld on meat slaughtering")
    margin_base: Money | None = Field(description="MntMargenCom: the base of commercialization margins")
    vat_rate: Number | None = Field(description="TasaIVA, a percentage (19)")
    vat: Money | None = Field(description="IVA")
    own_vat: Money | None = Field(
        description="IVAProp: the issuer's own part of the VAT, when selling on behalf of a principal"
    )
    third_party_vat: Money | None = Field(description="IVATerc: the principal's part of the VAT")
    vat_not_withheld: Money | None = Field(description="IVANoRet")
    construction_credit: Money | None = Field(
        description="CredEC: the 65% special credit of construction companies (subtracted)"
    )
    packaging_deposit: Money | None = Field(description="GrntDep: deposits for returnable packaging")
    commissions_net: Money | None = Field(description="Comisiones/ValComNeto")
    commissions_exempt: Money | None = Field(description="Comisiones/ValComExe")
    commissions_vat: Money | None = Field(description="Comisiones/ValComIVA")
    total: Money | None = Field(description="MntTotal")
    non_billable: Money | None = Field(description="MontoNF: amounts that are not billed (may be negative)")
    period_total: Money | None = Field(description="MontoPeriodo (boletas: TotalPeriodo)")
    previous_balance: Money | None = Field(description="SaldoAnterior")
    amount_due: Money | None = Field(
        description="VlrPagar: what the receiver is asked to pay (may differ from the total)"
    )


class DteTaxOut(ApiModel):
    """An additional tax or withholding of the totals (ImptoReten), in pesos."""

    code: str = Field(description="TipoImp: SII's tax code, as written")
    rate: Number | None = Field(description="TasaImp, a percentage; specific taxes may have none")
    amount: Money | None = Field(description="MontoImp")


class DteOtherCurrencyTaxOut(ApiModel):
    """An additional tax in the other currency (ImpRetOtrMnda)."""

    code: str = Field(description="TipoImpOtrMnda")
    rate: Number | None = Field(description="TasaImpOtrMnda")
    amount: Money | None = Field(description="VlrImpOtrMnda")


class DteOtherCurrencyOut(ApiModel):
    """The totals in another currency (OtraMoneda); in export documents, the pesos (PESO CL)."""

    currency: str = Field(description="TpoMoneda: SII's name of the currency (DOLAR USA, EURO, PESO CL…)")
    exchange_rate: Number | None = Field(
        description="TpoCambio: in exports, pesos per unit of the document's currency"
    )
    net: Money | None = Field(description="MntNetoOtrMnda")
    exempt: Money | None = Field(description="MntExeOtrMnda")
    meat_base: Money | None = Field(description="MntFaeCarneOtrMnda")
    margin_base: Money | None = Field(description="MntMargComOtrMnda")
    vat: Money | None = Field(description="IVAOtrMnda")
    other_taxes: list[DteOtherCurrencyTaxOut] = Field(description="ImpRetOtrMnda")
    vat_not_withheld: Money | None = Field(description="IVANoRetOtrMnda")
    total: Money | None = Field(description="MntTotOtrMnda")


class DteItemCodeOut(ApiModel):
    """One code of an item (CdgItem)."""

    type: str = Field(description="TpoCodigo: the coding scheme (SKU, EAN13, INT1…)")
    value: str = Field(description="VlrCodigo")


class DteLineOut(ApiModel):
    """One detail line (Detalle); amounts in the document's currency."""

    number: int = Field(
        description="NroLinDet (its position when the DTE's own number is missing or malformed)"
    )
    codes: list[DteItemCodeOut] = Field(description="CdgItem, up to five")
    exempt_indicator: int | None = Field(
        description="IndExe: 1 exempt or not taxed, 2 not billable, 3 packaging deposit, 4 not sold, "
        "5 negative item, 6 not billable negative"
    )
    name: str = Field(description="NmbItem")
    description: str | None = Field(description="DscItem")
    reference_quantity: Number | None = Field(description="QtyRef: a quantity for reference only")
    reference_unit: str | None = Field(description="UnmdRef")
    reference_price: Number | None = Field(description="PrcRef")
    quantity: Number | None = Field(description="QtyItem")
    unit: str | None = Field(description="UnmdItem")
    unit_price: Number | None = Field(description="PrcItem, up to six decimals")
    discount_percent: Number | None = Field(description="DescuentoPct")
    discount_amount: Money | None = Field(description="DescuentoMonto")
    surcharge_percent: Number | None = Field(description="RecargoPct")
    surcharge_amount: Money | None = Field(description="RecargoMonto")
    tax_codes: list[str] = Field(
        description="CodImpAdic: the additional taxes (otherTaxes codes) that apply to the line"
    )
    amount: Money = Field(description="MontoItem: the line's value after its discount and surcharge")


class DteDiscountOut(ApiModel):
    """A global discount or surcharge (DscRcgGlobal)."""

    number: int | None = Field(description="NroLinDR")
    movement: str = Field(description='TpoMov: D discount or R surcharge ("" when missing or malformed)')
    gloss: str | None = Field(description="GlosaDR")
    value_type: str = Field(
        description='TpoValor: % a percentage of the lines, $ an amount ("" when missing or malformed)'
    )
    value: Number | None = Field(
        description="ValorDR: a percentage as written, or an amount in the document's currency"
    )
    value_other_currency: Money | None = Field(description="ValorDROtrMnda")
    exempt_indicator: int | None = Field(
        description="IndExeDR: 1 applies to exempt lines, 2 to non-billable ones; null to taxed lines"
    )


class DteReferenceOut(ApiModel):
    """A document this one refers to (Referencia)."""

    number: int | None = Field(description="NroLinRef")
    document_type: str = Field(
        description="TpoDocRef: a DTE type (33), a paper one (30), 801 (purchase order), HES, SET…; "
        '"" when missing'
    )
    global_: bool = Field(
        alias="global", description="IndGlobal = 1: refers to a set of documents, not to one"
    )
    folio: str = Field(description='FolioRef, as written (not always digits); "" when missing')
    other_tax_id: str | None = Field(
        description="RUTOtr: the taxpayer who issued the referenced document, when not the issuer"
    )
    date: dt.date | None = Field(description="FchRef")
    reason_code: int | None = Field(
        description="CodRef: 1 cancels the referenced document, 2 corrects its text, 3 corrects amounts"
    )
    reason: str | None = Field(description="RazonRef")


class DtePackageOut(ApiModel):
    """One kind of package of a shipment (Aduana/TipoBultos)."""

    kind: str | None = Field(description="CodTpoBultos: the customs code of the package type")
    quantity: int | None = Field(description="CantBultos")
    marks: str | None = Field(description="Marcas")
    container_id: str | None = Field(description="IdContainer")
    seal: str | None = Field(description="Sello")
    seal_issuer: str | None = Field(description="EmisorSello")


class DteCustomsOut(ApiModel):
    """Customs data of an export (Transporte/Aduana); codes are the customs service's, as written."""

    sale_mode: str | None = Field(description="CodModVenta: modality of sale")
    sale_clause: str | None = Field(description="CodClauVenta: the sale clause (Incoterm) code")
    sale_clause_total: Money | None = Field(
        description="TotClauVenta: the total under that clause, in the document's currency"
    )
    transport_way: str | None = Field(description="CodViaTransp")
    vessel: str | None = Field(description="NombreTransp: the ship's or flight's name")
    carrier_tax_id: str | None = Field(description="RUTCiaTransp")
    carrier_name: str | None = Field(description="NomCiaTransp")
    carrier_additional_id: str | None = Field(description="IdAdicTransp")
    booking: str | None = Field(description="Booking")
    operator: str | None = Field(description="Operador")
    loading_port: str | None = Field(description="CodPtoEmbarque")
    loading_port_id: str | None = Field(description="IdAdicPtoEmb")
    unloading_port: str | None = Field(description="CodPtoDesemb")
    unloading_port_id: str | None = Field(description="IdAdicPtoDesemb")
    tare: int | None = Field(description="Tara")
    tare_unit: str | None = Field(description="CodUnidMedTara")
    gross_weight: Number | None = Field(description="PesoBruto")
    gross_weight_unit: str | None = Field(description="CodUnidPesoBruto")
    net_weight: Number | None = Field(description="PesoNeto")
    net_weight_unit: str | None = Field(description="CodUnidPesoNeto")
    total_items: int | None = Field(description="TotItems")
    total_packages: int | None = Field(description="TotBultos")
    packages: list[DtePackageOut] = Field(description="TipoBultos")
    freight: Money | None = Field(description="MntFlete, in the document's currency")
    insurance: Money | None = Field(description="MntSeguro, in the document's currency")
    receiver_country: str | None = Field(description="CodPaisRecep")
    destination_country: str | None = Field(description="CodPaisDestin")


class DteTransportOut(ApiModel):
    """Transporte: who carries the goods and where (guías, exports)."""

    plate: str | None = Field(description="Patente")
    carrier_tax_id: str | None = Field(description="RUTTrans")
    driver_tax_id: str | None = Field(description="Chofer/RUTChofer")
    driver_name: str | None = Field(description="Chofer/NombreChofer")
    destination_address: str | None = Field(description="DirDest")
    destination_comuna: str | None = Field(description="CmnaDest")
    destination_city: str | None = Field(description="CiudadDest")
    customs: DteCustomsOut | None = Field(description="Aduana")


class DteOut(ApiModel):
    """Every field read from a document's DTE: header, parties, totals, lines, global discounts and
    surcharges, references, other taxes, other currency and transport."""

    code: int = Field(description="TipoDTE: SII's document type (33, 34, 39, 41, 43, 46, 110…)")
    folio: int = Field(description="Folio")
    issue_date: dt.date = Field(description="FchEmis")
    due_date: dt.date | None = Field(description="FchVenc")
    currency: str = Field(
        description="The currency of lines, discounts and payments: PESO CL, or an export's TpoMoneda"
    )
    payment: DtePaymentOut = Field(description="Payment form, method, terms and schedule")
    indicators: DteIndicatorsOut = Field(description="SII's indicators of the document")
    period: DtePeriodOut | None = Field(description="PeriodoDesde/PeriodoHasta, when the DTE gives either")
    issuer: DteIssuerOut = Field(description="Emisor")
    principal_tax_id: str | None = Field(
        description="RUTMandante: the principal on whose behalf the issuer sells"
    )
    receiver: DteReceiverOut = Field(description="Receptor")
    requester_tax_id: str | None = Field(description="RUTSolicita: who asked for the goods to be moved")
    totals: DteTotalsOut = Field(description="Totales")
    other_taxes: list[DteTaxOut] = Field(description="Totales/ImptoReten: additional taxes and withholdings")
    other_currency: DteOtherCurrencyOut | None = Field(description="OtraMoneda")
    lines: list[DteLineOut] = Field(description="Detalle: the detail lines")
    discounts: list[DteDiscountOut] = Field(description="DscRcgGlobal: global discounts and surcharges")
    references: list[DteReferenceOut] = Field(description="Referencia")
    transport: DteTransportOut | None = Field(description="Transporte")
    warnings: list[str] = Field(
        description='Optional values that were malformed and left out, e.g. "Detalle line 1: QtyItem '
        "'1,5' is not a number; left out\""
    )
