"""The TLS context of a certificate login: the person's key and certificate, SII's (or the emulator's) trust;
and :func:`refusal_alert`, which asks a server afresh what it makes of the certificate.

``ssl`` loads a client certificate only from a file. The file is an anonymous in-memory one
(``memfd_create``) and the key in it is encrypted with a one-time random passphrase, so the key is never
on disk, and never in clear anywhere but in OpenSSL's memory. Where ``memfd_create`` does not exist, a
temporary file holds the encrypted key for the instant of loading.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, PrivateFormat

from dtehub.sii.alerts import alert_name
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.errors import CertificateUnusable, SiiUnavailable


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
        raise CertificateUnusable("the certificate's key cannot be used for TLS") from None
    return context


async def refusal_alert(host: str, port: int, context: ssl.SSLContext, *, wait: float) -> str | None:
    """The TLS alert ``host`` refuses the certificate of ``context`` with, or None (it accepts it, it
    could not be reached, or it said nothing within ``wait`` seconds).

    For when a request failed on a reset connection: with TLS 1.3 the server judges the client's
    certificate only after the client's handshake is over, and a refusal can race the request being
    sent, so that the client sees a reset and never reads the alert. Here nothing is sent after the
    handshake: the connection waits for the server's verdict, which comes as the alert (or not at all).
    Nothing is sent to the server at the HTTP level, so it opens no session.
    """
    try:
        async with asyncio.timeout(wait):
            reader, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
            try:
                tls = writer.get_extra_info("ssl_object")
                if tls is not None and tls.version() == "TLSv1.3":  # TLS 1.2 judged it in the handshake
                    await reader.read(1)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except ssl.SSLError as error:
        return alert_name(error)
    except (TimeoutError, OSError):
        return None
    return None


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
