"""How the emulator's TLS handshake treats client certificates, and the server's SSL context made from it.

By default the handshake is as lenient as SII's usually is: TLS 1.2, a client certificate asked for but
optional, verified against the test CA and nothing else, its dates and revocation left to the login page
(codes 34, 35 and 36). :class:`Handshake` makes it refuse certificates the way a TLS server does, with an
alert, as SII's hosts sometimes do: from an authority it does not trust (``unknown_ca``), expired
(``certificate_expired``), not yet valid (``bad_certificate``), revoked (``certificate_revoked``), none at
all (``certificate_required`` with TLS 1.3, ``handshake_failure`` with 1.2), or every handshake with an
alert of choice (``access_denied``…). With TLS 1.3 a refusal reaches the client after its own handshake is
over, on its first read: the case a client handles worst.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dtehub.sii.emulator.certificates import TestCertificateAuthority

TlsVersion = Literal["1.2", "1.3"]
X509_V_FLAG_NO_CHECK_TIME = 0x200000
"""OpenSSL's flag to skip certificate dates; Python's ssl module has no name for it."""
_ALERTS = {
    **{a.name.removeprefix("ALERT_DESCRIPTION_").lower(): a.value for a in ssl.AlertDescription},
    # TLS 1.3's own, which Python's ssl has no names for (RFC 8446 §6).
    "missing_extension": 109,
    "certificate_required": 116,
    "no_application_protocol": 120,
}
ALERT_NAMES = tuple(sorted(_ALERTS))
"""The alerts :attr:`Handshake.alert` may name (RFC 8446's names: ``access_denied``, ``unknown_ca``…)."""


class HandshakeError(ValueError):
    """A :class:`Handshake` that cannot be served (an unknown alert, a trusted CA file that is no PEM)."""


@dataclass(frozen=True)
class Handshake:
    """What the emulator's TLS handshake refuses. Every refusal is a TLS alert, before any HTTP."""

    tls_version: TlsVersion = "1.2"
    """The highest TLS version served."""
    trusted_cas: tuple[Path, ...] = ()
    """More CA certificates (PEM files) whose certificates are accepted besides the test CA's; one from
    any other authority is refused with ``unknown_ca``."""
    require_certificate: bool = False
    """A handshake without a client certificate is refused, instead of reaching the login page (code 34)."""
    refuse_expired: bool = False
    """Certificate dates are checked in the handshake, instead of on the login page (code 36)."""
    refuse_revoked: bool = False
    """``ca/revoked.json`` is checked in the handshake, instead of on the login page (code 35). Only the
    test CA publishes a revocation list: a certificate of another trusted CA is then refused."""
    alert: str | None = None
    """Every handshake is refused with this alert, right after the client's hello."""

    def __post_init__(self) -> None:
        if self.tls_version not in ("1.2", "1.3"):
            raise HandshakeError(f"TLS version {self.tls_version!r} is not served: 1.2 or 1.3")
        if self.alert is not None and self.alert not in ALERT_NAMES:
            raise HandshakeError(f"{self.alert!r} is no TLS alert; one of: {', '.join(ALERT_NAMES)}")


_Key = tuple[Handshake, frozenset[int] | None]
"""What a context is made from: the handshake, and the revoked serials when it checks them."""


class ServerContexts:
    """The server's SSL context for the current :class:`Handshake`, made again when the handshake or
    (when it checks revocation) ``revoked.json`` changes. Safe to use from every connection's thread."""

    def __init__(self, authority: TestCertificateAuthority, handshake: Handshake) -> None:
        self._authority = authority
        self._lock = threading.Lock()
        self._made: tuple[_Key, ssl.SSLContext] | None = None
        self._handshake = handshake
        self.handshake = handshake  # made now: a handshake that cannot be served fails here

    @property
    def handshake(self) -> Handshake:
        with self._lock:
            return self._handshake

    @handshake.setter
    def handshake(self, handshake: Handshake) -> None:
        key = (handshake, self._revoked(handshake))
        context = self._make(*key)  # a handshake that cannot be served is refused before it serves
        with self._lock:
            self._handshake = handshake
            self._made = (key, context)

    def current(self) -> ssl.SSLContext:
        """The context for the next connection."""
        with self._lock:
            key = (self._handshake, self._revoked(self._handshake))
            if self._made is None or self._made[0] != key:
                self._made = (key, self._make(*key))
            return self._made[1]

    def _revoked(self, handshake: Handshake) -> frozenset[int] | None:
        return self._authority.revoked_serials() if handshake.refuse_revoked else None

    def _make(self, handshake: Handshake, revoked: frozenset[int] | None) -> ssl.SSLContext:
        certificate, key = self._authority.server_credentials()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = (
            ssl.TLSVersion.TLSv1_3 if handshake.tls_version == "1.3" else ssl.TLSVersion.TLSv1_2
        )
        context.load_cert_chain(certificate, key)
        context.load_verify_locations(cafile=str(self._authority.ca_bundle))
        for trusted in handshake.trusted_cas:
            try:
                context.load_verify_locations(cafile=str(trusted))
            except (OSError, ssl.SSLError) as error:
                raise HandshakeError(f"{trusted} cannot be read as PEM CA certificates: {error}") from None
        context.verify_mode = ssl.CERT_REQUIRED if handshake.require_certificate else ssl.CERT_OPTIONAL
        if not handshake.refuse_expired:
            context.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
        if revoked is not None:
            context.load_verify_locations(cafile=str(self._authority.revocation_list(revoked)))
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        if handshake.alert is not None:
            refusal = _ALERTS[handshake.alert]
            # Called with the client's hello, whether it names a server or not.
            context.sni_callback = lambda connection, server_name, context: refusal
        return context
