"""The SII client's exception tree, a branch of dtehub's (:class:`dtehub.errors.DtehubError`). Each class
answers one of ``mipyme_get_document``'s statuses (the RCV client's too), with its HTTP status: one row each
in the table of :mod:`dtehub.errors_http`.

    SiiError                      sii_error                  4  anything else from SII: retry later
    ├── InvalidRequest            invalid_parameter          1  a parameter SII would never accept (checked
    │                                                           before any connection)
    ├── CertificateError          certificate_error          2  the person's certificate cannot be used
    │   ├── CertificateUnreadable     certificate_unreadable     not a PKCS#12, a wrong password, no key
    │   ├── CertificateWithoutRut     certificate_without_rut    it names no RUT
    │   ├── CertificateUnusable       certificate_unusable       its key cannot be used for TLS
    │   ├── CertificateExpired        certificate_expired
    │   ├── CertificateNotYetValid    certificate_not_yet_valid
    │   └── HolderNotAuthorized       holder_not_authorized      no authorized user of the company in MIPYME
    │       └── NotRepresentative         sii_not_representative     SII's RCV: the holder cannot
    │                                                                  represent the company (not retried)
    ├── LoginError                sii_login_error            3  SII refused the certificate login (its code)
    │   ├── CertificateRefused        sii_tls_<alert>            … with a TLS alert in the handshake
    │   └── SessionLost               sii_login_error            SII no longer knows the session
    ├── SiiUnavailable            sii_unavailable            4  connection errors, 5xx, pages we do not
    │   │                                                       recognize: retry later
    │   ├── SiiTimeout                sii_timeout                no answer within the request's time
    │   ├── SiiBusy                   sii_busy                   every session of the person is in use
    │   ├── SiiTlsError               sii_tls_error              a TLS alert that says nothing of the
    │   │                                                          certificate
    │   └── RcvUnreadable             sii_rcv_unreadable         an RCV answer dtehub cannot read (not JSON,
    │                                                              an unknown CSV header)
    ├── RcvRefused                sii_rcv_refused            4  SII's RCV refused the query: its code and
    │                                                           words (not retried)
    └── DocumentNotFound          document_not_found         5  no such document of the company in MIPYME

Messages say what happened in words a person can act on, and never hold a password, a certificate or a
session cookie.
"""

from __future__ import annotations

from dtehub.errors import DtehubError


class SiiError(DtehubError):
    code = "sii_error"


class InvalidRequest(SiiError):
    code = "invalid_parameter"


class CertificateError(SiiError):
    code = "certificate_error"


class CertificateUnreadable(CertificateError):
    code = "certificate_unreadable"


class CertificateWithoutRut(CertificateError):
    code = "certificate_without_rut"


class CertificateUnusable(CertificateError):
    code = "certificate_unusable"


class CertificateExpired(CertificateError):
    code = "certificate_expired"


class CertificateNotYetValid(CertificateError):
    code = "certificate_not_yet_valid"


class HolderNotAuthorized(CertificateError):
    code = "holder_not_authorized"


class LoginError(SiiError):
    code = "sii_login_error"

    def __init__(self, message: str, *, sii_code: str | None = None) -> None:
        super().__init__(message)
        self.sii_code = sii_code
        """SII's own login code (its last two digits), when its page gave one."""


class CertificateRefused(LoginError):
    """SII's TLS alert about the certificate (:mod:`dtehub.sii.alerts` says what each one means)."""

    code = "sii_tls_alert"

    def __init__(self, message: str, *, alert: str) -> None:
        super().__init__(message)
        self.alert = alert
        """The alert's RFC 8446 name, e.g. ``unknown_ca``."""
        self.code = f"sii_tls_{alert}"


class SessionLost(LoginError):
    """SII no longer knows the session (expired, too old, or its company selection is gone)."""


class SiiUnavailable(SiiError):
    code = "sii_unavailable"


class SiiTimeout(SiiUnavailable):
    code = "sii_timeout"


class SiiBusy(SiiUnavailable):
    code = "sii_busy"


class SiiTlsError(SiiUnavailable):
    """A TLS alert that says nothing of the certificate, once the retries are spent."""

    code = "sii_tls_error"


class DocumentNotFound(SiiError):
    code = "document_not_found"


class NotRepresentative(HolderNotAuthorized):
    """SII's RCV says the certificate's holder may not represent the company."""

    code = "sii_not_representative"


class RcvUnreadable(SiiUnavailable):
    code = "sii_rcv_unreadable"


class RcvRefused(SiiError):
    """SII's RCV answered a query with a code that refuses it; the message holds SII's own words."""

    code = "sii_rcv_refused"

    def __init__(self, message: str, *, field: str | None = None, sii_code: int | None = None) -> None:
        super().__init__(message, field=field)
        self.sii_code = sii_code
        """``respEstado.codRespuesta``, or None for a refusal by HTTP status."""
