"""Sign DTEs the way Chilean issuers do, for tests, benchmarks and the SII emulator.

:func:`sign_dte` writes an enveloped XMLDSig signature of the DTE's body in SII's profile: one
``Reference`` to ``#<ID>`` with the enveloped-signature transform, C14N 1.0, SHA-1 digest, RSA-SHA1, and a
``KeyInfo`` holding both ``KeyValue`` (modulus and exponent) and the signer's ``X509Certificate``, as SII's
``xmldsignature_v10.xsd`` requires. The result is ISO-8859-1 with its declaration and is never
pretty-printed after signing (whitespace is signed text). The DTE keeps whatever namespace it came with.

:func:`make_test_certificate` makes a self-signed certificate shaped like an SII-accredited one: the
holder's RUT in ``subjectAltName`` as otherName ``1.3.6.1.4.1.8321.1`` (an IA5String) and in the subject's
serialNumber. It is for tests only: nothing here stores a key anywhere.

Speed: one hardened parse, two canonicalizations, one RSA signature and one serialization per document;
the ``KeyInfo`` text is built once per certificate. About 1-2 ms per document with a 2048-bit key.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from dtehub.dte.signature import BODY_NAMES, DSIG_NS, RUT_OTHER_NAME_OID
from dtehub.dte.signed_forms import canonicalize
from dtehub.kit.dates import SANTIAGO, utcnow
from dtehub.kit.rut import normalize_rut
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES, local_name, parse_untrusted

_DS = f"{{{DSIG_NS}}}"
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"


def make_test_certificate(
    rut: str, name: str, *, not_before: datetime, not_after: datetime, key_bits: int = 2048
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A new RSA key and a self-signed certificate for ``name`` holding ``rut`` as SII's CAs put it."""
    holder = normalize_rut(rut)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CL"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, holder),
        ]
    )
    rut_der = b"\x16" + bytes([len(holder)]) + holder.encode("ascii")  # IA5String; a RUT is < 128 bytes
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.OtherName(RUT_OTHER_NAME_OID, rut_der)]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def sign_dte(
    dte_xml: bytes,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    *,
    signed_at: datetime | None = None,
) -> bytes:
    """``dte_xml`` (one ``DTE``) signed with ``key``; any earlier signature is replaced.

    ``signed_at`` becomes ``TmstFirma`` in Chile's time (a naive value is read as Chile's wall clock);
    without it an existing ``TmstFirma`` is kept, else the present moment is written.
    Raises ValueError when the XML is not a DTE with an identified body.
    """
    root = parse_untrusted(dte_xml, max_bytes=DEFAULT_MAX_XML_BYTES)
    if local_name(root) != "DTE":
        raise ValueError(f"the root element is {local_name(root)}, not DTE")
    bodies = [c for c in root if isinstance(c.tag, str) and local_name(c) in BODY_NAMES]
    if len(bodies) != 1 or not bodies[0].get("ID"):
        raise ValueError("the DTE needs exactly one Documento (or Liquidacion, Exportaciones) with an ID")
    body = bodies[0]
    _set_signing_time(body, signed_at)

    digest = base64.b64encode(hashlib.sha1(canonicalize(body)).digest()).decode("ascii")  # noqa: S324
    signature = etree.fromstring(
        _SIGNATURE_TEMPLATE.format(
            id=_attribute(body.get("ID") or ""), digest=digest, key_info=_key_info(certificate)
        ).encode("utf-8")
    )
    old = [c for c in root if isinstance(c.tag, str) and local_name(c) == "Signature"]
    if old:  # re-signing: the new signature takes the old one's place
        signature.tail = old[0].tail
        root.replace(old[0], signature)
        for extra in old[1:]:
            _remove_keeping_text(extra)
    else:
        signature.tail = body.tail
        body.addnext(signature)
    signed_info = signature[0]
    # Canonicalized where it sits, so namespaces the DTE declares are rendered as a verifier sees them.
    value = key.sign(canonicalize(signed_info), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    signature[1].text = _wrapped_base64(value)
    signed = etree.tostring(root.getroottree(), encoding="ISO-8859-1", xml_declaration=True)
    assert isinstance(signed, bytes)  # an encoding other than "unicode" always gives bytes
    return signed


_SIGNATURE_TEMPLATE = (
    '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">\n'
    "<SignedInfo>\n"
    '<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>\n'
    '<SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>\n'
    '<Reference URI="#{id}">\n'
    "<Transforms>\n"
    '<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>\n'
    "</Transforms>\n"
    '<DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>\n'
    "<DigestValue>{digest}</DigestValue>\n"
    "</Reference>\n"
    "</SignedInfo>\n"
    "<SignatureValue></SignatureValue>\n"
    "{key_info}"
    "</Signature>"
)


def _attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _wrapped_base64(value: bytes) -> str:
    """Base64 in lines of 76 characters, the layout issuers' files show."""
    text = base64.b64encode(value).decode("ascii")
    return "\n" + "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"


def _unsigned(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8 or 1, "big")


@lru_cache(maxsize=64)
def _key_info(certificate: x509.Certificate) -> str:
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("SII signatures are RSA: the certificate's key is not an RSA key")
    numbers = public_key.public_numbers()
    der = certificate.public_bytes(serialization.Encoding.DER)
    return (
        "<KeyInfo>\n<KeyValue>\n<RSAKeyValue>\n"
        f"<Modulus>{_wrapped_base64(_unsigned(numbers.n))}</Modulus>\n"
        f"<Exponent>{base64.b64encode(_unsigned(numbers.e)).decode('ascii')}</Exponent>\n"
        "</RSAKeyValue>\n</KeyValue>\n"
        f"<X509Data>\n<X509Certificate>{_wrapped_base64(der)}</X509Certificate>\n</X509Data>\n"
        "</KeyInfo>\n"
    )


def _set_signing_time(body: etree._Element, signed_at: datetime | None) -> None:
    existing = next((c for c in body if isinstance(c.tag, str) and local_name(c) == "TmstFirma"), None)
    if signed_at is None and existing is not None:
        return
    moment = signed_at or utcnow()
    local = moment.replace(tzinfo=SANTIAGO) if moment.tzinfo is None else moment.astimezone(SANTIAGO)
    if existing is None:
        namespace = etree.QName(body).namespace
        existing = etree.SubElement(body, f"{{{namespace}}}TmstFirma" if namespace else "TmstFirma")
        previous = existing.getprevious()
        if previous is not None:  # keep the layout: TmstFirma indented like its siblings
            existing.tail = previous.tail
            before = previous.getprevious()
            previous.tail = before.tail if before is not None else body.text
    existing.text = local.strftime(_TIMESTAMP_FORMAT)


def _remove_keeping_text(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + (element.tail or "")
    else:
        parent.text = (parent.text or "") + (element.tail or "")
    parent.remove(element)
