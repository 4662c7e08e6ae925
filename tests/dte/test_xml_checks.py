"""xmlChecks has one shape: what the pipeline finds, what the verdict columns keep and what the API
shows (and /openapi.json publishes) are the same object."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dtehub.dte.checks import VERDICTS, Check, XmlChecksOut, stored_xml_checks_json, xml_check_columns
from dtehub.dte.pipeline import CheckedDte, read_dte_file
from dtehub.models import Document, Note
from tests.dte.samples import CREDIT_NOTE, POLAR, SEED

FILES = {"signed": POLAR.read_bytes(), "signed-note": CREDIT_NOTE.read_bytes(), "unsigned": SEED.encode()}


def checked(content: bytes) -> CheckedDte:
    [one] = read_dte_file(content, max_bytes=1 << 20)
    assert isinstance(one, CheckedDte)
    return one


@pytest.mark.parametrize("content", FILES.values(), ids=FILES.keys())
def test_the_stored_verdicts_read_back_as_the_pipeline_found_them(content: bytes) -> None:
    checks = checked(content).checks
    row = SimpleNamespace(**xml_check_columns(checks))

    assert stored_xml_checks_json(row) == checks.as_json()


@pytest.mark.parametrize("content", FILES.values(), ids=FILES.keys())
def test_the_verdicts_are_what_the_schema_publishes(content: bytes) -> None:
    shown = checked(content).checks.as_json()

    assert XmlChecksOut.model_validate(shown).model_dump(mode="json") == shown


def test_a_row_without_xml_has_no_verdicts() -> None:
    assert stored_xml_checks_json(SimpleNamespace(**xml_check_columns(None))) is None


def test_each_check_publishes_and_stores_its_own_verdicts() -> None:
    properties = XmlChecksOut.model_json_schema(by_alias=True)["properties"]

    for check in Check:
        assert tuple(properties[check.value]["enum"]) == VERDICTS[check]
        for table in (Document, Note):
            assert table.__table__.c[f"xml_{check.value}"].comment == " | ".join(VERDICTS[check])
