"""The hardened XML reader: hostile documents fail fast and safely; real DTE encodings read right."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree

from dtehub.kit.xml import (
    MAX_DEPTH,
    XmlError,
    XmlForbiddenFeature,
    XmlTooLarge,
    local_name,
    parse_untrusted,
)
from tests.hostile_xml import billion_laughs

FIXTURES = Path(__file__).parents[1] / "fixtures"
LIMIT = 5 * 1024 * 1024


def parse(data: bytes) -> etree._Element:
    return parse_untrusted(data, max_bytes=LIMIT)


def text_of(root: etree._Element, name: str) -> str:
    [found] = [el for el in root.iter() if isinstance(el.tag, str) and local_name(el) == name]
    return found.text or ""


# Hostile documents

BILLION_LAUGHS = billion_laughs("<DTE><Folio>BOMB</Folio></DTE>").encode()

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?>\n<!DOCTYPE kaboom [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]>\n<DTE><Folio>'
    + b"&a;" * 50_000
    + b"</Folio></DTE>"
)

EXTERNAL_ENTITY = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE DTE [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<DTE><Folio>&xxe;</Folio></DTE>
"""

EXTERNAL_ENTITY_HTTP = b"""<?xml version="1.0"?>
<!DOCTYPE DTE [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/secret">]>
<DTE><Folio>&xxe;</Folio></DTE>
"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE DTE [
  <!ENTITY % remote SYSTEM "http://127.0.0.1:1/evil.dtd">
  %remote;
]>
<DTE><Folio>1</Folio></DTE>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE DTE SYSTEM "file:///etc/passwd">
<DTE><Folio>1</Folio></DTE>
"""


@pytest.mark.parametrize(
    "data",
    [
        BILLION_LAUGHS,
        QUADRATIC_BLOWUP,
        EXTERNAL_ENTITY,
        EXTERNAL_ENTITY_HTTP,
        PARAMETER_ENTITY,
        EXTERNAL_DTD,
        BILLION_LAUGHS.replace(b"DOCTYPE", b"doctype"),
        BILLION_LAUGHS.replace(b"<!DOCTYPE", b"<! DOCTYPE"),
        b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>' + EXTERNAL_ENTITY.split(b"?>", 1)[1],
        EXTERNAL_ENTITY.split(b"?>", 1)[1],  # no declaration
    ],
    ids=[
        "billion-laughs",
        "quadratic-blowup",
        "external-entity-file",
        "external-entity-http",
        "parameter-entity",
        "external-dtd",
        "lowercase-doctype",
        "spaced-doctype",
        "bom",
        "no-declaration",
    ],
)
def test_hostile_documents_are_forbidden(data: bytes) -> None:
    started = time.perf_counter()

    with pytest.raises(XmlForbiddenFeature) as caught:
        parse(data)

    assert caught.value.code == "xml_forbidden_feature"
    assert time.perf_counter() - started < 1.0


def test_forbidden_feature_is_an_xml_error() -> None:
    assert issubclass(XmlForbiddenFeature, XmlError)
    assert issubclass(XmlError, ValueError)


def test_a_doctype_in_utf7_does_not_slip_past() -> None:
    hidden = b"+ADw-+ACE-DOCTYPE r +AFs-+ADw-+ACE-ENTITY x SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-"
    data = b'<?xml version="1.0" encoding="UTF-7"?>' + hidden + b"+ADw-r+AD4-+ACY-x;+ADw-/r+AD4-"

    with pytest.raises(XmlError):
        parse(data)


@pytest.mark.parametrize("encoding", ["UTF-16", "UTF-32", "cp037", "UTF-7"])
def test_unusual_declared_encodings_are_refused(encoding: str) -> None:
    data = f'<?xml version="1.0" encoding="{encoding}"?><DTE/>'.encode()

    with pytest.raises(XmlError):
        parse(data)


@pytest.mark.parametrize(
    "data",
    ['<?xml version="1.0" encoding="UTF-16"?><DTE/>'.encode("utf-16"), "<DTE/>".encode("utf-16-be")],
)
def test_utf16_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(XmlError):
        parse(data)


def test_an_undeclared_entity_reference_is_an_error() -> None:
    with pytest.raises(XmlError):
        parse(b"<DTE><Folio>&xxe;</Folio></DTE>")


def test_predefined_and_character_references_are_fine() -> None:
    root = parse(b"<DTE><RznSoc>A &amp; B &lt;SpA&gt; &#209;&#xF1;</RznSoc></DTE>")

    assert text_of(root, "RznSoc") == "A & B <SpA> Ññ"


def nested(depth: int) -> bytes:
    return b"<a>" * depth + b"</a>" * depth


def test_nesting_up_to_the_limit_is_fine() -> None:
    root = parse(nested(MAX_DEPTH))

    assert len(list(root.iter())) == MAX_DEPTH


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 100_000])
def test_deep_nesting_is_an_error(depth: int) -> None:
    started = time.perf_counter()

    with pytest.raises(XmlError) as caught:
        parse(nested(depth))

    assert not isinstance(caught.value, XmlForbiddenFeature)
    assert time.perf_counter() - started < 2.0


def test_too_large_is_refused_before_parsing() -> None:
    data = b"<DTE>" + b" " * 1000 + b"</DTE>"

    with pytest.raises(XmlTooLarge) as caught:
        parse_untrusted(data, max_bytes=len(data) - 1)

    assert caught.value.code == "xml_too_large"
    assert parse_untrusted(data, max_bytes=len(data)) is not None


@pytest.mark.parametrize(
    "data", [b"", b"   ", b"not xml", b"<DTE>", b"<DTE></dte>", b"<a/><b/>", b"\x00\x00<a/>"]
)
def test_malformed_is_an_error(data: bytes) -> None:
    with pytest.raises(XmlError):
        parse(data)


# Encodings

NAME = "PANADERÍA ÑUÑOA Y CÍA"


def dte(name_bytes: bytes, declaration: bytes | None) -> bytes:
    head = declaration + b"\n" if declaration is not None else b""
    return head + b"<DTE><Receptor><RznSocRecep>" + name_bytes + b"</RznSocRecep></Receptor></DTE>"


@pytest.mark.parametrize(
    ("declaration", "encoding"),
    [
        (b'<?xml version="1.0" encoding="ISO-8859-1"?>', "iso-8859-1"),
        (b'<?xml version="1.0" encoding="iso-8859-1"?>', "iso-8859-1"),
        (b"<?xml version='1.0' encoding='ISO-8859-1'?>", "iso-8859-1"),
        (b'<?xml version="1.0" encoding="windows-1252"?>', "windows-1252"),
        (b'<?xml version="1.0" encoding="UTF-8"?>', "utf-8"),
        (b'<?xml version="1.0" encoding="utf-8" standalone="yes"?>', "utf-8"),
        (None, "utf-8"),
        (b'<?xml version="1.0"?>', "utf-8"),
    ],
)
def test_honest_encodings(declaration: bytes | None, encoding: str) -> None:
    root = parse(dte(NAME.encode(encoding), declaration))

    assert text_of(root, "RznSocRecep") == NAME


def test_windows_1252_characters() -> None:
    text = "Servicio “premium” – 5 €"
    root = parse(dte(text.encode("windows-1252"), b'<?xml version="1.0" encoding="windows-1252"?>'))

    assert text_of(root, "RznSocRecep") == text


@pytest.mark.parametrize("declared", [b"ISO-8859-1", b"windows-1252"])
def test_a_latin1_declaration_over_utf8_bytes_is_read_as_utf8(declared: bytes) -> None:
    # Real DTEs do this: the declaration says ISO-8859-1, the bytes are UTF-8.
    data = dte(NAME.encode("utf-8"), b'<?xml version="1.0" encoding="' + declared + b'"?>')

    root = parse(data)

    assert text_of(root, "RznSocRecep") == NAME


def test_latin1_bytes_without_declaration_are_read_as_latin1() -> None:
    root = parse(dte(NAME.encode("iso-8859-1"), None))

    assert text_of(root, "RznSocRecep") == NAME


@pytest.mark.parametrize(
    "declaration",
    [None, b'<?xml version="1.0" encoding="UTF-8"?>', b'<?xml version="1.0" encoding="ISO-8859-1"?>'],
)
def test_a_utf8_bom_is_accepted(declaration: bytes | None) -> None:
    root = parse(b"\xef\xbb\xbf" + dte(NAME.encode("utf-8"), declaration))

    assert text_of(root, "RznSocRecep") == NAME


def test_a_utf8_declaration_over_latin1_bytes_is_an_error_not_mojibake() -> None:
    with pytest.raises(XmlError):
        parse(dte(NAME.encode("iso-8859-1"), b'<?xml version="1.0" encoding="UTF-8"?>'))


def test_real_iso_8859_1_dte_fixture() -> None:
    data = (FIXTURES / "DTE--76399752-9--33--25568.xml").read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')

    root = parse(data)

    assert local_name(root) == "DTE"
    assert text_of(root, "Folio") == "25568"
    assert text_of(root, "RUTEmisor") == "76399752-9"


def test_namespaced_elements_have_local_names() -> None:
    root = parse(
        b'<DTE xmlns="http://www.sii.cl/SiiDte" version="1.0"><Documento><Folio>7</Folio></Documento></DTE>'
    )

    assert local_name(root) == "DTE"
    assert text_of(root, "Folio") == "7"


def test_comments_and_processing_instructions_are_harmless() -> None:
    root = parse(b"<?xml version='1.0'?><!-- firma --><DTE><?pi x?><!-- c --><Folio>9</Folio></DTE>")

    assert text_of(root, "Folio") == "9"
