"""A DTE on letter paper, as many pages as its lines need.

Page 1 carries the header (logo and issuer top left, SII's red box top right, the receiver and the
terms); the detail table runs on over as many pages as it needs, each continuation page headed by the
type, folio and issuer so that a loose page is still identified; the last page ends with references,
global discounts, the timbre (bottom left), the totals and, on a CEDIBLE copy, the acuse de recibo.
Every page says "Página n de m".
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.utils import ImageReader

from dtehub.dte.pdf import _blocks
from dtehub.dte.pdf._sheet import GREY, LIGHT, SHADE, Sheet, write_pages
from dtehub.dte.pdf._text import BOLD, REGULAR, fit, wrap
from dtehub.dte.pdf._view import Line, PrintedDte

PAGE = (612.0, 792.0)  # US letter in points
MARGIN = 36.0
LEFT, RIGHT = MARGIN, PAGE[0] - MARGIN
WIDTH = RIGHT - LEFT
TOP = 34.0
BOTTOM = PAGE[1] - 42.0  # content ends above the page number
BOX_WIDTH = 196.0
LOGO_BOX = (130.0, 64.0)
# SII's limits for the printed timbre: at least 2 × 5 cm, at most 4 × 9 cm.
BARCODE_MAX = (9 / 2.54 * 72 - 1, 4 / 2.54 * 72 - 1)
TIMBRE_WIDTH = 300.0
SIDE_WIDTH = 220.0
GAP = 10.0
SIZE = 8.0


@dataclass(frozen=True)
class _Column:
    title: str
    width: float
    right: bool


def render_letter(doc: PrintedDte, logo: ImageReader | None) -> bytes:
    columns = _columns(doc.lines)
    # What follows the header, in order: (block, is a table row, space above it).
    flow: list[tuple[Sheet, bool, float]] = [(_row(line, columns), True, 0.0) for line in doc.lines]
    flow.extend((block, False, space) for block, space in _references(doc))
    flow.extend((block, False, space) for block, space in _adjustments(doc))
    flow.append((_closing(doc), False, GAP))

    pages: list[Sheet] = []
    page = Sheet()
    y = _header(page, doc, logo)
    y = _parties(page, doc, y)
    y = _table_header(page, columns, y)
    for block, is_row, space in flow:
        if y + space + block.height > BOTTOM:
            pages.append(page)
            page = Sheet()
            y = _continuation(page, doc)
            if is_row:
                y = _table_header(page, columns, y)
            space = 0.0
        page.place(block, LEFT, y + space)
        y += space + block.height
    pages.append(page)

    for number, sheet in enumerate(pages, 1):
        footer = f"Página {number} de {len(pages)}"
        sheet.text(RIGHT, PAGE[1] - 22, footer, REGULAR, 7, color=GREY, align="right")
    return write_pages(pages, PAGE, title=f"{doc.type_name} N° {doc.folio}")


# --- page 1 ------------------------------------------------------------------------------------------


def _header(page: Sheet, doc: PrintedDte, logo: ImageReader | None) -> float:
    box = _blocks.red_box(doc, BOX_WIDTH, size=11.5, office_size=9)
    page.place(box, RIGHT - BOX_WIDTH, TOP)

    x = LEFT
    logo_height = 0.0
    if logo is not None:
        pixels_wide, pixels_high = logo.getSize()
        scale = min(LOGO_BOX[0] / pixels_wide, LOGO_BOX[1] / pixels_high)
        logo_width, logo_height = pixels_wide * scale, pixels_high * scale
        page.image(logo, LEFT, TOP, logo_width, logo_height)
        x += logo_width + 10
    room = RIGHT - BOX_WIDTH - 14 - x
    y = TOP
    for line in wrap(doc.issuer_name, BOLD, 12, room, 2):
        y += 13.5
        page.text(x, y, line, BOLD, 12)
    y += 3
    for item in doc.issuer_lines:
        for line in wrap(item, REGULAR, SIZE, room, 2):
            y += 10
            page.text(x, y, line, REGULAR, SIZE)
    return max(TOP + box.height, TOP + logo_height, y + 4) + GAP


def _parties(page: Sheet, doc: PrintedDte, y: float) -> float:
    """The receiver (left) and the dates and terms (right) in one ruled box."""
    pad = 6.0
    left_width = 320.0
    receiver = _blocks.pairs(doc.receiver, left_width - 3 * pad, 72, SIZE)
    terms = _blocks.pairs(doc.terms, WIDTH - left_width - pad, 96, SIZE)
    height = max(receiver.height, terms.height) + 2 * pad - 1
    page.box(LEFT, y, WIDTH, height, stroke=GREY, line_width=0.6)
    page.place(receiver, LEFT + pad, y + pad)
    page.place(terms, LEFT + left_width, y + pad)
    return y + height + GAP


def _continuation(page: Sheet, doc: PrintedDte) -> float:
    page.text(LEFT, TOP + 10, fit(f"{doc.type_name} N° {doc.folio}", BOLD, 10, WIDTH * 0.6), BOLD, 10)
    page.text(RIGHT, TOP + 10, f"R.U.T.: {doc.issuer_rut}", BOLD, 10, align="right")
    page.text(LEFT, TOP + 22, fit(f"{doc.issuer_name} (continuación)", REGULAR, SIZE, WIDTH), REGULAR, SIZE)
    page.rule(LEFT, TOP + 28, RIGHT, TOP + 28, color=GREY)
    return TOP + 28 + GAP


# --- the detail table --------------------------------------------------------------------------------


def _columns(lines: tuple[Line, ...]) -> list[_Column]:
    """The table's columns: code, unit, discount and surcharge only when some line has them; the
    description takes what the others leave."""
    fixed = [
        _Column("Código", 60, False) if any(line.code for line in lines) else None,
        _Column("Cantidad", 46, True),
        _Column("Unidad", 36, False) if any(line.unit for line in lines) else None,
        _Column("P. unitario", 64, True),
        _Column("Descuento", 48, True) if any(line.discount for line in lines) else None,
        _Column("Recargo", 44, True) if any(line.surcharge for line in lines) else None,
        _Column("Valor", 70, True),
    ]
    present = [column for column in fixed if column is not None]
    description = _Column("Descripción", WIDTH - sum(column.width for column in present), False)
    code_first = 1 if present and present[0].title == "Código" else 0
    present.insert(code_first, description)
    return present


def _table_header(page: Sheet, columns: list[_Column], y: float) -> float:
    page.box(LEFT, y, WIDTH, 14, stroke=None, fill=SHADE)
    x = LEFT
    for column in columns:
        if column.right:
            page.text(x + column.width - 3, y + 9.5, column.title, BOLD, 7.5, align="right")
        else:
            page.text(x + 3, y + 9.5, column.title, BOLD, 7.5)
        x += column.width
    return y + 14


def _row(line: Line, columns: list[_Column]) -> Sheet:
    sheet = Sheet()
    cells = {
        "Código": line.code,
        "Cantidad": line.quantity,
        "Unidad": line.unit,
        "P. unitario": line.unit_price,
        "Descuento": line.discount,
        "Recargo": line.surcharge,
        "Valor": line.amount,
    }
    x = 0.0
    y = 3.0
    names: list[str] = []
    descriptions: list[str] = []
    for column in columns:
        room = column.width - 6
        if column.title == "Descripción":
            names = wrap(line.name, REGULAR, SIZE, room, 3) or [""]
            descriptions = wrap(line.description, REGULAR, 7, room, 12)
            text_y = y
            for name in names:
                text_y += 9.5
                sheet.text(x + 3, text_y, name, REGULAR, SIZE)
            for description in descriptions:
                text_y += 8.5
                sheet.text(x + 3, text_y, description, REGULAR, 7, color=GREY)
        else:
            value = fit(cells[column.title], REGULAR, SIZE, room)
            if column.right:
                sheet.text(x + column.width - 3, y + 9.5, value, REGULAR, SIZE, align="right")
            else:
                sheet.text(x + 3, y + 9.5, value, REGULAR, SIZE)
        x += column.width
    sheet.height = y + 9.5 * len(names) + 8.5 * len(descriptions) + 4
    sheet.rule(0, sheet.height, WIDTH, sheet.height, color=LIGHT, line_width=0.4)
    return sheet


# --- the last page's end -----------------------------------------------------------------------------


def _closing(doc: PrintedDte) -> Sheet:
    """The timbre (left) beside the totals and, on a CEDIBLE copy, the acuse de recibo and the word
    CEDIBLE (right)."""
    sheet = Sheet()
    timbre = _blocks.timbre(doc, TIMBRE_WIDTH, BARCODE_MAX[0], BARCODE_MAX[1], SIZE)
    side_x = WIDTH - SIDE_WIDTH
    totals = _blocks.totals(doc.totals, SIDE_WIDTH, SIZE)
    sheet.place(totals, side_x, 0)
    side_y = totals.height
    if doc.cedible is not None:
        acuse = _blocks.acuse(SIDE_WIDTH, 7.5)
        sheet.place(acuse, side_x, side_y + GAP)
        side_y += GAP + acuse.height
        word = _blocks.cedible_word(doc.cedible, SIDE_WIDTH, 16)
        sheet.place(word, side_x, side_y + 6)
        side_y += 6 + word.height
    # The timbre goes to the bottom left, level with the end of the right column.
    timbre_y = max(0.0, side_y - timbre.height)
    sheet.place(timbre, 0, timbre_y)
    sheet.height = max(side_y, timbre_y + timbre.height)
    return sheet


_REFERENCE_WIDTHS = (180.0, 80.0, 104.0, WIDTH - 364.0)
_REFERENCE_TITLES = ("Documento de referencia", "Folio", "Fecha", "Razón")


def _references(doc: PrintedDte) -> list[tuple[Sheet, float]]:
    """The references table: its title and header with the first row (never apart), then a block per
    row, so that forty references can run onto another page."""
    blocks: list[tuple[Sheet, float]] = []
    for index, reference in enumerate(doc.references):
        sheet = Sheet()
        y = 0.0
        if index == 0:
            sheet.text(0, 8, "Referencias", BOLD, SIZE)
            y = 12.0
            sheet.box(0, y, WIDTH, 12, stroke=None, fill=SHADE)
            x = 0.0
            for title, column_width in zip(_REFERENCE_TITLES, _REFERENCE_WIDTHS, strict=True):
                sheet.text(x + 3, y + 8.5, title, BOLD, 7.5)
                x += column_width
            y += 12
        reasons = wrap(reference.reason, REGULAR, 7.5, _REFERENCE_WIDTHS[3] - 6, 2) or [""]
        cells = (reference.type_name, reference.folio, reference.date)
        x = 0.0
        for cell, column_width in zip(cells, _REFERENCE_WIDTHS, strict=False):
            sheet.text(x + 3, y + 9, fit(cell, REGULAR, 7.5, column_width - 6), REGULAR, 7.5)
            x += column_width
        for line_number, reason in enumerate(reasons):
            sheet.text(x + 3, y + 9 + 9 * line_number, reason, REGULAR, 7.5)
        y += 9 * len(reasons) + 3
        sheet.rule(0, y, WIDTH, y, color=LIGHT, line_width=0.4)
        sheet.height = y
        blocks.append((sheet, GAP if index == 0 else 0.0))
    return blocks


def _adjustments(doc: PrintedDte) -> list[tuple[Sheet, float]]:
    """Global discounts and surcharges, beside the totals' column: the title with the first, then one
    block each (twenty are allowed)."""
    blocks: list[tuple[Sheet, float]] = []
    block_width = WIDTH - SIDE_WIDTH - GAP
    for index, (label, amount) in enumerate(doc.adjustments):
        sheet = Sheet()
        y = 0.0
        if index == 0:
            sheet.text(0, 8, "Descuentos y recargos globales", BOLD, SIZE)
            y = 10.0
        sheet.text(block_width, y + 9, amount, REGULAR, SIZE, align="right")
        sheet.text(0, y + 9, fit(label, REGULAR, SIZE, block_width - 90), REGULAR, SIZE)
        sheet.height = y + 12
        blocks.append((sheet, GAP if index == 0 else 0.0))
    return blocks
