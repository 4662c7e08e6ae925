"""Cutting DTEs out of envelopes: byte-exact pieces whose signatures verify on their own."""

from __future__ import annotations

import re

import pytest

from dtehub.dte.checks import Verdict
from dtehub.dte.envelope import split_dtes
from dtehub.dte.errors import DteUnreadable
from dtehub.dte.reader import dte_elements
from dtehub.dte.signature import verify_dte_signature
from dtehub.dte.signing import sign_dte
from dtehub.kit.xml import XmlError, XmlForbiddenFeature, parse_untrusted
from tests.dte.conftest import Signer, read_fixture
from tests.hostile_xml import billion_laughs

DECLARATION = b'<?xml version="1.0" encoding="ISO-8859-1"?>'
SIGNED = [
    "DTE--76399752-9--33--25568.xml",
    "DTE--76399752-9--33--25568--cleaned.xml",
    "DTE--96670340-7--61--110616.xml",
    "DTE--96670340-7--61--110616--cleaned.xml",
]


def dte_bytes(name: str) -> bytes:
    """The DTE element of a fixture, exactly as it stands in the file."""
    data = read_fixture(name)
    return data[data.index(b"<DTE") : data.rindex(b"</DTE>") + len(b"</DTE>")]


def envelope(*dtes: bytes, root: bytes = b"EnvioDTE", declaration: bytes = DECLARATION) -> bytes:
    body = b"\n".join(dtes)
    set_dte = (
        b'<SetDTE ID="SetDoc">\n<Caratula version="1.0"><RutEmisor>76399752-9</RutEmisor></Caratula>\n' + body
    )
    set_dte += b"\n</SetDTE>"
    if root == b"SetDTE":
        inner = set_dte.replace(
            b'<SetDTE ID="SetDoc">', b'<SetDTE ID="SetDoc" xmlns="http://www.sii.cl/SiiDte">'
        )
    else:
        inner = (
            b"<"
            + root
            + b' xmlns="http://www.sii.cl/SiiDte" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            b' xsi:schemaLocation="http://www.sii.cl/SiiDte EnvioDTE_v10.xsd" version="1.0">\n'
            + set_dte
            + b'\n<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature>\n</'
            + root
            + b">"
        )
    return declaration + b"\n" + inner + b"\n"


@pytest.mark.parametrize("root", [b"EnvioDTE", b"EnvioBOLETA", b"SetDTE"])
def test_each_piece_is_the_original_bytes_and_verifies_alone(root: bytes, signer: Signer) -> None:
    resigned = sign_dte(read_fixture("seed-duemint-example-33-696.xml"), signer.key, signer.certificate)
    own = resigned[resigned.index(b"<DTE") :]
    originals = [dte_bytes(name) for name in SIGNED] + [own]
    data = envelope(*originals, root=root)

    pieces = split_dtes(data)

    assert pieces == [DECLARATION + b"\n" + original for original in originals]
    assert len(pieces) == len(dte_elements(parse_untrusted(data, max_bytes=len(data))))
    for piece in pieces:
        assert verify_dte_signature(piece).verdict is Verdict.VALID


def test_a_namespace_declared_only_on_the_envelope_is_left_to_the_verifier() -> None:
    # SII's namespace on EnvioDTE, none on the DTE: the piece is bare, and still verifies.
    bare = dte_bytes("DTE--76399752-9--33--25568.xml")
    (piece,) = split_dtes(envelope(bare))

    assert b"xmlns=" not in piece[: piece.index(b">", len(DECLARATION) + 1)]
    assert verify_dte_signature(piece).verdict is Verdict.VALID


def test_a_bare_dte_file_gives_itself() -> None:
    data = read_fixture("DTE--96670340-7--61--110616.xml")

    (piece,) = split_dtes(data)

    assert piece == data.rstrip(b"\n")  # the file's own declaration, a line break, the DTE
    assert verify_dte_signature(piece).verdict is Verdict.VALID


def test_no_declaration_no_prefix_and_a_bom_is_kept_with_its_declaration() -> None:
    dte = dte_bytes("DTE--96670340-7--61--110616.xml")
    assert split_dtes(envelope(dte, declaration=b"")[1:]) == [dte]

    utf8 = dte.decode("iso-8859-1").encode("utf-8")
    bom_declaration = b"\xef\xbb\xbf" + DECLARATION  # a lying declaration, as real files have
    (piece,) = split_dtes(envelope(utf8, declaration=bom_declaration))
    assert piece == bom_declaration + b"\n" + utf8
    assert verify_dte_signature(piece).verdict is Verdict.VALID


def test_markup_that_only_looks_like_a_dte_is_skipped() -> None:
    dte = dte_bytes("DTE--96670340-7--61--110616.xml")
    decoys = (
        b"<!-- <DTE version='1.0'> not a DTE </DTE> -->\n"
        b"<![CDATA[ <DTE> </DTE> ]]>\n"
        b"<?note <DTE> ?>\n"
        b'<DTEx a="1"/><Nota texto="a > b, c/>d"/>'
    )
    data = envelope(decoys, dte.replace(b'<DTE version="1.0">', b'<DTE version="1.0" nota="x>y">', 1))

    (piece,) = split_dtes(data)

    assert piece.startswith(DECLARATION + b'\n<DTE version="1.0" nota="x>y">')
    assert piece.endswith(b"</DTE>")


def test_self_closing_and_prefixed_dtes_are_cut_too() -> None:
    data = (
        b'<sii:EnvioDTE xmlns:sii="http://www.sii.cl/SiiDte"><sii:SetDTE>'
        b'<sii:DTE version="1.0"/><sii:DTE version="1.0"><sii:Documento ID="a"/></sii:DTE >'
        b"</sii:SetDTE></sii:EnvioDTE>"
    )

    pieces = split_dtes(data)

    assert pieces == [
        b'<sii:DTE xmlns:sii="http://www.sii.cl/SiiDte" version="1.0"/>',
        b'<sii:DTE xmlns:sii="http://www.sii.cl/SiiDte" version="1.0"><sii:Documento ID="a"/></sii:DTE >',
    ]
    for piece in pieces:
        parse_untrusted(piece, max_bytes=1000)  # well-formed on its own


def test_a_prefix_declared_on_the_envelope_is_declared_on_the_piece_only_when_used() -> None:
    used = b'<DTE version="1.0" xsi:noNamespaceSchemaLocation="DTE_v10.xsd"><Documento ID="a"/></DTE>'
    unused = b'<DTE version="1.0"><Documento ID="b"><Nota>xsi: en el texto</Nota></Documento></DTE>'

    first, second = split_dtes(envelope(used, unused))

    assert first == (
        DECLARATION + b'\n<DTE xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.0"'
        b' xsi:noNamespaceSchemaLocation="DTE_v10.xsd"><Documento ID="a"/></DTE>'
    )
    assert second == DECLARATION + b"\n" + unused
    parse_untrusted(first, max_bytes=1000)


def test_nested_dtes_count_as_one() -> None:
    data = b"<SetDTE><DTE><DTE/></DTE><DTE></DTE></SetDTE>"

    assert split_dtes(data) == [b"<DTE><DTE/></DTE>", b"<DTE></DTE>"]


def test_an_envelope_without_dtes_gives_nothing() -> None:
    assert split_dtes(b"<EnvioDTE><SetDTE><Caratula/></SetDTE></EnvioDTE>") == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", XmlError),
        (b"   ", XmlError),
        (b"garbage", XmlError),
        (b"<Documento ID='x'/>", DteUnreadable),
        (b"<?xml version='1.0'?><LibroCompraVenta/>", DteUnreadable),
        (billion_laughs("<DTE>BOMB</DTE>").encode(), XmlForbiddenFeature),
        (b"<SetDTE><!DOCTYPE x><DTE/></SetDTE>", XmlForbiddenFeature),
        (b"<SetDTE><DTE>", XmlError),
        (b"<SetDTE><DTE a='1", XmlError),
        (b"<SetDTE></DTE>", XmlError),
        (b"<SetDTE><!-- <DTE>", XmlError),
        (b"<SetDTE><![CDATA[ <DTE>", XmlError),
        (b"<?xml version='1.0'", XmlError),
        (b"<!-- only a comment -->", XmlError),
    ],
)
def test_what_cannot_be_cut_is_refused_clearly(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        split_dtes(data)

    assert str(raised.value)


def test_the_scan_stays_linear_on_hostile_repetition() -> None:
    # Unclosed markup repeated many times must fail at once, not rescan the rest of the input each time.
    for unit in (b"<!--", b"<![CDATA[", b"<?x", b"<DTE a='", b"<DTE "):
        with pytest.raises(XmlError):
            split_dtes(b"<SetDTE>" + unit * 200_000)


def test_pieces_of_a_large_envelope_keep_their_order() -> None:
    dtes = [
        re.sub(
            rb"<Folio>\d+</Folio>", b"<Folio>%d</Folio>" % folio, dte_bytes("DTE--96670340-7--61--110616.xml")
        )
        for folio in range(1, 201)
    ]

    pieces = split_dtes(envelope(*dtes))

    assert [re.search(rb"<Folio>(\d+)</Folio>", p).group(1) for p in pieces] == [  # type: ignore[union-attr]
        str(folio).encode() for folio in range(1, 201)
    ]
