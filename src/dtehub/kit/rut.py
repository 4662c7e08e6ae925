"""Chilean RUTs, in the canonical form dtehub stores and shows: ``76453707-6`` (no dots, hyphen, upper K).

Parsing and the check digit are cl-sii's; this module only decides what input we accept.
"""

from __future__ import annotations

import re
from typing import Annotated

from cl_sii.rut import Rut
from pydantic import AfterValidator, WithJsonSchema

RUT_PATTERN = r"^[ .]*(?:0[ .]*)*(?:[0-9][ .]*){1,8}-?[ .]*[0-9kK][ .]*$"
"""What a RUT looks like as dtehub reads it: up to 8 digits (after any leading zeros) and the check
digit (0-9 or K, any case), an optional hyphen before it, dots and spaces anywhere (``76.453.707-6``,
``764537076``, ``96874030-k``).
The same text is the published pattern (ECMA-262 and Python read it alike)."""

TAX_CODE_PATTERN = (
    r"^(?![ .]*(?:0[ .]*)*(?:[0-9][ .]*){1,8}-?[ .]*[0-9kK][ .]*$)(?=[^0-9]*[0-9])"
    r"[A-Za-z0-9_./-](?:[A-Za-z0-9_./ -]{0,30}[A-Za-z0-9_./-])?$"
)
"""A foreign client's own tax code: 1 to 32 ASCII letters, digits, ``_ . - /`` and inner spaces, with at
least one digit, and not shaped like a RUT (a RUT-shaped value must be a valid RUT)."""

_RUT_SHAPE = re.compile(RUT_PATTERN)
_TAX_CODE = re.compile(TAX_CODE_PATTERN)

RUT_SCHEMA = {
    "type": "string",
    "format": "rut",
    "pattern": RUT_PATTERN,
    "description": "A Chilean RUT whose check digit (módulo 11) is right, not 0: e.g. 76453707-6",
    "examples": ["76453707-6"],
}


class InvalidRut(ValueError):
    """The text is not a RUT, or its check digit is wrong."""


def normalize_rut(value: str) -> str:
    """Return the canonical RUT for ``value`` (dots, spaces and lowercase k accepted).

    A hyphen-less value such as ``764537076`` is read as digits followed by the check digit.
    """
    if not _RUT_SHAPE.match(value.strip()):
        raise InvalidRut(f"{value!r} is not a RUT (expected e.g. 76453707-6)")
    text = value.strip().replace(".", "").replace(" ", "").upper()
    if text and "-" not in text and len(text) >= 2:
        text = f"{text[:-1]}-{text[-1]}"
    try:
        # ASCII only: cl-sii's pattern takes any Unicode digit (１２３…), which is no canonical form.
        if not text.isascii():
            raise ValueError(text)
        rut = Rut(text, validate_dv=False)
    except (ValueError, TypeError):
        raise InvalidRut(f"{value!r} is not a RUT (expected e.g. 76453707-6)") from None
    if int(rut.digits) == 0:
        raise InvalidRut(f"{value!r} is not a RUT (0 is never issued)")
    if rut.dv != rut.calc_dv(rut.digits):
        raise InvalidRut(f"RUT {value!r} has a wrong check digit (expected {rut.calc_dv(rut.digits)})")
    return str(rut.canonical)


def with_dots(canonical: str) -> str:
    """``76453707-6`` → ``76.453.707-6``, the way RUTs are printed."""
    return str(Rut(canonical).verbose)


def _validate(value: str) -> str:
    return normalize_rut(value)


RutStr = Annotated[str, AfterValidator(_validate), WithJsonSchema(RUT_SCHEMA)]
"""A request field holding a RUT; normalized to canonical form, refused with a 400 when invalid."""


def normalize_client_tax_id(value: str) -> str:
    """A client's tax id as given in a request: RUT-shaped values (``99.999.999-9``, ``96874030-k``) must
    be valid RUTs and are normalized; anything else (a foreign client's own tax code) is kept as given."""
    if _RUT_SHAPE.match(value.strip()):
        return normalize_rut(value)
    if not _TAX_CODE.match(value.strip()):
        raise InvalidRut(f"{value!r} is neither a RUT nor a tax code (up to 32 letters and digits)")
    return value.strip()


CLIENT_TAX_ID_SCHEMA = {
    "anyOf": [
        RUT_SCHEMA,
        {
            "type": "string",
            "pattern": TAX_CODE_PATTERN,
            "description": "A foreign client's tax code: up to 32 letters, digits, _ . - / and spaces, "
            "with a digit, not shaped like a RUT",
        },
    ]
}

ClientTaxId = Annotated[str, AfterValidator(normalize_client_tax_id), WithJsonSchema(CLIENT_TAX_ID_SCHEMA)]
"""A request field naming a client by tax id: a RUT (validated) or a foreign tax code."""


def printable_tax_id(tax_id: str) -> str:
    """A RUT as people read it, with dots (``76.453.707-6``); anything else (a foreign client's tax
    code, a malformed RUT read from a DTE) as it was given."""
    try:
        return with_dots(normalize_rut(tax_id))
    except (InvalidRut, ValueError, TypeError):
        return tax_id
