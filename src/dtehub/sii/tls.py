"""The TLS context of a certificate login: the person's key and certificate, SII's (or the emulator's) trust.

``ssl`` loads a client certificate only from a file. The file is an anonymous in-memory one
(``memfd_create``) and the key in it is encrypted with a one-time random passphrase, so the key is never
on disk, and never in clear anywhere but in OpenSSL's memory. Where ``memfd_create`` does not exist, a
temporary file holds the encrypted key for the instant of loading.
"""

from __future__ import annotations

import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, PrivateFormat

from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.errors import CertificateError, SiiUnavailable


def client_context(certificate: PersonCertificate, *, ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying client context (``ca_bundle`` or the system's trust) that presents ``certificate``
    with the whole chain its PKCS#12 held."""
    try:
        context = ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError):
        raise SiiUnavailable(
            f"DTEHUB_SII_CA_BUNDLE ({ca_bundle}) cannot be read as PEM certificates"
        ) from None
    passphrase = secrets.token_urlsafe(32)
    key_pem = certificate.key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(passphrase.encode())
    )
    chain_pem = b"".join(c.public_bytes(Encoding.PEM) for c in (certificate.certificate, *certificate.chain))
    try:
        with _memory_file(key_pem + chain_pem) as path:
            context.load_cert_chain(path, password=passphrase)
    except (OSError, ssl.SSLError):
        raise CertificateError(
            "the certificate's key cannot be used for TLS", code="certificate_unusable"
        ) from None
    return context


@contextmanager
def _memory_file(content: bytes) -> Iterator[str]:
    if hasattr(os, "memfd_create"):
        descriptor = os.memfd_create("dtehub-sii-certificate", os.MFD_CLOEXEC)
        try:
            os.write(descriptor, content)
            yield f"/proc/self/fd/{descriptor}"
        finally:
            os.close(descriptor)
        return
    with tempfile.NamedTemporaryFile(prefix="dtehub-sii-") as file:  # pragma: no cover (not Linux)
        file.write(content)
        file.flush()
        yield file.name
