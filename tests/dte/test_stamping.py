"""Test CAFs and timbres made the way SII and issuers make them."""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from dtehub.dte.stamping import TestCaf, load_caf, make_test_caf, stamp, stamp_ted, stand_in_sii_key
from dtehub.dte.ted import flattened, verify_ted
from dtehub.kit.rut import InvalidRut
from tests.dte.ted_helpers import (
    BARE_33,
    CLEANED_61,
    ISSUER,
    SII_NS,
    STAMPED_AT,
    assert_valid,
    fixture,
    invoice,
    parse,
    sample_caf,
    stamped_invoice,
)

SHA1 = hashes.SHA1()  # noqa: S303 - SII's algorithm


def b64_int(text: str | None) -> int:
    assert text
    return int.from_bytes(base64.b64decode(text), "big")


def child_names(element: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in element if isinstance(child.tag, str)]


# --- CAFs ----------------------------------------------------------------------------------------------


def test_a_caf_is_shaped_like_sii_hands_them_out() -> None:
    caf = sample_caf()
    root = caf.element
    assert root.tag == "AUTORIZACION"
    assert child_names(root) == ["CAF", "RSASK", "RSAPUBK"]
    assert root.find("CAF").get("version") == "1.0"  # type: ignore[union-attr]
    da = root.find("CAF/DA")
    assert da is not None
    assert child_names(da) == ["RE", "RS", "TD", "RNG", "FA", "RSAPK", "IDK"]
    assert da.findtext("RE") == ISSUER
    assert da.findtext("RS") == "DUEMINT SPA"
    assert da.findtext("TD") == "33"
    assert (da.findtext("RNG/D"), da.findtext("RNG/H")) == ("1", "1000")
    assert da.findtext("FA") == "2024-05-01"
    assert da.findtext("RSAPK/E") == "Aw=="
    assert root.find("CAF/FRMA").get("algoritmo") == "SHA1withRSA"  # type: ignore[union-attr]
    assert (root.findtext("RSASK") or "").startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert (root.findtext("RSAPUBK") or "").startswith("-----BEGIN PUBLIC KEY-----\n")


def test_the_caf_publishes_its_private_keys_public_half() -> None:
    caf = sample_caf()
    numbers = caf.private_key.public_key().public_numbers()
    assert b64_int(caf.element.findtext("CAF/DA/RSAPK/M")) == numbers.n
    assert b64_int(caf.element.findtext("CAF/DA/RSAPK/E")) == numbers.e == 3
    assert numbers.n.bit_length() == 1024


def test_frma_is_signed_by_the_stand_in_for_sii() -> None:
    caf = sample_caf()
    da = caf.element.find("CAF/DA")
    assert da is not None
    frma = base64.b64decode(caf.element.findtext("CAF/FRMA") or "")
    stand_in_sii_key().public_key().verify(frma, flattened(da), padding.PKCS1v15(), SHA1)
    with pytest.raises(InvalidSignature):
        caf.private_key.public_key().verify(frma, flattened(da), padding.PKCS1v15(), SHA1)


def test_frma_with_a_given_sii_key_and_a_larger_folio_key() -> None:
    sii = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    caf = make_test_caf(ISSUER, "X", 61, 5, 9, key_bits=2048, authorized_on=date(2024, 1, 1), sii_key=sii)
    da = caf.element.find("CAF/DA")
    assert da is not None
    frma = base64.b64decode(caf.element.findtext("CAF/FRMA") or "")
    sii.public_key().verify(frma, flattened(da), padding.PKCS1v15(), SHA1)
    assert caf.private_key.key_size == 2048
    data = stamp_ted(invoice(code=61, folio=7), caf, stamped_at=STAMPED_AT)
    assert_valid(verify_ted(parse(data)))


def test_the_name_is_cut_to_forty_characters_and_escaped() -> None:
    caf = make_test_caf(ISSUER, "COMERCIAL A&B <Ñ> " + "X" * 40, 33, 1, 1, authorized_on=date(2024, 1, 1))
    assert caf.name == ("COMERCIAL A&B <Ñ> " + "X" * 40)[:40]
    assert caf.element.findtext("CAF/DA/RS") == caf.name
    assert b"<RS>COMERCIAL A&amp;B &lt;\xd1&gt; XXX" in caf.to_xml()


def test_ruts_are_canonical() -> None:
    caf = make_test_caf("76.453.707-6", "X", 33, 1, 1, authorized_on=date(2024, 1, 1))
    assert caf.rut == "76453707-6"
    with pytest.raises(InvalidRut):
        make_test_caf("76453707-5", "X", 33, 1, 1, authorized_on=date(2024, 1, 1))


@pytest.mark.parametrize(("first", "last"), [(0, 5), (5, 4), (-3, 2)])
def test_an_empty_or_negative_range_is_refused(first: int, last: int) -> None:
    with pytest.raises(ValueError, match="folio range"):
        make_test_caf(ISSUER, "X", 33, first, last, authorized_on=date(2024, 1, 1))


def test_a_caf_file_reads_back() -> None:
    caf = sample_caf()
    data = caf.to_xml()
    assert data.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>\n<AUTORIZACION>\n<CAF")
    loaded = load_caf(data)
    assert isinstance(loaded, TestCaf)
    assert (loaded.rut, loaded.name, loaded.code, loaded.first, loaded.last, loaded.authorized_on) == (
        caf.rut,
        caf.name,
        caf.code,
        caf.first,
        caf.last,
        caf.authorized_on,
    )
    assert loaded.private_key.private_numbers() == caf.private_key.private_numbers()
    assert_valid(verify_ted(parse(stamp_ted(invoice(), loaded, stamped_at=STAMPED_AT))))


@pytest.mark.parametrize(
    "data",
    [b"<CAF/>", b"<AUTORIZACION><CAF><DA/></CAF></AUTORIZACION>", b"<AUTORIZACION/>"],
)
def test_not_a_caf_file(data: bytes) -> None:
    with pytest.raises(ValueError, match="CAF"):
        load_caf(data)


# --- timbres -------------------------------------------------------------------------------------------


def ted_of(data: bytes) -> etree._Element:
    ted = parse(data).find(".//{*}TED")
    assert ted is not None
    return ted


def test_the_timbre_repeats_the_documents_fields() -> None:
    long_name = "CLIENTE CON UN NOMBRE QUE EXCEDE CUARENTA CARACTERES, CLARAMENTE"
    long_item = "UN ÍTEM CUYO NOMBRE TAMBIÉN EXCEDE LOS CUARENTA CARACTERES"
    ted = ted_of(stamped_invoice(receiver_name=long_name, item=long_item))
    dd = ted.find("DD")
    assert dd is not None
    assert child_names(dd) == ["RE", "TD", "F", "FE", "RR", "RSR", "MNT", "IT1", "CAF", "TSTED"]
    assert [dd.findtext(name) for name in ("RE", "TD", "F", "FE", "RR", "MNT")] == [
        ISSUER,
        "33",
        "696",
        "2024-05-06",
        "96874030-K",
        "96272",
    ]
    assert dd.findtext("RSR") == long_name[:40]
    assert dd.findtext("IT1") == long_item[:40]  # the first line's, not the second's
    assert dd.findtext("TSTED") == "2024-05-06T10:11:12"
    assert flattened(dd.find("CAF")) == flattened(sample_caf().caf)  # type: ignore[arg-type]
    assert ted.get("version") == "1.0"
    assert ted.find("FRMT").get("algoritmo") == "SHA1withRSA"  # type: ignore[union-attr]


def test_the_frmt_is_the_caf_keys_signature_over_dd() -> None:
    ted = ted_of(stamped_invoice())
    signature = base64.b64decode(ted.findtext("FRMT") or "")
    dd = ted.find("DD")
    assert dd is not None
    sample_caf().private_key.public_key().verify(signature, flattened(dd), padding.PKCS1v15(), SHA1)


def test_an_aware_timestamp_is_written_in_chiles_time() -> None:
    data = stamp_ted(invoice(), sample_caf(), stamped_at=datetime(2024, 1, 15, 15, 0, tzinfo=UTC))
    assert ted_of(data).findtext("DD/TSTED") == "2024-01-15T12:00:00"  # UTC-3 in the southern summer


def document_children(data: bytes) -> list[str]:
    documento = parse(data).find("{*}Documento")
    assert documento is not None
    return child_names(documento)


def test_the_timbre_goes_before_tmstfirma() -> None:
    data = stamped_invoice()
    assert document_children(data) == ["Encabezado", "Detalle", "Detalle", "Referencia", "TED", "TmstFirma"]
    assert b"    </Referencia>\n    <TED version=" in data
    assert b"</TED>\n    <TmstFirma>" in data


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (True, ["Encabezado", "Detalle", "Detalle", "Referencia", "TED"]),
        (False, ["Encabezado", "Detalle", "Detalle", "TED"]),
    ],
)
def test_without_tmstfirma_the_timbre_goes_after_the_last_line(reference: bool, expected: list[str]) -> None:
    data = stamped_invoice(with_tmst=False, reference=reference)
    assert document_children(data) == expected
    assert b"</TED>\n  </Documento>" in data
    assert_valid(verify_ted(parse(data)))


def test_stamping_again_replaces_the_timbre() -> None:
    first = stamped_invoice()
    again = stamp_ted(first, sample_caf(), stamped_at=datetime(2024, 6, 1, 9, 0, 0))
    assert document_children(again) == document_children(first)
    assert again.count(b"<TED ") == 1
    assert ted_of(again).findtext("DD/TSTED") == "2024-06-01T09:00:00"
    assert_valid(verify_ted(parse(again)))


@pytest.mark.parametrize("name", [BARE_33, CLEANED_61])
def test_stamping_a_real_document_replaces_its_timbre(name: str) -> None:
    data = fixture(name)
    root = parse(data)
    rut = root.findtext(".//{*}RUTEmisor") or ""
    code = int(root.findtext(".//{*}TipoDTE") or "0")
    folio = int(root.findtext(".//{*}Folio") or "0")
    caf = make_test_caf(rut, "EMISOR", code, folio, folio + 10, authorized_on=date(2019, 1, 1))
    stamped = stamp_ted(data, caf, stamped_at=STAMPED_AT)
    assert stamped.count(b"<TED ") == 1
    assert document_children(stamped) == document_children(data)
    assert_valid(verify_ted(parse(stamped), original=stamped))


def test_a_namespaced_document_gets_no_new_declarations() -> None:
    data = stamped_invoice(namespace=True)
    assert data.count(b"xmlns") == 1
    ted = ted_of(data)
    assert ted.tag == f"{{{SII_NS}}}TED"
    assert all(etree.QName(el).namespace == SII_NS for el in ted.iter())
    assert_valid(verify_ted(parse(data)))


def test_a_prefixed_document_keeps_its_prefix() -> None:
    source = invoice(namespace=True).replace(f'xmlns="{SII_NS}"'.encode(), f'xmlns:sii="{SII_NS}"'.encode())
    source = re.sub(rb"<(/?)([A-Za-z]\w*)", rb"<\1sii:\2", source)
    data = stamp_ted(source, sample_caf(), stamped_at=STAMPED_AT)
    assert b"<sii:TED " in data
    assert data.count(b"xmlns") == 1
    assert_valid(verify_ted(parse(data)))


def test_the_output_is_latin1() -> None:
    data = stamped_invoice(receiver_name="PEÑA & CÍA", item="CAFÉ €")
    assert data.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>\n")
    assert b"<RSR>PE\xd1A &amp; C\xcdA</RSR>" in data
    assert b"<IT1>CAF\xc9 &#8364;</IT1>" in data
    assert_valid(verify_ted(parse(data)))


def test_a_utf8_input_is_stamped_too() -> None:
    source = invoice(receiver_name="ÑUÑOA").decode("iso-8859-1").replace("ISO-8859-1", "UTF-8")
    data = stamp_ted(b"\xef\xbb\xbf" + source.encode("utf-8"), sample_caf(), stamped_at=STAMPED_AT)
    assert ted_of(data).findtext("DD/RSR") == "ÑUÑOA"
    assert_valid(verify_ted(parse(data)))


def test_stamp_works_on_a_tree_in_place() -> None:
    root = parse(invoice())
    ted = stamp(root, sample_caf(), stamped_at=STAMPED_AT)
    assert ted.getparent() is root.find("Documento")
    assert_valid(verify_ted(root))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"issuer": "11111111-1"}, "the CAF is 76453707-6's"),
        ({"code": 34}, "the CAF is for type 33"),
        ({"folio": 1001}, "outside the CAF's range 1..1000"),
        ({"folio": 0}, "outside the CAF's range 1..1000"),
    ],
)
def test_strict_stamping_refuses_what_the_caf_does_not_cover(fields: dict[str, object], message: str) -> None:
    source = invoice(**fields)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        stamp_ted(source, sample_caf(), stamped_at=STAMPED_AT)
    stamped = stamp_ted(source, sample_caf(), stamped_at=STAMPED_AT, strict=False)
    assert verify_ted(parse(stamped)).problems


def test_a_document_without_the_repeated_fields_cannot_be_stamped() -> None:
    source = (
        invoice().replace(b"<MntTotal>96272</MntTotal>", b"").replace(b"<FchEmis>2024-05-06</FchEmis>", b"")
    )
    with pytest.raises(ValueError, match="FE, MNT"):
        stamp_ted(source, sample_caf(), stamped_at=STAMPED_AT)


@pytest.mark.parametrize(
    "source",
    [b"<EnvioDTE><SetDTE/></EnvioDTE>", b"<SetDTE><DTE><Documento/></DTE><DTE><Documento/></DTE></SetDTE>"],
)
def test_stamping_needs_exactly_one_document(source: bytes) -> None:
    with pytest.raises(ValueError, match="one DTE body"):
        stamp_ted(source, sample_caf(), stamped_at=STAMPED_AT)


def test_an_envelope_with_one_document_is_stamped_in_place() -> None:
    body = invoice(namespace=True).split(b"?>", 1)[1]
    source = (
        f'<EnvioDTE xmlns="{SII_NS}" version="1.0"><SetDTE ID="S">'.encode() + body + b"</SetDTE></EnvioDTE>"
    )
    data = stamp_ted(source, sample_caf(), stamped_at=STAMPED_AT)
    dte = parse(data).find(".//{*}DTE")
    assert dte is not None
    assert_valid(verify_ted(dte))
