"""Shared material for the DTE signature tests: real files, test certificates, a re-signer.

Keys live in memory only; nothing is written to disk.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from dtehub.dte.signature import DSIG_NS
from dtehub.dte.signed_forms import canonicalize
from dtehub.dte.signing import make_test_certificate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEST_RUT = "13185095-6"


@dataclass(frozen=True)
class Signer:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    rut: str


def read_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def signer() -> Signer:
    """A 2048-bit test signer whose certificate is valid from 2018 to 2030."""
    key, certificate = make_test_certificate(
        TEST_RUT,
        "FIRMANTE DE PRUEBA",
        not_before=datetime(2018, 1, 1, tzinfo=UTC),
        not_after=datetime(2030, 1, 1, tzinfo=UTC),
    )
    return Signer(key, certificate, TEST_RUT)


@pytest.fixture(scope="session")
def small_signer() -> Signer:
    """A 1024-bit test signer, the size many certificates of 2019 still had."""
    key, certificate = make_test_certificate(
        "76453707-6",
        "EMPRESA DE PRUEBA",
        not_before=datetime(2018, 1, 1, tzinfo=UTC),
        not_after=datetime(2030, 1, 1, tzinfo=UTC),
        key_bits=1024,
    )
    return Signer(key, certificate, "76453707-6")


_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": hashes.SHA1,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512,
}
_EXCLUSIVE = "http://www.w3.org/2001/10/xml-exc-c14n#"

Resign = Callable[[bytes, Signer], bytes]


def _resign(dte_xml: bytes, signer: Signer) -> bytes:
    """Recompute DigestValue and SignatureValue of an already shaped signature, whatever it declares.

    Lets a test build documents sign_dte never makes (no TmstFirma, SHA-256, exclusive C14N, a ``ds:``
    prefix): edit the XML, then make its signature true again.
    """
    root = etree.fromstring(dte_xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    ds = f"{{{DSIG_NS}}}"
    body = root.find("{*}Documento")
    signature = root.find(f"{ds}Signature")
    assert body is not None
    assert signature is not None
    signed_info = signature.find(f"{ds}SignedInfo")
    assert signed_info is not None
    reference = signed_info.find(f"{ds}Reference")
    assert reference is not None
    transforms = [t.get("Algorithm") for t in reference.iterfind(f"{ds}Transforms/{ds}Transform")]
    digest_method = reference.find(f"{ds}DigestMethod")
    digest_value = reference.find(f"{ds}DigestValue")
    assert digest_method is not None
    assert digest_value is not None
    digest = hashlib.new(
        _DIGESTS[digest_method.get("Algorithm") or ""],
        canonicalize(body, exclusive=_EXCLUSIVE in transforms),
    ).digest()
    digest_value.text = base64.b64encode(digest).decode()
    c14n = signed_info.find(f"{ds}CanonicalizationMethod")
    method = signed_info.find(f"{ds}SignatureMethod")
    assert c14n is not None
    assert method is not None
    value = signer.key.sign(
        canonicalize(signed_info, exclusive=c14n.get("Algorithm") == _EXCLUSIVE),
        padding.PKCS1v15(),
        _HASHES[method.get("Algorithm") or ""](),
    )
    signature_value = signature.find(f"{ds}SignatureValue")
    assert signature_value is not None
    signature_value.text = base64.b64encode(value).decode()
    resigned = etree.tostring(root.getroottree(), encoding="ISO-8859-1", xml_declaration=True)
    assert isinstance(resigned, bytes)
    return resigned


@pytest.fixture
def resign() -> Resign:
    return _resign
