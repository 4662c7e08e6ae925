"""A DTE on an 80 mm thermal roll: one page, one column, as long as the document.

Thermal printers print about 72 mm of the 80 mm paper, so everything, the barcode included, stays within
that width; the page is cut to the content's height (a roll has no pages to count).
"""

from __future__ import annotations

from reportlab.lib.utils import ImageReader

from dtehub.dte.pdf import _blocks
from dtehub.dte.pdf._sheet import GREY, Sheet, write_roll
from dtehub.dte.pdf._text import BOLD, REGULAR, fit, width, wrap
from dtehub.dte.pdf._view import Line, PrintedDte

PAGE_WIDTH = 80 / 25.4 * 72  # 226.77 pt
MARGIN = 4 / 25.4 * 72  # (80 - 72) / 2 mm
WIDTH = PAGE_WIDTH - 2 * MARGIN
CENTER = WIDTH / 2
BARCODE_MAX = (WIDTH - 6, 150.0)  # a little quiet zone each side
LOGO_BOX = (150.0, 56.0)
SIZE = 7.5
SMALL = 6.5


def render_roll(doc: PrintedDte, logo: ImageReader | None) -> bytes:
    body = Sheet()
    y = 0.0
    if logo is not None:
        pixels_wide, pixels_high = logo.getSize()
        scale = min(LOGO_BOX[0] / pixels_wide, LOGO_BOX[1] / pixels_high)
        logo_width, logo_height = pixels_wide * scale, pixels_high * scale
        body.image(logo, CENTER - logo_width / 2, y, logo_width, logo_height)
        y += logo_height + 8

    box_width = min(WIDTH, 190.0)
    box = _blocks.red_box(doc, box_width, size=10, office_size=8)
    body.place(box, CENTER - box_width / 2, y)
    y += box.height + 6

    for line in wrap(doc.issuer_name, BOLD, 9, WIDTH, 3):
        y += 11
        body.text(CENTER, y, line, BOLD, 9, align="center")
    for item in doc.issuer_lines:
        for line in wrap(item, REGULAR, SIZE, WIDTH, 3):
            y += 9
            body.text(CENTER, y, line, REGULAR, SIZE, align="center")
    y = _rule(body, y + 5)

    parties = _blocks.pairs(doc.receiver + doc.terms, WIDTH, 80, SIZE)
    body.place(parties, 0, y)
    y = _rule(body, y + parties.height + 4)

    y += 9
    body.text(0, y, "Detalle", BOLD, SIZE)
    body.text(WIDTH, y, "Valor", BOLD, SIZE, align="right")
    y += 3
    for detail in doc.lines:
        y = _line(body, detail, y)
    y = _rule(body, y + 2)

    for label, amount in doc.adjustments:
        room = WIDTH - width(amount, REGULAR, SIZE) - 6
        labels = wrap(label, REGULAR, SIZE, room, 2) or [""]
        body.text(WIDTH, y + 9, amount, REGULAR, SIZE, align="right")
        for text in labels:
            y += 9
            body.text(0, y, text, REGULAR, SIZE)
    if doc.adjustments:
        y += 4
    totals = _blocks.totals(doc.totals, WIDTH, SIZE)
    body.place(totals, 0, y)
    y += totals.height + 6

    if doc.references:
        y += 9
        body.text(0, y, "Referencias", BOLD, SIZE)
        for reference in doc.references:
            dated = f" del {reference.date}" if reference.date else ""
            for text in wrap(f"{reference.type_name} N° {reference.folio}{dated}", REGULAR, SIZE, WIDTH, 3):
                y += 9
                body.text(0, y, text, REGULAR, SIZE)
            for text in wrap(reference.reason, REGULAR, SMALL, WIDTH, 3):
                y += 8
                body.text(0, y, text, REGULAR, SMALL, color=GREY)
            y += 2
        y += 6

    timbre = _blocks.timbre(doc, WIDTH, BARCODE_MAX[0], BARCODE_MAX[1], 7)
    body.place(timbre, 0, y + 4)
    y += 4 + timbre.height

    if doc.cedible is not None:
        acuse = _blocks.acuse(WIDTH, 7)
        body.place(acuse, 0, y + 8)
        y += 8 + acuse.height
        word = _blocks.cedible_word(doc.cedible, WIDTH, 13)
        body.place(word, 0, y + 5)
        y += 5 + word.height

    page = Sheet()
    page.place(body, MARGIN, 14)
    page.height = 14 + y + 16
    return write_roll(page, PAGE_WIDTH, title=f"{doc.type_name} N° {doc.folio}")


def _rule(sheet: Sheet, y: float) -> float:
    sheet.rule(0, y, WIDTH, y, color=GREY, line_width=0.5)
    return y + 3


def _line(sheet: Sheet, line: Line, y: float) -> float:
    """A detail line: its name with the amount on the right, the description, then code, quantity,
    unit price, discount and surcharge in small print."""
    amount = fit(line.amount, REGULAR, SIZE, WIDTH * 0.4)
    room = WIDTH - width(amount, REGULAR, SIZE) - 8
    names = wrap(line.name, REGULAR, SIZE, room, 3) or [""]
    sheet.text(WIDTH, y + 9, amount, REGULAR, SIZE, align="right")
    for text in names:
        y += 9
        sheet.text(0, y, text, REGULAR, SIZE)
    for text in wrap(line.description, REGULAR, SMALL, WIDTH, 6):
        y += 8
        sheet.text(0, y, text, REGULAR, SMALL, color=GREY)
    parts = []
    if line.code:
        parts.append(f"Cód. {line.code}")
    if line.quantity or line.unit_price:
        quantity = " ".join(part for part in (line.quantity, line.unit) if part)
        parts.append(f"{quantity} x {line.unit_price}" if line.unit_price else quantity)
    if line.discount:
        parts.append(f"Dscto. {line.discount}")
    if line.surcharge:
        parts.append(f"Recargo {line.surcharge}")
    for text in wrap(" · ".join(parts), REGULAR, SMALL, WIDTH, 2):
        y += 8
        sheet.text(0, y, text, REGULAR, SMALL, color=GREY)
    return y + 4
