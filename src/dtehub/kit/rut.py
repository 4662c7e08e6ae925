"""Chilean RUTs, in the canonical form dtehub stores and shows: ``76453707-6`` (no dots, hyphen, upper K).

Parsing and the check digit are cl-sii's; this module only decides what input we accept.
"""

from __future__ import annotations

from typing import Annotated

from cl_sii.rut import Rut
from pydantic import AfterValidator


class InvalidRut(ValueError):
    """The text is not a RUT, or its check digit is wrong."""


def normalize_rut(value: str) -> str:
    """Return the canonical RUT for ``value`` (dots, spaces and lowercase k accepted).

    A hyphen-less value such as ``764537076`` is read as digits followed by the check digit.
    """
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


RutStr = Annotated[str, AfterValidator(_validate)]
"""A request field holding a RUT; normalized to canonical form, refused with a 400 when invalid."""
