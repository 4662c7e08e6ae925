"""The one pipeline every DTE goes through: files, envelopes, encodings, verdicts and the policy."""

from __future__ import annotations

import re
import time

import pytest

from dtehub.dte.checks import Check, Problem, Verdict
from dtehub.dte.pipeline import (
    CheckedDte,
    DteRefused,
    XmlChecks,
    XmlPolicy,
    policy_refusal,
    read_dte_file,
)
from dtehub.dte.signature import verify_dte_signature
from tests.conftest import FIXTURES
from tests.hostile_xml import billion_laughs

LIMIT = 5 * 1024 * 1024
INVOICE = (FIXTURES / "DTE--76399752-9--33--25568.xml").read_bytes()  # signed with the ns, served bare
CREDIT_NOTE = (FIXTURES / "DTE--96670340-7--61--110616.xml").read_bytes()  # signed bare
SEED = (FIXTURES / "seed-duemint-example-33-696.xml").read_bytes()  # unsigned, no TED
DECLARATION = re.compile(rb"^<\?xml[^>]*\?>\s*")


def body(dte: bytes) -> bytes:
    return DECLARATION.sub(b"", dte)


def envelope(root: str, *dtes: bytes, namespace: bool = True) -> bytes:
    xmlns = ' xmlns="http://www.sii.cl/SiiDte"' if namespace else ""
    inner = b"\n".join(body(d) for d in dtes)
    if root == "SetDTE":
        return (
            b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<SetDTE'
            + xmlns.encode()
            + b' ID="S1">'
            + inner
            + b"</SetDTE>"
        )
    return (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<'
        + root.encode()
        + xmlns.encode()
        + b' version="1.0"><SetDTE ID="S1"><Caratula version="1.0"/>'
        + inner
        + b"</SetDTE></"
        + root.encode()
        + b">"
    )


def only(outcomes: list[CheckedDte | DteRefused]) -> CheckedDte:
    [outcome] = outcomes
    assert isinstance(outcome, CheckedDte), outcome
    return outcome


@pytest.mark.parametrize("data", [INVOICE, CREDIT_NOTE], ids=["mipyme-invoice", "credit-note"])
def test_a_real_signed_dte_passes_every_check(data: bytes) -> None:
    checked = only(read_dte_file(data, max_bytes=LIMIT))

    assert checked.content == data  # a bare DTE is kept byte for byte
    assert (checked.checks.signature, checked.checks.ted) == (Verdict.VALID, Verdict.VALID)
    assert checked.checks.signer is not None
    assert checked.checks.signed_at is not None
    assert checked.checks.signed_at.year == 2019


def test_the_unsigned_seed_is_read_with_its_verdicts() -> None:
    checked = only(read_dte_file(SEED, max_bytes=LIMIT))

    assert checked.fields.folio == 696
    assert (checked.checks.signature, checked.checks.ted) == (Verdict.UNSIGNED, Verdict.ABSENT)
    assert {p.check for p in checked.checks.problems} >= {Check.SIGNATURE, Check.TED}


@pytest.mark.parametrize("root", ["EnvioDTE", "SetDTE", "EnvioBOLETA"])
@pytest.mark.parametrize("namespace", [True, False])
def test_each_dte_of_an_envelope_is_cut_out_and_still_verifies(root: str, namespace: bool) -> None:
    data = envelope(root, INVOICE, CREDIT_NOTE, SEED, namespace=namespace)

    outcomes = read_dte_file(data, max_bytes=LIMIT)

    assert [o.fields.folio for o in outcomes if isinstance(o, CheckedDte)] == [25568, 110616, 696]
    invoice, note, seed = (o for o in outcomes if isinstance(o, CheckedDte))
    for checked in (invoice, note):
        assert body(checked.content).strip() in data  # the DTE's own bytes, not a re-serialization
        assert checked.checks.signature == Verdict.VALID, checked.checks.problems
        assert checked.checks.ted == Verdict.VALID, checked.checks.problems
        # What is stored verifies again on its own, as it will when served.
        assert verify_dte_signature(checked.content).verdict == Verdict.VALID
    assert seed.checks.signature == Verdict.UNSIGNED


def test_one_unreadable_dte_does_not_sink_its_envelope() -> None:
    broken = SEED.replace(b"<Folio>696</Folio>", b"<Folio>seiscientos</Folio>")
    data = envelope("EnvioDTE", INVOICE, broken)

    invoice, refused = read_dte_file(data, max_bytes=LIMIT)

    assert isinstance(invoice, CheckedDte)
    assert isinstance(refused, DteRefused)
    assert refused.code == "dte_unreadable"
    assert "Folio" in refused.message


@pytest.mark.parametrize(
    "recode",
    [
        lambda d: d.decode("latin-1").encode("utf-8"),  # UTF-8 bytes under an ISO-8859-1 declaration
        lambda d: b"\xef\xbb\xbf" + d.decode("latin-1").encode("utf-8"),  # and a byte-order mark
        lambda d: DECLARATION.sub(b"", d).decode("latin-1").encode("utf-8"),  # no declaration at all
        lambda d: d.replace(b"ISO-8859-1", b"windows-1252"),
    ],
    ids=["utf8-lying-declaration", "utf8-bom", "no-declaration", "windows-1252"],
)
def test_encodings_that_keep_the_text_keep_the_verdicts(recode: object) -> None:
    assert callable(recode)
    checked = only(read_dte_file(recode(CREDIT_NOTE), max_bytes=LIMIT))

    assert (
        checked.fields.receiver.name == only(read_dte_file(CREDIT_NOTE, max_bytes=LIMIT)).fields.receiver.name
    )
    assert (checked.checks.signature, checked.checks.ted) == (Verdict.VALID, Verdict.VALID)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (billion_laughs("DTE").encode(), "xml_forbidden_feature"),
        (b"<DTE><Documento>", "xml_malformed"),
        (b"<Documento ID='x'/>", "dte_unreadable"),
        (b"<EnvioDTE><SetDTE/></EnvioDTE>", "dte_unreadable"),
    ],
    ids=["billion-laughs", "truncated", "bare-documento", "empty-envelope"],
)
def test_unsafe_or_unreadable_files_are_refused_fast(data: bytes, code: str) -> None:
    started = time.perf_counter()
    with pytest.raises(DteRefused) as refused:
        read_dte_file(data, max_bytes=LIMIT)

    assert refused.value.code == code
    assert time.perf_counter() - started < 1.0


def test_a_file_over_the_limit_is_refused_as_too_large() -> None:
    with pytest.raises(DteRefused) as refused:
        read_dte_file(INVOICE, max_bytes=len(INVOICE) - 1)

    assert (refused.value.code, refused.value.too_large) == ("xml_too_large", True)


def checks(schema: Verdict, signature: Verdict, ted: Verdict) -> XmlChecks:
    problems = tuple(
        Problem(check=check, code=f"{check.value}_problem", message=f"{check.value} is off")
        for check, verdict in ((Check.SCHEMA, schema), (Check.SIGNATURE, signature), (Check.TED, ted))
        if verdict != Verdict.VALID
    )
    return XmlChecks(schema, signature, ted, signer=None, signed_at=None, problems=problems)


@pytest.mark.parametrize(
    ("verdicts", "code"),
    [
        ((Verdict.VALID, Verdict.VALID, Verdict.VALID), None),
        ((Verdict.INVALID, Verdict.VALID, Verdict.VALID), "xml_schema_invalid"),
        ((Verdict.VALID, Verdict.UNSIGNED, Verdict.VALID), "signature_invalid"),
        ((Verdict.VALID, Verdict.UNVERIFIABLE, Verdict.VALID), "signature_invalid"),
        ((Verdict.VALID, Verdict.INVALID, Verdict.VALID), "signature_invalid"),
        ((Verdict.VALID, Verdict.VALID, Verdict.ABSENT), "ted_invalid"),
        ((Verdict.VALID, Verdict.VALID, Verdict.INVALID), "ted_invalid"),
    ],
)
def test_strict_refuses_any_verdict_but_valid_and_lenient_none(
    verdicts: tuple[Verdict, Verdict, Verdict], code: str | None
) -> None:
    strict = policy_refusal(checks(*verdicts), XmlPolicy.STRICT)

    assert (strict.code if strict else None) == code
    if strict is not None:
        assert "is off" in strict.message  # the check's own reason is part of the refusal
    assert policy_refusal(checks(*verdicts), XmlPolicy.LENIENT) is None
