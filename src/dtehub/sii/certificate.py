"""A person's certificate, as SII's certificate login needs it: loaded from PKCS#12, holder RUT, validity.

cl-sii has a helper for the holder's RUT, but it loads the file again, raises bare ``Exception`` and has
no ``serialNumber`` fallback; reading one extension is simpler done here with ``cryptography``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import NameOID

from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.sii.errors import (
    CertificateExpired,
    CertificateNotYetValid,
    CertificateUnreadable,
    CertificateWithoutRut,
)

HOLDER_RUT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.8321.1")
"""subjectAltName ``otherName`` type of the holder's RUT in Chilean personal certificates."""

_RUT_TEXT = re.compile(rb"\d{1,2}\.?\d{3}\.?\d{3}-?[\dkK]|\d{1,8}-[\dkK]")


@dataclass(frozen=True, repr=False)
class PersonCertificate:
    """A loaded PKCS#12: private key, certificate, the chain it came with, and what SII reads of it.

    ``repr`` shows only the holder and the validity: the key must never reach a log or a traceback.
    """

    key: PrivateKeyTypes = field(repr=False)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    holder_rut: str
    """The person's RUT, canonical (``12345678-5``)."""
    holder_name: str
    not_before: datetime
    not_after: datetime
    fingerprint: str
    """SHA-256 of the certificate (DER), hex: what identifies it in the session pool."""

    def __repr__(self) -> str:
        return f"PersonCertificate(holder_rut={self.holder_rut!r}, not_after={self.not_after:%Y-%m-%d})"

    def require_valid(self, now: datetime | None = None) -> None:
        """Raise :class:`CertificateError` unless the certificate is valid at ``now`` (UTC)."""
        now = now or datetime.now(UTC)
        if now >= self.not_after:
            raise CertificateExpired(
                f"the certificate of {self.holder_rut} expired on {self.not_after:%Y-%m-%d}"
            )
        if now < self.not_before:
            raise CertificateNotYetValid(
                f"the certificate of {self.holder_rut} is not valid until {self.not_before:%Y-%m-%d}"
            )


def load_pfx(data: bytes, password: str) -> PersonCertificate:
    """Open a PKCS#12 file (legacy RC2-40 ones too) and read its holder; any failure is a
    :class:`CertificateError` that says which."""
    if not data.startswith(b"\x30"):  # every PKCS#12 is a DER SEQUENCE
        raise CertificateUnreadable("the certificate is not a PKCS#12 (.pfx or .p12) file")
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, password.encode() or None)
    except ValueError:
        # cryptography says "Invalid password or PKCS12 data" for both; the file looked like PKCS#12.
        raise CertificateUnreadable(
            "the certificate could not be opened: wrong password, or a damaged PKCS#12 file"
        ) from None
    if certificate is None or key is None:
        raise CertificateUnreadable("the PKCS#12 file holds no certificate with its private key")
    return PersonCertificate(
        key=key,
        certificate=certificate,
        chain=tuple(chain),
        holder_rut=holder_rut(certificate),
        holder_name=_common_name(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        fingerprint=hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest(),
    )


def holder_rut(certificate: x509.Certificate) -> str:
    """The holder's RUT: subjectAltName ``otherName`` 1.3.6.1.4.1.8321.1, else the subject's
    ``serialNumber``; a certificate with neither is a :class:`CertificateError`."""
    try:
        names = list(certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        names = []
    candidates = [
        name.value for name in names if isinstance(name, x509.OtherName) and name.type_id == HOLDER_RUT_OID
    ]
    candidates += [
        str(attribute.value).encode()
        for attribute in certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    ]
    for raw in candidates:
        # The value is DER (an IA5String, sometimes another string type): the RUT is its text.
        match = _RUT_TEXT.search(raw)
        if match is None:
            continue
        try:
            return normalize_rut(match.group().decode("ascii"))
        except InvalidRut:
            continue
    raise CertificateWithoutRut(
        "the certificate names no RUT (no subjectAltName 1.3.6.1.4.1.8321.1, no serialNumber): "
        "SII logs in only Chilean personal certificates"
    )


def _common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""
