"""Text as the standard PDF fonts print it: cleaned to windows-1252, measured, wrapped and cut.

The 14 standard fonts need no embedding (small, fast PDFs) and their WinAnsi encoding covers Spanish,
``€``, ``°``, ``º`` and ``…``. Anything else a DTE may carry (other scripts, emoji, control characters)
becomes ``?`` or a space here, so that no text from the XML can break a render.
"""

from __future__ import annotations

from datetime import date

from reportlab.pdfbase import pdfmetrics

REGULAR = "Helvetica"
BOLD = "Helvetica-Bold"
ELLIPSIS = "…"


def _control_table() -> dict[int, str]:
    # C0 controls and DEL are spaces. C1 controls are what windows-1252 text becomes when it is read as
    # ISO-8859-1 (as DTEs declare): 0x93 is a quote, 0x80 the euro, 0x85 an ellipsis; give those back.
    table = {code: " " for code in (*range(0x20), 0x7F)}
    for code in range(0x80, 0xA0):
        try:
            table[code] = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            table[code] = " "
    return table


_CONTROLS = _control_table()
_MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def _width_table(font_name: str) -> dict[str, float]:
    # reportlab's own stringWidth runs in pure Python here (its C accelerator is a separate package);
    # a dict of the encoding's 256 widths measures several times faster.
    widths = pdfmetrics.getFont(font_name).widths
    table: dict[str, float] = {}
    for code in range(256):
        try:
            char = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            continue
        table[char] = widths[code] / 1000
    return table


_WIDTHS = {REGULAR: _width_table(REGULAR), BOLD: _width_table(BOLD)}
# The narrowest printable character: a text longer than the room over this cannot fit, however it
# reads, so hostile megabyte-long fields are never measured whole.
_NARROWEST = min(
    value for table in _WIDTHS.values() for char, value in table.items() if value and char.isprintable()
)


def clean(text: str | None) -> str:
    """One line of printable text: controls and runs of whitespace become one space, and characters the
    standard fonts lack become ``?``."""
    if not text:
        return ""
    text = " ".join(text.translate(_CONTROLS).split())
    if not text.isascii():
        text = text.encode("cp1252", errors="replace").decode("cp1252")
    return text


def width(text: str, font: str, size: float) -> float:
    """The width of cleaned ``text`` in points."""
    table = _WIDTHS[font]
    return sum(table.get(char, 0.5) for char in text) * size


def fit(text: str, font: str, size: float, room: float) -> str:
    """``text`` as it fits in ``room`` points: whole, or cut and ended with ``…``."""
    # Too many characters to fit whatever they are: skip measuring them all.
    if len(text) * _NARROWEST * size <= room and width(text, font, size) <= room:
        return text
    table = _WIDTHS[font]
    budget = room / size - table[ELLIPSIS]
    used = 0.0
    for index, char in enumerate(text):
        used += table.get(char, 0.5)
        if used > budget:
            return text[:index].rstrip() + ELLIPSIS
    return text  # pragma: no cover - the whole text fitted after all


def wrap(text: str, font: str, size: float, room: float, max_lines: int) -> list[str]:
    """Cleaned ``text`` in lines no wider than ``room``: words kept whole where they fit, a word too long
    for a line broken anywhere; what does not fit in ``max_lines`` ends with ``…``. Empty text, no lines."""
    if max_lines < 1:
        return []
    # Lines end half full at worst (a word too long for what is left goes to the next line), so twice
    # what the lines could hold is more than they can take.
    limit = int(2 * max_lines * room / (_NARROWEST * size)) + 2
    more = len(text) > limit
    text = text[:limit]
    lines: list[str] = []
    current = ""
    cut = False
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if width(candidate, font, size) <= room:
            current = candidate
            continue
        if current:
            lines.append(current)
        while len(lines) < max_lines and width(word, font, size) > room:
            head = _longest_prefix(word, font, size, room)
            lines.append(head)
            word = word[len(head) :]
        current = word
        if len(lines) >= max_lines:
            cut = True  # ``current`` at least is left over
            break
    else:
        if current:
            lines.append(current)
    if cut or more or len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = fit(lines[-1] + ELLIPSIS, font, size, room)
    return lines


def _longest_prefix(text: str, font: str, size: float, room: float) -> str:
    table = _WIDTHS[font]
    budget = room / size
    used = 0.0
    for index, char in enumerate(text):
        used += table.get(char, 0.5)
        if used > budget:
            return text[: max(index, 1)]
    return text


def long_date(value: date) -> str:
    """``29 de marzo de 2019``."""
    return f"{value.day} de {_MONTHS[value.month - 1]} de {value.year}"


def short_date(value: date) -> str:
    """``29-03-2019``."""
    return f"{value.day:02d}-{value.month:02d}-{value.year:04d}"
