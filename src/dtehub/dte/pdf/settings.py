"""What a printed DTE needs beyond the XML: the issuer's settings at SII, its logo, the paper."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class Paper(enum.StrEnum):
    """The layouts dtehub prints: a letter page, or an 80 mm thermal roll (``?format=80mm``)."""

    LETTER = "letter"
    ROLL_80MM = "80mm"


@dataclass(frozen=True)
class IssuerPrintSettings:
    """The company's settings that appear on its printed documents."""

    resolution_number: int | None = None
    """Número of SII's resolution authorizing the issuer (``Res. <number> de <year>`` under the timbre)."""
    resolution_date: date | None = None
    """Fecha of that resolution; its year is printed."""
    sii_office: str = ""
    """The SII office (unidad) of the issuer, printed as ``S.I.I. - <office>`` under the red box."""
    logo_png: bytes | None = None
    """The company's logo as a PNG that dtehub re-encoded (bounded size), or None."""
    logo_sha256: str | None = None
    """The logo's SHA-256, so that a renderer may cache the decoded image."""
