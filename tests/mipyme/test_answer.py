"""The success answer of mipyme_get_document as it goes out, from a DTE read by the real pipeline:
``total_amount`` is the DTE's total in pesos, exactly."""

from __future__ import annotations

import json

import pytest

from dtehub.dte.pipeline import CheckedDte, read_dte_file
from dtehub.kit.schema import respond
from dtehub.mipyme import service
from dtehub.mipyme.schemas import MipymeAnswer
from dtehub.sii.retrieval import RetrievedDocument
from tests.conftest import FIXTURES
from tests.dte.samples import export_xml


def _answer(xml: bytes) -> tuple[dict[str, object], bytes]:
    [checked] = read_dte_file(xml, max_bytes=len(xml))
    assert isinstance(checked, CheckedDte)
    fields = checked.fields
    retrieved = RetrievedDocument(
        company_rut=fields.issuer.rut,
        type_code=fields.code,
        folio=fields.folio,
        sii_state="Documento Emitido",
        checked=checked,
        pdf=None,
    )
    body = bytes(respond(service.success(retrieved)).body)
    answer: dict[str, object] = json.loads(body)
    MipymeAnswer.model_validate(answer)  # what it published it answers
    return answer, body


def test_a_peso_invoice_answers_its_total_as_a_whole_number() -> None:
    answer, body = _answer((FIXTURES / "DTE--76399752-9--33--25568.xml").read_bytes())

    assert answer["document"]["total_amount"] == 230992  # type: ignore[index]
    assert b'"total_amount":230992,' in body


@pytest.mark.parametrize(
    ("pesos", "expected"), [("700473.4617", "700473.46"), ("700473.5", "700473.5"), ("99.05", "99.05")]
)
def test_an_export_answers_its_total_in_pesos_with_its_cents(pesos: str, expected: str) -> None:
    other = (
        "<OtraMoneda><TpoMoneda>PESO CL</TpoMoneda><TpoCambio>700.1234</TpoCambio>"
        f"<MntExeOtrMnda>{pesos}</MntExeOtrMnda><MntTotOtrMnda>{pesos}</MntTotOtrMnda></OtraMoneda>"
    )

    answer, body = _answer(export_xml(other_currency=other).encode())

    # The JSON text carries the amount's own digits: nothing was cut to whole pesos.
    assert answer["document"]["total_amount"] == json.loads(expected)  # type: ignore[index]
    assert f'"total_amount":{expected},'.encode() in body
