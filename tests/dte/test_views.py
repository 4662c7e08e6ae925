"""The ``dte`` object a document publishes: the JSON built once from its DTE, field by field for the real
files and the samples, and exactly what :class:`~dtehub.dte.published.DteOut` (and so ``/openapi.json``)
says it is, read back typed."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree

from dtehub.dte.detail_notes import NOTES_HEADER, detail_notes, line_note
from dtehub.dte.models import DteFields, DteParty, DteReference
from dtehub.dte.published import DteOut
from dtehub.dte.views import dte_json
from tests.dte.samples import (
    CREDIT_NOTE,
    CREDIT_NOTE_CLEANED,
    POLAR,
    POLAR_CLEANED,
    RICH,
    SEED,
    export_xml,
    insert_after,
    no_floats,
    read,
    seed,
)

# --- the JSON of the real files and of the samples ----------------------------------------------------


CREDIT_NOTE_JSON: dict[str, Any] = {
    "code": 61,
    "folio": 110616,
    "issueDate": "2019-08-02",
    "dueDate": "2019-09-01",
    "currency": "PESO CL",
    "payment": {
        "form": 2,
        "exportForm": None,
        "method": "OT",
        "termsCode": None,
        "termsGloss": "Crédito",
        "termsDays": None,
        "accountType": None,
        "accountNumber": None,
        "bank": None,
        "paidDate": None,
        "paidAmount": None,
        "unpaidBalance": None,
        "schedule": [],
    },
    "indicators": {
        "noRebate": False,
        "grossAmounts": False,
        "dispatchType": None,
        "transferType": None,
        "printFormat": None,
        "serviceType": None,
        "purchaseTransactionType": None,
        "saleTransactionType": None,
    },
    "period": None,
    "issuer": {
        "taxId": "96670340-7",
        "name": "Bata Chile S.A.",
        "activity": "Venta de calzado, accesorios y prendas de vestir",
        "activityCodes": ["513100"],
        "phones": [],
        "email": None,
        "branch": "Camino a Melipilla N",
        "branchCode": "5149528",
        "sellerCode": None,
        "additionalId": None,
        "address": "Camino a Melipilla N 9460",
        "comuna": "Maipu",
        "city": "Santiago",
    },
    "principalTaxId": None,
    "receiver": {
        "taxId": "81675600-6",
        "name": "Comercializadora S.A",
        "internalCode": None,
        "foreignId": None,
        "nationality": None,
        "activity": "Grandes Tiendas",
        "contact": None,
        "email": None,
        "address": "Moneda 970 piso 4",
        "comuna": "Santiago",
        "city": "Santiago",
        "postalAddress": "3079",
        "postalComuna": None,
        "postalCity": None,
    },
    "requesterTaxId": None,
    "totals": {
        "net": "48190822.00",
        "exempt": "0.00",
        "meatBase": None,
        "marginBase": None,
        "vatRate": "19",
        "vat": "9156256.00",
        "ownVat": None,
        "thirdPartyVat": None,
        "vatNotWithheld": None,
        "constructionCredit": None,
        "packagingDeposit": None,
        "commissionsNet": None,
        "commissionsExempt": None,
        "commissionsVat": None,
        "total": "57347078.00",
        "nonBillable": None,
        "periodTotal": None,
        "previousBalance": "0.00",
        "amountDue": "57347078.00",
    },
    "otherTaxes": [],
    "otherCurrency": None,
    "lines": [
        {
            "number": 1,
            "codes": [],
            "exemptIndicator": None,
            "name": "Comision Corner",
            "description": "Comision Venta Corner Hites Julio 2019",
            "referenceQuantity": None,
            "referenceUnit": None,
            "referencePrice": "48190822.0",
            "quantity": "1.0",
            "unit": None,
            "unitPrice": "48190822.0",
            "discountPercent": None,
            "discountAmount": None,
            "surchargePercent": None,
            "surchargeAmount": None,
            "taxCodes": [],
            "amount": "48190822.00",
        }
    ],
    "discounts": [],
    "references": [
        {
            "number": 1,
            "documentType": "33",
            "global": False,
            "folio": "115885",
            "otherTaxId": None,
            "date": "2019-08-02",
            "reasonCode": 3,
            "reason": "Comision venta corner Hites",
        }
    ],
    "transport": None,
    "warnings": [],
}


@pytest.mark.parametrize("path", [CREDIT_NOTE, CREDIT_NOTE_CLEANED], ids=["as-served", "namespaced"])
def test_the_credit_note(path: Path) -> None:
    fields = read(path.read_bytes())

    assert fields.references == (
        DteReference(
            number=1,
            document_type="33",
            folio="115885",
            date=date(2019, 8, 2),
            reason_code=3,
            reason="Comision venta corner Hites",
        ),
    )
    assert fields.id_doc.payment_method == "OT"
    assert fields.id_doc.payment_terms_gloss == "Crédito"  # ISO-8859-1 in the file
    assert fields.due_date == date(2019, 9, 1)
    assert fields.issuer.branch == "Camino a Melipilla N"
    assert fields.receiver.postal_address == "3079"
    assert fields.detail[0].reference_price == Decimal("48190822.0")
    assert fields.totals is not None
    assert fields.totals.previous_balance_cents == 0
    assert fields.totals.amount_due_cents == 5734707800
    assert dte_json(fields) == CREDIT_NOTE_JSON


def test_every_value_is_exact_and_the_json_is_plain() -> None:
    fields = read(RICH)

    payload = dte_json(fields)

    assert json.loads(json.dumps(payload)) == payload
    assert no_floats(payload)
    assert all(isinstance(line.amount, Decimal) for line in fields.detail)


def test_the_json_always_has_every_key() -> None:
    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        return None

    sparse, rich = dte_json(read(SEED)), dte_json(read(RICH))

    for key in ("otherCurrency", "transport", "period"):
        assert sparse[key] is None
        assert rich[key] is not None
        del sparse[key], rich[key]
    assert shape(sparse) == shape(rich)


def test_the_json_of_a_document_that_uses_every_part() -> None:
    payload = dte_json(read(RICH))

    assert payload["payment"]["schedule"] == [
        {"date": "2018-05-06", "amount": "65950.00", "gloss": "Primera cuota"},
        {"date": "2018-06-06", "amount": "65950.00", "gloss": None},
    ]
    assert payload["indicators"]["serviceType"] == 3
    assert payload["period"] == {"from": "2018-03-01", "to": "2018-03-31"}
    assert payload["otherTaxes"] == [
        {"code": "27", "rate": "10", "amount": "10000.00"},
        {"code": "28", "rate": None, "amount": "1900.00"},
    ]
    assert payload["totals"]["nonBillable"] == "-1000.00"
    assert payload["otherCurrency"] == {
        "currency": "DOLAR USA",
        "exchangeRate": "650.5",
        "net": "153.7279",
        "exempt": "7.6864",
        "meatBase": None,
        "marginBase": None,
        "vat": "29.2083",
        "otherTaxes": [{"code": "27", "rate": "10", "amount": "15.3728"}],
        "vatNotWithheld": None,
        "total": "208.9162",
    }
    first, second = payload["lines"]
    assert first["codes"] == [
        {"type": "EAN13", "value": "7801234567890"},
        {"type": "INT1", "value": "VINO-RES-750"},
    ]
    assert (first["quantity"], first["unitPrice"], first["discountPercent"], first["discountAmount"]) == (
        "2.5",
        "40000.123456",
        "10",
        "10000.00",
    )
    assert (first["taxCodes"], first["amount"]) == (["27"], "90000.00")
    assert (second["exemptIndicator"], second["surchargePercent"], second["surchargeAmount"]) == (
        1,
        "5",
        "250.00",
    )
    assert payload["discounts"] == [
        {
            "number": 1,
            "movement": "D",
            "gloss": "Cliente frecuente",
            "valueType": "%",
            "value": "2.5",
            "valueOtherCurrency": None,
            "exemptIndicator": None,
        },
        {
            "number": 2,
            "movement": "R",
            "gloss": None,
            "valueType": "$",
            "value": "1500.00",
            "valueOtherCurrency": None,
            "exemptIndicator": 1,
        },
    ]
    assert payload["references"][3] == {
        "number": 4,
        "documentType": "33",
        "global": False,
        "folio": "25568",
        "otherTaxId": "76399752-9",
        "date": "2019-03-29",
        "reasonCode": 1,
        "reason": "Anula",
    }
    assert payload["references"][2]["global"] is True
    assert payload["transport"]["driverName"] == "JUAN SOTO"
    assert payload["transport"]["customs"] is None
    assert (payload["principalTaxId"], payload["requesterTaxId"]) == ("76399752-9", "11111111-1")


def test_an_exports_json_shows_its_own_currency() -> None:
    payload = dte_json(read(export_xml()))

    assert payload["currency"] == "DOLAR USA"
    assert payload["totals"]["exempt"] == payload["totals"]["total"] == "1000.50"
    assert payload["totals"]["net"] is None
    assert payload["otherCurrency"]["total"] == "700473.4617"
    assert payload["lines"][0]["amount"] == "1000.50"
    customs = payload["transport"]["customs"]
    assert (customs["saleClauseTotal"], customs["freight"], customs["grossWeight"]) == (
        "1000.50",
        "50.2500",
        "12.5",
    )
    assert customs["packages"] == [
        {
            "kind": "75",
            "quantity": 2,
            "marks": "ACME NY",
            "containerId": None,
            "seal": None,
            "sealIssuer": None,
        }
    ]


# --- fields built by hand ------------------------------------------------------------------------------


def test_fields_can_be_built_from_the_required_attributes_alone() -> None:
    fields = DteFields(
        code=33,
        folio=1,
        issue_date=date(2024, 1, 2),
        due_date=None,
        payment_form=1,
        issuer=DteParty("76453707-6", "DUEMINT SPA"),  # type: ignore[arg-type]
        receiver=DteParty("99999999-9", "CLIENTE"),  # type: ignore[arg-type]
        net_cents=100,
        exempt_cents=0,
        total_cents=119,
        detail_notes=detail_notes(
            [
                line_note(
                    etree.fromstring(b"<Detalle><NroLinDet>1</NroLinDet><MontoItem>1</MontoItem></Detalle>")
                )
            ]
        ),
    )

    payload = dte_json(fields)

    assert payload["issuer"]["taxId"] == "76453707-6"
    assert payload["issuer"]["activityCodes"] == []
    assert payload["lines"] == []
    assert fields.detail_notes == f"{NOTES_HEADER}NroLinDet: 1 MontoItem: 1 "


# --- the published schema --------------------------------------------------------------------------


def _messy() -> str:
    xml = seed(QtyItem="1,5", PrcItem="80.900,67", TasaIVA="diecinueve", NroLinDet="uno")
    xml = insert_after(
        xml,
        "Detalle",
        "<DscRcgGlobal><NroLinDR>1</NroLinDR><TpoMov>X</TpoMov><TpoValor>%</TpoValor><ValorDR>diez</ValorDR>"
        "</DscRcgGlobal><DscRcgGlobal><TpoMov>R</TpoMov><TpoValor>$</TpoValor><ValorDR>100</ValorDR>"
        "</DscRcgGlobal><Referencia><NroLinRef>1</NroLinRef><TpoDocRef>33</TpoDocRef><FolioRef>695</FolioRef>"
        "<RUTOtr>123</RUTOtr><FchRef>02-04-2018</FchRef><CodRef>7</CodRef></Referencia>",
    )
    return insert_after(xml, "IVA", "<ImptoReten><TipoImp>27</TipoImp><MontoImp>-5</MontoImp></ImptoReten>")


def _liquidacion() -> str:
    xml = seed(TipoDTE="43", MntNeto="-1000", IVA="-190", MntTotal="-1190", MontoItem="-1000")
    return xml.replace("Documento", "Liquidacion")


DOCUMENTS = {
    "polar": POLAR.read_bytes(),
    "polar-cleaned": POLAR_CLEANED.read_bytes(),
    "credit-note": CREDIT_NOTE.read_bytes(),
    "credit-note-cleaned": CREDIT_NOTE_CLEANED.read_bytes(),
    "seed": SEED,
    "rich": RICH,
    "export": export_xml(),
    "messy": _messy(),
    "liquidacion": _liquidacion(),
}


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with no property left unnamed: every object of the JSON must have exactly its keys."""
    closed = copy.deepcopy(schema)
    for definition in [closed, *closed.get("$defs", {}).values()]:
        if "properties" in definition:
            definition["additionalProperties"] = False
    return closed


SCHEMA = _closed(DteOut.model_json_schema(mode="serialization", by_alias=True))


@pytest.mark.parametrize("xml", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_the_stored_json_is_what_the_schema_says(xml: str | bytes) -> None:
    published = dte_json(read(xml))

    jsonschema.Draft202012Validator(SCHEMA).validate(published)
    assert set(published) == set(SCHEMA["properties"])
    assert set(SCHEMA["required"]) == set(SCHEMA["properties"])  # every key is always present


@pytest.mark.parametrize("xml", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_the_stored_json_reads_back_typed_and_writes_out_the_same(xml: str | bytes) -> None:
    published = dte_json(read(xml))

    typed = DteOut.model_validate(published)

    assert typed.model_dump(mode="json") == published


def test_typed_values_are_exact() -> None:
    typed = DteOut.model_validate(dte_json(read(POLAR.read_bytes())))

    [line] = typed.lines
    assert (line.quantity, line.unit_price, line.amount) == (Decimal("1.00"), Decimal("194111.00"), 194111)
    assert typed.totals.total == Decimal("230992.00")
    assert typed.issue_date.isoformat() == "2019-03-29"


def test_every_published_field_is_documented() -> None:
    schema = DteOut.model_json_schema(mode="serialization", by_alias=True)
    undocumented = [
        f"{name}.{field}"
        for name, definition in [("DteOut", schema), *schema["$defs"].items()]
        for field, spec in definition["properties"].items()
        if not spec.get("description")
    ]
    assert undocumented == []
    assert all(definition.get("description") for definition in schema["$defs"].values())
