"""``mipyme_get_document``'s statuses: Koywe's 0, 1, 2, 3 and 5, and dtehub's own 4 (SII unavailable: the
caller may retry later). Which error answers which status, with which HTTP status, is the table of
:mod:`dtehub.errors_http`."""

from __future__ import annotations

import enum


class MipymeStatus(enum.IntEnum):
    SUCCESS = 0
    INVALID_PARAMETERS = 1
    CERTIFICATE_ERROR = 2
    SII_LOGIN_ERROR = 3
    SII_UNAVAILABLE = 4
    DOCUMENT_NOT_FOUND = 5
