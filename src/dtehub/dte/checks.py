"""The verdicts of the XML pipeline's checks (schema, XML signature, timbre), as the API shows them."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Verdict(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNSIGNED = "unsigned"  # signature only: the DTE carries no ds:Signature
    UNVERIFIABLE = "unverifiable"  # a certificate that cannot be read; a boleta's schema, not shipped
    ABSENT = "absent"  # TED only: the DTE carries no timbre


class Check(enum.StrEnum):
    SCHEMA = "schema"
    SIGNATURE = "signature"
    TED = "ted"


@dataclass(frozen=True)
class Problem:
    """Why a check did not say ``valid``: a stable ``code`` for programs and a ``message`` for people."""

    check: Check
    code: str
    message: str
