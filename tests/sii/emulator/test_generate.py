"""``dtehub sii-emulator init --generate N --months M``: a realistic company in SII's register, and its XML
in MIPYME when asked (signed and stamped, as the pipeline checks it)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from dtehub.dte.checks import Verdict
from dtehub.dte.pipeline import CheckedDte, read_dte_file
from dtehub.sii.emulator import EmulatorData
from dtehub.sii.emulator.cli import emulator_app
from dtehub.sii.emulator.generate import generate_entries

runner = CliRunner()
NOW = datetime(2026, 12, 7, 10, 0)


def test_a_generated_company_looks_like_a_real_one() -> None:
    entries, boletas = generate_entries("76399752-9", 6_000, 12, now=NOW)

    assert len(entries) == 6_000
    shares = Counter(entry.type_code for entry in entries)
    assert shares[33] > 4_000
    assert {34, 56, 61} <= set(shares)
    periods = {entry.period for entry in entries}
    assert len(periods) == 12
    assert min(periods) == "202601"
    assert max(periods) == "202612"
    assert all(entry.received_at <= NOW and entry.received_at.date() >= entry.issue_date for entry in entries)
    invoices = {(e.type_code, e.folio): e for e in entries if e.type_code in (33, 34)}
    for note in (e for e in entries if e.type_code in (56, 61)):
        referenced = invoices[(note.ref_type or 0, note.ref_folio or 0)]
        assert referenced.customer_rut == note.customer_rut
        assert referenced.issue_date <= note.issue_date
        assert note.total <= referenced.total
    acceptable = [e for e in entries if e.type_code in (33, 34)]
    claimed = [e for e in acceptable if e.claimed_at is not None]
    accepted = [e for e in acceptable if e.accepted_at is not None]
    assert 0.01 < len(claimed) / len(acceptable) < 0.06
    assert 0.35 < len(accepted) / len(acceptable) < 0.55
    assert all(e.claimed_at is not None and (e.claimed_at - e.received_at).days < 8 for e in claimed)
    assert any(e.accepted_at is not None and e.accepted_at > NOW for e in accepted)  # still to come
    assert all(e.net + e.vat + e.exempt == e.total for e in entries)
    assert [b.period for b in boletas] == sorted({e.period for e in entries})
    assert generate_entries("76399752-9", 6_000, 12, now=NOW)[0] == entries  # the same seed, the same company


def test_init_generates_the_register_and_signed_xml_in_mipyme(tmp_path: Path) -> None:
    result = runner.invoke(
        emulator_app,
        ["init", "--data", str(tmp_path), "--generate", "40", "--months", "2", "--xml", "signed"],
    )

    assert result.exit_code == 0, result.output
    assert "Generated 40 documents of 76399752-9 over 2 months" in result.output
    config = json.loads((tmp_path / "emulator.json").read_text())
    assert {"rut": "76399752-9", "name": "EMPRESA DE EJEMPLO SPA", "mipyme": True} in config["companies"]
    data = EmulatorData.load(tmp_path)
    assert data.register.count("76399752-9") == 40
    assert len(data.issued_by("76399752-9")) == 40
    assert not data.skipped
    some = next(iter(sorted((tmp_path / "dtes").glob("generated-*.xml"))))
    checked = [o for o in read_dte_file(some.read_bytes(), max_bytes=10_000_000) if isinstance(o, CheckedDte)]
    assert checked
    for outcome in checked:
        assert (outcome.checks.signature, outcome.checks.ted) == (Verdict.VALID, Verdict.VALID)
        assert outcome.checks.schema == Verdict.VALID


def test_init_refuses_a_bad_company_rut(tmp_path: Path) -> None:
    result = runner.invoke(
        emulator_app, ["init", "--data", str(tmp_path), "--generate", "5", "--company", "1-2"]
    )

    assert result.exit_code == 2
    assert "--company" in result.output
