"""The SII client's one exception tree. Each class is one of ``mipyme_get_document``'s statuses (the
mapping to statuses and HTTP codes is :mod:`dtehub.mipyme.statuses`, the one place that knows it).

    SiiError
    ├── InvalidRequest        1  a parameter SII would never accept (checked before any connection)
    ├── CertificateError      2  the PFX does not load, has no RUT, is not valid now…
    │   └── HolderNotAuthorized  the holder is no authorized user of the company in MIPYME
    ├── LoginError            3  SII refused the certificate login (its alert or error code, TLS refusal)
    │   └── CertificateRefused   SII refused the certificate in the TLS handshake with a TLS alert
    ├── SiiUnavailable        4  timeouts, connection errors, 5xx, pages we do not recognize: retry later
    └── DocumentNotFound      5  no such document of the company in MIPYME

Messages say what happened in words a person can act on, and never hold a password, a certificate or a
session cookie.
"""

from __future__ import annotations


class SiiError(Exception):
    code = "sii_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field


class InvalidRequest(SiiError):
    code = "invalid_parameter"


class CertificateError(SiiError):
    code = "certificate_error"


class HolderNotAuthorized(CertificateError):
    code = "holder_not_authorized"


class LoginError(SiiError):
    code = "sii_login_error"

    def __init__(self, message: str, *, sii_code: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.sii_code = sii_code


class CertificateRefused(LoginError):
    """SII's TLS alert about the certificate (:mod:`dtehub.sii.alerts` says what each one means)."""

    def __init__(self, message: str, *, alert: str) -> None:
        super().__init__(message, code=f"sii_tls_{alert}")
        self.alert = alert
        """The alert's RFC 8446 name, e.g. ``unknown_ca``."""


class SiiUnavailable(SiiError):
    code = "sii_unavailable"


class DocumentNotFound(SiiError):
    code = "document_not_found"
