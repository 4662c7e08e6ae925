"""Blocks both papers print: the red box, label-value lists, totals, the timbre and the acuse de recibo.

Each function lays its block out on a fresh :class:`Sheet` at the origin and sets its height; the
papers decide where blocks go.
"""

from __future__ import annotations

from dtehub.dte.pdf._barcode import BarcodeTooLarge, layout
from dtehub.dte.pdf._sheet import GREY, RED, Sheet
from dtehub.dte.pdf._text import BOLD, REGULAR, fit, width, wrap
from dtehub.dte.pdf._view import PrintedDte, Total

TIMBRE_LEGEND = "Timbre Electrónico SII"
VERIFY_LEGEND = "Verifique documento: www.sii.cl"
NO_TED = "Documento sin timbre electrónico"
ACUSE_LEGEND = (
    "El acuse de recibo que se declara en este acto, de acuerdo a lo dispuesto en la letra b) del "
    "Art. 4°, y la letra c) del Art. 5° de la Ley 19.983, acredita que la entrega de mercaderías o "
    "servicio(s) prestado(s) ha(n) sido recibido(s)."
)
_ACUSE_FIELDS = ("Nombre:", "R.U.T.:", "Fecha:", "Recinto:", "Firma:")


def red_box(doc: PrintedDte, box_width: float, *, size: float, office_size: float) -> Sheet:
    """SII's red box (issuer's RUT, type, folio) with ``S.I.I. - <office>`` under it."""
    sheet = Sheet()
    room = box_width - 14
    center = box_width / 2
    lines = [
        fit(f"R.U.T.: {doc.issuer_rut}", BOLD, size, room),
        *wrap(doc.type_name, BOLD, size, room, 3),
        fit(f"N° {doc.folio}", BOLD, size, room),
    ]
    step = size * 1.3
    y = 7 + size * 0.9
    for line in lines:
        sheet.text(center, y, line, BOLD, size, color=RED, align="center")
        y += step
    box_height = y - step + size * 0.35 + 8
    sheet.box(0, 0, box_width, box_height, stroke=RED, line_width=2)
    office = fit(doc.office, BOLD, office_size, box_width)
    sheet.text(center, box_height + office_size + 4, office, BOLD, office_size, color=RED, align="center")
    sheet.height = box_height + office_size + 7
    return sheet


def pairs(items: tuple[tuple[str, str], ...], block_width: float, max_label: float, size: float) -> Sheet:
    """``Label: value`` rows, the values wrapped (two lines at most) in a column after the longest label
    (at most ``max_label`` wide)."""
    sheet = Sheet()
    step = size * 1.3
    y = 0.0
    labels = [label for label, _ in items]
    label_width = min(max((width(label, BOLD, size) for label in labels), default=0.0) + 6, max_label)
    room = block_width - label_width
    for label, value in items:
        sheet.text(0, y + size, fit(label, BOLD, size, label_width - 4), BOLD, size)
        for line in wrap(value, REGULAR, size, room, 2) or [""]:
            sheet.text(label_width, y + size, line, REGULAR, size)
            y += step
    sheet.height = y
    return sheet


def totals(rows: tuple[Total, ...], block_width: float, size: float) -> Sheet:
    """The totals, labels left and amounts right, in a ruled box."""
    sheet = Sheet()
    pad = 5.0
    y = pad
    for row in rows:
        font = BOLD if row.strong else REGULAR
        row_size = size + 1.5 if row.strong else size
        amount = fit(row.amount, font, row_size, block_width * 0.55)
        room = block_width - 2 * pad - width(amount, font, row_size) - 6
        labels = wrap(row.label, font, row_size, room, 2) or [""]
        step = row_size * 1.35
        if row.strong:
            sheet.rule(pad, y, block_width - pad, y)
            y += 2
        for index, label in enumerate(labels):
            sheet.text(pad, y + row_size, label, font, row_size)
            if index == 0:
                sheet.text(block_width - pad, y + row_size, amount, font, row_size, align="right")
            y += step
    sheet.height = y + pad - 2
    sheet.box(0, 0, block_width, sheet.height, stroke=GREY, line_width=0.6)
    return sheet


def timbre(doc: PrintedDte, block_width: float, max_width: float, max_height: float, size: float) -> Sheet:
    """The timbre centred in ``block_width``: the TED's PDF417 and SII's legends, or a notice when the
    document carries no TED (or one no barcode can hold)."""
    sheet = Sheet()
    center = block_width / 2
    barcode = None
    if doc.ted is not None:
        try:
            barcode = layout(doc.ted, min(max_width, block_width), max_height)
        except BarcodeTooLarge:
            barcode = None
    if barcode is None:
        notice_width = min(max_width, block_width)
        left = center - notice_width / 2
        height = 54.0
        sheet.box(left, 0, notice_width, height, stroke=GREY, line_width=0.8, dash=True)
        sheet.text(center, height / 2 - 1, NO_TED, BOLD, size + 1.5, align="center")
        if doc.ted is None:
            detail = "Sin timbre no es un documento tributario válido"
        else:
            detail = "El timbre del documento es demasiado extenso para imprimirlo"
        detail = fit(detail, REGULAR, size - 1, notice_width - 8)
        sheet.text(center, height / 2 + size + 3, detail, REGULAR, size - 1, color=GREY, align="center")
        sheet.height = height
        return sheet
    sheet.barcode(barcode, center - barcode.width / 2, 0)
    y = barcode.height + 4
    legends = [(TIMBRE_LEGEND, BOLD), (doc.resolution, REGULAR), (VERIFY_LEGEND, REGULAR)]
    for text, font in legends:
        if text:
            y += size * 1.25
            sheet.text(center, y, fit(text, font, size, block_width), font, size, align="center")
    sheet.height = y + 3
    return sheet


def acuse(block_width: float, size: float) -> Sheet:
    """The acuse de recibo box of a CEDIBLE copy (Ley 19.983): fields to fill in and the legend."""
    sheet = Sheet()
    pad = 6.0
    step = size * 2.1
    y = pad
    label_width = max(width(label, BOLD, size) for label in _ACUSE_FIELDS) + 4
    for label in _ACUSE_FIELDS:
        y += step
        sheet.text(pad, y, label, BOLD, size)
        sheet.rule(pad + label_width, y + 1, block_width - pad, y + 1, color=GREY, line_width=0.4)
    y += size * 0.8
    legend_size = size - 1.5
    for line in wrap(ACUSE_LEGEND, REGULAR, legend_size, block_width - 2 * pad, 8):
        y += legend_size * 1.25
        sheet.text(pad, y, line, REGULAR, legend_size)
    sheet.height = y + pad
    sheet.box(0, 0, block_width, sheet.height, stroke=GREY, line_width=0.6)
    return sheet


def cedible_word(text: str, block_width: float, size: float) -> Sheet:
    """``CEDIBLE`` (or ``CEDIBLE CON SU FACTURA``) centred, large and bold."""
    sheet = Sheet()
    shown = fit(text, BOLD, size, block_width)
    sheet.text(block_width / 2, size, shown, BOLD, size, align="center")
    sheet.height = size * 1.3
    return sheet
