"""Reading printed PDFs back as a person (or a barcode scanner) would."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdfium2 as pdfium
import zxingcpp
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from dtehub.dte.reader import dte_elements
from dtehub.dte.ted import ted_barcode_payload
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES, parse_untrusted

LETTER = (612, 792)
ROLL_WIDTH = 80 / 25.4 * 72  # 226.77 pt
DPI = 300


def payload(content: bytes) -> bytes:
    """What the timbre's barcode must hold: the TED's payload, computed apart from the renderer."""
    return ted_barcode_payload(dte_elements(parse_untrusted(content, max_bytes=DEFAULT_MAX_XML_BYTES))[0])


def pages(pdf: bytes) -> list[str]:
    """Each page's text with its whitespace collapsed, as one reads it."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def text(pdf: bytes) -> str:
    return " ".join(pages(pdf))


def sizes(pdf: bytes) -> list[tuple[float, float]]:
    reader = PdfReader(io.BytesIO(pdf))
    return [(float(page.mediabox.width), float(page.mediabox.height)) for page in reader.pages]


def images(pdf: bytes, page: int = 0) -> int:
    """How many image XObjects page ``page`` uses."""
    resources = PdfReader(io.BytesIO(pdf)).pages[page].get("/Resources")
    assert isinstance(resources, DictionaryObject)
    xobjects = resources.get("/XObject")
    if xobjects is None:
        return 0
    return sum(1 for ref in xobjects.get_object().values() if ref.get_object().get("/Subtype") == "/Image")


@dataclass(frozen=True)
class Scanned:
    content: bytes
    width_pt: float
    height_pt: float


def scan(pdf: bytes, page: int = 0, dpi: int = DPI) -> list[Scanned]:
    """The PDF417 symbols a scanner finds on page ``page`` rendered at ``dpi``."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[page].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.PDF417)
    scanned = []
    for barcode in found:
        corners = barcode.position
        xs = [corners.top_left.x, corners.top_right.x, corners.bottom_left.x, corners.bottom_right.x]
        ys = [corners.top_left.y, corners.top_right.y, corners.bottom_left.y, corners.bottom_right.y]
        to_pt = 72 / dpi
        scanned.append(Scanned(barcode.bytes, (max(xs) - min(xs)) * to_pt, (max(ys) - min(ys)) * to_pt))
    return scanned
