"""``mipyme_get_document``'s statuses: the one place that maps the SII client's errors onto them.

Koywe's statuses 0, 1, 2, 3 and 5, and dtehub's own 4 (SII unavailable: the caller may retry later), each
with its HTTP status.
"""

from __future__ import annotations

import enum

from dtehub.sii.errors import (
    CertificateError,
    DocumentNotFound,
    InvalidRequest,
    LoginError,
    SiiError,
    SiiUnavailable,
)


class MipymeStatus(enum.IntEnum):
    SUCCESS = 0
    INVALID_PARAMETERS = 1
    CERTIFICATE_ERROR = 2
    SII_LOGIN_ERROR = 3
    SII_UNAVAILABLE = 4
    DOCUMENT_NOT_FOUND = 5

    @property
    def http_status(self) -> int:
        return _HTTP[self]


_HTTP = {
    MipymeStatus.SUCCESS: 200,
    MipymeStatus.INVALID_PARAMETERS: 400,
    MipymeStatus.CERTIFICATE_ERROR: 422,
    MipymeStatus.SII_LOGIN_ERROR: 502,
    MipymeStatus.SII_UNAVAILABLE: 503,
    MipymeStatus.DOCUMENT_NOT_FOUND: 404,
}

_BY_ERROR: tuple[tuple[type[SiiError], MipymeStatus], ...] = (
    (InvalidRequest, MipymeStatus.INVALID_PARAMETERS),
    (CertificateError, MipymeStatus.CERTIFICATE_ERROR),
    (LoginError, MipymeStatus.SII_LOGIN_ERROR),
    (SiiUnavailable, MipymeStatus.SII_UNAVAILABLE),
    (DocumentNotFound, MipymeStatus.DOCUMENT_NOT_FOUND),
)


def status_of(error: SiiError) -> MipymeStatus:
    for kind, status in _BY_ERROR:
        if isinstance(error, kind):
            return status
    return MipymeStatus.SII_UNAVAILABLE
