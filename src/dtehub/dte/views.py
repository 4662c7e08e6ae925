"""The ``dte`` object a document publishes (:class:`dtehub.dte.published.DteOut`), built from what its DTE
says (:class:`dtehub.dte.models.DteFields`) as plain JSON-ready data.

It is built once per DTE, by the pipeline in the worker that read it, and stored with the DTE; the API
sends the stored JSON as it is. Plain dicts, not models: building and dumping the models costs three
times as much per line, in the import's workers. ``tests/dte/test_views.py`` holds this builder to
:class:`~dtehub.dte.published.DteOut`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dtehub.dte.models import DteFields, DteIssuer, DteLine, DteReceiver, DteTransport, OtraMoneda
from dtehub.dte.published import money_text, number_text
from dtehub.kit.model import JsonObject
from dtehub.kit.money import format_cents


def _cents(value: int | None) -> str | None:
    return format_cents(value) if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return money_text(value) if value is not None else None


def _number(value: Decimal | None) -> str | None:
    return number_text(value) if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _or_null(text: str) -> str | None:
    return text or None


def dte_json(fields: DteFields) -> JsonObject:
    """The ``dte`` object of :class:`~dtehub.dte.published.DteOut` for ``fields``, as JSON-ready data."""
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


def _totals_json(fields: DteFields) -> JsonObject:
    totals = fields.totals
    if totals is None:  # an export document: its Totales hold only the exempt amount and the total
        export = fields.export
        result: JsonObject = dict.fromkeys(_TOTAL_KEYS)
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


def _other_currency_json(other: OtraMoneda | None) -> JsonObject | None:
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


def _line_json(line: DteLine) -> JsonObject:
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


def _transport_json(transport: DteTransport | None) -> JsonObject | None:
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
