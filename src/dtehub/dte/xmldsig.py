"""Enveloped XML signatures in SII's profile, built and checked with lxml and ``cryptography``.

SII signs everything the same way (``xmldsignature_v10.xsd``): one ``Reference`` (to ``#<ID>`` of an
element, or ``""`` for the whole document), the enveloped-signature transform, inclusive C14N 1.0, SHA-1
digest, RSA-SHA1, and a ``KeyInfo`` holding both ``KeyValue/RSAKeyValue`` and ``X509Data/X509Certificate``.

- :func:`sign_document` signs a whole document (``Reference URI=""``) with the ``Signature`` as the root's
  last child: the signed seed of SII's token service (``getToken``).
- :func:`sign_element` signs one element by its ``ID`` with the ``Signature`` as its next sibling: the
  parts of an electronic cession file (``DocumentoDTECedido``, ``DocumentoCesion``, ``DocumentoAEC``).
- :func:`sign_canonical` makes the same ``Signature`` from the signed element's canonical text, for a
  builder that computed it already.
- :func:`verify_document` checks a whole-document signature the way SII's token service does, and says
  which of its checks failed (:class:`DocumentSignature`).

The elements are made with lxml (no XML text is assembled by hand) and the ``SignedInfo`` is
canonicalized where it sits, so namespaces in scope are rendered as a verifier will see them. Generic
signing libraries do not fit SII's profile (two transforms, no ``KeyValue``, the signature inside the
signed element), which is why this is written here.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import cast

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.utils import CryptographyDeprecationWarning
from lxml import etree

from dtehub.dte.signature import DSIG_NS, certificate_rut
from dtehub.dte.signed_forms import canonicalize
from dtehub.kit.xmlbuild import element

C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
RSA_SHA1 = f"{DSIG_NS}rsa-sha1"
SHA1 = f"{DSIG_NS}sha1"
ENVELOPED = f"{DSIG_NS}enveloped-signature"
_DS = f"{{{DSIG_NS}}}"


def _ds(name: str, *content: etree._Element | str, **attributes: str) -> etree._Element:
    return element(f"{_DS}{name}", *content, nsmap={None: DSIG_NS}, attributes=attributes)


def sign_document(root: etree._Element, key: PrivateKeyTypes, certificate: x509.Certificate) -> None:
    """Sign the whole document of ``root`` (``Reference URI=""``); the ``Signature`` becomes its last child.

    The digest is taken before the signature is added, which is what the enveloped transform gives back.
    """
    digest = _digest(canonicalize(root))
    signature = _signature("", digest, certificate)
    root.append(signature)
    _sign_info(signature, key)


def sign_element(element: etree._Element, key: PrivateKeyTypes, certificate: x509.Certificate) -> None:
    """Sign ``element`` by its ``ID`` attribute; the ``Signature`` becomes its next sibling."""
    identifier = element.get("ID")
    if not identifier:
        raise ValueError(f"{etree.QName(element).localname} has no ID to refer to")
    digest = _digest(canonicalize(element))
    signature = _signature(f"#{identifier}", digest, certificate)
    signature.tail = element.tail
    element.addnext(signature)
    _sign_info(signature, key)


def sign_canonical(
    parent: etree._Element,
    identifier: str,
    canonical: bytes,
    key: PrivateKeyTypes,
    certificate: x509.Certificate,
) -> etree._Element:
    """The ``Signature`` of the element whose ``ID`` is ``identifier`` and whose canonical text (inclusive
    C14N 1.0 where it sits) is ``canonical``, appended to ``parent``: an element declaring what the signed
    element's parent declares, so that ``SignedInfo`` is canonicalized under the declarations it has where
    the signature goes (the signed element's next sibling). For a caller that has the signed element's
    canonical text already (:func:`sign_element` computes it from the element)."""
    if not identifier:
        raise ValueError("the element signed has no ID to refer to")
    signature = _signature(f"#{identifier}", _digest(canonical), certificate)
    parent.append(signature)
    _sign_info(signature, key)
    return signature


def _digest(canonical: bytes) -> str:
    return base64.b64encode(hashlib.sha1(canonical).digest()).decode("ascii")  # noqa: S324 (SII's profile)


def _signature(uri: str, digest: str, certificate: x509.Certificate) -> etree._Element:
    signature = copy.deepcopy(_template(certificate))
    reference = signature[0][2]  # Signature/SignedInfo/Reference
    reference.set("URI", uri)
    reference[2].text = digest  # Reference/DigestValue
    return signature


@lru_cache(maxsize=16)
def _template(certificate: x509.Certificate) -> etree._Element:
    """The ``Signature`` a certificate signs with, its Reference's URI and digest empty: made once per
    certificate (its key's numbers, its DER) and copied for each signature."""
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("SII signatures are RSA: the certificate's key is not an RSA key")
    numbers = public_key.public_numbers()
    der = certificate.public_bytes(serialization.Encoding.DER)
    return _ds(
        "Signature",
        _ds(
            "SignedInfo",
            _ds("CanonicalizationMethod", Algorithm=C14N_10),
            _ds("SignatureMethod", Algorithm=RSA_SHA1),
            _ds(
                "Reference",
                _ds("Transforms", _ds("Transform", Algorithm=ENVELOPED)),
                _ds("DigestMethod", Algorithm=SHA1),
                _ds("DigestValue"),
                URI="",
            ),
        ),
        _ds("SignatureValue"),
        _ds(
            "KeyInfo",
            _ds(
                "KeyValue",
                _ds(
                    "RSAKeyValue",
                    _ds("Modulus", _b64(_unsigned(numbers.n))),
                    _ds("Exponent", _b64(_unsigned(numbers.e))),
                ),
            ),
            _ds("X509Data", _ds("X509Certificate", _b64(der))),
        ),
    )


def _sign_info(signature: etree._Element, key: PrivateKeyTypes) -> None:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("SII signatures are RSA: the certificate's key is not an RSA key")
    signed_info = signature.find(f"{_DS}SignedInfo")
    value = signature.find(f"{_DS}SignatureValue")
    assert signed_info is not None  # made just above
    assert value is not None
    value.text = _b64(key.sign(canonicalize(signed_info), padding.PKCS1v15(), hashes.SHA1()))  # noqa: S303


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unsigned(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8 or 1, "big")


# --- checking ----------------------------------------------------------------------------------------


class SignatureProblem(StrEnum):
    """What a whole-document signature lacks, in the order SII's token service checks it."""

    NO_SIGNATURE = "no_signature"
    NO_CERTIFICATE = "no_certificate"
    KEY_MISMATCH = "key_mismatch"
    """``KeyValue`` is not the certificate's public key."""
    INVALID = "invalid"
    """A digest or the signature value does not hold (or the signature is not SII's profile)."""


@dataclass(frozen=True)
class DocumentSignature:
    problem: SignatureProblem | None
    certificate: x509.Certificate | None


def verify_document(root: etree._Element) -> DocumentSignature:
    """Check the enveloped whole-document signature (``Reference URI=""``) that is ``root``'s child."""
    signature = root.find(f"{_DS}Signature")
    if signature is None:
        return DocumentSignature(SignatureProblem.NO_SIGNATURE, None)

    def whole_document(uri: str | None) -> etree._Element | None:
        if uri != "":
            return None
        unsigned = copy.deepcopy(root)
        for own in unsigned.findall(f"{_DS}Signature"):
            unsigned.remove(own)
        return unsigned

    return _verify(signature, whole_document)


def _verify(
    signature: etree._Element,
    referenced: Callable[[str | None], etree._Element | None],
) -> DocumentSignature:
    """A signature's checks in SII's profile: its certificate and RSA key, the digest of what its
    Reference names (``referenced`` gives that element for the Reference's URI, None when the URI is not
    of the kind expected), and its value over the canonical SignedInfo."""
    read = read_certificate(signature)
    if read is None:
        return DocumentSignature(SignatureProblem.NO_CERTIFICATE, None)
    certificate, public_key = read.certificate, read.public_key
    if public_key is None:
        return DocumentSignature(SignatureProblem.INVALID, certificate)
    modulus = _text(signature, f"{_DS}KeyInfo/{_DS}KeyValue/{_DS}RSAKeyValue/{_DS}Modulus")
    if modulus is not None and _int(modulus) != public_key.public_numbers().n:
        return DocumentSignature(SignatureProblem.KEY_MISMATCH, certificate)
    reference = signature.find(f"{_DS}SignedInfo/{_DS}Reference")
    digest = _text(signature, f"{_DS}SignedInfo/{_DS}Reference/{_DS}DigestValue")
    value = _text(signature, f"{_DS}SignatureValue")
    signed_info = signature.find(f"{_DS}SignedInfo")
    if reference is None or digest is None or value is None or signed_info is None:
        return DocumentSignature(SignatureProblem.INVALID, certificate)
    target = referenced(reference.get("URI"))
    if target is None:
        return DocumentSignature(SignatureProblem.INVALID, certificate)
    try:
        if _digest(canonicalize(target)) != "".join(digest.split()):
            return DocumentSignature(SignatureProblem.INVALID, certificate)
        public_key.verify(
            base64.b64decode("".join(value.split())),
            canonicalize(signed_info),
            padding.PKCS1v15(),
            hashes.SHA1(),  # noqa: S303 (SII's profile)
        )
    except (InvalidSignature, ValueError):
        return DocumentSignature(SignatureProblem.INVALID, certificate)
    return DocumentSignature(None, certificate)


@dataclass(frozen=True)
class SignerCertificate:
    """A signature's certificate as read: its RSA public key (None when the key is not RSA) and the RUT of
    its holder (None when it names none)."""

    certificate: x509.Certificate
    public_key: rsa.RSAPublicKey | None
    holder_rut: str | None


def read_certificate(signature: etree._Element) -> SignerCertificate | None:
    """The certificate of ``signature`` (``KeyInfo/X509Data``); None when there is none or it cannot be
    read. Cached by its text, as the DTE pipeline caches its signers' (the parts of a file, and the files
    of one sender, are signed with one certificate; parsing it and its holder's RUT costs more than
    checking the signature)."""
    text = _text(signature, f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate")
    if not text:
        return None
    return _read_certificate("".join(text.split()))


@lru_cache(maxsize=512)
def _read_certificate(text: str) -> SignerCertificate | None:
    try:
        with warnings.catch_warnings():  # a certificate some CA issued with a quirk is still read
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            certificate = x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
            public_key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None
    rsa_key = public_key if isinstance(public_key, rsa.RSAPublicKey) else None
    return SignerCertificate(certificate, rsa_key, certificate_rut(certificate))


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path)
    return found.text if found is not None and found.text is not None else None


def _int(text: str) -> int:
    try:
        return int.from_bytes(base64.b64decode("".join(text.split())), "big")
    except ValueError:
        return -1


def verify_reference(
    signature: etree._Element,
    *,
    ids: IdIndex | None = None,
) -> DocumentSignature:
    """Check a signature that refers to an element by its ``ID`` (``Reference URI="#…"``), where it sits.

    The element is looked for in the signature's document and canonicalized in its place there (with every
    namespace in scope), which is the context an AEC's parts are signed in when the declarations of the
    file match those of the standalone part that was signed (see :mod:`dtehub.dte.aec`). An ID that more
    than one element holds refers to none. A caller checking several signatures of one document passes
    the document's ``ids`` (:func:`id_index`) rather than have it searched once per signature.
    """

    def by_id(uri: str | None) -> etree._Element | None:
        if uri is None or not uri.startswith("#"):
            return None
        index = ids if ids is not None else id_index(signature.getroottree().getroot())
        found = index.get(uri[1:], ())
        return found[0] if len(found) == 1 else None

    return _verify(signature, by_id)


IdIndex = dict[str, list[etree._Element]]
"""The elements of a document by their ``ID`` attribute."""


_WITH_ID = etree.XPath("//*[@ID]")


def id_index(root: etree._Element) -> IdIndex:
    """Every element of ``root``'s document holding an ``ID``, by that ID (one search of the document)."""
    index: IdIndex = {}
    for found in cast("list[etree._Element]", _WITH_ID(root)):
        index.setdefault(str(found.get("ID")), []).append(found)
    return index
