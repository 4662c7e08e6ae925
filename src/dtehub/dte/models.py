"""What a DTE says, as typed records: the document's header, parties, totals, detail lines, global
discounts and surcharges, references, other currency, transport and customs.

:func:`dtehub.dte.reader.read_fields` builds them from the XML, once per DTE; the stored document is made
of :class:`DteFields`, the PDF prints it, and :func:`dtehub.dte.views.dte_json` turns it into the ``dte``
object the API publishes (:class:`dtehub.dte.published.DteOut`). Each field names the DTE element it comes
from.

**Amounts.** The totals (:class:`DteTotals`, and ``net_cents``/``exempt_cents``/``total_cents``) are
integer hundredths of a peso (:func:`~dtehub.kit.money.to_cents`), as the document store keeps them.
Every other amount is a :class:`~decimal.Decimal`, exactly as written, because it is not always in
pesos: lines, discounts and payments are in the document's currency (:attr:`DteFields.currency`), which
for export documents (110-112) is a foreign one with up to four decimals; :class:`OtraMoneda` is in its
own. Quantities, prices, rates and percentages are Decimals too; nothing is ever a float. An export
document keeps its own totals in :class:`Exportaciones` (its ``Totales`` are in its currency) and the
pesos the store needs come from its ``OtraMoneda`` in ``PESO CL``, rounded to the cent. Liquidaciones-
factura (43) may carry negative amounts, as their schema allows.

Codes that identify rather than count (Acteco, CdgSIISucur, TipoImp, TpoDocRef, customs codes) are kept
as the text written, e.g. ``"078904860"``; enumerations with a meaning (FmaPago, IndExe, CodRef…) are
integers. An optional value the DTE leaves out, or that was malformed (see :attr:`DteFields.warnings`),
is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dtehub.dte.constants import PESO_CL


@dataclass(frozen=True)
class DteParty:
    """Who issues or receives the document; texts are ``""`` when the DTE leaves them out."""

    rut: str
    """Canonical RUT (``76399752-9``): RUTEmisor or RUTRecep."""
    name: str
    """RznSoc / RznSocRecep (boletas: RznSocEmisor)."""
    activity: str = ""
    """GiroEmis / GiroRecep (boletas: GiroEmisor): the line of business."""
    address: str = ""
    """DirOrigen / DirRecep."""
    comuna: str = ""
    """CmnaOrigen / CmnaRecep."""
    city: str = ""
    """CiudadOrigen / CiudadRecep."""


@dataclass(frozen=True)
class DteIssuer(DteParty):
    """The issuer (``Emisor``)."""

    phones: tuple[str, ...] = ()
    """Telefono, up to two."""
    email: str = ""
    """CorreoEmisor."""
    activity_codes: tuple[str, ...] = ()
    """Acteco: SII's economic activity codes (one to four), as written."""
    branch: str = ""
    """Sucursal: the issuer's own name or number for the branch."""
    branch_code: str = ""
    """CdgSIISucur: the branch's code at SII, as written (``078904860``)."""
    seller_code: str = ""
    """CdgVendedor."""
    additional_id: str = ""
    """IdAdicEmisor (export documents)."""


@dataclass(frozen=True)
class DteReceiver(DteParty):
    """The receiver (``Receptor``)."""

    internal_code: str = ""
    """CdgIntRecep: the issuer's own code for the receiver."""
    foreign_id: str = ""
    """Extranjero/NumId: a foreign receiver's tax id."""
    nationality: str = ""
    """Extranjero/Nacionalidad: a foreign receiver's country code."""
    contact: str = ""
    """Contacto."""
    email: str = ""
    """CorreoRecep."""
    postal_address: str = ""
    """DirPostal."""
    postal_comuna: str = ""
    """CmnaPostal."""
    postal_city: str = ""
    """CiudadPostal."""


@dataclass(frozen=True)
class DtePayment:
    """One scheduled payment (``MntPagos``) of a document paid in instalments."""

    date: date | None
    """FchPago."""
    amount: Decimal | None
    """MntPago, in the document's currency."""
    gloss: str | None = None
    """GlosaPagos."""


@dataclass(frozen=True)
class DteIdDoc:
    """``IdDoc`` beyond what :class:`DteFields` has at its top level (TipoDTE, Folio, FchEmis, FmaPago,
    FchVenc). Codes are SII's (format document, section A)."""

    no_rebate: bool = False
    """IndNoRebaja = 1: a credit note without the right to reduce the VAT debit."""
    dispatch_type: int | None = None
    """TipoDespacho: 1 by the receiver, 2 by the issuer to the receiver's premises, 3 elsewhere."""
    transfer_type: int | None = None
    """IndTraslado (guías, 1-9): why goods are moved."""
    print_format: str | None = None
    """TpoImpresion: N normal, T ticket."""
    service_type: int | None = None
    """IndServicio: 1-3 periodic/other services, 4-6 export services."""
    gross_amounts: bool = False
    """MntBruto = 1: line amounts include taxes."""
    purchase_transaction_type: int | None = None
    """TpoTranCompra."""
    sale_transaction_type: int | None = None
    """TpoTranVenta."""
    export_payment_form: str | None = None
    """FmaPagExp: the customs code of the payment form."""
    paid_date: date | None = None
    """FchCancel."""
    paid_amount: Decimal | None = None
    """MntCancel."""
    unpaid_balance: Decimal | None = None
    """SaldoInsol."""
    payments: tuple[DtePayment, ...] = ()
    """MntPagos."""
    period_from: date | None = None
    """PeriodoDesde: the start of the period a service bill covers."""
    period_to: date | None = None
    """PeriodoHasta."""
    payment_method: str | None = None
    """MedioPago: CH cheque, LT letra, EF efectivo, PE cuenta corriente, TC tarjeta, CF cheque a fecha, OT."""
    account_type: str | None = None
    """TpoCtaPago: AHORRO, CORRIENTE or VISTA."""
    account_number: str | None = None
    """NumCtaPago."""
    bank: str | None = None
    """BcoPago."""
    payment_terms_code: str | None = None
    """TermPagoCdg."""
    payment_terms_gloss: str | None = None
    """TermPagoGlosa."""
    payment_terms_days: int | None = None
    """TermPagoDias."""


@dataclass(frozen=True)
class DteTax:
    """One additional tax or withholding of the totals (``ImptoReten``)."""

    code: str
    """TipoImp: SII's tax code (section 4 of the format document), as written."""
    rate: Decimal | None
    """TasaImp, a percentage; specific taxes may have none."""
    amount_cents: int | None
    """MontoImp, in hundredths of a peso."""


@dataclass(frozen=True)
class DteTotals:
    """``Totales`` of a document in pesos, in hundredths; None where the DTE leaves a value out."""

    total_cents: int
    """MntTotal."""
    net_cents: int | None = None
    """MntNeto: taxed lines, after global discounts and surcharges."""
    exempt_cents: int | None = None
    """MntExe: exempt or non-taxed lines."""
    meat_base_cents: int | None = None
    """MntBase: the base of the VAT withheld on meat slaughtering."""
    margin_base_cents: int | None = None
    """MntMargenCom: the base of commercialization margins."""
    vat_rate: Decimal | None = None
    """TasaIVA, a percentage (``19``)."""
    vat_cents: int | None = None
    """IVA."""
    own_vat_cents: int | None = None
    """IVAProp: the issuer's own part of the VAT, when selling on behalf of a principal."""
    third_party_vat_cents: int | None = None
    """IVATerc: the principal's part."""
    other_taxes: tuple[DteTax, ...] = ()
    """ImptoReten: additional taxes and withholdings."""
    vat_not_withheld_cents: int | None = None
    """IVANoRet."""
    construction_credit_cents: int | None = None
    """CredEC: the 65 % special credit of construction companies (subtracted)."""
    packaging_deposit_cents: int | None = None
    """GrntDep: deposits for returnable packaging."""
    commissions_net_cents: int | None = None
    """Comisiones/ValComNeto."""
    commissions_exempt_cents: int | None = None
    """Comisiones/ValComExe."""
    commissions_vat_cents: int | None = None
    """Comisiones/ValComIVA."""
    non_billable_cents: int | None = None
    """MontoNF: amounts that are not billed (may be negative)."""
    period_total_cents: int | None = None
    """MontoPeriodo (boletas: TotalPeriodo)."""
    previous_balance_cents: int | None = None
    """SaldoAnterior."""
    amount_due_cents: int | None = None
    """VlrPagar: what the receiver is asked to pay (may differ from the total)."""


@dataclass(frozen=True)
class OtraMonedaTax:
    """One tax of :class:`OtraMoneda` (``ImpRetOtrMnda``)."""

    code: str
    """TipoImpOtrMnda."""
    rate: Decimal | None
    """TasaImpOtrMnda."""
    amount: Decimal | None
    """VlrImpOtrMnda."""


@dataclass(frozen=True)
class OtraMoneda:
    """The totals in another currency (``OtraMoneda``); in export documents, the pesos (``PESO CL``)."""

    currency: str
    """TpoMoneda: SII's name of the currency (``DOLAR USA``, ``EURO``, ``PESO CL``…), as written."""
    exchange_rate: Decimal | None = None
    """TpoCambio: in exports, pesos per unit of the document's currency (Banco Central's rate)."""
    net: Decimal | None = None
    """MntNetoOtrMnda."""
    exempt: Decimal | None = None
    """MntExeOtrMnda."""
    meat_base: Decimal | None = None
    """MntFaeCarneOtrMnda."""
    margin_base: Decimal | None = None
    """MntMargComOtrMnda."""
    vat: Decimal | None = None
    """IVAOtrMnda."""
    other_taxes: tuple[OtraMonedaTax, ...] = ()
    """ImpRetOtrMnda."""
    vat_not_withheld: Decimal | None = None
    """IVANoRetOtrMnda."""
    total: Decimal | None = None
    """MntTotOtrMnda."""


@dataclass(frozen=True)
class Exportaciones:
    """The totals of an export document (110-112), which are in its own currency."""

    currency: str
    """Totales/TpoMoneda: SII's name of the currency of every amount of the document (``DOLAR USA``)."""
    total: Decimal
    """Totales/MntTotal."""
    exempt: Decimal | None = None
    """Totales/MntExe."""


@dataclass(frozen=True)
class DtePackage:
    """One kind of package of a shipment (``Aduana/TipoBultos``)."""

    kind: str | None = None
    """CodTpoBultos: the customs code of the package type."""
    quantity: int | None = None
    """CantBultos."""
    marks: str | None = None
    """Marcas."""
    container_id: str | None = None
    """IdContainer."""
    seal: str | None = None
    """Sello."""
    seal_issuer: str | None = None
    """EmisorSello."""


@dataclass(frozen=True)
class DteCustoms:
    """Customs data of an export (``Transporte/Aduana``); codes are the customs service's, as written."""

    sale_mode: str | None = None
    """CodModVenta: modality of sale."""
    sale_clause: str | None = None
    """CodClauVenta: the sale clause (Incoterm) code."""
    sale_clause_total: Decimal | None = None
    """TotClauVenta: the total under that clause, in the document's currency."""
    transport_way: str | None = None
    """CodViaTransp."""
    vessel: str | None = None
    """NombreTransp: the ship's or flight's name."""
    carrier_rut: str | None = None
    """RUTCiaTransp."""
    carrier_name: str | None = None
    """NomCiaTransp."""
    carrier_additional_id: str | None = None
    """IdAdicTransp."""
    booking: str | None = None
    """Booking."""
    operator: str | None = None
    """Operador."""
    loading_port: str | None = None
    """CodPtoEmbarque."""
    loading_port_id: str | None = None
    """IdAdicPtoEmb."""
    unloading_port: str | None = None
    """CodPtoDesemb."""
    unloading_port_id: str | None = None
    """IdAdicPtoDesemb."""
    tare: int | None = None
    """Tara."""
    tare_unit: str | None = None
    """CodUnidMedTara."""
    gross_weight: Decimal | None = None
    """PesoBruto."""
    gross_weight_unit: str | None = None
    """CodUnidPesoBruto."""
    net_weight: Decimal | None = None
    """PesoNeto."""
    net_weight_unit: str | None = None
    """CodUnidPesoNeto."""
    total_items: int | None = None
    """TotItems."""
    total_packages: int | None = None
    """TotBultos."""
    packages: tuple[DtePackage, ...] = ()
    """TipoBultos."""
    freight: Decimal | None = None
    """MntFlete, in the document's currency."""
    insurance: Decimal | None = None
    """MntSeguro, in the document's currency."""
    receiver_country: str | None = None
    """CodPaisRecep."""
    destination_country: str | None = None
    """CodPaisDestin."""


@dataclass(frozen=True)
class DteTransport:
    """``Transporte``: who carries the goods and where (guías, exports)."""

    plate: str | None = None
    """Patente."""
    carrier_rut: str | None = None
    """RUTTrans."""
    driver_rut: str | None = None
    """Chofer/RUTChofer."""
    driver_name: str | None = None
    """Chofer/NombreChofer."""
    destination_address: str | None = None
    """DirDest."""
    destination_comuna: str | None = None
    """CmnaDest."""
    destination_city: str | None = None
    """CiudadDest."""
    customs: DteCustoms | None = None
    """Aduana."""


@dataclass(frozen=True)
class ItemCode:
    """One code of an item (``CdgItem``)."""

    type: str
    """TpoCodigo: the coding scheme (``SKU``, ``EAN13``, ``INT1``…)."""
    value: str
    """VlrCodigo."""


@dataclass(frozen=True)
class DteLine:
    """One detail line (``Detalle``). Amounts are in the document's currency (:attr:`DteFields.currency`)."""

    number: int
    """NroLinDet (its position when the DTE's own number is missing or malformed)."""
    name: str
    """NmbItem."""
    amount: Decimal
    """MontoItem: the line's value after its discount and surcharge."""
    codes: tuple[ItemCode, ...] = ()
    """CdgItem, up to five."""
    exempt_indicator: int | None = None
    """IndExe: 1 exempt or not taxed, 2 not billable, 3 packaging deposit, 4 not sold, 5 negative item,
    6 not billable negative."""
    description: str | None = None
    """DscItem."""
    reference_quantity: Decimal | None = None
    """QtyRef: a quantity for reference only."""
    reference_unit: str | None = None
    """UnmdRef."""
    reference_price: Decimal | None = None
    """PrcRef."""
    quantity: Decimal | None = None
    """QtyItem, exact as written (``1.00``)."""
    unit: str | None = None
    """UnmdItem."""
    unit_price: Decimal | None = None
    """PrcItem, up to six decimals."""
    discount_pct: Decimal | None = None
    """DescuentoPct."""
    discount_amount: Decimal | None = None
    """DescuentoMonto."""
    surcharge_pct: Decimal | None = None
    """RecargoPct."""
    surcharge_amount: Decimal | None = None
    """RecargoMonto."""
    tax_codes: tuple[str, ...] = ()
    """CodImpAdic: the additional taxes (ImptoReten codes) that apply to the line."""


@dataclass(frozen=True)
class DscRcgGlobal:
    """A global discount or surcharge (``DscRcgGlobal``)."""

    number: int | None
    """NroLinDR."""
    movement: str
    """TpoMov: ``D`` discount or ``R`` surcharge, as written ("" when missing)."""
    value_type: str
    """TpoValor: ``%`` a percentage of the lines or ``$`` an amount in the document's currency."""
    value: Decimal | None
    """ValorDR."""
    gloss: str | None = None
    """GlosaDR."""
    value_other_currency: Decimal | None = None
    """ValorDROtrMnda."""
    exempt_indicator: int | None = None
    """IndExeDR: 1 applies to exempt lines, 2 to non-billable ones; None to taxed lines."""


@dataclass(frozen=True)
class DteReference:
    """A document this one refers to (``Referencia``)."""

    number: int | None
    """NroLinRef."""
    document_type: str
    """TpoDocRef, a string: a DTE type (``33``), a paper one (``30``), or ``801`` (purchase order),
    ``HES``, ``SET``…; "" when missing."""
    folio: str
    """FolioRef, a string (up to 18 characters, not always digits); "" when missing."""
    date: date | None
    """FchRef."""
    global_reference: bool = False
    """IndGlobal = 1: refers to a set of documents (e.g. all of a month's guías), not to one."""
    other_rut: str | None = None
    """RUTOtr: the RUT of another taxpayer who issued the referenced document."""
    reason_code: int | None = None
    """CodRef: 1 cancels the referenced document, 2 corrects its text, 3 corrects amounts."""
    reason: str | None = None
    """RazonRef."""


@dataclass(frozen=True)
class DteFields:
    """What a DTE says (see the module docstring for amounts)."""

    code: int
    """TipoDTE."""
    folio: int
    """Folio."""
    issue_date: date
    """FchEmis."""
    due_date: date | None
    """FchVenc."""
    payment_form: int | None
    """FmaPago: 1 cash (contado), 2 credit, 3 free of charge."""
    issuer: DteIssuer
    receiver: DteReceiver
    net_cents: int
    """MntNeto in hundredths, 0 when absent (exports: their net in pesos, normally 0)."""
    exempt_cents: int
    """MntExe in hundredths, 0 when absent (exports: their exempt amount in pesos)."""
    total_cents: int
    """MntTotal in hundredths (exports: their total in pesos, from OtraMoneda)."""
    detail_notes: str
    """The detail lines as Duemint writes them into a document's ``notes``, each value as written (a
    malformed one too): see :mod:`dtehub.dte.detail_notes`."""
    currency: str = PESO_CL
    """The currency of lines, discounts and payments: ``PESO CL``, or an export document's TpoMoneda."""
    id_doc: DteIdDoc = DteIdDoc()
    principal_rut: str | None = None
    """RUTMandante: the principal on whose behalf the issuer sells."""
    requester_rut: str | None = None
    """RUTSolicita: who asked for the goods to be moved (guías)."""
    transport: DteTransport | None = None
    totals: DteTotals | None = None
    """The document's Totales in pesos; None on export documents, whose totals are in :attr:`export`."""
    export: Exportaciones | None = None
    """Export documents' own totals and currency."""
    other_currency: OtraMoneda | None = None
    detail: tuple[DteLine, ...] = ()
    """The detail lines."""
    discounts: tuple[DscRcgGlobal, ...] = ()
    """Global discounts and surcharges."""
    references: tuple[DteReference, ...] = ()
    warnings: tuple[str, ...] = ()
    """Optional values that were malformed and left out, e.g. ``Detalle line 1: QtyItem '1,5' is not a
    number``."""
