"""A one-page summary of a document created from fields: what it says, and that it is not a tax document.

Such a document has no XML and so no timbre; printing it like a DTE (red box, barcode) would pass a
summary off as the document SII knows. The page says so first, in a box no reader can miss.
"""

from __future__ import annotations

from reportlab.lib.utils import ImageReader

from dtehub.dte.document_types import dte_type_name
from dtehub.dte.pdf._sheet import GREY, RED, Sheet, write_pages, write_roll
from dtehub.dte.pdf._text import BOLD, REGULAR, clean, fit, long_date, short_date, width, wrap
from dtehub.dte.pdf.summary import DocumentSummary
from dtehub.kit.money import format_money
from dtehub.kit.rut import printable_tax_id

NOT_A_TAX_DOCUMENT = "RESUMEN: NO ES UN DOCUMENTO TRIBUTARIO"
NOT_A_TAX_DOCUMENT_DETAIL = (
    "Este resumen no es el documento tributario; el documento válido es el DTE timbrado emitido ante el SII."
)
_LETTER = (612.0, 792.0)
_ROLL_WIDTH = 80 / 25.4 * 72
_NOTES_LINES_ROLL = 80


def render_summary(summary: DocumentSummary, logo: ImageReader | None, *, roll: bool) -> bytes:
    title = f"{_type_name(summary)} N° {clean(summary.number)}"
    if roll:
        margin = 4 / 25.4 * 72
        body = _body(summary, logo, title, _ROLL_WIDTH - 2 * margin, 7.5, long_dates=False, bottom=None)
        page = Sheet()
        page.place(body, margin, 14)
        page.height = 14 + body.height + 16
        return write_roll(page, _ROLL_WIDTH, title=title)
    margin = 48.0
    body = _body(
        summary, logo, title, _LETTER[0] - 2 * margin, 9, long_dates=True, bottom=_LETTER[1] - 2 * margin
    )
    page = Sheet()
    page.place(body, margin, margin)
    return write_pages([page], _LETTER, title=title)


def _type_name(summary: DocumentSummary) -> str:
    return dte_type_name(summary.code) if summary.code else "Documento"


def _body(
    summary: DocumentSummary,
    logo: ImageReader | None,
    title: str,
    block_width: float,
    size: float,
    *,
    long_dates: bool,
    bottom: float | None,
) -> Sheet:
    sheet = Sheet()
    step = size * 1.35
    date_text = long_date if long_dates else short_date

    # The notice first: red, boxed, across the page.
    notice = wrap(NOT_A_TAX_DOCUMENT, BOLD, size + 2, block_width - 16, 2)
    detail = wrap(NOT_A_TAX_DOCUMENT_DETAIL, REGULAR, size, block_width - 16, 4)
    y = 6.0
    for line in notice:
        y += (size + 2) * 1.3
        sheet.text(block_width / 2, y, line, BOLD, size + 2, color=RED, align="center")
    for line in detail:
        y += step
        sheet.text(block_width / 2, y, line, REGULAR, size, color=RED, align="center")
    y += 8
    sheet.box(0, 0, block_width, y, stroke=RED, line_width=1.5)
    y += 12

    if logo is not None:
        pixels_wide, pixels_high = logo.getSize()
        scale = min(block_width * 0.4 / pixels_wide, 56 / pixels_high)
        sheet.image(logo, 0, y, pixels_wide * scale, pixels_high * scale)
        y += pixels_high * scale + 8

    for line in wrap(clean(summary.issuer_name), BOLD, size + 3, block_width, 2):
        y += (size + 3) * 1.3
        sheet.text(0, y, line, BOLD, size + 3)
    y += step
    sheet.text(0, y, f"R.U.T.: {_tax_id(summary.issuer_rut)}", REGULAR, size)
    y += 10
    for line in wrap(title, BOLD, size + 2, block_width, 2):
        y += (size + 2) * 1.3
        sheet.text(0, y, line, BOLD, size + 2)
    y += 6

    place = ", ".join(part for part in map(clean, (summary.client_comuna, summary.client_city)) if part)
    rows = [
        ("Cliente:", clean(summary.client_name)),
        ("R.U.T. / Id.:", _tax_id(summary.client_tax_id)),
        ("Dirección:", clean(summary.client_address)),
        ("Comuna, ciudad:", place),
        ("Fecha de emisión:", date_text(summary.issue_date)),
        ("Vencimiento:", date_text(summary.due_date) if summary.due_date else ""),
        ("Moneda:", clean(summary.currency).upper()),
        ("Orden de compra:", clean(summary.purchase_order)),
        ("Glosa:", clean(summary.gloss)),
    ]
    label_width = max(width(label, BOLD, size) for label, _ in rows) + 6
    for label, value in rows:
        if not value:
            continue
        lines = wrap(value, REGULAR, size, block_width - label_width, 3)
        y += step
        sheet.text(0, y, label, BOLD, size)
        for index, line in enumerate(lines):
            if index:
                y += step
            sheet.text(label_width, y, line, REGULAR, size)
    y += 8

    currency = clean(summary.currency).upper() or "CLP"
    amounts = [
        ("Neto", format_money(summary.net_cents, currency)),
        ("Impuestos", format_money(summary.taxes_cents, currency)),
        ("Total", format_money(summary.total_cents, currency)),
    ]
    column = min(block_width, 230.0)
    sheet.rule(block_width - column, y, block_width, y, color=GREY)
    for label, amount in amounts:
        font = BOLD if label == "Total" else REGULAR
        y += step + 1
        sheet.text(block_width - column, y, label, font, size + 1)
        sheet.text(block_width, y, fit(amount, font, size + 1, column - 60), font, size + 1, align="right")
    y += 12

    notes = [clean(paragraph) for paragraph in summary.notes.splitlines()]
    if any(notes):
        y += step
        sheet.text(0, y, "Notas", BOLD, size)
        room_lines = _NOTES_LINES_ROLL if bottom is None else max(1, int((bottom - y) // step))
        printed = _paragraphs(notes, size, block_width, room_lines)
        for line in printed:
            y += step
            sheet.text(0, y, line, REGULAR, size)
    sheet.height = y + 4
    return sheet


def _paragraphs(paragraphs: list[str], size: float, block_width: float, max_lines: int) -> list[str]:
    """The notes wrapped, a blank paragraph kept as a blank line, cut with ``…`` at ``max_lines``."""
    lines: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        left = max_lines - len(lines)
        if left <= 0:
            if any(paragraphs[index:]):
                lines[-1] = fit(lines[-1] + "…", REGULAR, size, block_width)
            break
        lines.extend(wrap(paragraph, REGULAR, size, block_width, left) if paragraph else [""])
    return lines


def _tax_id(value: str) -> str:
    return clean(printable_tax_id(value))
