"""The company's logo, decoded once and kept (rendering a PDF is on the hot path)."""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

from PIL import Image, UnidentifiedImageError
from reportlab.lib.utils import ImageReader

_CACHE_SIZE = 32
_MAX_SIZE = (600, 300)  # what dtehub re-encodes uploads to; anything larger is shrunk, never trusted
_WHITE = (255, 255, 255)

_cache: OrderedDict[str, ImageReader | None] = OrderedDict()
_lock = threading.Lock()


def logo_image(png: bytes, sha256: str | None) -> ImageReader | None:
    """The logo ready to draw, or None when it cannot be decoded (the document prints without it)."""
    key = sha256 or hashlib.sha256(png).hexdigest()
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    reader = _decode(png)
    with _lock:
        _cache[key] = reader
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return reader


def _decode(png: bytes) -> ImageReader | None:
    try:
        return _prepare(png)
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return None


def _prepare(png: bytes) -> ImageReader:
    with Image.open(io.BytesIO(png)) as opened:
        opened.load()
        image = opened.copy()
    if image.width > _MAX_SIZE[0] or image.height > _MAX_SIZE[1]:
        image.thumbnail(_MAX_SIZE)
    # Paper is white: flattening transparency onto white here spares every render a soft mask (a second
    # image to compress) and looks the same.
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    reader = ImageReader(image)
    reader.getRGBData()  # decode now, under no lock, so that concurrent renders only read it
    return reader
