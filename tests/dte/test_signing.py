"""Signing DTEs as issuers do, checked by our verifier and by an independent one (signxml)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.verifier import SignatureConfiguration, XMLVerifier

from dtehub.dte.checks import Verdict
from dtehub.dte.signature import DSIG_NS, RUT_OTHER_NAME_OID, verify_dte_signature
from dtehub.dte.signed_forms import canonicalize
from dtehub.dte.signing import make_test_certificate, sign_dte
from dtehub.kit.dates import SANTIAGO
from tests.dte.conftest import Signer, read_fixture

DS = f"{{{DSIG_NS}}}"
FIXTURES = [
    "DTE--76399752-9--33--25568.xml",
    "DTE--76399752-9--33--25568--cleaned.xml",
    "DTE--96670340-7--61--110616.xml",
    "DTE--96670340-7--61--110616--cleaned.xml",
    "seed-duemint-example-33-696.xml",
]


def verify_with_signxml(data: bytes, signer: Signer, when: datetime) -> bytes:
    """What an independent XMLDSig implementation says, configured as cl-sii does."""
    verifier = XMLVerifier()
    verifier.excise_empty_xmlns_declarations = True
    result = verifier.verify(
        data,
        x509_cert=signer.certificate,
        expect_config=SignatureConfiguration(
            require_x509=True,
            ignore_ambiguous_key_info=True,
            verification_time=when,
            signature_methods=frozenset([SignatureMethod.RSA_SHA1]),
            digest_algorithms=frozenset([DigestAlgorithm.SHA1]),
        ),
    )
    assert isinstance(result.signed_data, bytes)
    return result.signed_data


def test_the_test_certificate_carries_the_rut_like_sii_accredited_ones() -> None:
    not_before, not_after = datetime(2020, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC)

    key, certificate = make_test_certificate(
        "13.185.095-6", "JUANA PÉREZ", not_before=not_before, not_after=not_after, key_bits=1024
    )

    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 1024
    alt_names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    (other_name,) = alt_names.get_values_for_type(x509.OtherName)
    assert other_name.type_id == RUT_OTHER_NAME_OID
    assert other_name.value == b"\x16\x0a13185095-6"  # an IA5String
    assert certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "13185095-6"
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "JUANA PÉREZ"
    assert (certificate.not_valid_before_utc, certificate.not_valid_after_utc) == (not_before, not_after)
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()


@pytest.mark.parametrize("name", FIXTURES)
def test_a_signed_dte_verifies_here_and_in_signxml(name: str, signer: Signer) -> None:
    moment = datetime(2024, 2, 29, 23, 59, 59, tzinfo=SANTIAGO)

    signed = sign_dte(read_fixture(name), signer.key, signer.certificate, signed_at=moment)

    result = verify_dte_signature(signed)
    assert (result.verdict, result.signer, result.signed_at) == (Verdict.VALID, signer.rut, moment)
    signed_data = verify_with_signxml(signed, signer, moment)
    assert b"<TmstFirma>2024-02-29T23:59:59</TmstFirma>" in signed_data


def test_the_signature_has_sii_s_shape(signer: Signer) -> None:
    signed = sign_dte(read_fixture("DTE--96670340-7--61--110616.xml"), signer.key, signer.certificate)
    root = etree.fromstring(signed)

    assert signed.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>\n<DTE")
    (signature,) = root.findall(f"{DS}Signature")
    assert signature.getprevious() is not None
    assert signature.getprevious().get("ID") == "DTE-61-110616"  # type: ignore[union-attr]
    assert [etree.QName(e).localname for e in signature.iter() if isinstance(e.tag, str)] == [
        "Signature", "SignedInfo", "CanonicalizationMethod", "SignatureMethod", "Reference", "Transforms",
        "Transform", "DigestMethod", "DigestValue", "SignatureValue", "KeyInfo", "KeyValue", "RSAKeyValue",
        "Modulus", "Exponent", "X509Data", "X509Certificate",
    ]  # fmt: skip
    algorithms = [e.get("Algorithm") for e in signature.iter() if e.get("Algorithm")]
    assert algorithms == [
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2000/09/xmldsig#sha1",
    ]
    assert signature.find(f"{DS}SignedInfo/{DS}Reference").get("URI") == "#DTE-61-110616"  # type: ignore[union-attr]
    assert signature.findtext(f"{DS}KeyInfo/{DS}KeyValue/{DS}RSAKeyValue/{DS}Exponent") == "AQAB"
    # The DocPersonalizado the issuer placed after its signature stays where it was.
    assert etree.QName(signature.getnext()).localname == "DocPersonalizado"  # type: ignore[arg-type]


def test_signing_replaces_the_old_signature_and_keeps_the_content(signer: Signer) -> None:
    original = read_fixture("DTE--76399752-9--33--25568.xml")
    before = etree.fromstring(original)

    signed = sign_dte(original, signer.key, signer.certificate)
    after = etree.fromstring(signed)

    assert signed.count(b"<Signature ") == 1
    assert b"tk/D3mfO/KtdWyFXYZHe7dtYijg=" not in signed  # the old digest is gone
    # The body is the same text: TmstFirma was kept since no new time was given.
    assert canonicalize(after.find("Documento")) == canonicalize(before.find("Documento"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("signed_at", "written"),
    [
        (datetime(2019, 1, 15, 12, 0, tzinfo=UTC), "2019-01-15T09:00:00"),  # summer: UTC-3
        (datetime(2019, 7, 15, 12, 0, tzinfo=UTC), "2019-07-15T08:00:00"),  # winter: UTC-4
        (datetime(2019, 7, 15, 8, 0), "2019-07-15T08:00:00"),  # naive: Chile's wall clock
    ],
)
def test_tmstfirma_is_written_in_chile_s_time(signed_at: datetime, written: str, signer: Signer) -> None:
    signed = sign_dte(
        read_fixture("DTE--96670340-7--61--110616.xml"), signer.key, signer.certificate, signed_at=signed_at
    )

    assert re.findall(rb"<TmstFirma>(.*?)</TmstFirma>", signed) == [written.encode()]
    result = verify_dte_signature(signed)
    assert result.signed_at == datetime.fromisoformat(written).replace(tzinfo=SANTIAGO)
    assert result.signed_at == signed_at.replace(tzinfo=signed_at.tzinfo or SANTIAGO)


def test_a_dte_without_tmstfirma_gets_one_after_its_timbre(signer: Signer) -> None:
    data = re.sub(rb"\s*<TmstFirma>.*?</TmstFirma>", b"", read_fixture("DTE--96670340-7--61--110616.xml"))
    moment = datetime(2022, 3, 4, 5, 6, 7, tzinfo=SANTIAGO)

    signed = sign_dte(data, signer.key, signer.certificate, signed_at=moment)

    assert b"</TED>\n<TmstFirma>2022-03-04T05:06:07</TmstFirma>\n</Documento>" in signed
    assert verify_dte_signature(signed).signed_at == moment


def test_namespaced_dtes_keep_their_namespace_and_extra_declarations(signer: Signer) -> None:
    # A DTE declaring xsi: inclusive C14N renders it on Documento and SignedInfo alike.
    data = read_fixture("DTE--76399752-9--33--25568--cleaned.xml").replace(
        b'<DTE xmlns="http://www.sii.cl/SiiDte" version="1.0">',
        b'<DTE xmlns="http://www.sii.cl/SiiDte"'
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.0">',
    )
    moment = datetime(2020, 1, 1, tzinfo=SANTIAGO)

    signed = sign_dte(data, signer.key, signer.certificate, signed_at=moment)

    assert b'<DTE xmlns="http://www.sii.cl/SiiDte" xmlns:xsi=' in signed
    assert verify_dte_signature(signed).verdict is Verdict.VALID
    verify_with_signxml(signed, signer, moment)


def test_characters_outside_latin1_survive_as_references(signer: Signer) -> None:
    data = read_fixture("seed-duemint-example-33-696.xml").replace(
        b"SERVICIOS VARIOS", "SERVICIOS € ✓".encode()
    )

    signed = sign_dte(data, signer.key, signer.certificate)

    assert b"SERVICIOS &#8364; &#10003;" in signed
    assert verify_dte_signature(signed).verdict is Verdict.VALID


@pytest.mark.parametrize(
    "data",
    [
        b"<EnvioDTE/>",
        b"<DTE><Documento/></DTE>",
        b"<DTE><Documento ID='a'/><Documento ID='b'/></DTE>",
        b"<DTE/>",
    ],
)
def test_what_is_not_a_dte_with_an_identified_body_is_refused(data: bytes, signer: Signer) -> None:
    with pytest.raises(ValueError, match="DTE"):
        sign_dte(data, signer.key, signer.certificate)


@pytest.mark.parametrize("body", ["Liquidacion", "Exportaciones"])
def test_liquidacion_and_exportaciones_bodies_are_signed_and_verified(body: str, signer: Signer) -> None:
    data = read_fixture("DTE--96670340-7--61--110616.xml").replace(b"Documento", body.encode())

    signed = sign_dte(data, signer.key, signer.certificate)

    assert b'<Reference URI="#DTE-61-110616">' in signed
    assert verify_dte_signature(signed).verdict is Verdict.VALID
    assert verify_dte_signature(signed.replace(b"<Folio>110616<", b"<Folio>1<")).verdict is Verdict.INVALID
