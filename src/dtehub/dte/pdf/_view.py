"""What a printed DTE says, as cleaned text, whatever the paper: the layouts only place it.

Codes are printed as their names (SII requires it of type, payment form, reference types and reasons);
amounts as people in Chile read them (``$ 96.272``, ``1.234,5``); every text from the XML goes through
:func:`~dtehub.dte.pdf._text.clean`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dtehub.dte.constants import PESO_CL
from dtehub.dte.document_types import GUIA_DE_DESPACHO, dte_type_name, reference_type_name
from dtehub.dte.models import DscRcgGlobal, DteFields, DteLine, DteReference, DteTotals
from dtehub.dte.pdf._taxes import tax_name
from dtehub.dte.pdf._text import clean
from dtehub.dte.pdf.settings import IssuerPrintSettings
from dtehub.kit.money import format_money, format_number
from dtehub.kit.rut import printable_tax_id, with_dots

PAYMENT_FORMS = {1: "Contado", 2: "Crédito", 3: "Sin costo"}
_PAYMENT_METHODS = {
    "CH": "Cheque",
    "CF": "Cheque a fecha",
    "LT": "Letra",
    "EF": "Efectivo",
    "PE": "Pago a cuenta corriente",
    "TC": "Tarjeta de crédito",
    "OT": "Otro",
}
_TRANSFER_TYPES = {
    1: "Operación constituye venta",
    2: "Ventas por efectuar",
    3: "Consignaciones",
    4: "Entrega gratuita",
    5: "Traslado interno",
    6: "Otros traslados no venta",
    7: "Guía de devolución",
    8: "Traslado para exportación (no venta)",
    9: "Venta para exportación",
}
_REFERENCE_REASONS = {1: "Anula documento", 2: "Corrige texto", 3: "Corrige montos"}
# SII's names of currencies (TpoMoneda) that have a sign people know; others print their name.
_CURRENCY_SIGNS = {"DOLAR USA": "US$", "EURO": "€", PESO_CL: "$"}
_ONE = Decimal(1)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    """A detail line, every cell as printed ("" when the DTE leaves it out)."""

    code: str
    name: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount: str
    surcharge: str
    amount: str


@dataclass(frozen=True)
class Reference:
    type_name: str
    folio: str
    date: str
    reason: str


@dataclass(frozen=True)
class Total:
    label: str
    amount: str
    strong: bool = False


@dataclass(frozen=True)
class PrintedDte:
    """Everything a printed DTE shows, as text."""

    type_name: str
    folio: str
    issuer_rut: str
    issuer_name: str
    issuer_lines: tuple[str, ...]
    """Giro, address, phones, email, branch: one item each."""
    office: str
    """``S.I.I. - <office>``."""
    receiver: tuple[tuple[str, str], ...]
    """(label, value) pairs: Señor(es), R.U.T., Giro, Dirección…"""
    terms: tuple[tuple[str, str], ...]
    """(label, value) pairs: dates, payment, transfer, currency, transport."""
    lines: tuple[Line, ...]
    adjustments: tuple[tuple[str, str], ...]
    """Global discounts and surcharges: (description, amount)."""
    totals: tuple[Total, ...]
    references: tuple[Reference, ...]
    ted: bytes | None
    """The PDF417 payload, or None when the DTE carries no timbre."""
    resolution: str
    """``Res. 80 de 2014``, or "" when the settings do not say."""
    cedible: str | None
    """``CEDIBLE``, ``CEDIBLE CON SU FACTURA`` (guías), or None for the ordinary copy."""


def printed_dte(
    fields: DteFields,
    ted: bytes | None,
    settings: IssuerPrintSettings,
    *,
    cedible: bool,
    date_text: Callable[[date], str],
) -> PrintedDte:
    """The printed form of ``fields``; ``date_text`` writes dates (in words on letter, short on rolls)."""
    money = _money_formatter(fields.currency)
    adjustments, discounted, surcharged = _adjustments(fields, money)
    cedible_text = "CEDIBLE CON SU FACTURA" if fields.code == GUIA_DE_DESPACHO else "CEDIBLE"
    office = clean(settings.sii_office.upper())
    return PrintedDte(
        type_name=dte_type_name(fields.code),
        folio=str(fields.folio),
        issuer_rut=with_dots(fields.issuer.rut),
        issuer_name=clean(fields.issuer.name),
        issuer_lines=_issuer_lines(fields),
        office=f"S.I.I. - {office}" if office else "S.I.I.",
        receiver=_receiver(fields),
        terms=_terms(fields, date_text),
        lines=tuple(_line(line, fields.currency) for line in fields.detail),
        adjustments=adjustments,
        totals=_totals(fields, money, discounted, surcharged),
        references=tuple(_reference(reference, date_text) for reference in fields.references),
        ted=ted,
        resolution=resolution_text(settings),
        cedible=cedible_text if cedible else None,
    )


def resolution_text(settings: IssuerPrintSettings) -> str:
    if settings.resolution_number is None:
        return ""
    year = f" de {settings.resolution_date.year}" if settings.resolution_date is not None else ""
    return f"Res. {settings.resolution_number}{year}"


# --- parties and terms -------------------------------------------------------------------------------


def _issuer_lines(fields: DteFields) -> tuple[str, ...]:
    issuer = fields.issuer
    place = ", ".join(part for part in map(clean, (issuer.address, issuer.comuna, issuer.city)) if part)
    phones = " / ".join(part for part in map(clean, issuer.phones) if part)
    items = [
        clean(issuer.activity),
        place,
        f"Teléfono: {phones}" if phones else "",
        f"Correo: {clean(issuer.email)}" if clean(issuer.email) else "",
        f"Sucursal: {clean(issuer.branch)}" if clean(issuer.branch) else "",
    ]
    return tuple(item for item in items if item)


def _receiver(fields: DteFields) -> tuple[tuple[str, str], ...]:
    receiver = fields.receiver
    pairs = [
        ("Señor(es):", clean(receiver.name)),
        ("R.U.T.:", with_dots(receiver.rut)),
        ("Id. extranjero:", clean(receiver.foreign_id)),
        ("Giro:", clean(receiver.activity)),
        ("Dirección:", clean(receiver.address)),
        ("Comuna:", clean(receiver.comuna)),
        ("Ciudad:", clean(receiver.city)),
        ("Contacto:", clean(receiver.contact)),
        ("Correo:", clean(receiver.email)),
    ]
    return tuple((label, value) for label, value in pairs if value)


def _terms(fields: DteFields, date_text: Callable[[date], str]) -> tuple[tuple[str, str], ...]:
    id_doc = fields.id_doc
    pairs: list[tuple[str, str]] = [("Fecha de emisión:", date_text(fields.issue_date))]
    if fields.due_date is not None:
        pairs.append(("Vencimiento:", date_text(fields.due_date)))
    if fields.payment_form is not None:
        pairs.append(("Forma de pago:", PAYMENT_FORMS.get(fields.payment_form, str(fields.payment_form))))
    if id_doc.payment_method:
        method = clean(id_doc.payment_method)
        pairs.append(("Medio de pago:", _PAYMENT_METHODS.get(method.upper(), method)))
    if id_doc.payment_terms_gloss:
        pairs.append(("Condiciones:", clean(id_doc.payment_terms_gloss)))
    if id_doc.period_from is not None and id_doc.period_to is not None:
        pairs.append(("Período:", f"{date_text(id_doc.period_from)} al {date_text(id_doc.period_to)}"))
    if id_doc.transfer_type is not None:
        name = _TRANSFER_TYPES.get(id_doc.transfer_type, str(id_doc.transfer_type))
        pairs.append(("Tipo de traslado:", name))
    if fields.export is not None:
        pairs.append(("Moneda:", clean(fields.export.currency)))
    rate = fields.other_currency.exchange_rate if fields.other_currency is not None else None
    if rate is not None:
        pairs.append(("Tipo de cambio:", format_number(rate)))
    transport = fields.transport
    if transport is not None:
        if transport.plate:
            pairs.append(("Patente:", clean(transport.plate)))
        if transport.carrier_rut:
            pairs.append(("R.U.T. transportista:", _rut_text(transport.carrier_rut)))
        driver = " ".join(
            part
            for part in (
                clean(transport.driver_name),
                f"({_rut_text(transport.driver_rut)})" if transport.driver_rut else "",
            )
            if part
        )
        if driver:
            pairs.append(("Chofer:", driver))
        destination = ", ".join(
            part
            for part in map(
                clean,
                (transport.destination_address, transport.destination_comuna, transport.destination_city),
            )
            if part
        )
        if destination:
            pairs.append(("Destino:", destination))
    return tuple(pairs)


def _rut_text(rut: str) -> str:
    return clean(printable_tax_id(rut))


# --- lines -------------------------------------------------------------------------------------------


def _line(line: DteLine, currency: str) -> Line:
    return Line(
        code=clean(line.codes[0].value) if line.codes else "",
        name=clean(line.name),
        description=clean(line.description),
        quantity=format_number(line.quantity) if line.quantity is not None else "",
        unit=clean(line.unit),
        unit_price=_number(line.unit_price, currency) if line.unit_price is not None else "",
        discount=_rate_or_amount(line.discount_pct, line.discount_amount, currency),
        surcharge=_rate_or_amount(line.surcharge_pct, line.surcharge_amount, currency),
        amount=_number(line.amount, currency),
    )


def _rate_or_amount(rate: Decimal | None, amount: Decimal | None, currency: str) -> str:
    if rate is not None:
        return f"{format_number(rate)}%"
    if amount is not None:
        return _number(amount, currency)
    return ""


def _number(value: Decimal, currency: str) -> str:
    """An amount in a table cell: pesos as written (``80.900,67``), other currencies with cents."""
    if currency != PESO_CL and value == value.quantize(_CENT):
        return format_number(value, decimals=2)
    return format_number(value)


# --- global discounts, totals ------------------------------------------------------------------------


def _money_formatter(currency: str) -> Callable[[Decimal], str]:
    """Amounts in the document's currency with its sign: ``$ 96.272``, ``US$ 1.234,50``."""
    if currency == PESO_CL:

        def pesos(value: Decimal) -> str:
            return format_money(int((value * 100).to_integral_value(ROUND_HALF_UP)), "CLP")

        return pesos
    sign = _CURRENCY_SIGNS.get(currency.strip().upper(), clean(currency))

    def foreign(value: Decimal) -> str:
        text = format_number(value, decimals=2) if value == value.quantize(_CENT) else format_number(value)
        return f"-{sign} {text[1:]}" if text.startswith("-") else f"{sign} {text}"

    return foreign


def _adjustments(
    fields: DteFields, money: Callable[[Decimal], str]
) -> tuple[tuple[tuple[str, str], ...], Decimal, Decimal]:
    """Each global discount or surcharge as (description, amount), and the sums of both kinds."""
    rows: list[tuple[str, str]] = []
    discounted = surcharged = Decimal(0)
    for adjustment in fields.discounts:
        amount = _adjustment_amount(adjustment, fields)
        is_surcharge = adjustment.movement.strip().upper() == "R"
        label = "Recargo global" if is_surcharge else "Descuento global"
        if adjustment.value is not None and adjustment.value_type.strip() == "%":
            label += f" {format_number(adjustment.value)}%"
        if adjustment.exempt_indicator == 1:
            label += " (exento)"
        elif adjustment.exempt_indicator == 2:
            label += " (no facturable)"
        if adjustment.gloss:
            label += f": {clean(adjustment.gloss)}"
        if amount is None:
            rows.append((label, ""))
            continue
        if is_surcharge:
            surcharged += amount
        else:
            discounted += amount
        rows.append((label, money(-amount if not is_surcharge else amount)))
    return tuple(rows), discounted, surcharged


def _adjustment_amount(adjustment: DscRcgGlobal, fields: DteFields) -> Decimal | None:
    if adjustment.value is None:
        return None
    if adjustment.value_type.strip() != "%":
        return adjustment.value
    # A percentage of the lines it applies to: taxed lines, or exempt (1) or non-billable (2) ones.
    base = sum(
        (line.amount for line in fields.detail if line.exempt_indicator == adjustment.exempt_indicator),
        Decimal(0),
    )
    places = _ONE if fields.currency == PESO_CL else _CENT
    return (base * adjustment.value / 100).quantize(places, rounding=ROUND_HALF_UP)


def _totals(
    fields: DteFields, money: Callable[[Decimal], str], discounted: Decimal, surcharged: Decimal
) -> tuple[Total, ...]:
    rows: list[Total] = []
    if discounted:
        rows.append(Total("Descuento global", money(-discounted)))
    if surcharged:
        rows.append(Total("Recargo global", money(surcharged)))
    if fields.export is not None:
        if fields.export.exempt is not None:
            rows.append(Total("Exento", money(fields.export.exempt)))
        rows.append(Total("Total", money(fields.export.total), strong=True))
    elif fields.totals is not None:
        rows.extend(_peso_totals(fields.totals))
    else:  # pragma: no cover - read_fields gives every non-export document its Totales
        rows.append(Total("Total", format_money(fields.total_cents), strong=True))
    other = fields.other_currency
    if other is not None and other.total is not None:
        label = (
            "Total en pesos"
            if other.currency.strip().upper() == PESO_CL
            else f"Total en {clean(other.currency)}"
        )
        rows.append(Total(label, _money_formatter(other.currency.strip().upper())(other.total)))
    return tuple(rows)


def _peso_totals(totals: DteTotals) -> list[Total]:
    rows: list[Total] = []

    def add(label: str, cents: int | None, *, negative: bool = False) -> None:
        if cents is not None:
            rows.append(Total(label, format_money(-cents if negative else cents)))

    add("Neto", totals.net_cents)
    add("Exento", totals.exempt_cents)
    if totals.vat_cents is not None:
        rate = f" {format_number(totals.vat_rate)}%" if totals.vat_rate is not None else ""
        add(f"IVA{rate}", totals.vat_cents)
    add("IVA propio", totals.own_vat_cents)
    add("IVA terceros", totals.third_party_vat_cents)
    for tax in totals.other_taxes:
        rate = f" {format_number(tax.rate)}%" if tax.rate is not None else ""
        label = f"{tax_name(tax.code)}{rate}"
        rows.append(Total(label, format_money(tax.amount_cents) if tax.amount_cents is not None else ""))
    add("IVA no retenido", totals.vat_not_withheld_cents)
    add("Crédito especial emp. constructoras", totals.construction_credit_cents, negative=True)
    add("Garantía por depósito de envases", totals.packaging_deposit_cents)
    add("Monto no facturable", totals.non_billable_cents)
    rows.append(Total("Total", format_money(totals.total_cents), strong=True))
    add("Monto del período", totals.period_total_cents)
    add("Saldo anterior", totals.previous_balance_cents)
    if totals.amount_due_cents is not None:
        rows.append(Total("Valor a pagar", format_money(totals.amount_due_cents), strong=True))
    return rows


# --- references --------------------------------------------------------------------------------------


def _reference(reference: DteReference, date_text: Callable[[date], str]) -> Reference:
    reason = " - ".join(
        part
        for part in (
            _REFERENCE_REASONS.get(reference.reason_code, "") if reference.reason_code is not None else "",
            clean(reference.reason),
        )
        if part
    )
    folio = clean(reference.folio)
    if reference.global_reference:
        folio = f"{folio} (global)" if folio and folio.strip("0") else "Global"
    type_name = clean(reference_type_name(reference.document_type))
    if reference.other_rut:
        type_name += f" (R.U.T. {_rut_text(reference.other_rut)})"
    return Reference(
        type_name=type_name,
        folio=folio,
        date=date_text(reference.date) if reference.date is not None else "",
        reason=reason,
    )
