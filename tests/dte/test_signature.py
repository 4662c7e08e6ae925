"""The XML signature verdict on real DTEs and on every way they get changed, honestly or not."""

from __future__ import annotations

import base64
import random
import re
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from lxml import etree

from dtehub.dte.checks import Check, Verdict
from dtehub.dte.signature import DSIG_NS, verify_dte_signature
from dtehub.dte.signed_forms import canonicalize
from dtehub.dte.signing import sign_dte
from dtehub.kit.dates import SANTIAGO
from tests.dte.conftest import Resign, Signer, read_fixture
from tests.hostile_xml import billion_laughs

MIPYME = "DTE--76399752-9--33--25568.xml"  # signed with the SII namespace, served without it
NOTA = "DTE--96670340-7--61--110616.xml"  # signed bare
SII_NS = b' xmlns="http://www.sii.cl/SiiDte"'

# What the certificates inside the real files say.
REAL = {
    MIPYME: ("16477752-9", datetime(2019, 3, 28, 13, 59, 52, tzinfo=SANTIAGO)),
    MIPYME.replace(".xml", "--cleaned.xml"): (
        "16477752-9",
        datetime(2019, 3, 28, 13, 59, 52, tzinfo=SANTIAGO),
    ),
    NOTA: ("23099536-2", datetime(2019, 8, 5, 15, 20, 6, tzinfo=SANTIAGO)),
    NOTA.replace(".xml", "--cleaned.xml"): ("23099536-2", datetime(2019, 8, 5, 15, 20, 6, tzinfo=SANTIAGO)),
}
INVALID_CODES = {
    "signature_digest_mismatch",
    "signature_value_invalid",
    "certificate_not_valid_at_signing",
    "signature_malformed",
    "document_unreadable",
}


def codes(data: bytes) -> list[str]:
    return [problem.code for problem in verify_dte_signature(data).problems]


def without_namespace(data: bytes) -> bytes:
    return data.replace(SII_NS, b"", 1)


def with_namespace(data: bytes) -> bytes:
    return data.replace(b'<DTE version="1.0">', b'<DTE xmlns="http://www.sii.cl/SiiDte" version="1.0">', 1)


def swap_certificate(data: bytes, certificate_der: bytes) -> bytes:
    replacement = base64.encodebytes(certificate_der)
    return re.sub(
        rb"(<X509Certificate>).*?(</X509Certificate>)", rb"\1" + replacement + rb"\2", data, flags=re.S
    )


def repeated(data: bytes, pattern: bytes) -> bytes:
    """``data`` with the first match of ``pattern`` written twice in a row."""
    match = re.search(pattern, data, re.S)
    assert match
    return data.replace(match.group(0), match.group(0) * 2, 1)


def certificate_of(data: bytes) -> bytes:
    match = re.search(rb"<X509Certificate>(.*?)</X509Certificate>", data, re.S)
    assert match
    return base64.b64decode(b"".join(match.group(1).split()))


# --- real documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_documents_are_valid_judged_when_they_were_signed(name: str) -> None:
    # Both certificates expired years ago: the verdict is about the day they signed.
    result = verify_dte_signature(read_fixture(name))

    assert result.verdict is Verdict.VALID
    assert result.problems == ()
    assert (result.signer, result.signed_at) == REAL[name]
    assert result.signed_at is not None
    assert result.signed_at.utcoffset() is not None


def test_the_unsigned_duemint_example_is_unsigned() -> None:
    result = verify_dte_signature(read_fixture("seed-duemint-example-33-696.xml"))

    assert result.verdict is Verdict.UNSIGNED
    assert (result.signer, result.signed_at) == (None, None)
    assert [(p.check, p.code) for p in result.problems] == [(Check.SIGNATURE, "signature_missing")]


# --- namespaces -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [MIPYME, NOTA])
@pytest.mark.parametrize("move", [with_namespace, without_namespace], ids=["added", "removed"])
def test_moving_the_sii_namespace_keeps_the_signature(name: str, move: object) -> None:
    assert callable(move)
    for data in (read_fixture(name), read_fixture(name.replace(".xml", "--cleaned.xml"))):
        moved = move(data)
        assert verify_dte_signature(moved).verdict is Verdict.VALID


def test_a_tampered_document_matches_in_no_namespace_form() -> None:
    tampered = read_fixture(MIPYME).replace(b"<MntTotal>230992<", b"<MntTotal>230993<")

    for data in (tampered, with_namespace(tampered)):
        assert codes(data) == ["signature_digest_mismatch"]


def test_a_default_namespace_redeclared_inside_the_body_still_moves(signer: Signer) -> None:
    # The cheap form derived from canonical text cannot be used here: the re-parsed form must be.
    data = with_namespace(read_fixture(NOTA)).replace(b"<TED ", b'<TED xmlns="http://www.sii.cl/SiiDte" ', 1)
    signed = sign_dte(data, signer.key, signer.certificate)
    served_bare = signed.replace(SII_NS, b"", 1)

    assert served_bare.count(SII_NS) == 1  # the TED's own declaration stays
    assert verify_dte_signature(signed).verdict is Verdict.VALID
    assert verify_dte_signature(served_bare).verdict is Verdict.VALID


def test_a_ds_prefixed_signature_moves_with_the_namespace_too(signer: Signer, resign: Resign) -> None:
    # With a ds: prefix, SignedInfo inherits the DTE's default namespace, so its form moves as well.
    signed = sign_dte(with_namespace(read_fixture(NOTA)), signer.key, signer.certificate)
    head, _, rest = signed.partition(b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">')
    signature, _, tail = rest.partition(b"</Signature>")
    prefixed = re.sub(rb"<(/?)(\w+)", rb"<\1ds:\2", signature)
    data = resign(
        head
        + b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        + prefixed
        + b"</ds:Signature>"
        + tail,
        signer,
    )

    assert verify_dte_signature(data).verdict is Verdict.VALID
    assert verify_dte_signature(without_namespace(data)).verdict is Verdict.VALID


# --- encodings --------------------------------------------------------------------------------------


def to_utf8(data: bytes) -> bytes:
    return data.decode("iso-8859-1").encode("utf-8")


@pytest.mark.parametrize(
    "recode",
    [
        pytest.param(to_utf8, id="utf8-under-a-lying-latin1-declaration"),
        pytest.param(lambda d: to_utf8(d).replace(b"ISO-8859-1", b"UTF-8", 1), id="utf8-declared"),
        pytest.param(lambda d: b"\xef\xbb\xbf" + to_utf8(d), id="utf8-bom-lying-declaration"),
        pytest.param(lambda d: to_utf8(d.split(b"\n", 1)[1]), id="utf8-no-declaration"),
        pytest.param(lambda d: d.split(b"\n", 1)[1], id="latin1-no-declaration"),
        pytest.param(lambda d: d.replace(b"ISO-8859-1", b"windows-1252", 1), id="windows-1252"),
        pytest.param(lambda d: d.replace(b"\n", b"\r\n"), id="crlf"),
    ],
)
@pytest.mark.parametrize("name", [MIPYME, NOTA])
def test_a_transcoding_that_keeps_the_text_keeps_the_signature(name: str, recode: object) -> None:
    assert callable(recode)
    original = read_fixture(name)
    assert re.search(rb"[\x80-\xff]", original)  # both hold accented text (N\xb0, Cr\xe9dito)

    assert verify_dte_signature(recode(original)).verdict is Verdict.VALID


@pytest.mark.parametrize("name", [MIPYME, NOTA])
def test_accents_replaced_by_question_marks_break_the_digest(name: str) -> None:
    mangled = re.sub(rb"[\x80-\xff]", b"?", read_fixture(name))

    result = verify_dte_signature(mangled)

    assert result.verdict is Verdict.INVALID
    assert [p.code for p in result.problems] == ["signature_digest_mismatch"]
    assert "content changed after signing" in result.problems[0].message


def test_a_document_signed_over_a_misread_encoding_verifies_in_that_reading(signer: Signer) -> None:
    # The signer read UTF-8 bytes as ISO-8859-1 ("NÂ°"): the bytes look like UTF-8 "N°", and the
    # declared reading (what the signer did) is the one that verifies.
    text = read_fixture(MIPYME).decode("iso-8859-1").replace("N°", "NÂ°").replace("ISO-8859-1", "UTF-8")
    signed = sign_dte(text.encode("utf-8"), signer.key, signer.certificate)
    assert b"N\xc2\xb0" in signed

    assert verify_dte_signature(signed).verdict is Verdict.VALID


def test_windows_1252_text_under_a_latin1_declaration_verifies(signer: Signer) -> None:
    text = read_fixture(NOTA).replace(b"Bata Chile S.A.", b"Bata Chile S.A. &#8211; Calzado")
    signed = sign_dte(text, signer.key, signer.certificate)
    as_written = signed.replace(b"&#8211;", b"\x96")  # what a windows-1252 program wrote
    assert b"ISO-8859-1" in as_written

    assert verify_dte_signature(as_written).verdict is Verdict.VALID


def test_latin1_bytes_under_a_lying_utf8_declaration_verify() -> None:
    data = read_fixture(NOTA).replace(b"ISO-8859-1", b"UTF-8", 1)

    assert verify_dte_signature(data).verdict is Verdict.VALID


# --- tampering --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL))
def test_an_amount_changed_after_signing_is_invalid(name: str) -> None:
    data = read_fixture(name)
    total = re.search(rb"<MntTotal>(\d+)</MntTotal>", data)
    assert total
    tampered = data.replace(
        total.group(0), b"<MntTotal>" + str(int(total.group(1)) + 1).encode() + b"</MntTotal>"
    )

    result = verify_dte_signature(tampered)

    assert result.verdict is Verdict.INVALID
    assert [p.code for p in result.problems] == ["signature_digest_mismatch"]
    assert result.signer == REAL[name][0]  # who signed the original is still known


def test_another_certificate_does_not_verify_the_signature(signer: Signer) -> None:
    swapped = swap_certificate(
        read_fixture(MIPYME), signer.certificate.public_bytes(serialization.Encoding.DER)
    )

    result = verify_dte_signature(swapped)

    assert result.verdict is Verdict.INVALID
    assert [p.code for p in result.problems] == ["signature_value_invalid"]
    assert result.signer == signer.rut


def test_a_real_certificate_from_another_document_does_not_verify() -> None:
    # Each real certificate was valid when the other document was signed: only the key is wrong.
    swapped = swap_certificate(read_fixture(NOTA), certificate_of(read_fixture(MIPYME)))
    assert codes(swapped) == ["signature_value_invalid"]

    swapped = swap_certificate(read_fixture(MIPYME), certificate_of(read_fixture(NOTA)))
    assert codes(swapped) == ["signature_value_invalid"]


def test_a_garbled_signature_value_is_invalid() -> None:
    data = read_fixture(NOTA)
    value = re.search(rb"<SignatureValue>\s*([A-Za-z0-9+/]{8})", data)
    assert value

    flipped = data.replace(value.group(1), value.group(1)[::-1], 1)
    assert codes(flipped) == ["signature_value_invalid"]

    not_base64 = data.replace(value.group(1), b"!!!!$$$$", 1)
    assert codes(not_base64) == ["signature_malformed"]


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda d: d[: d.index(b"<SignatureValue>") + 40], id="file-cut-inside-the-signature"),
        pytest.param(
            lambda d: re.sub(rb"<SignatureValue>.*?</SignatureValue>", b"", d, flags=re.S), id="no-value"
        ),
        pytest.param(lambda d: re.sub(rb"<KeyInfo>.*?</KeyInfo>", b"", d, flags=re.S), id="no-keyinfo"),
        pytest.param(lambda d: re.sub(rb"<X509Data>.*?</X509Data>", b"", d, flags=re.S), id="no-certificate"),
        pytest.param(lambda d: re.sub(rb"<Reference .*?</Reference>", b"", d, flags=re.S), id="no-reference"),
        pytest.param(
            lambda d: re.sub(rb"<DigestValue>.*?</DigestValue>", b"<DigestValue/>", d), id="empty-digest"
        ),
        pytest.param(
            lambda d: d.replace(b'URI="#DTE-61-110616"', b'URI="#elsewhere"'), id="reference-elsewhere"
        ),
        pytest.param(lambda d: d.replace(b'URI="#DTE-61-110616"', b'URI=""'), id="reference-to-everything"),
        pytest.param(lambda d: re.sub(rb"<Documento .*?</Documento>", b"", d, flags=re.S), id="no-documento"),
        pytest.param(lambda d: repeated(d, rb"<Signature.*</Signature>"), id="two-signatures"),
        pytest.param(
            lambda d: d.replace(b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">', b"<Signature>"),
            id="signature-without-namespace",
        ),
    ],
)
def test_a_signature_cut_short_or_incomplete_is_malformed(cut: object) -> None:
    assert callable(cut)
    result = verify_dte_signature(cut(read_fixture(NOTA)))

    assert result.verdict is Verdict.INVALID
    assert [p.code for p in result.problems] == ["signature_malformed"]
    assert result.problems[0].message


def test_a_signature_hidden_inside_the_body_is_malformed() -> None:
    data = read_fixture(NOTA)
    signature = re.search(rb"<Signature.*</Signature>", data, re.S)
    assert signature
    moved = data.replace(signature.group(0), b"").replace(
        b"</Encabezado>", b"</Encabezado>" + signature.group(0)
    )

    assert codes(moved) == ["signature_malformed"]


def test_a_changed_documento_id_no_longer_matches() -> None:
    data = read_fixture(NOTA).replace(b"DTE-61-110616", b"DTE-61-110617")

    assert codes(data) == ["signature_digest_mismatch", "signature_value_invalid"]


# --- certificates and signing time ------------------------------------------------------------------


@pytest.mark.parametrize("garbage", [b"not base64 at all!", base64.b64encode(b"\x30\x03\x02\x01\x01" * 20)])
def test_an_unreadable_certificate_is_unverifiable(garbage: bytes) -> None:
    data = re.sub(
        rb"<X509Certificate>.*?</X509Certificate>",
        b"<X509Certificate>" + garbage + b"</X509Certificate>",
        read_fixture(MIPYME),
        flags=re.S,
    )

    result = verify_dte_signature(data)

    assert result.verdict is Verdict.UNVERIFIABLE
    assert [p.code for p in result.problems] == ["certificate_unreadable"]
    assert result.signer is None
    assert result.signed_at == REAL[MIPYME][1]


def test_an_unreadable_certificate_does_not_hide_a_changed_document() -> None:
    data = re.sub(
        rb"<X509Certificate>.*?</X509Certificate>",
        b"<X509Certificate>AAAA</X509Certificate>",
        read_fixture(MIPYME),
        flags=re.S,
    )
    data = data.replace(b"<MntTotal>230992<", b"<MntTotal>1<")

    result = verify_dte_signature(data)

    assert result.verdict is Verdict.INVALID
    assert [p.code for p in result.problems] == ["signature_digest_mismatch", "certificate_unreadable"]


@pytest.mark.parametrize("name", [MIPYME, NOTA, "seed-duemint-example-33-696.xml"])
def test_a_document_resigned_with_a_certificate_valid_then_is_valid(name: str, signer: Signer) -> None:
    moment = datetime(2021, 6, 1, 12, 30, tzinfo=SANTIAGO)
    signed = sign_dte(read_fixture(name), signer.key, signer.certificate, signed_at=moment)

    result = verify_dte_signature(signed)

    assert result.verdict is Verdict.VALID
    assert (result.signer, result.signed_at) == (signer.rut, moment)


def test_a_1024_bit_key_verifies(small_signer: Signer) -> None:
    signed = sign_dte(read_fixture(NOTA), small_signer.key, small_signer.certificate)

    assert verify_dte_signature(signed).verdict is Verdict.VALID


@pytest.mark.parametrize(
    "signed_at",
    [datetime(2017, 12, 31, 20, 59, 59, tzinfo=SANTIAGO), datetime(2030, 1, 1, 0, 0, 1, tzinfo=UTC)],
    ids=["before-it-was-issued", "after-it-expired"],
)
def test_a_certificate_not_valid_at_tmstfirma_is_invalid(signed_at: datetime, signer: Signer) -> None:
    signed = sign_dte(read_fixture(NOTA), signer.key, signer.certificate, signed_at=signed_at)

    result = verify_dte_signature(signed)

    assert result.verdict is Verdict.INVALID
    assert [p.code for p in result.problems] == ["certificate_not_valid_at_signing"]
    assert "2018-01-01" in result.problems[0].message or "2029-12-31" in result.problems[0].message


def test_validity_is_judged_in_chiles_time_zone(signer: Signer) -> None:
    # 2017-12-31 21:30 in Santiago (UTC-3 in summer) is 2018-01-01 00:30 UTC: inside the validity.
    signed = sign_dte(
        read_fixture(NOTA), signer.key, signer.certificate, signed_at=datetime(2017, 12, 31, 21, 30)
    )

    result = verify_dte_signature(signed)

    assert result.verdict is Verdict.VALID
    assert result.signed_at == datetime(2017, 12, 31, 21, 30, tzinfo=SANTIAGO)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: re.sub(rb"<TmstFirma>.*?</TmstFirma>", b"", d), id="absent"),
        pytest.param(
            lambda d: re.sub(rb"<TmstFirma>.*?</TmstFirma>", b"<TmstFirma>ayer</TmstFirma>", d), id="garbled"
        ),
    ],
)
def test_without_a_signing_time_the_certificate_cannot_be_judged(
    change: object, signer: Signer, resign: Resign
) -> None:
    assert callable(change)
    data = resign(change(sign_dte(read_fixture(NOTA), signer.key, signer.certificate)), signer)

    result = verify_dte_signature(data)

    assert result.verdict is Verdict.UNVERIFIABLE
    assert [p.code for p in result.problems] == ["signing_time_missing"]
    assert result.signer == signer.rut
    assert result.signed_at is None


def test_without_a_signing_time_a_changed_document_is_still_invalid(signer: Signer, resign: Resign) -> None:
    data = resign(
        re.sub(
            rb"<TmstFirma>.*?</TmstFirma>", b"", sign_dte(read_fixture(NOTA), signer.key, signer.certificate)
        ),
        signer,
    )

    assert codes(data.replace(b"<Folio>110616<", b"<Folio>110617<")) == [
        "signature_digest_mismatch",
        "signing_time_missing",
    ]


@pytest.mark.parametrize(
    ("digest", "method", "c14n"),
    [
        (
            "http://www.w3.org/2001/04/xmlenc#sha256",
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            None,
        ),
        (
            "http://www.w3.org/2001/04/xmlenc#sha512",
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
            None,
        ),
        (None, None, "http://www.w3.org/2001/10/xml-exc-c14n#"),
    ],
    ids=["sha256", "sha512", "exclusive-c14n"],
)
def test_declared_sha2_and_exclusive_variants_verify(
    digest: str | None, method: str | None, c14n: str | None, signer: Signer, resign: Resign
) -> None:
    data = sign_dte(with_namespace(read_fixture(NOTA)), signer.key, signer.certificate)
    if digest and method:
        data = data.replace(b"http://www.w3.org/2000/09/xmldsig#sha1", digest.encode())
        data = data.replace(b"http://www.w3.org/2000/09/xmldsig#rsa-sha1", method.encode())
    if c14n:
        data = data.replace(b"http://www.w3.org/TR/2001/REC-xml-c14n-20010315", c14n.encode())
        data = data.replace(b"http://www.w3.org/2000/09/xmldsig#enveloped-signature", c14n.encode())
    data = resign(data, signer)

    assert verify_dte_signature(data).verdict is Verdict.VALID
    assert verify_dte_signature(without_namespace(data)).verdict is Verdict.VALID
    assert codes(data.replace(b"<Folio>110616<", b"<Folio>1<"))[0] == "signature_digest_mismatch"


@pytest.mark.parametrize(
    ("part", "algorithm"),
    [
        ("CanonicalizationMethod", "http://www.w3.org/2006/12/xml-c14n11"),
        ("SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"),
        ("DigestMethod", "http://www.w3.org/2001/04/xmldsig-more#md5"),
        ("Transform", "http://www.w3.org/TR/1999/REC-xslt-19991116"),
    ],
)
def test_an_unsupported_algorithm_is_unverifiable(part: str, algorithm: str) -> None:
    data = read_fixture(MIPYME)
    data = re.sub(rf'(<{part} Algorithm=")[^"]*'.encode(), rb"\g<1>" + algorithm.encode(), data, count=1)

    result = verify_dte_signature(data)

    assert result.verdict is Verdict.UNVERIFIABLE
    assert [p.code for p in result.problems] == ["signature_algorithm_unsupported"]


def _certificate_without_alt_name(signer: Signer, serial_number: str | None) -> x509.Certificate:
    names = [x509.NameAttribute(NameOID.COMMON_NAME, "SIN RUT EN ALTNAME")]
    if serial_number:
        names.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    subject = x509.Name(names)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(signer.key.public_key())
        .serial_number(7)
        .not_valid_before(datetime(2018, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2030, 1, 1, tzinfo=UTC))
        .sign(signer.key, hashes.SHA256())
    )


@pytest.mark.parametrize(
    ("serial_number", "expected"),
    [("13.185.095-6", "13185095-6"), ("ABC", None), (None, None)],
)
def test_the_signer_falls_back_to_the_subject_serial_number(
    serial_number: str | None, expected: str | None, signer: Signer
) -> None:
    certificate = _certificate_without_alt_name(signer, serial_number)
    signed = sign_dte(read_fixture(NOTA), signer.key, certificate)

    result = verify_dte_signature(signed)

    assert result.verdict is Verdict.VALID
    assert result.signer == expected


# --- garbage ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"\x00\x01\x02",
        b"\xff\xfe<\x00D\x00",
        b"<DTE",
        b"<DTE/>",
        b"<DTE><Signature xmlns='http://www.w3.org/2000/09/xmldsig#'/></DTE>",
        b"<EnvioDTE><SetDTE/></EnvioDTE>",
        b"<Documento ID='x'/>",
        billion_laughs("<DTE>BOMB</DTE>").encode(),
        b"<DTE>" + b"<a>" * 200 + b"</a>" * 200 + b"</DTE>",
        b'<?xml version="1.0" encoding="UTF-7"?><DTE/>',
    ],
)
def test_garbage_gets_a_verdict_not_an_exception(data: bytes) -> None:
    result = verify_dte_signature(data)

    assert result.verdict in {Verdict.INVALID, Verdict.UNSIGNED, Verdict.UNVERIFIABLE}
    assert result.problems
    assert {p.code for p in result.problems} <= INVALID_CODES | {"signature_missing"}


@pytest.mark.parametrize("name", [MIPYME, NOTA])
def test_random_truncations_and_mutations_never_crash(name: str) -> None:
    data = read_fixture(name)
    end = data.rindex(b"</DTE>")
    rng = random.Random(name)
    for cut in rng.sample(range(end), 60):
        result = verify_dte_signature(data[:cut])
        assert result.verdict is not Verdict.VALID
        assert "signature_check_failed" not in {p.code for p in result.problems}
    for _ in range(120):
        mutated = bytearray(data)
        for position in rng.sample(range(len(data)), 3):
            mutated[position] = rng.randrange(256)
        result = verify_dte_signature(bytes(mutated))
        assert "signature_check_failed" not in {p.code for p in result.problems}


def test_a_dsa_signature_which_sii_s_schema_allows_verifies(signer: Signer) -> None:
    key = dsa.generate_private_key(key_size=1024)  # noqa: S505  # a legacy algorithm, on purpose
    subject = x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, signer.rut)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2018, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2030, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    data = sign_dte(read_fixture(NOTA), signer.key, signer.certificate)
    data = data.replace(b"xmldsig#rsa-sha1", b"xmldsig#dsa-sha1")
    data = swap_certificate(data, certificate.public_bytes(serialization.Encoding.DER))
    root = etree.fromstring(data)
    signed_info = root.find(f"{{{DSIG_NS}}}Signature/{{{DSIG_NS}}}SignedInfo")
    assert signed_info is not None
    der = key.sign(canonicalize(signed_info), hashes.SHA1())  # noqa: S303  # dsa-sha1, as declared
    r, s = decode_dss_signature(der)
    value = base64.b64encode(r.to_bytes(20, "big") + s.to_bytes(20, "big"))
    data = re.sub(
        rb"<SignatureValue>.*?</SignatureValue>",
        b"<SignatureValue>" + value + b"</SignatureValue>",
        data,
        flags=re.S,
    )

    result = verify_dte_signature(data)

    assert (result.verdict, result.signer) == (Verdict.VALID, signer.rut)
    assert codes(data.replace(value[:8], value[:8][::-1])) == ["signature_value_invalid"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: repeated(d, rb"<Reference.*?</Reference>"), id="two-references"),
        pytest.param(lambda d: repeated(d, rb"<Documento.*?</Documento>"), id="two-documentos"),
        pytest.param(
            lambda d: re.sub(
                rb"<X509Certificate>.*?</X509Certificate>", b"<X509Certificate/>", d, flags=re.S
            ),
            id="empty-certificate",
        ),
    ],
)
def test_ambiguous_or_empty_parts_are_refused(change: object) -> None:
    assert callable(change)
    result = verify_dte_signature(change(read_fixture(NOTA)))

    assert result.verdict in {Verdict.INVALID, Verdict.UNVERIFIABLE}
    assert [p.code for p in result.problems] in (["signature_malformed"], ["certificate_unreadable"])


def test_an_oversized_document_is_refused_without_rereading_it() -> None:
    # Non-ASCII bytes would invite other readings; the size limit must hold for them too.
    data = b"<DTE>" + b"\xe9" * (6 * 1024 * 1024) + b"</DTE>"

    result = verify_dte_signature(data)

    assert result.verdict is Verdict.INVALID
    assert [p.code for p in result.problems] == ["document_unreadable"]
    assert "limit" in result.problems[0].message
