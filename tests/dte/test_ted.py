"""The timbre (TED) check: genuine documents verify, altered ones do not, garbage never crashes it."""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable

import pytest
from lxml import etree

from dtehub.dte.checks import Check, Verdict
from dtehub.dte.stamping import make_test_caf, stamp_ted
from dtehub.dte.ted import TedMissing, flattened, ted_barcode_payload, verify_ted
from tests.dte.ted_helpers import (
    BARE_33,
    BARE_61,
    CLEANED_33,
    CLEANED_61,
    ISSUER,
    REAL_DTES,
    SII_NS,
    STAMPED_AT,
    UNSTAMPED,
    assert_valid,
    caf_signature,
    codes,
    fixture,
    invoice,
    parse,
    remove_between,
    replace_once,
    sample_caf,
    stamped_invoice,
    with_frmt,
)


def dd_of(root: etree._Element) -> etree._Element:
    dd = root.find(".//{*}TED/{*}DD")
    assert dd is not None
    return dd


# --- genuine documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL_DTES)
def test_real_documents_verify(name: str) -> None:
    data = fixture(name)
    assert_valid(verify_ted(parse(data)))
    assert_valid(verify_ted(parse(data), original=data))


@pytest.mark.parametrize("name", [BARE_33, BARE_61])
def test_the_documento_element_verifies_too(name: str) -> None:
    documento = parse(fixture(name)).find("{*}Documento")
    assert documento is not None
    assert_valid(verify_ted(documento))


def test_a_document_without_timbre_is_absent() -> None:
    check = verify_ted(parse(fixture(UNSTAMPED)))
    assert check.verdict == Verdict.ABSENT
    assert codes(check) == ["ted_absent"]
    assert check.problems[0].check == Check.TED


# --- the document disagrees with its timbre ------------------------------------------------------------


def test_total_changed_in_the_document_is_a_mismatch() -> None:
    data = replace_once(fixture(BARE_33), b"<MntTotal>230992</MntTotal>", b"<MntTotal>230993</MntTotal>")
    check = verify_ted(parse(data), original=data)
    assert check.verdict == Verdict.INVALID
    assert codes(check) == ["ted_mismatch"]
    assert check.problems[0].message == "the timbre says MNT 230992 but the document's MntTotal is 230993"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b"<RUTEmisor>76399752-9</RUTEmisor>", b"<RUTEmisor>76399753-7</RUTEmisor>", "RE"),
        (b"<TipoDTE>33</TipoDTE>", b"<TipoDTE>34</TipoDTE>", "TD"),
        (b"<Folio>25568</Folio>", b"<Folio>25569</Folio>", "F"),
        (b"<FchEmis>2019-03-29</FchEmis>", b"<FchEmis>2019-03-30</FchEmis>", "FE"),
        (b"<RUTRecep>96874030-K</RUTRecep>", b"<RUTRecep>96874031-8</RUTRecep>", "RR"),
    ],
)
def test_each_field_the_timbre_repeats_must_agree(old: bytes, new: bytes, field: str) -> None:
    check = verify_ted(parse(replace_once(fixture(BARE_33), old, new)))
    assert check.verdict == Verdict.INVALID
    assert "ted_mismatch" in codes(check)
    assert any(f"the timbre says {field} " in p.message for p in check.problems)


def test_a_missing_document_field_is_a_mismatch() -> None:
    data = replace_once(fixture(BARE_61), b"<MntTotal>57347078</MntTotal>\n", b"")
    check = verify_ted(parse(data))
    assert codes(check) == ["ted_mismatch"]
    assert check.problems[0].message == "the timbre says MNT 57347078 but the document has no MntTotal"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<MntTotal>230992</MntTotal>", b"<MntTotal>230992.00</MntTotal>"),
        (b"<MntTotal>230992</MntTotal>", b"<MntTotal> 0230992 </MntTotal>"),
        (b"<RUTRecep>96874030-K</RUTRecep>", b"<RUTRecep>096874030-k</RUTRecep>"),
        (b"<RUTRecep>96874030-K</RUTRecep>", b"<RUTRecep>96.874.030-K</RUTRecep>"),
        (b"<RUTEmisor>76399752-9</RUTEmisor>", b"<RUTEmisor>76399752-9 </RUTEmisor>"),
        (b"<TipoDTE>33</TipoDTE>", b"<TipoDTE>033</TipoDTE>"),
    ],
)
def test_fields_compare_normalized(old: bytes, new: bytes) -> None:
    assert_valid(verify_ted(parse(replace_once(fixture(BARE_33), old, new))))


def test_the_caf_must_be_for_the_documents_issuer_and_type() -> None:
    other_issuer = make_test_caf("11111111-1", "OTRA", 33, 1, 1000, authorized_on=STAMPED_AT.date())
    data = stamp_ted(invoice(), other_issuer, stamped_at=STAMPED_AT, strict=False)
    check = verify_ted(parse(data))
    assert codes(check) == ["ted_mismatch"]
    assert check.problems[0].message == (
        f"the CAF authorizes RE 11111111-1 but the document's RUTEmisor is {ISSUER}"
    )

    other_type = make_test_caf(ISSUER, "DUEMINT SPA", 34, 1, 1000, authorized_on=STAMPED_AT.date())
    check = verify_ted(parse(stamp_ted(invoice(), other_type, stamped_at=STAMPED_AT, strict=False)))
    assert codes(check) == ["ted_mismatch"]
    assert "the CAF authorizes TD 34 but the document's TipoDTE is 33" in check.problems[0].message


# --- the timbre itself was altered ---------------------------------------------------------------------


def test_total_changed_inside_dd_breaks_the_signature() -> None:
    data = replace_once(fixture(BARE_33), b"<MNT>230992</MNT>", b"<MNT>230993</MNT>")
    data = replace_once(data, b"<MntTotal>230992</MntTotal>", b"<MntTotal>230993</MntTotal>")
    check = verify_ted(parse(data), original=data)
    assert codes(check) == ["ted_signature_invalid"]


def test_total_changed_inside_dd_alone_is_also_a_mismatch() -> None:
    data = replace_once(fixture(BARE_61), b"<MNT>57347078</MNT>", b"<MNT>57347079</MNT>")
    check = verify_ted(parse(data), original=data)
    assert sorted(codes(check)) == ["ted_mismatch", "ted_signature_invalid"]


@pytest.mark.parametrize("name", REAL_DTES)
def test_a_changed_text_the_document_does_not_repeat_still_breaks_the_signature(name: str) -> None:
    data = fixture(name)
    rsr = re.search(rb"<RSR>([^<]*)</RSR>", data)
    assert rsr is not None
    data = replace_once(data, rsr.group(0), b"<RSR>" + rsr.group(1)[:-1] + b"X</RSR>")
    check = verify_ted(parse(data), original=data)
    assert codes(check) == ["ted_signature_invalid"]


def frmt_text(data: bytes) -> bytes:
    match = re.search(rb"<FRMT[^>]*>([^<]*)</FRMT>", data)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("name", [BARE_33, BARE_61])
@pytest.mark.parametrize(
    "garble",
    [
        pytest.param(lambda s: (b"A" if s[:1] != b"A" else b"B") + s[1:], id="first-char"),
        pytest.param(lambda s: s[:40] + (b"x" if s[40:41] != b"x" else b"y") + s[41:], id="middle-char"),
        pytest.param(lambda s: s[:-8] + b"AAAAAA==", id="tail"),
        pytest.param(lambda s: s[:44], id="cut-short"),
        pytest.param(lambda s: s + s, id="doubled"),
        pytest.param(lambda s: b"", id="empty"),
        pytest.param(lambda s: b"***not base64***", id="not-base64"),
    ],
)
def test_a_garbled_signature_is_invalid(name: str, garble: Callable[[bytes], bytes]) -> None:
    data = fixture(name)
    changed = with_frmt(data, garble(frmt_text(data)))
    check = verify_ted(parse(changed), original=changed)
    assert codes(check) == ["ted_signature_invalid"]


def test_signature_with_line_breaks_still_verifies() -> None:
    data = fixture(BARE_33)
    text = frmt_text(data)
    assert_valid(verify_ted(parse(with_frmt(data, b"\n" + text[:40] + b"\n  " + text[40:] + b"\n"))))


def test_the_caf_key_replaced_by_another_breaks_the_signature() -> None:
    caf = sample_caf()
    modulus = caf.element.findtext("CAF/DA/RSAPK/M")
    assert modulus is not None
    data = fixture(BARE_33)
    old = re.search(rb"<M>[^<]*</M>", data)
    assert old is not None
    changed = replace_once(data, old.group(0), b"<M>" + modulus.encode() + b"</M>")
    assert codes(verify_ted(parse(changed), original=changed)) == ["ted_signature_invalid"]


def test_a_folio_outside_the_caf_range() -> None:
    data = stamp_ted(invoice(folio=1001), sample_caf(), stamped_at=STAMPED_AT, strict=False)
    check = verify_ted(parse(data))
    assert codes(check) == ["ted_folio_out_of_range"]
    assert check.problems[0].message == (
        "the timbre's folio 1001 is outside the range 1..1000 that the CAF authorizes"
    )


def test_a_caf_range_edited_to_exclude_the_folio() -> None:
    data = replace_once(fixture(BARE_61), b"<H>129299</H>", b"<H>110000</H>")
    assert sorted(codes(verify_ted(parse(data)))) == ["ted_folio_out_of_range", "ted_signature_invalid"]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (b"<DD>", b"</DD>", ["ted_malformed"]),
        (b"<FRMT", b"</FRMT>", ["ted_malformed"]),
        (b'<CAF version="1.0">', b"</CAF>", ["ted_malformed"]),
        (b"<RSAPK>", b"</RSAPK>", ["ted_malformed"]),
        (b"<RNG>", b"</RNG>", ["ted_malformed", "ted_signature_invalid"]),
        (b"<MNT>", b"</MNT>", ["ted_malformed", "ted_signature_invalid"]),
        (b"<RR>", b"</RR>", ["ted_malformed", "ted_signature_invalid"]),
    ],
)
def test_a_timbre_missing_parts_is_malformed(start: bytes, end: bytes, expected: list[str]) -> None:
    data = remove_between(fixture(BARE_33), start, end)
    check = verify_ted(parse(data), original=data)
    assert check.verdict == Verdict.INVALID
    assert sorted(set(codes(check))) == expected


def test_a_timbre_with_neither_dd_nor_frmt() -> None:
    data = replace_once(fixture(BARE_33), b"<TED", b"<TED/><Gone")
    data = replace_once(data, b"</TED>", b"</Gone>")
    check = verify_ted(parse(data))
    assert codes(check) == ["ted_malformed", "ted_malformed"]
    assert [p.message for p in check.problems] == [
        "the timbre has no DD (the data it signs)",
        "the timbre has no FRMT (its signature)",
    ]


@pytest.mark.parametrize(
    "modulus",
    [b"@@@", b"", b"AAAA", base64.b64encode(b"\xff" * 2000)],
    ids=["not-base64", "empty", "zero", "too-large"],
)
def test_an_unreadable_caf_key_is_malformed(modulus: bytes) -> None:
    data = fixture(BARE_33)
    old = re.search(rb"<M>[^<]*</M>", data)
    assert old is not None
    check = verify_ted(parse(replace_once(data, old.group(0), b"<M>" + modulus + b"</M>")))
    assert codes(check) == ["ted_malformed"]
    assert check.problems[0].message == "the CAF's public key (RSAPK M, E) cannot be read"


def test_a_dsa_caf_is_malformed() -> None:
    data = fixture(BARE_33)
    old = re.search(rb"<RSAPK>.*</RSAPK>", data)
    assert old is not None
    dsa = b"<DSAPK><P>AQ==</P><Q>AQ==</Q><G>AQ==</G><Y>AQ==</Y></DSAPK>"
    check = verify_ted(parse(replace_once(data, old.group(0), dsa)))
    assert "ted_malformed" in codes(check)
    assert "DSA" in check.problems[-1].message


def test_another_signature_algorithm_is_malformed() -> None:
    data = replace_once(
        fixture(BARE_33), b'<FRMT algoritmo="SHA1withRSA">', b'<FRMT algoritmo="SHA256withRSA">'
    )
    check = verify_ted(parse(data))
    assert codes(check) == ["ted_malformed"]
    assert "SHA256withRSA" in check.problems[0].message


# --- namespaces and encodings --------------------------------------------------------------------------


def test_namespace_added_still_verifies() -> None:
    declared = f'<DTE xmlns="{SII_NS}" version="1.0">'.encode()
    data = replace_once(fixture(BARE_33), b'<DTE version="1.0">', declared)
    assert_valid(verify_ted(parse(data), original=data))


@pytest.mark.parametrize("name", [CLEANED_33, CLEANED_61])
def test_namespace_removed_still_verifies(name: str) -> None:
    data = replace_once(fixture(name), f' xmlns="{SII_NS}"'.encode(), b"")
    assert_valid(verify_ted(parse(data), original=data))


@pytest.mark.parametrize("name", [BARE_33, CLEANED_61])
def test_inside_an_envelope_with_namespace(name: str) -> None:
    body = re.sub(rb"^<\?xml[^>]*>\s*", b"", fixture(name))
    data = (
        (
            f'<?xml version="1.0" encoding="ISO-8859-1"?>\n<EnvioDTE xmlns="{SII_NS}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.0">\n<SetDTE ID="SetDoc">\n'
        ).encode()
        + body
        + b"\n</SetDTE>\n</EnvioDTE>\n"
    )
    dte = parse(data).find(".//{*}DTE")
    assert dte is not None
    assert_valid(verify_ted(dte, original=data))


def test_with_a_namespace_prefix() -> None:
    data = re.sub(rb"<(/?)([A-Za-z]\w*)", rb"<\1sii:\2", fixture(BARE_33))
    declared = f'<sii:DTE xmlns:sii="{SII_NS}" version="1.0">'.encode()
    data = replace_once(data, b'<sii:DTE version="1.0">', declared)
    root = parse(data)
    assert root.prefix == "sii"
    assert_valid(verify_ted(root, original=data))


ACCENTED = "JOSÉ PEÑA & HIJOS «ÚNICOS» LTDA"


def reencoded(data: bytes, encoding: str, declaration: str | None, *, bom: bool = False) -> bytes:
    text = data.decode("iso-8859-1")
    text = re.sub(r"^<\?xml[^>]*\?>", "" if declaration is None else declaration, text)
    out = text.encode(encoding)
    return b"\xef\xbb\xbf" + out if bom else out


@pytest.mark.parametrize(
    ("encoding", "declaration", "bom"),
    [
        ("utf-8", '<?xml version="1.0" encoding="UTF-8"?>', False),
        ("utf-8", '<?xml version="1.0" encoding="ISO-8859-1"?>', False),  # a lying declaration
        ("utf-8", '<?xml version="1.0" encoding="UTF-8"?>', True),
        ("utf-8", None, False),
        ("utf-8", None, True),
        ("windows-1252", '<?xml version="1.0" encoding="windows-1252"?>', False),
        ("iso-8859-1", '<?xml version="1.0" encoding="ISO-8859-1"?>', False),
    ],
)
def test_re_encoded_documents_still_verify(encoding: str, declaration: str | None, bom: bool) -> None:
    stamped = stamped_invoice(receiver_name=ACCENTED, item="ÍTEM ÑANDÚ")
    data = reencoded(stamped, encoding, declaration, bom=bom)
    root = parse(data)
    assert root.findtext(".//{*}RSR") == ACCENTED
    assert_valid(verify_ted(root))
    assert_valid(verify_ted(root, original=data))


@pytest.mark.parametrize("name", [BARE_61, CLEANED_33])
def test_real_documents_re_encoded_to_utf8_still_verify(name: str) -> None:
    data = fixture(name).decode("iso-8859-1").replace("ISO-8859-1", "UTF-8").encode("utf-8")
    assert_valid(verify_ted(parse(data), original=data))


def test_portal_mangled_text_is_invalid() -> None:
    stamped = stamped_invoice(receiver_name=ACCENTED)
    mangled = stamped.replace("É".encode("iso-8859-1"), b"?").replace("Ñ".encode("iso-8859-1"), b"?")
    check = verify_ted(parse(mangled), original=mangled)
    assert codes(check) == ["ted_signature_invalid"]


# --- how other issuers wrote and signed DD -------------------------------------------------------------


def test_an_issuer_that_escaped_quotes() -> None:
    stamped = stamped_invoice(receiver_name='EL "MEJOR" CLIENTE\'S')
    signed = flattened(dd_of(parse(stamped)))
    assert b'<RSR>EL "MEJOR" CLIENTE\'S</RSR>' in signed
    quoted = signed.replace(b'EL "MEJOR" CLIENTE\'S', b"EL &quot;MEJOR&quot; CLIENTE&apos;S")
    data = with_frmt(stamped, caf_signature(quoted))
    assert_valid(verify_ted(parse(data)))
    assert b"<RSR>EL &quot;MEJOR&quot; CLIENTE&apos;S</RSR>" in ted_barcode_payload(parse(data))


def test_an_issuer_that_signed_utf8() -> None:
    stamped = stamped_invoice(receiver_name=ACCENTED)
    signed = flattened(dd_of(parse(stamped))).decode("iso-8859-1").encode("utf-8")
    assert_valid(verify_ted(parse(with_frmt(stamped, caf_signature(signed)))))


def test_text_whose_utf8_was_read_as_latin1() -> None:
    stamped = stamped_invoice(receiver_name="CRÉDITO Y CAÑAS")
    text = stamped.decode("iso-8859-1")
    garbled = text.replace("CRÉDITO Y CAÑAS", "CRÉDITO Y CAÑAS".encode().decode("iso-8859-1"))
    data = garbled.replace('encoding="ISO-8859-1"', 'encoding="UTF-8"').encode("utf-8")
    root = parse(data)
    assert root.findtext(".//{*}RSR") == "CRÃ\x89DITO Y CAÃ\x91AS"
    assert_valid(verify_ted(root))


def with_character_reference(stamped: bytes) -> tuple[bytes, bytes]:
    """The invoice as an issuer that wrote and signed ``JOS&#201;`` would have sent it."""
    signed = flattened(dd_of(parse(stamped))).replace(b"JOS\xc9", b"JOS&#201;")
    data = replace_once(stamped, b"<RSR>JOS\xc9</RSR>", b"<RSR>JOS&#201;</RSR>")
    return with_frmt(data, caf_signature(signed)), signed


def test_dd_as_written_in_the_original_bytes() -> None:
    data, _ = with_character_reference(stamped_invoice(receiver_name="JOSÉ"))
    assert codes(verify_ted(parse(data))) == ["ted_signature_invalid"]  # re-serialized, it differs
    assert_valid(verify_ted(parse(data), original=data))


def test_original_bytes_cannot_vouch_for_another_tree() -> None:
    data, _ = with_character_reference(stamped_invoice(receiver_name="JOSÉ"))
    tampered = replace_once(data, b"<MNT>96272</MNT>", b"<MNT>1</MNT>")
    tampered = replace_once(tampered, b"<MntTotal>96272</MntTotal>", b"<MntTotal>1</MntTotal>")
    assert codes(verify_ted(parse(tampered), original=data)) == ["ted_signature_invalid"]
    assert codes(verify_ted(parse(tampered), original=tampered)) == ["ted_signature_invalid"]


def test_a_comment_inside_a_value_is_part_of_neither_text() -> None:
    data = replace_once(fixture(BARE_33), b"<MNT>230992</MNT>", b"<MNT>23099<!-- x -->2</MNT>")
    assert_valid(verify_ted(parse(data)))
    shortened = replace_once(data, b"<MntTotal>230992</MntTotal>", b"<MntTotal>23099</MntTotal>")
    assert codes(verify_ted(parse(shortened))) == ["ted_mismatch"]


# --- stamped documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "receiver_name",
    [
        "CLIENTE EJEMPLO",
        "FERRETERÍA PEÑA & CÍA. LTDA.",
        "A&B <C> D",
        'EL "MEJOR" CLIENTE\'S',
        "  ESPACIOS   INTERNOS  ",
        "UN NOMBRE MUY LARGO QUE PASA LARGAMENTE LOS CUARENTA CARACTERES DEL TIMBRE",
        "PRECIO € Y “COMILLAS”",
    ],
)
@pytest.mark.parametrize("namespace", [False, True])
def test_stamped_documents_verify(receiver_name: str, namespace: bool) -> None:
    data = stamped_invoice(receiver_name=receiver_name, item="ÍTEM & <OTRO>", namespace=namespace)
    root = parse(data)
    assert_valid(verify_ted(root))
    assert_valid(verify_ted(root, original=data))


# --- the barcode payload -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL_DTES)
def test_barcode_payload_is_the_flat_ted(name: str) -> None:
    root = parse(fixture(name))
    payload = ted_barcode_payload(root)
    assert payload.startswith(b'<TED version="1.0"><DD><RE>')
    assert payload.endswith(b"</FRMT></TED>")
    assert b"xmlns" not in payload
    assert re.search(rb">\s+<", payload) is None
    assert flattened(dd_of(root)) in payload


def test_barcode_payload_ignores_namespace_and_layout() -> None:
    assert ted_barcode_payload(parse(fixture(BARE_33))) == ted_barcode_payload(parse(fixture(CLEANED_33)))
    assert ted_barcode_payload(parse(fixture(BARE_61))) == ted_barcode_payload(parse(fixture(CLEANED_61)))


def test_barcode_payload_is_latin1() -> None:
    payload = ted_barcode_payload(parse(stamped_invoice(receiver_name="PEÑA & CÍA")))
    assert b"<RSR>PE\xd1A &amp; C\xcdA</RSR>" in payload


def test_barcode_payload_needs_a_timbre() -> None:
    with pytest.raises(TedMissing):
        ted_barcode_payload(parse(fixture(UNSTAMPED)))


# --- garbage -------------------------------------------------------------------------------------------


GARBAGE = [
    b"<DTE/>",
    b"<x/>",
    b"<DTE><Documento/></DTE>",
    b"<DTE><Documento><TED/></Documento></DTE>",
    b"<DTE><Documento><TED>text</TED></Documento></DTE>",
    b"<DTE><Documento><TED><DD/><FRMT/></TED></Documento></DTE>",
    b"<DTE><Documento><TED><DD>x</DD><FRMT>AAAA</FRMT></TED></Documento></DTE>",
    b"<DTE><Documento><TED><DD><CAF><DA><RSAPK><M>AQAB</M><E>AQ==</E></RSAPK></DA></CAF></DD>"
    b"<FRMT>AAAA</FRMT></TED></Documento></DTE>",
    b"<DTE><Documento><TED><DD><F>99999999999999999999999999</F><CAF><DA><RNG><D>-1</D><H>1e9</H></RNG>"
    b"</DA></CAF></DD></TED></Documento></DTE>",
    b"<DTE><Documento><Encabezado><Totales><MntTotal>NaN</MntTotal></Totales></Encabezado>"
    b"<TED><DD><MNT>NaN</MNT><RE>-</RE><RR></RR></DD></TED></Documento></DTE>",
    b"<DTE><TED><DD><RE>1-9</RE></DD></TED></DTE>",
    b'<DTE><Documento><TED><DD a="1" b:c="2" xmlns:b="urn:b"><?pi x?><!--c--></DD>'
    b'<FRMT algoritmo="">=</FRMT></TED></Documento></DTE>',
]


@pytest.mark.parametrize("data", GARBAGE)
def test_garbage_never_crashes(data: bytes) -> None:
    check = verify_ted(parse(data))
    assert check.verdict in {Verdict.ABSENT, Verdict.INVALID}
    assert all(p.check == Check.TED for p in check.problems)
    assert check.verdict == Verdict.ABSENT or check.problems


def test_odd_elements_never_crash() -> None:
    comment = etree.Comment("not an element")
    assert verify_ted(comment).verdict == Verdict.ABSENT
    deep = etree.Element("DTE")
    ted = etree.SubElement(etree.SubElement(deep, "Documento"), "TED")
    node = etree.SubElement(ted, "DD")
    for _ in range(3000):  # deeper than any parser here would allow, and than Python's recursion
        node = etree.SubElement(node, "X")
    assert verify_ted(deep).verdict == Verdict.INVALID
    with_original = verify_ted(deep, original=b"<DD>" * 10_000 + b"</DD>")
    assert with_original.verdict == Verdict.INVALID


def test_random_edits_to_dd_never_verify() -> None:
    data = fixture(BARE_33)
    start = data.index(b"<DD>")
    end = data.index(b"</DD>") + len(b"</DD>")
    reference = flattened(dd_of(parse(data)))
    rng = random.Random(20240506)
    tried = 0
    for _ in range(400):
        position = rng.randrange(start, end)
        changed = data[:position] + bytes([rng.randrange(0x20, 0x7F)]) + data[position + 1 :]
        try:
            root = parse(changed)
        except ValueError:
            continue
        dd = root.find(".//{*}TED/{*}DD")
        if dd is None or flattened(dd) == reference:
            continue
        tried += 1
        assert verify_ted(root, original=changed).verdict == Verdict.INVALID, changed[start:end]
    assert tried > 100


def test_random_edits_anywhere_never_crash() -> None:
    data = fixture(BARE_61)
    rng = random.Random(61)
    for _ in range(300):
        position = rng.randrange(len(data))
        changed = data[:position] + bytes([rng.randrange(256)]) + data[position + 1 :]
        try:
            root = parse(changed)
        except ValueError:
            continue
        assert verify_ted(root, original=changed).verdict in {Verdict.VALID, Verdict.INVALID}
