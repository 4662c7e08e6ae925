"""Loading the data directory: every DTE indexed from its own bytes, ids stable, bad files skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dtehub.sii.emulator import EmulatorData, EmulatorDataError
from tests.sii.emulator.conftest import (
    BATA,
    EXEMPT_FOLIOS,
    INVOICE_FIXTURE,
    JUANA,
    MIPYME,
    NOT_MIPYME,
)


def test_every_dte_is_indexed_by_issuer_type_and_folio(data_dir: Path) -> None:
    data = EmulatorData.load(data_dir)

    invoice = data.document(MIPYME, 33, 25568)
    assert invoice is not None
    assert INVOICE_FIXTURE.read_bytes().find(invoice.content) > 0  # the element's own bytes
    assert invoice.content.startswith(b"<DTE")
    assert invoice.content.endswith(b"</DTE>")
    assert [d.folio for d in data.issued_by(MIPYME) if d.code == 34] == list(EXEMPT_FOLIOS)  # from a SetDTE
    credit_note = data.document(BATA, 61, 110616)
    assert credit_note is not None
    assert credit_note.references == ((BATA, 33, 115885),)
    assert data.companies[NOT_MIPYME].mipyme is False
    assert data.people[JUANA].companies == (MIPYME, BATA, NOT_MIPYME)
    assert [name for name, _ in data.skipped] == ["broken.xml"]


def test_portal_ids_are_stable_and_not_folios(data_dir: Path) -> None:
    first, second = EmulatorData.load(data_dir), EmulatorData.load(data_dir)

    codigos = {key: document.codigo for key, document in first.documents.items()}
    assert codigos == {key: document.codigo for key, document in second.documents.items()}
    assert len(set(codigos.values())) == len(codigos)
    assert all(codigo != key[2] for key, codigo in codigos.items())


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[]", "must hold a JSON object"),
        ('{"companies": [{"rut": "76399752-1"}]}', "wrong check digit"),
        ('{"people": [{"rut": "12345678-5", "companies": ["76399752-9"]}]}', "not among the companies"),
        ('{"states": {"76399752-9/33": "x"}}', "rut/type/folio"),
    ],
)
def test_a_wrong_emulator_json_is_explained(tmp_path: Path, config: str, message: str) -> None:
    (tmp_path / "emulator.json").write_text(config)

    with pytest.raises(EmulatorDataError, match=message):
        EmulatorData.load(tmp_path)


def test_a_missing_emulator_json_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(EmulatorDataError, match="sii-emulator init"):
        EmulatorData.load(tmp_path)


def test_an_empty_directory_of_dtes_is_fine(tmp_path: Path) -> None:
    (tmp_path / "emulator.json").write_text(json.dumps({"companies": [], "people": []}))

    assert EmulatorData.load(tmp_path).documents == {}
