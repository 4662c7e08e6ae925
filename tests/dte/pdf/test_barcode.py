"""The timbre's symbol at the edge of PDF417's capacity: a large timbre keeps its barcode."""

from __future__ import annotations

import base64
import io
import random

from pdf417gen.compaction import compact
from reportlab.pdfgen.canvas import Canvas

from dtehub.dte.pdf._barcode import layout
from tests.dte.pdf.pdfs import scan

LETTER_BOX = (9 / 2.54 * 72 - 1, 4 / 2.54 * 72 - 1)
CAPACITY = 928 - 1 - 64  # code words for data at error correction level 5


def large_timbre() -> bytes:
    """A TED-like payload (markup around base64) whose mixed compaction overflows one symbol while
    byte compaction still fits: what a timbre with a long item name and a 1024-bit CAF key comes to."""
    rng = random.Random(7)
    key = base64.b64encode(rng.randbytes(200)).decode()
    signature = base64.b64encode(rng.randbytes(200)).decode()
    text = (
        f'<TED version="1.0"><DD><RE>76399752-9</RE><TD>33</TD><F>777</F><IT1>Silla ergonómica</IT1>'
        f"<CAF><DA><RSAPK><M>{key}</M><E>Aw==</E></RSAPK></DA><FRMA>{signature}</FRMA></CAF>"
        f"<TSTED>2024-03-15T10:00:00</TSTED></DD><FRMT>{signature}</FRMT></TED>"
    )
    return text.encode("latin-1")


def test_a_timbre_too_large_for_mixed_compaction_is_still_printed_and_read() -> None:
    payload = large_timbre()
    assert len(list(compact(payload))) > CAPACITY  # the case: text compaction would not fit

    barcode = layout(payload, *LETTER_BOX)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(612, 792), invariant=1)
    canvas.addLiteral(barcode.placed(50, 500))
    canvas.save()

    assert [symbol.content for symbol in scan(out.getvalue())] == [payload]
    assert barcode.width <= LETTER_BOX[0] + 1e-6
    assert barcode.height <= LETTER_BOX[1] + 1e-6
