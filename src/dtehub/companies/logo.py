"""The company logo: any PNG or JPEG a company uploads becomes a small PNG that dtehub made itself.

Re-encoding drops metadata and anything a crafted file could smuggle to a PDF viewer or a browser, and
bounds what every printed page has to carry. The pixel count is checked from the header before any
pixel is decoded (a decompression bomb is refused, not decoded).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

MAX_LOGO_BYTES = 1024 * 1024
MAX_SOURCE_PIXELS = 25_000_000
LOGO_BOX = (600, 300)
_ACCEPTED_FORMATS = frozenset({"PNG", "JPEG"})


class InvalidLogo(ValueError):
    """The upload is not a PNG or JPEG image dtehub can use."""


@dataclass(frozen=True)
class NormalizedLogo:
    png: bytes
    width: int
    height: int
    sha256: str


def normalize_logo(data: bytes) -> NormalizedLogo:
    """A PNG of at most 600×300 pixels (aspect kept) from a PNG or JPEG upload."""
    too_many_pixels = InvalidLogo("the logo has more than 25 megapixels; a logo needs far fewer")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; dtehub refuses both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=sorted(_ACCEPTED_FORMATS))
        with image:
            width, height = image.size
            if width * height > MAX_SOURCE_PIXELS:
                raise too_many_pixels
            if image.format == "JPEG":  # decode at a reduced scale: the logo is shrunk anyway
                image.draft("RGB", (LOGO_BOX[0] * 2, LOGO_BOX[1] * 2))
            image.load()
            converted = image.convert("RGBA")
    except InvalidLogo:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidLogo("the logo must be a PNG or JPEG image") from None
    converted.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    converted.save(out, format="PNG", optimize=True)  # every portal page carries it inline
    png = out.getvalue()
    return NormalizedLogo(
        png=png, width=converted.width, height=converted.height, sha256=hashlib.sha256(png).hexdigest()
    )
