"""Property-based fuzzing of what reads outside input: the DTE XML pipeline and its hardened parser, RUTs,
amounts, SII's portal pages and the MIPYME request.

The property is the same everywhere: a result, or one of the documented errors (``XmlError``,
``DteRefused``, ``InvalidRut``, ``InvalidAmount``, ``SiiError``), never another exception, within a
generous time per input. Inputs are real fixtures mutated the ways files arrive broken: truncated
downloads, flipped bytes, a declared encoding that lies, deep nesting, huge attributes, entity tricks.

The default run is small and derandomized (the same inputs each run); ``DTEHUB_FUZZ_EXAMPLES`` raises
every property's budget by hand (docs/fuzzing.md).
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dtehub.dte.pipeline import CheckedDte, DteRefused, read_dte_file
from dtehub.dte.published import DteOut
from dtehub.kit.money import MAX_AMOUNT_CENTS, InvalidAmount, format_cents, format_money, to_cents
from dtehub.kit.rut import InvalidRut, normalize_client_tax_id, normalize_rut, printable_tax_id
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES, MAX_DEPTH, XmlError, parse_untrusted
from dtehub.mipyme.service import read_request
from dtehub.sii import pages
from dtehub.sii.emulator import pages as emulated
from dtehub.sii.errors import SiiError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHARED_FIXTURES = Path("/work/shared/fixtures/dte")
MAX_BYTES = 512 * 1024  # the test settings' max_xml_bytes
SECONDS_PER_INPUT = 5.0  # generous: a loaded 2-core CI box; a real blow-up takes minutes, not seconds
_SCALE = int(os.environ.get("DTEHUB_FUZZ_EXAMPLES", "0"))

T = TypeVar("T")


def budget(default: int) -> settings:
    return settings(
        max_examples=_SCALE or default,
        derandomize=os.environ.get("DTEHUB_FUZZ_SEED") is None,
        deadline=None,  # time is asserted per input below, with a bound that tolerates a busy machine
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@contextmanager
def bounded_time(what: object) -> Iterator[None]:
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    assert elapsed < SECONDS_PER_INPUT, f"{elapsed:.1f} s for {what!r:.200}"


def _seeds() -> list[bytes]:
    found = {p.name: p for p in sorted(FIXTURES.glob("*.xml"))}
    if SHARED_FIXTURES.is_dir():
        for path in sorted(SHARED_FIXTURES.glob("*.xml")):
            found.setdefault(path.name, path)
    return [path.read_bytes() for path in found.values()]


SEEDS = _seeds()
DTE_SCHEMA = jsonschema.Draft202012Validator(DteOut.model_json_schema(mode="serialization", by_alias=True))


@st.composite
def mutated_xml(draw: st.DrawFn) -> bytes:
    """A real DTE file, broken one or a few ways at once."""
    data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        mutation = draw(
            st.sampled_from(
                [
                    "truncate",
                    "flip",
                    "insert",
                    "declare",
                    "reencode",
                    "nest",
                    "attribute",
                    "entity",
                    "envelope",
                    "delete",
                ]
            )
        )
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if mutation == "truncate":  # a download cut short
            data = data[:at]
        elif mutation == "flip" and data:
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif mutation == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
        elif mutation == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 64)) :]
        elif mutation == "declare":  # the declaration lies about the bytes
            encoding = draw(
                st.sampled_from(["UTF-8", "ISO-8859-1", "windows-1252", "UTF-16", "UTF-7", "ebcdic", "x"])
            )
            body = data.split(b"?>", 1)[1] if data.lstrip().startswith(b"<?xml") else data
            data = b'<?xml version="1.0" encoding="' + encoding.encode() + b'"?>' + body
        elif mutation == "reencode":
            text = data.decode("utf-8", errors="replace") if draw(st.booleans()) else data.decode("latin-1")
            target = draw(st.sampled_from(["utf-8", "latin-1", "utf-16", "utf-8-sig"]))
            data = text.encode(target, errors="replace")
        elif mutation == "nest":  # deep nesting at the root or inside it
            depth = draw(st.sampled_from([MAX_DEPTH - 2, MAX_DEPTH + 1, 1000, 20000]))
            data = data[:at] + b"<a>" * depth + b"x" + b"</a>" * depth + data[at:]
        elif mutation == "attribute":  # a huge attribute value
            size = draw(st.sampled_from([1024, 256 * 1024, MAX_BYTES]))
            data = data.replace(b"<Documento ", b'<Documento z="' + b"A" * size + b'" ', 1)
        elif mutation == "entity":
            trick = draw(
                st.sampled_from(
                    [
                        b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                        b"<!doctype x>",
                        b"&x;",
                        b"&#0;",
                        b"&#x110000;",
                        b"&#xD800;",
                        b"&amp;&lt;&#233;",
                        b"<![CDATA[&x;]]>",
                        b'<?xml-stylesheet href="http://127.0.0.1:9/x"?>',
                        b'<x:y xmlns:x="&#38;"/>',
                    ]
                )
            )
            data = data[:at] + trick + data[at:]
        elif mutation == "envelope":  # the same DTE many times in an envelope
            count = draw(st.sampled_from([2, 50]))
            body = data.split(b"?>", 1)[1] if data.lstrip().startswith(b"<?xml") else data
            data = b"<SetDTE>" + body * count + b"</SetDTE>"
    return data


def _outcome_of(call: Callable[[], T], *documented: type[BaseException]) -> T | BaseException:
    """The result, or the documented error raised; anything else fails the property."""
    try:
        return call()
    except documented as error:
        return error


# --- XML ----------------------------------------------------------------------------------------------


def test_the_seeds_are_real_dtes() -> None:
    assert len(SEEDS) >= 3
    for seed in SEEDS:
        checked = read_dte_file(seed, max_bytes=MAX_BYTES)
        assert checked
        assert all(isinstance(one, CheckedDte) for one in checked)


@budget(60)
@given(data=mutated_xml())
def test_the_hardened_parser_answers_a_tree_or_an_xml_error(data: bytes) -> None:
    with bounded_time(data[:200]):
        outcome = _outcome_of(lambda: parse_untrusted(data, max_bytes=MAX_BYTES), XmlError)
    if isinstance(outcome, XmlError):
        assert str(outcome)
        assert outcome.code in {"xml_malformed", "xml_forbidden_feature", "xml_too_large"}


@budget(40)
@given(data=mutated_xml())
def test_the_pipeline_answers_checked_dtes_or_refusals(data: bytes) -> None:
    with bounded_time(data[:200]):
        outcome = _outcome_of(lambda: read_dte_file(data, max_bytes=MAX_BYTES), DteRefused)
    if isinstance(outcome, DteRefused):
        assert outcome.code
        assert outcome.message
    else:
        assert outcome
        for one in outcome:
            assert isinstance(one, CheckedDte | DteRefused)
            if isinstance(one, CheckedDte):
                json.dumps(one.fields_json)  # what is stored with the document must be JSON
                DTE_SCHEMA.validate(one.fields_json)  # and what /openapi.json says getDocument's dte is
                json.dumps(one.checks.as_json())


@budget(40)
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_are_refused_cleanly(data: bytes) -> None:
    with bounded_time(data[:200]):
        _outcome_of(lambda: read_dte_file(data, max_bytes=MAX_BYTES), DteRefused)


def test_the_largest_accepted_xml_is_read_in_bounded_time_and_python_memory() -> None:
    seed = SEEDS[0]
    padding = DEFAULT_MAX_XML_BYTES - len(seed) - 64
    data = seed.replace(b"<Documento ", b'<Documento z="' + b"A" * padding + b'" ', 1)
    assert len(data) <= DEFAULT_MAX_XML_BYTES
    tracemalloc.start()
    try:
        with bounded_time("5 MB DTE"):
            outcome = _outcome_of(lambda: read_dte_file(data, max_bytes=DEFAULT_MAX_XML_BYTES), DteRefused)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(outcome, list)
    # Python-side copies of the input (the tree itself lives in libxml2, which tracemalloc does not
    # see): a few times the input, never an expansion of it.
    assert peak < 8 * DEFAULT_MAX_XML_BYTES, peak


def test_one_byte_over_the_limit_is_refused_before_parsing() -> None:
    error = _outcome_of(lambda: read_dte_file(b" " * (MAX_BYTES + 1), max_bytes=MAX_BYTES), DteRefused)
    assert isinstance(error, DteRefused)
    assert error.too_large
    assert error.code == "xml_too_large"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000, 1_000_000])
def test_deep_nesting_is_an_xml_error_whatever_the_depth(depth: int) -> None:
    data = b"<a>" * depth + b"</a>" * depth
    with bounded_time(depth):
        error = _outcome_of(lambda: parse_untrusted(data, max_bytes=len(data)), XmlError)
    assert isinstance(error, XmlError)


# --- RUT ------------------------------------------------------------------------------------------------

rut_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A[ .]*\d{1,3}(\.?\d{3}){0,3} ?-? ?[0-9kK]\s*\Z"),
    st.builds(lambda n, dv: f"{n}-{dv}", st.integers(-(10**12), 10**12), st.sampled_from("0123456789kK ")),
)


@budget(200)
@given(value=rut_like)
def test_a_rut_is_canonical_or_invalid_rut(value: str) -> None:
    with bounded_time(value):
        outcome = _outcome_of(lambda: normalize_rut(value), InvalidRut)
        if isinstance(outcome, str):
            assert normalize_rut(outcome) == outcome
            assert outcome.isascii()
            assert "-" in outcome
            assert "." not in outcome
        tax_id = _outcome_of(lambda: normalize_client_tax_id(value), InvalidRut)
        if isinstance(tax_id, str):
            assert normalize_client_tax_id(tax_id) == tax_id
            assert len(tax_id) <= 32 or tax_id == outcome
        assert isinstance(printable_tax_id(value), str)


# --- money ----------------------------------------------------------------------------------------------

amount_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A\s*-?\d{0,20}(\.\d{0,4})?([eE][+-]?\d{1,7})?\s*\Z"),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


@budget(300)
@given(value=amount_like, negative=st.booleans())
def test_an_amount_is_exact_cents_or_invalid_amount(value: Any, negative: bool) -> None:
    with bounded_time(value):
        outcome = _outcome_of(lambda: to_cents(value, allow_negative=negative), InvalidAmount)
    if isinstance(outcome, int):
        assert abs(outcome) < MAX_AMOUNT_CENTS
        assert negative or outcome >= 0
        assert to_cents(format_cents(outcome), allow_negative=True) == outcome


@budget(200)
@given(
    cents=st.integers(-MAX_AMOUNT_CENTS + 1, MAX_AMOUNT_CENTS - 1),
    currency=st.one_of(st.sampled_from(["CLP", "USD", "EUR", "CLF"]), st.text(max_size=5)),
)
def test_every_amount_prints(cents: int, currency: str) -> None:
    assert to_cents(format_cents(cents), allow_negative=True) == cents
    assert format_money(cents, currency)


# --- SII pages ------------------------------------------------------------------------------------------

LISTING = (
    '<html><head><title>Documentos emitidos</title></head><body><table><tr> <td> <a href="/cgi-bin/'
    'Portal001/mipeGesDocEmi.cgi?ALL_PAGE_ANT=2&CODIGO=99000001"><img src="b.gif"></a></td>\n'
    "  <td>76192083-9 <td>ACME REPUESTOS SPA</td> <td>Factura Electronica</td> <td>5</td>\n"
    "  <td>2026-09-08</td> <td>990000</td> <td>Documento Emitido</td> </tr></table>"
    '<div id="cant_reg" value="3"></div></body></html>'
).encode("cp1252")
PAGE_SEEDS = [
    LISTING,
    emulated.alert_page("Certificado revocado", "01.01.215.500.440.35"),
    emulated.contribuyente_error_page("Ha ocurrido un error", "02.35.209"),
    emulated.unavailable_page(),
    emulated.company_selector_page([("76192083-9", "ACME SPA"), ("76399752-9", "MOBEL SPA")]),
    emulated.launcher_page("76192083-9", "ACME REPUESTOS SPA"),
    emulated.respaldo_form_page("76192083", "9"),
]


@st.composite
def mutated_page(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(PAGE_SEEDS))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["truncate", "insert", "flip", "reencode", "nest", "markup"]))
        if kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=32)) + data[at:]
        elif kind == "flip" and data:
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif kind == "reencode":
            data = data.decode("cp1252", errors="replace").encode(
                draw(st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "latin-1"])), errors="replace"
            )
        elif kind == "nest":
            depth = draw(st.sampled_from([100, 5000, 50000]))
            data = data[:at] + b"<div>" * depth + data[at:]
        else:
            data = (
                data[:at]
                + draw(st.text(alphabet="<>/=\"' tdrabcoption&;#", max_size=40)).encode()
                + data[at:]
            )
    return data


@budget(150)
@given(content=st.one_of(mutated_page(), st.binary(max_size=2048)))
def test_every_page_reader_answers_on_any_page(content: bytes) -> None:
    with bounded_time(content[:200]):
        page = pages.parse(content)
        assert isinstance(pages.title(page), str)
        pages.is_error_page(page)
        said = pages.error_text(page)
        assert len(said) <= 300
        pages.error_code(said)
        pages.company_selector(page)
        for row in pages.listed_documents(page):
            assert row.folio >= 0
        pages.ruts_named(page)
        pages.record_count(page)


# --- the MIPYME request ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
mipyme_fields = st.fixed_dictionaries(
    {},
    optional={
        "tax_id_code": st.one_of(st.just("76192083-9"), st.text(max_size=15), json_values),
        "document_type_taxbureau": st.one_of(st.sampled_from([33, "33", 61, "FACTURA"]), json_values),
        "document_number": st.one_of(st.integers(), st.text(max_size=12), json_values),
        "certificate_pfx_base64": st.one_of(st.just("TUlJ"), st.text(max_size=20), json_values),
        "certificate_password": st.one_of(st.text(max_size=10), json_values),
        "include_pdf": json_values,
        "import": json_values,
    },
)


@budget(150)
@given(
    body=st.one_of(
        mipyme_fields.map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=200),
        st.sampled_from([b"1e999999", b"\xff\xfe{}", b'{"import": NaN}']),
    )
)
def test_the_mipyme_request_is_read_or_refused_with_its_field(body: bytes) -> None:
    with bounded_time(body[:200]):
        outcome = _outcome_of(lambda: read_request(body), SiiError)
    if isinstance(outcome, SiiError):
        assert str(outcome)


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 100_000, b"[" * 100_000 + b"]" * 100_000])
def test_a_deeply_nested_mipyme_request_is_refused(body: bytes) -> None:
    error = _outcome_of(lambda: read_request(body), SiiError)
    assert isinstance(error, SiiError)
