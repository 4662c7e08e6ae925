"""The TLS alerts SII may answer a certificate login with, and what each means to a person: the one table.

A server that refuses the client's certificate says why with a TLS alert (RFC 8446 §6.2). Python's ``ssl``
raises it as an :class:`ssl.SSLError` whose ``reason`` is OpenSSL's name for the alert received
(``TLSV1_ALERT_UNKNOWN_CA``, ``SSLV3_ALERT_CERTIFICATE_EXPIRED``, ``TLSV13_ALERT_CERTIFICATE_REQUIRED``…).
httpx wraps it in a :class:`httpx.ConnectError` when it comes in the handshake (TLS 1.2, or a refusal at
the first message); with TLS 1.3 the server judges the certificate after the client's handshake is over,
so the alert comes on the first read, where httpcore's anyio backend lets the bare ``ssl.SSLError``
through. Either way :func:`alert_in` finds it.

An alert in :data:`CERTIFICATE_ALERTS` is SII's verdict on the certificate, a login error (status 3), never
"retry later"; all but ``handshake_failure`` (which a flaky handshake may also end in) are final and never
retried. Any other alert (``internal_error``, ``protocol_version``…) says nothing of the certificate: it is
retried like a dropped connection, then SII is unavailable (status 4).
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass

from dtehub.sii.errors import CertificateRefused, SiiTlsError


@dataclass(frozen=True)
class AlertMeaning:
    said: str
    """What SII says with the alert, about the certificate of ``{holder}``."""
    to_do: str
    """What the person can do about it."""
    final: bool = True
    """Trying again cannot change it: not retried."""


CERTIFICATE_ALERTS: dict[str, AlertMeaning] = {
    "unknown_ca": AlertMeaning(
        "SII does not accept certificates from this certification authority ({issuer})",
        "use a certificate from a certification authority accredited by SII",
    ),
    "certificate_expired": AlertMeaning(
        "SII considers the certificate of {holder} expired",
        "renew it with the certification authority that issued it",
    ),
    "certificate_revoked": AlertMeaning(
        "the certificate of {holder} has been revoked by its certification authority",
        "get a new certificate from the authority",
    ),
    "bad_certificate": AlertMeaning(
        "SII found the certificate of {holder} bad (damaged, not yet valid, or with a signature that "
        "does not verify)",
        "export the certificate again from the original or get a new one from its authority",
    ),
    "unsupported_certificate": AlertMeaning(
        "SII does not support this kind of certificate (its type or key usage) for logging in",
        "use the person's own certificate for electronic signature, as SII-accredited authorities issue",
    ),
    "certificate_unknown": AlertMeaning(
        "SII could not accept the certificate of {holder}",
        "check that it is the person's current certificate from an authority accredited by SII",
    ),
    "certificate_required": AlertMeaning(
        "SII requires a client certificate and received none it could use",
        "check that the PFX holds the person's certificate together with its private key",
    ),
    "access_denied": AlertMeaning(
        "SII accepted the certificate of {holder} but denied access with it",
        "check in SII's site that the person may log in with a certificate, or ask SII",
    ),
    "handshake_failure": AlertMeaning(
        "SII ended the TLS handshake: it found no certificate of {holder} it accepts, or no TLS settings "
        "in common with dtehub",
        "check that the PFX holds the person's certificate and key from an authority accredited by SII",
        final=False,
    ),
}
"""SII's verdicts on a certificate, by the alert's RFC 8446 name. ``{holder}`` is the holder's RUT and
``{issuer}`` the name of the authority that issued the certificate."""

_ALERT_REASON = re.compile(r"(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)")


def alert_name(error: ssl.SSLError) -> str | None:
    """The alert the peer sent, by its RFC 8446 name (``unknown_ca``), or None when ``error`` is no
    alert received (a local failure, a bad record, an unexpected EOF)."""
    match = _ALERT_REASON.fullmatch(error.reason or "")
    return match.group(1).lower() if match else None


def ssl_error_in(error: BaseException) -> ssl.SSLError | None:
    """The :class:`ssl.SSLError` behind ``error`` (itself, or along its causes: httpx → httpcore → ssl)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def alert_in(error: BaseException) -> str | None:
    """The TLS alert behind ``error``, if it is one."""
    cause = ssl_error_in(error)
    return alert_name(cause) if cause is not None else None


def is_final(alert: str | None) -> bool:
    """Whether ``alert`` is SII's last word on the certificate: retrying cannot change it."""
    meaning = CERTIFICATE_ALERTS.get(alert or "")
    return meaning is not None and meaning.final


def refusal(alert: str, *, holder: str, issuer: str, host: str) -> CertificateRefused:
    """SII's refusal of the certificate of ``holder`` with ``alert`` (one of :data:`CERTIFICATE_ALERTS`),
    in words a person can act on."""
    meaning = CERTIFICATE_ALERTS[alert]
    said = meaning.said.format(holder=holder, issuer=issuer)
    return CertificateRefused(
        f"SII ({host}) refused the certificate of {holder} in the TLS handshake (alert {alert}): "
        f"{said}; {meaning.to_do}",
        alert=alert,
    )


def unexplained(alert: str, *, host: str) -> SiiTlsError:
    """An alert that says nothing of the certificate, once the retries are spent."""
    return SiiTlsError(f"SII ({host}) ended the TLS connection with alert {alert}; retry later")
