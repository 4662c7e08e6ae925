"""The ``dte`` object a document publishes: the JSON built once from its DTE is exactly what
:class:`~dtehub.dte.published.DteOut` (and so ``/openapi.json``) says it is, and reads back typed."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from dtehub.dte.published import DteOut
from dtehub.dte.views import dte_json
from tests.dte.test_reader import (
    CREDIT_NOTE,
    CREDIT_NOTE_CLEANED,
    POLAR,
    POLAR_CLEANED,
    RICH,
    SEED,
    export_xml,
    insert_after,
    read,
    seed,
)


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
