"""Read what a DTE says, whatever envelope and namespace it arrives in.

Accepted roots: a bare ``DTE``, ``SetDTE``, ``EnvioDTE`` and ``EnvioBOLETA``, with or without the SII
namespace (``http://www.sii.cl/SiiDte``). :func:`read_fields` turns one ``DTE`` element into
:class:`DteFields`: the fields dtehub stores for a document, and the whole document as typed records
(header, detail lines, global discounts and surcharges, references, other currency, transport and
customs), which :func:`fields_as_json` turns into the JSON object the API shows.

**Unreadable.** A document without a usable type (TipoDTE), folio, issue date, issuer and receiver RUTs
and total is not a DTE and is refused with :class:`DteUnreadable`, as are the values the stored document
is made of (MntNeto, MntExe, FmaPago, FchVenc) when they are malformed, and the marks of a draft: a bare
``Documento`` root, a RUT without its check digit, a detail line without a valid, non-negative
``MontoItem`` (negative or misspelt ``MtoItem``).

**Everything else is best effort**, because genuine files are messy. An optional value that is malformed
(a QtyItem of ``1,5``, a CodRef of ``7``, a FchRef that is not a date, an unreadable RUTOtr) becomes
``None`` and is reported in :attr:`DteFields.warnings`; the raw text is not lost, the detail notes keep
it. A line, reference, tax or discount is never dropped because one of its parts is malformed: a
reference without a usable date still says which document it refers to.

**Amounts.** The totals (:class:`DteTotals`, and ``net_cents``/``exempt_cents``/``total_cents``) are
integer hundredths of a peso (:func:`~dtehub.kit.money.to_cents`), as the document store keeps them.
Every other amount is a :class:`~decimal.Decimal`, exactly as written, because it is not always in
pesos: lines, discounts and payments are in the document's currency (:attr:`DteFields.currency`), which
for export documents (110-112) is a foreign one with up to four decimals; :class:`OtraMoneda` is in its
own. Quantities, prices, rates and percentages are Decimals too; nothing is ever a float. An export
document keeps its own totals in :class:`Exportaciones` (its ``Totales`` are in its currency) and the
pesos the store needs come from its ``OtraMoneda`` in ``PESO CL``, rounded to the cent: an export that
gives no amount in pesos is unreadable. Liquidaciones-factura (43) may carry negative amounts, as their
schema allows.

Codes that identify rather than count (Acteco, CdgSIISucur, TipoImp, TpoDocRef, customs codes) are kept
as the text written, e.g. ``"078904860"``; enumerations with a meaning (FmaPago, IndExe, CodRef…) are
integers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lxml import etree

from dtehub.kit.money import InvalidAmount, format_cents, to_cents
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.kit.xml import local_name

# The DTE's body is Documento for most types, Liquidacion for 43 and Exportaciones for 110-112.
_BODY_NAMES = ("Documento", "Liquidacion", "Exportaciones")
_ENVELOPES = ("SetDTE", "EnvioDTE", "EnvioBOLETA")
# The line fields copied into a document's notes, in document order (Duemint's format).
NOTE_LINE_FIELDS = frozenset(
    {
        "NroLinDet",
        "NmbItem",
        "DscItem",
        "QtyItem",
        "PrcItem",
        "DescuentoPct",
        "DescuentoMonto",
        "RecargoPct",
        "RecargoMonto",
        "MontoItem",
    }
)
NOTES_HEADER = "*** LINEAS DETALLE DTE *** "
EXPORT_CODES = frozenset({110, 111, 112})
PESO_CL = "PESO CL"
"""SII's name for the Chilean peso (``TpoMoneda``), the currency of every document but exports."""
MAX_WARNINGS = 50
"""A hostile file could make thousands; the first ones say what is wrong."""

# What a detail line may contain (DTE_v10.xsd, all bodies, and boletas): anything else is a misspelling.
_LINE_ELEMENTS = frozenset(
    {
        "NroLinDet",
        "CdgItem",
        "TpoDocLiq",
        "IndExe",
        "Retenedor",
        "ItemEspectaculo",
        "RUTMandante",
        "NmbItem",
        "InfoTicket",
        "DscItem",
        "QtyRef",
        "UnmdRef",
        "PrcRef",
        "QtyItem",
        "Subcantidad",
        "FchElabor",
        "FchVencim",
        "UnmdItem",
        "PrcItem",
        "OtrMnda",
        "DescuentoPct",
        "DescuentoMonto",
        "SubDscto",
        "RecargoPct",
        "RecargoMonto",
        "SubRecargo",
        "CodImpAdic",
        "MontoItem",
    }
)
# xs:decimal's lexical form, ASCII digits only; DTE numbers have at most 18 digits, so 24 characters
# leave room for signs and zeros while keeping every value far inside Decimal's default precision.
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_MAX_NUMBER_TEXT = 24
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CENT = Decimal("0.01")


class DteUnreadable(ValueError):
    """The XML is well-formed but is not a DTE dtehub can read."""

    code = "dte_unreadable"


# --- the records -------------------------------------------------------------------------------------


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
    """What a DTE says. See the module docstring for amounts and for what is best effort."""

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
    lines: tuple[tuple[tuple[str, str], ...], ...]
    """Each detail line's leaf elements as (name, text) pairs in document order, for the notes."""
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

    @property
    def detail_notes(self) -> str:
        """The detail lines as Duemint writes them into ``notes``."""
        parts = [NOTES_HEADER]
        for line in self.lines:
            parts.extend(f"{name}: {value} " for name, value in line if name in NOTE_LINE_FIELDS)
        return "".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The JSON object the API shows and the store keeps; see :func:`fields_as_json`."""
        return fields_as_json(self)


# --- finding elements --------------------------------------------------------------------------------


def dte_elements(root: etree._Element) -> list[etree._Element]:
    """The DTE elements in a bare DTE or in one of the SII envelopes."""
    name = local_name(root)
    if name == "DTE":
        return [root]
    if name in _ENVELOPES:
        return [el for el in root.iter() if isinstance(el.tag, str) and local_name(el) == "DTE"]
    raise DteUnreadable(f"the root element is {name}; expected DTE, SetDTE, EnvioDTE or EnvioBOLETA")


class _Node:
    """An element's element children by local name: one pass, then lookups by name."""

    __slots__ = ("_children",)

    def __init__(self, element: etree._Element) -> None:
        children: dict[str, list[etree._Element]] = {}
        for child in element:
            tag = child.tag
            if isinstance(tag, str):  # not a comment or processing instruction
                children.setdefault(tag.rpartition("}")[2], []).append(child)
        self._children = children

    def names(self) -> list[str]:
        return list(self._children)

    def has(self, name: str) -> bool:
        return name in self._children

    def all(self, name: str) -> list[etree._Element]:
        return self._children.get(name, [])

    def node(self, name: str) -> _Node | None:
        found = self._children.get(name)
        return _Node(found[0]) if found else None

    def nodes(self, name: str) -> list[_Node]:
        return [_Node(element) for element in self._children.get(name, [])]

    def text(self, name: str) -> str:
        found = self._children.get(name)
        return (found[0].text or "").strip() if found else ""

    def texts(self, name: str) -> tuple[str, ...]:
        return tuple(t for element in self._children.get(name, []) if (t := (element.text or "").strip()))


# --- strict values: the fields a document is made of ---------------------------------------------------


def _required(parent: _Node, path: str, name: str) -> str:
    value = parent.text(name)
    if not value:
        raise DteUnreadable(f"the DTE has no {path}/{name}")
    return value


_MAX_DIGITS = 18  # a folio has at most 10; more would not fit a 64-bit column (nor a 40-character number)


def _int(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):  # str.isdigit() also takes "²", which int() refuses
        raise DteUnreadable(f"{what} is {text[:40]!r}, not a positive whole number")
    if len(text.lstrip("0")) > _MAX_DIGITS:
        raise DteUnreadable(f"{what} has {len(text)} digits; at most {_MAX_DIGITS} are accepted")
    return int(text)


def _is_date(text: str) -> date | None:
    # date.fromisoformat also takes "20190329" and week dates since 3.11; a DTE date is YYYY-MM-DD.
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _date(text: str, what: str) -> date:
    value = _is_date(text)
    if value is None:
        raise DteUnreadable(f"{what} is {text!r}, not a date (YYYY-MM-DD)")
    return value


def _is_rut(text: str) -> str | None:
    # The schema's RUTType has the hyphen: without it "76399752" would silently read as 7639975-2.
    if "-" not in text:
        return None
    try:
        return normalize_rut(text)
    except InvalidRut:
        return None


def _rut(text: str, what: str) -> str:
    value = _is_rut(text)
    if value is None:
        raise DteUnreadable(f"{what} {text!r} is not a valid RUT (digits, hyphen and check digit)")
    return value


def _amount(text: str, what: str, *, negative: bool = False) -> int:
    if not text:
        return 0
    try:
        return to_cents(text, allow_negative=negative)
    except InvalidAmount as exc:
        raise DteUnreadable(f"{what}: {exc}") from None


def _decimal(text: str) -> Decimal | None:
    if len(text) > _MAX_NUMBER_TEXT or not _DECIMAL.match(text):
        return None
    return Decimal(text)


def _pesos(value: Decimal, what: str) -> int:
    """A peso amount given with up to four decimals (OtraMoneda), in hundredths, rounded half up."""
    try:
        return to_cents(value.quantize(_CENT, rounding=ROUND_HALF_UP))
    except InvalidAmount as exc:
        raise DteUnreadable(f"{what}: {exc}") from None


# --- lenient values: everything else -----------------------------------------------------------------


class _Reader:
    """Reads optional values: a malformed one becomes None and a warning."""

    def __init__(self, *, negative: bool) -> None:
        self.negative = negative  # Liquidaciones-factura may carry negative amounts
        self.warnings: list[str] = []

    def warn(self, where: str, name: str, text: str, expected: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            shown = text if len(text) <= 40 else text[:39] + "…"
            self.warnings.append(f"{where}{name} {shown!r} is not {expected}; left out")

    def opt_text(self, node: _Node | None, name: str) -> str | None:
        value = node.text(name) if node is not None else ""
        return value or None

    def opt_int(self, node: _Node | None, name: str, where: str = "") -> int | None:
        text = node.text(name) if node is not None else ""
        if not text:
            return None
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return int(text)
        self.warn(where, name, text, "a whole number")
        return None

    def opt_decimal(self, node: _Node | None, name: str, where: str = "") -> Decimal | None:
        text = node.text(name) if node is not None else ""
        if not text:
            return None
        value = _decimal(text)
        if value is None:
            self.warn(where, name, text, "a number")
        return value

    def opt_cents(
        self, node: _Node | None, name: str, where: str = "", *, negative: bool = False
    ) -> int | None:
        text = node.text(name) if node is not None else ""
        if not text:
            return None
        negative = negative or self.negative
        try:
            return to_cents(text, allow_negative=negative)
        except InvalidAmount:
            self.warn(where, name, text, "an amount" if negative else "an amount of 0 or more")
            return None

    def opt_date(self, node: _Node | None, name: str, where: str = "") -> date | None:
        text = node.text(name) if node is not None else ""
        if not text:
            return None
        value = _is_date(text)
        if value is None:
            self.warn(where, name, text, "a date (YYYY-MM-DD)")
        return value

    def opt_rut(self, node: _Node | None, name: str, where: str = "") -> str | None:
        text = node.text(name) if node is not None else ""
        if not text:
            return None
        value = _is_rut(text)
        if value is None:
            self.warn(where, name, text, "a valid RUT")
        return value

    def flag(self, node: _Node | None, name: str, where: str = "") -> bool:
        """An indicator that is either absent or 1."""
        text = node.text(name) if node is not None else ""
        if text in ("", "0"):
            return False
        if text == "1":
            return True
        self.warn(where, name, text, "1")
        return False

    def choice(self, node: _Node | None, name: str, allowed: frozenset[int], where: str = "") -> int | None:
        value = self.opt_int(node, name, where)
        if value is not None and value not in allowed:
            self.warn(where, name, str(value), "one of " + ", ".join(map(str, sorted(allowed))))
            return None
        return value


# --- reading -----------------------------------------------------------------------------------------


def read_fields(dte: etree._Element) -> DteFields:
    """Read one ``DTE`` element (from :func:`dte_elements`); raise :class:`DteUnreadable` when it is not
    a DTE dtehub can read."""
    root = _Node(dte)
    body_name = next((name for name in _BODY_NAMES if root.has(name)), None)
    if body_name is None:
        raise DteUnreadable("the DTE has no Documento")
    body = root.node(body_name)
    assert body is not None
    header = body.node("Encabezado")
    id_doc = header.node("IdDoc") if header is not None else None
    issuer = header.node("Emisor") if header is not None else None
    receiver = header.node("Receptor") if header is not None else None
    totals = header.node("Totales") if header is not None else None
    if header is None or id_doc is None or issuer is None or receiver is None or totals is None:
        raise DteUnreadable("the DTE's Encabezado lacks IdDoc, Emisor, Receptor or Totales")

    # The values the stored document is made of: any of them missing or malformed, the DTE is unreadable.
    code = _int(_required(id_doc, "IdDoc", "TipoDTE"), "TipoDTE")
    folio = _int(_required(id_doc, "IdDoc", "Folio"), "Folio")
    issue_date = _date(_required(id_doc, "IdDoc", "FchEmis"), "FchEmis")
    due_text = id_doc.text("FchVenc")
    due_date = _date(due_text, "FchVenc") if due_text else None
    payment_text = id_doc.text("FmaPago")
    payment_form = _int(payment_text, "FmaPago") if payment_text else None
    issuer_party = _issuer(issuer)
    receiver_party = _receiver(receiver)

    # Everything else in document order, so that the warnings come in that order too.
    reader = _Reader(negative=body_name == "Liquidacion")
    id_doc_fields = _id_doc(id_doc, reader)
    principal_rut = reader.opt_rut(header, "RUTMandante")
    requester_rut = reader.opt_rut(header, "RUTSolicita")
    transport = _transport(header.node("Transporte"), reader)
    # The body decides the shape of the totals (an export's are in its own currency), not TipoDTE.
    export: Exportaciones | None = None
    document_totals: DteTotals | None = None
    if body_name == "Exportaciones":
        export = _export_totals(totals, reader)
    else:
        document_totals = _totals(totals, reader)
    other_currency = _other_currency(header.node("OtraMoneda"), reader)
    if export is not None:
        net_cents, exempt_cents, total_cents = _export_pesos(export, other_currency)
    else:
        assert document_totals is not None
        net_cents = document_totals.net_cents or 0
        exempt_cents = document_totals.exempt_cents or 0
        total_cents = document_totals.total_cents
    raw_lines, detail = _detail(body, reader, is_export=export is not None)
    discounts = tuple(_discount(n, i, reader) for i, n in enumerate(body.nodes("DscRcgGlobal"), start=1))
    references = tuple(_reference(n, i, reader) for i, n in enumerate(body.nodes("Referencia"), start=1))

    return DteFields(
        code=code,
        folio=folio,
        issue_date=issue_date,
        due_date=due_date,
        payment_form=payment_form,
        issuer=issuer_party,
        receiver=receiver_party,
        net_cents=net_cents,
        exempt_cents=exempt_cents,
        total_cents=total_cents,
        lines=raw_lines,
        currency=export.currency if export is not None else PESO_CL,
        id_doc=id_doc_fields,
        principal_rut=principal_rut,
        requester_rut=requester_rut,
        transport=transport,
        totals=document_totals,
        export=export,
        other_currency=other_currency,
        detail=detail,
        discounts=discounts,
        references=references,
        warnings=tuple(reader.warnings),
    )


def _id_doc(node: _Node, reader: _Reader) -> DteIdDoc:
    return DteIdDoc(
        no_rebate=reader.flag(node, "IndNoRebaja"),
        dispatch_type=reader.opt_int(node, "TipoDespacho"),
        transfer_type=reader.opt_int(node, "IndTraslado"),
        print_format=reader.opt_text(node, "TpoImpresion"),
        service_type=reader.opt_int(node, "IndServicio"),
        gross_amounts=reader.flag(node, "MntBruto"),
        purchase_transaction_type=reader.opt_int(node, "TpoTranCompra"),
        sale_transaction_type=reader.opt_int(node, "TpoTranVenta"),
        export_payment_form=reader.opt_text(node, "FmaPagExp"),
        paid_date=reader.opt_date(node, "FchCancel"),
        paid_amount=reader.opt_decimal(node, "MntCancel"),
        unpaid_balance=reader.opt_decimal(node, "SaldoInsol"),
        payments=tuple(
            DtePayment(
                date=reader.opt_date(p, "FchPago", "MntPagos: "),
                amount=reader.opt_decimal(p, "MntPago", "MntPagos: "),
                gloss=reader.opt_text(p, "GlosaPagos"),
            )
            for p in node.nodes("MntPagos")
        ),
        period_from=reader.opt_date(node, "PeriodoDesde"),
        period_to=reader.opt_date(node, "PeriodoHasta"),
        payment_method=reader.opt_text(node, "MedioPago"),
        account_type=reader.opt_text(node, "TpoCtaPago"),
        account_number=reader.opt_text(node, "NumCtaPago"),
        bank=reader.opt_text(node, "BcoPago"),
        payment_terms_code=reader.opt_text(node, "TermPagoCdg"),
        payment_terms_gloss=reader.opt_text(node, "TermPagoGlosa"),
        payment_terms_days=reader.opt_int(node, "TermPagoDias"),
    )


def _issuer(node: _Node) -> DteIssuer:
    return DteIssuer(
        rut=_rut(_required(node, "Emisor", "RUTEmisor"), "RUTEmisor"),
        name=node.text("RznSoc") or node.text("RznSocEmisor"),
        activity=node.text("GiroEmis") or node.text("GiroEmisor"),
        address=node.text("DirOrigen"),
        comuna=node.text("CmnaOrigen"),
        city=node.text("CiudadOrigen"),
        phones=node.texts("Telefono"),
        email=node.text("CorreoEmisor"),
        activity_codes=node.texts("Acteco"),
        branch=node.text("Sucursal"),
        branch_code=node.text("CdgSIISucur"),
        seller_code=node.text("CdgVendedor"),
        additional_id=node.text("IdAdicEmisor"),
    )


def _receiver(node: _Node) -> DteReceiver:
    foreign = node.node("Extranjero")
    return DteReceiver(
        rut=_rut(_required(node, "Receptor", "RUTRecep"), "RUTRecep"),
        name=node.text("RznSocRecep"),
        activity=node.text("GiroRecep"),
        address=node.text("DirRecep"),
        comuna=node.text("CmnaRecep"),
        city=node.text("CiudadRecep"),
        internal_code=node.text("CdgIntRecep"),
        foreign_id=foreign.text("NumId") if foreign is not None else "",
        nationality=foreign.text("Nacionalidad") if foreign is not None else "",
        contact=node.text("Contacto"),
        email=node.text("CorreoRecep"),
        postal_address=node.text("DirPostal"),
        postal_comuna=node.text("CmnaPostal"),
        postal_city=node.text("CiudadPostal"),
    )


def _totals(node: _Node, reader: _Reader) -> DteTotals:
    negative = reader.negative
    commissions = node.node("Comisiones")
    return DteTotals(
        total_cents=_amount(_required(node, "Totales", "MntTotal"), "MntTotal", negative=negative),
        net_cents=_amount(node.text("MntNeto"), "MntNeto", negative=negative)
        if node.text("MntNeto")
        else None,
        exempt_cents=_amount(node.text("MntExe"), "MntExe", negative=negative)
        if node.text("MntExe")
        else None,
        meat_base_cents=reader.opt_cents(node, "MntBase"),
        margin_base_cents=reader.opt_cents(node, "MntMargenCom"),
        vat_rate=reader.opt_decimal(node, "TasaIVA"),
        vat_cents=reader.opt_cents(node, "IVA"),
        own_vat_cents=reader.opt_cents(node, "IVAProp"),
        third_party_vat_cents=reader.opt_cents(node, "IVATerc"),
        other_taxes=tuple(
            DteTax(
                code=t.text("TipoImp"),
                rate=reader.opt_decimal(t, "TasaImp", "ImptoReten: "),
                amount_cents=reader.opt_cents(t, "MontoImp", "ImptoReten: "),
            )
            for t in node.nodes("ImptoReten")
        ),
        vat_not_withheld_cents=reader.opt_cents(node, "IVANoRet"),
        construction_credit_cents=reader.opt_cents(node, "CredEC"),
        packaging_deposit_cents=reader.opt_cents(node, "GrntDep"),
        commissions_net_cents=reader.opt_cents(commissions, "ValComNeto", "Comisiones: "),
        commissions_exempt_cents=reader.opt_cents(commissions, "ValComExe", "Comisiones: "),
        commissions_vat_cents=reader.opt_cents(commissions, "ValComIVA", "Comisiones: "),
        # These four are SII's ValorType: negative values are legitimate (a balance in the payer's favour).
        non_billable_cents=reader.opt_cents(node, "MontoNF", negative=True),
        period_total_cents=reader.opt_cents(node, "MontoPeriodo", negative=True)
        if node.has("MontoPeriodo")
        else reader.opt_cents(node, "TotalPeriodo", negative=True),
        previous_balance_cents=reader.opt_cents(node, "SaldoAnterior", negative=True),
        amount_due_cents=reader.opt_cents(node, "VlrPagar", negative=True),
    )


def _export_totals(node: _Node, reader: _Reader) -> Exportaciones:
    total_text = _required(node, "Totales", "MntTotal")
    total = _decimal(total_text)
    if total is None or total < 0:
        raise DteUnreadable(f"MntTotal is {total_text!r}, not an amount")
    return Exportaciones(
        currency=node.text("TpoMoneda"), total=total, exempt=reader.opt_decimal(node, "MntExe")
    )


def _same_currency(name: str, other: str) -> bool:
    return " ".join(name.split()).upper() == other


def _export_pesos(export: Exportaciones, other: OtraMoneda | None) -> tuple[int, int, int]:
    """(net, exempt, total) in hundredths of a peso for an export document."""
    if other is not None and _same_currency(other.currency, PESO_CL) and other.total is not None:
        total = _pesos(other.total, "OtraMoneda/MntTotOtrMnda")
        net = _pesos(other.net, "OtraMoneda/MntNetoOtrMnda") if other.net is not None else 0
        exempt = _pesos(other.exempt, "OtraMoneda/MntExeOtrMnda") if other.exempt is not None else total - net
        return net, exempt, total
    if _same_currency(export.currency, PESO_CL):
        total = _pesos(export.total, "MntTotal")
        return 0, _pesos(export.exempt, "MntExe") if export.exempt is not None else total, total
    raise DteUnreadable(
        f"the export DTE gives its amounts in {export.currency or 'an unnamed currency'} and none in pesos "
        f"(OtraMoneda with TpoMoneda {PESO_CL})"
    )


def _other_currency(node: _Node | None, reader: _Reader) -> OtraMoneda | None:
    if node is None:
        return None
    where = "OtraMoneda: "
    return OtraMoneda(
        currency=node.text("TpoMoneda"),
        exchange_rate=reader.opt_decimal(node, "TpoCambio", where),
        net=reader.opt_decimal(node, "MntNetoOtrMnda", where),
        exempt=reader.opt_decimal(node, "MntExeOtrMnda", where),
        meat_base=reader.opt_decimal(node, "MntFaeCarneOtrMnda", where),
        margin_base=reader.opt_decimal(node, "MntMargComOtrMnda", where),
        vat=reader.opt_decimal(node, "IVAOtrMnda", where),
        other_taxes=tuple(
            OtraMonedaTax(
                code=t.text("TipoImpOtrMnda"),
                rate=reader.opt_decimal(t, "TasaImpOtrMnda", where),
                amount=reader.opt_decimal(t, "VlrImpOtrMnda", where),
            )
            for t in node.nodes("ImpRetOtrMnda")
        ),
        vat_not_withheld=reader.opt_decimal(node, "IVANoRetOtrMnda", where),
        total=reader.opt_decimal(node, "MntTotOtrMnda", where),
    )


def _transport(node: _Node | None, reader: _Reader) -> DteTransport | None:
    if node is None:
        return None
    driver = node.node("Chofer")
    customs = node.node("Aduana")
    return DteTransport(
        plate=reader.opt_text(node, "Patente"),
        carrier_rut=reader.opt_rut(node, "RUTTrans", "Transporte: "),
        driver_rut=reader.opt_rut(driver, "RUTChofer", "Transporte: "),
        driver_name=reader.opt_text(driver, "NombreChofer"),
        destination_address=reader.opt_text(node, "DirDest"),
        destination_comuna=reader.opt_text(node, "CmnaDest"),
        destination_city=reader.opt_text(node, "CiudadDest"),
        customs=_customs(customs, reader) if customs is not None else None,
    )


def _customs(node: _Node, reader: _Reader) -> DteCustoms:
    where = "Aduana: "
    return DteCustoms(
        sale_mode=reader.opt_text(node, "CodModVenta"),
        sale_clause=reader.opt_text(node, "CodClauVenta"),
        sale_clause_total=reader.opt_decimal(node, "TotClauVenta", where),
        transport_way=reader.opt_text(node, "CodViaTransp"),
        vessel=reader.opt_text(node, "NombreTransp"),
        carrier_rut=reader.opt_rut(node, "RUTCiaTransp", where),
        carrier_name=reader.opt_text(node, "NomCiaTransp"),
        carrier_additional_id=reader.opt_text(node, "IdAdicTransp"),
        booking=reader.opt_text(node, "Booking"),
        operator=reader.opt_text(node, "Operador"),
        loading_port=reader.opt_text(node, "CodPtoEmbarque"),
        loading_port_id=reader.opt_text(node, "IdAdicPtoEmb"),
        unloading_port=reader.opt_text(node, "CodPtoDesemb"),
        unloading_port_id=reader.opt_text(node, "IdAdicPtoDesemb"),
        tare=reader.opt_int(node, "Tara", where),
        tare_unit=reader.opt_text(node, "CodUnidMedTara"),
        gross_weight=reader.opt_decimal(node, "PesoBruto", where),
        gross_weight_unit=reader.opt_text(node, "CodUnidPesoBruto"),
        net_weight=reader.opt_decimal(node, "PesoNeto", where),
        net_weight_unit=reader.opt_text(node, "CodUnidPesoNeto"),
        total_items=reader.opt_int(node, "TotItems", where),
        total_packages=reader.opt_int(node, "TotBultos", where),
        packages=tuple(
            DtePackage(
                kind=reader.opt_text(p, "CodTpoBultos"),
                quantity=reader.opt_int(p, "CantBultos", where),
                marks=reader.opt_text(p, "Marcas"),
                container_id=reader.opt_text(p, "IdContainer"),
                seal=reader.opt_text(p, "Sello"),
                seal_issuer=reader.opt_text(p, "EmisorSello"),
            )
            for p in node.nodes("TipoBultos")
        ),
        freight=reader.opt_decimal(node, "MntFlete", where),
        insurance=reader.opt_decimal(node, "MntSeguro", where),
        receiver_country=reader.opt_text(node, "CodPaisRecep"),
        destination_country=reader.opt_text(node, "CodPaisDestin"),
    )


_EXEMPT_INDICATORS = frozenset(range(1, 7))


def _detail(
    body: _Node, reader: _Reader, *, is_export: bool
) -> tuple[tuple[tuple[tuple[str, str], ...], ...], tuple[DteLine, ...]]:
    raw_lines = []
    detail = []
    for position, element in enumerate(body.all("Detalle"), start=1):
        raw = tuple(
            (local_name(c), (c.text or "").strip()) for c in element if isinstance(c.tag, str) and len(c) == 0
        )
        line = _Node(element)
        amount = _line_amount(line, position, reader, is_export=is_export)
        raw_lines.append(raw)
        detail.append(_line(line, position, amount, reader))
    return tuple(raw_lines), tuple(detail)


def _line_amount(line: _Node, position: int, reader: _Reader, *, is_export: bool) -> Decimal:
    """MontoItem, which a line must have: a draft's missing, misspelt or negative amount is refused."""
    what = f"Detalle line {position} MontoItem"
    if not line.has("MontoItem"):
        strange = sorted(name for name in line.names() if name not in _LINE_ELEMENTS)
        hint = f" (it has {', '.join(strange)}, which a DTE line does not)" if strange else ""
        raise DteUnreadable(f"Detalle line {position} has no MontoItem{hint}")
    text = line.text("MontoItem")
    if is_export:
        value = _decimal(text)
        if value is None or (value < 0 and not reader.negative):
            raise DteUnreadable(f"{what}: {text!r} is not an amount of 0 or more")
        return value
    _amount(text, what, negative=reader.negative)  # the same rule as the totals: whole, exact, not negative
    return Decimal(text) if text else Decimal(0)


def _line(line: _Node, position: int, amount: Decimal, reader: _Reader) -> DteLine:
    number_text = line.text("NroLinDet")
    if number_text.isascii() and number_text.isdigit() and len(number_text) <= 9:
        number = int(number_text)
    else:
        number = position
        if number_text:
            reader.warn(f"Detalle line {position}: ", "NroLinDet", number_text, "a line number")
    where = f"Detalle line {number}: "
    return DteLine(
        number=number,
        name=line.text("NmbItem"),
        amount=amount,
        codes=tuple(
            ItemCode(type=c.text("TpoCodigo"), value=c.text("VlrCodigo")) for c in line.nodes("CdgItem")
        ),
        exempt_indicator=reader.choice(line, "IndExe", _EXEMPT_INDICATORS, where),
        description=reader.opt_text(line, "DscItem"),
        reference_quantity=reader.opt_decimal(line, "QtyRef", where),
        reference_unit=reader.opt_text(line, "UnmdRef"),
        reference_price=reader.opt_decimal(line, "PrcRef", where),
        quantity=reader.opt_decimal(line, "QtyItem", where),
        unit=reader.opt_text(line, "UnmdItem"),
        unit_price=reader.opt_decimal(line, "PrcItem", where),
        discount_pct=reader.opt_decimal(line, "DescuentoPct", where),
        discount_amount=reader.opt_decimal(line, "DescuentoMonto", where),
        surcharge_pct=reader.opt_decimal(line, "RecargoPct", where),
        surcharge_amount=reader.opt_decimal(line, "RecargoMonto", where),
        tax_codes=line.texts("CodImpAdic"),
    )


def _discount(node: _Node, position: int, reader: _Reader) -> DscRcgGlobal:
    where = f"DscRcgGlobal {position}: "
    movement = node.text("TpoMov").upper()
    if movement not in ("D", "R"):
        reader.warn(where, "TpoMov", movement, "D or R")
    value_type = node.text("TpoValor")
    if value_type not in ("%", "$"):
        reader.warn(where, "TpoValor", value_type, "% or $")
    return DscRcgGlobal(
        number=reader.opt_int(node, "NroLinDR", where),
        movement=movement if movement in ("D", "R") else "",
        value_type=value_type if value_type in ("%", "$") else "",
        value=reader.opt_decimal(node, "ValorDR", where),
        gloss=reader.opt_text(node, "GlosaDR"),
        value_other_currency=reader.opt_decimal(node, "ValorDROtrMnda", where),
        exempt_indicator=reader.choice(node, "IndExeDR", frozenset({1, 2}), where),
    )


_REFERENCE_CODES = frozenset({1, 2, 3})


def _reference(node: _Node, position: int, reader: _Reader) -> DteReference:
    where = f"Referencia {position}: "
    document_type = node.text("TpoDocRef")
    folio = node.text("FolioRef")
    if not document_type:
        reader.warn(where, "TpoDocRef", "", "a document type")
    if not folio:
        reader.warn(where, "FolioRef", "", "a folio")
    return DteReference(
        number=reader.opt_int(node, "NroLinRef", where),
        document_type=document_type,
        folio=folio,
        date=reader.opt_date(node, "FchRef", where),
        global_reference=reader.flag(node, "IndGlobal", where),
        other_rut=reader.opt_rut(node, "RUTOtr", where),
        reason_code=reader.choice(node, "CodRef", _REFERENCE_CODES, where),
        reason=reader.opt_text(node, "RazonRef"),
    )


# --- JSON --------------------------------------------------------------------------------------------


def _cents(value: int | None) -> str | None:
    return format_cents(value) if value is not None else None


def _money(value: Decimal | None) -> str | None:
    """An amount with at least two decimals, like :func:`format_cents` (``194111`` → ``194111.00``);
    more when the DTE gives more (export currencies have up to four)."""
    if value is None:
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(_CENT)
    return format(value, "f")


def _number(value: Decimal | None) -> str | None:
    """A quantity, price, rate or percentage exactly as the DTE wrote it."""
    return format(value, "f") if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _or_null(text: str) -> str | None:
    return text or None


def fields_as_json(fields: DteFields) -> dict[str, Any]:
    """The fields as a JSON-ready object, the API's and the store's: camelCase keys, every key always
    present (``null`` or ``[]`` when the DTE has nothing), amounts as strings with two or more decimals,
    other numbers as exact strings, dates ISO. Amounts are in ``currency`` unless their object names its
    own (``otherCurrency``)."""
    id_doc = fields.id_doc
    # A DteFields built by hand may hold plain DteParty objects: they show with the extra fields empty.
    issuer, receiver = fields.issuer, fields.receiver
    issuer = issuer if isinstance(issuer, DteIssuer) else DteIssuer(**vars(issuer))
    receiver = receiver if isinstance(receiver, DteReceiver) else DteReceiver(**vars(receiver))
    return {
        "code": fields.code,
        "folio": fields.folio,
        "issueDate": fields.issue_date.isoformat(),
        "dueDate": _day(fields.due_date),
        "currency": fields.currency,
        "payment": {
            "form": fields.payment_form,
            "exportForm": id_doc.export_payment_form,
            "method": id_doc.payment_method,
            "termsCode": id_doc.payment_terms_code,
            "termsGloss": id_doc.payment_terms_gloss,
            "termsDays": id_doc.payment_terms_days,
            "accountType": id_doc.account_type,
            "accountNumber": id_doc.account_number,
            "bank": id_doc.bank,
            "paidDate": _day(id_doc.paid_date),
            "paidAmount": _money(id_doc.paid_amount),
            "unpaidBalance": _money(id_doc.unpaid_balance),
            "schedule": [
                {"date": _day(p.date), "amount": _money(p.amount), "gloss": p.gloss} for p in id_doc.payments
            ],
        },
        "indicators": {
            "noRebate": id_doc.no_rebate,
            "grossAmounts": id_doc.gross_amounts,
            "dispatchType": id_doc.dispatch_type,
            "transferType": id_doc.transfer_type,
            "printFormat": id_doc.print_format,
            "serviceType": id_doc.service_type,
            "purchaseTransactionType": id_doc.purchase_transaction_type,
            "saleTransactionType": id_doc.sale_transaction_type,
        },
        "period": (
            {"from": _day(id_doc.period_from), "to": _day(id_doc.period_to)}
            if id_doc.period_from or id_doc.period_to
            else None
        ),
        "issuer": {
            "taxId": issuer.rut,
            "name": issuer.name,
            "activity": _or_null(issuer.activity),
            "activityCodes": list(issuer.activity_codes),
            "phones": list(issuer.phones),
            "email": _or_null(issuer.email),
            "branch": _or_null(issuer.branch),
            "branchCode": _or_null(issuer.branch_code),
            "sellerCode": _or_null(issuer.seller_code),
            "additionalId": _or_null(issuer.additional_id),
            "address": _or_null(issuer.address),
            "comuna": _or_null(issuer.comuna),
            "city": _or_null(issuer.city),
        },
        "principalTaxId": fields.principal_rut,
        "receiver": {
            "taxId": receiver.rut,
            "name": receiver.name,
            "internalCode": _or_null(receiver.internal_code),
            "foreignId": _or_null(receiver.foreign_id),
            "nationality": _or_null(receiver.nationality),
            "activity": _or_null(receiver.activity),
            "contact": _or_null(receiver.contact),
            "email": _or_null(receiver.email),
            "address": _or_null(receiver.address),
            "comuna": _or_null(receiver.comuna),
            "city": _or_null(receiver.city),
            "postalAddress": _or_null(receiver.postal_address),
            "postalComuna": _or_null(receiver.postal_comuna),
            "postalCity": _or_null(receiver.postal_city),
        },
        "requesterTaxId": fields.requester_rut,
        "totals": _totals_json(fields),
        "otherTaxes": [
            {"code": t.code, "rate": _number(t.rate), "amount": _cents(t.amount_cents)}
            for t in (fields.totals.other_taxes if fields.totals else ())
        ],
        "otherCurrency": _other_currency_json(fields.other_currency),
        "lines": [_line_json(line) for line in fields.detail],
        "discounts": [
            {
                "number": d.number,
                "movement": d.movement,
                "gloss": d.gloss,
                "valueType": d.value_type,
                "value": (_number(d.value) if d.value_type == "%" else _money(d.value)),
                "valueOtherCurrency": _money(d.value_other_currency),
                "exemptIndicator": d.exempt_indicator,
            }
            for d in fields.discounts
        ],
        "references": [
            {
                "number": r.number,
                "documentType": r.document_type,
                "global": r.global_reference,
                "folio": r.folio,
                "otherTaxId": r.other_rut,
                "date": _day(r.date),
                "reasonCode": r.reason_code,
                "reason": r.reason,
            }
            for r in fields.references
        ],
        "transport": _transport_json(fields.transport),
        "warnings": list(fields.warnings),
    }


_TOTAL_KEYS = (
    "net",
    "exempt",
    "meatBase",
    "marginBase",
    "vatRate",
    "vat",
    "ownVat",
    "thirdPartyVat",
    "vatNotWithheld",
    "constructionCredit",
    "packagingDeposit",
    "commissionsNet",
    "commissionsExempt",
    "commissionsVat",
    "total",
    "nonBillable",
    "periodTotal",
    "previousBalance",
    "amountDue",
)


def _totals_json(fields: DteFields) -> dict[str, Any]:
    totals = fields.totals
    if totals is None:  # an export document: its Totales hold only the exempt amount and the total
        export = fields.export
        result: dict[str, Any] = dict.fromkeys(_TOTAL_KEYS)
        if export is not None:
            result["exempt"] = _money(export.exempt)
            result["total"] = _money(export.total)
        return result
    return {
        "net": _cents(totals.net_cents),
        "exempt": _cents(totals.exempt_cents),
        "meatBase": _cents(totals.meat_base_cents),
        "marginBase": _cents(totals.margin_base_cents),
        "vatRate": _number(totals.vat_rate),
        "vat": _cents(totals.vat_cents),
        "ownVat": _cents(totals.own_vat_cents),
        "thirdPartyVat": _cents(totals.third_party_vat_cents),
        "vatNotWithheld": _cents(totals.vat_not_withheld_cents),
        "constructionCredit": _cents(totals.construction_credit_cents),
        "packagingDeposit": _cents(totals.packaging_deposit_cents),
        "commissionsNet": _cents(totals.commissions_net_cents),
        "commissionsExempt": _cents(totals.commissions_exempt_cents),
        "commissionsVat": _cents(totals.commissions_vat_cents),
        "total": _cents(totals.total_cents),
        "nonBillable": _cents(totals.non_billable_cents),
        "periodTotal": _cents(totals.period_total_cents),
        "previousBalance": _cents(totals.previous_balance_cents),
        "amountDue": _cents(totals.amount_due_cents),
    }


def _other_currency_json(other: OtraMoneda | None) -> dict[str, Any] | None:
    if other is None:
        return None
    return {
        "currency": other.currency,
        "exchangeRate": _number(other.exchange_rate),
        "net": _money(other.net),
        "exempt": _money(other.exempt),
        "meatBase": _money(other.meat_base),
        "marginBase": _money(other.margin_base),
        "vat": _money(other.vat),
        "otherTaxes": [
            {"code": t.code, "rate": _number(t.rate), "amount": _money(t.amount)} for t in other.other_taxes
        ],
        "vatNotWithheld": _money(other.vat_not_withheld),
        "total": _money(other.total),
    }


def _line_json(line: DteLine) -> dict[str, Any]:
    return {
        "number": line.number,
        "codes": [{"type": c.type, "value": c.value} for c in line.codes],
        "exemptIndicator": line.exempt_indicator,
        "name": line.name,
        "description": line.description,
        "referenceQuantity": _number(line.reference_quantity),
        "referenceUnit": line.reference_unit,
        "referencePrice": _number(line.reference_price),
        "quantity": _number(line.quantity),
        "unit": line.unit,
        "unitPrice": _number(line.unit_price),
        "discountPercent": _number(line.discount_pct),
        "discountAmount": _money(line.discount_amount),
        "surchargePercent": _number(line.surcharge_pct),
        "surchargeAmount": _money(line.surcharge_amount),
        "taxCodes": list(line.tax_codes),
        "amount": _money(line.amount),
    }


def _transport_json(transport: DteTransport | None) -> dict[str, Any] | None:
    if transport is None:
        return None
    customs = transport.customs
    return {
        "plate": transport.plate,
        "carrierTaxId": transport.carrier_rut,
        "driverTaxId": transport.driver_rut,
        "driverName": transport.driver_name,
        "destinationAddress": transport.destination_address,
        "destinationComuna": transport.destination_comuna,
        "destinationCity": transport.destination_city,
        "customs": None
        if customs is None
        else {
            "saleMode": customs.sale_mode,
            "saleClause": customs.sale_clause,
            "saleClauseTotal": _money(customs.sale_clause_total),
            "transportWay": customs.transport_way,
            "vessel": customs.vessel,
            "carrierTaxId": customs.carrier_rut,
            "carrierName": customs.carrier_name,
            "carrierAdditionalId": customs.carrier_additional_id,
            "booking": customs.booking,
            "operator": customs.operator,
            "loadingPort": customs.loading_port,
            "loadingPortId": customs.loading_port_id,
            "unloadingPort": customs.unloading_port,
            "unloadingPortId": customs.unloading_port_id,
            "tare": customs.tare,
            "tareUnit": customs.tare_unit,
            "grossWeight": _number(customs.gross_weight),
            "grossWeightUnit": customs.gross_weight_unit,
            "netWeight": _number(customs.net_weight),
            "netWeightUnit": customs.net_weight_unit,
            "totalItems": customs.total_items,
            "totalPackages": customs.total_packages,
            "packages": [
                {
                    "kind": p.kind,
                    "quantity": p.quantity,
                    "marks": p.marks,
                    "containerId": p.container_id,
                    "seal": p.seal,
                    "sealIssuer": p.seal_issuer,
                }
                for p in customs.packages
            ],
            "freight": _money(customs.freight),
            "insurance": _money(customs.insurance),
            "receiverCountry": customs.receiver_country,
            "destinationCountry": customs.destination_country,
        },
    }
