"""The timbre's PDF417 barcode as vector rectangles.

pdf417gen encodes (error correction level 5, the level SII's samples and most issuers use); this module
picks the number of columns that gives the widest modules within the space allowed, and turns the
symbol into PDF path operators: one rectangle per run of dark modules in a row, and runs that repeat in
the rows below (the start and stop patterns, most of all) merged into one taller rectangle. Vectors stay
sharp at any zoom or printer resolution, and a few hundred rectangles cost far less than an image.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import pdf417gen
from pdf417gen.compaction import compact

SECURITY_LEVEL = 5
ROW_RATIO = 3
"""Row height in module widths (PDF417 asks for 3 or more)."""
_MAX_CODE_WORDS = 928
_MIN_ROWS, _MAX_ROWS = 3, 90
_MAX_COLUMNS = 30
_DARK_RUNS = re.compile("1+")


class BarcodeTooLarge(ValueError):
    """The payload does not fit in one PDF417 symbol."""


@dataclass(frozen=True)
class Barcode:
    """A symbol laid out at a size: its operators draw it with its lower left corner at the origin."""

    columns: int
    rows: int
    module: float
    """The width of one module (the narrowest bar) in points."""
    width: float
    height: float
    operators: str
    """PDF content operators in the symbol's own units (one module wide, one row tall), to be placed with
    :meth:`placed`."""

    def placed(self, x: float, y: float) -> str:
        """Operators drawing the symbol in black with its lower left corner at (``x``, ``y``)."""
        scale = f"{self.module:.4f} 0 0 {self.module * ROW_RATIO:.4f} {x:.3f} {y:.3f} cm"
        return f"q 0 g {scale}\n{self.operators}f Q"


def layout(payload: bytes, max_width: float, max_height: float) -> Barcode:
    """``payload`` as a PDF417 symbol no larger than ``max_width`` × ``max_height`` points, with the
    columns that give the widest module. Raises :class:`BarcodeTooLarge` if no symbol can hold it."""
    columns, module = _best_columns(payload, max_width, max_height)
    try:
        codes = pdf417gen.encode(payload, columns=columns, security_level=SECURITY_LEVEL)
    except ValueError as exc:  # pdf417gen's own limits, should the estimate above have missed them
        raise BarcodeTooLarge(str(exc)) from None
    operators, modules_wide = _operators(codes)
    rows = len(codes)
    return Barcode(
        columns=columns,
        rows=rows,
        module=module,
        width=modules_wide * module,
        height=rows * ROW_RATIO * module,
        operators=operators,
    )


def _best_columns(payload: bytes, max_width: float, max_height: float) -> tuple[int, float]:
    data_words = len(list(compact(payload)))
    if data_words + 1 > _MAX_CODE_WORDS:
        raise BarcodeTooLarge(f"the timbre needs {data_words} code words; a PDF417 symbol holds 927")
    # Length descriptor, data and the level's error correction words; padding fills the last row.
    words = data_words + 1 + 2 ** (SECURITY_LEVEL + 1)
    best: tuple[int, float] | None = None
    for columns in range(1, _MAX_COLUMNS + 1):
        rows = math.ceil(words / columns)
        if not _MIN_ROWS <= rows <= _MAX_ROWS or rows * columns > _MAX_CODE_WORDS:
            continue
        # Start, left indicator, data, right indicator (17 modules each) and the 18-module stop.
        modules_wide = (columns + 4) * 17 + 1
        module = min(max_width / modules_wide, max_height / (rows * ROW_RATIO))
        if best is None or module > best[1]:
            best = (columns, module)
    if best is None:
        raise BarcodeTooLarge(f"the timbre needs {words} code words; no PDF417 layout holds them")
    return best


def _operators(codes: list[list[int]]) -> tuple[str, int]:
    """``x y w h re`` for each dark rectangle (in modules and rows, y up), and the symbol's width.

    Every row starts and ends with the same start and stop patterns, so those are drawn once, as tall
    as the symbol; in between, a codeword's bars never touch its neighbours' (each begins with a bar and
    ends with a space), so each codeword's runs are looked up once per value rather than searched."""
    rows = len(codes)
    first, *_, last = codes[0]
    start_width = len(format(first, "b"))
    modules_wide = start_width + 17 * (len(codes[0]) - 2) + len(format(last, "b"))
    stop_x = modules_wide - len(format(last, "b"))
    parts = [f"{x} 0 {length} {rows} re\n" for x, length in _runs(first)]
    parts.extend(f"{stop_x + x} 0 {length} {rows} re\n" for x, length in _runs(last))
    for row_number, row in enumerate(codes):
        y = rows - 1 - row_number
        x = start_width
        for word in row[1:-1]:
            parts.extend([f"{x + offset} {y} {length} 1 re\n" for offset, length in _runs(word)])
            x += 17
    return "".join(parts), modules_wide


@functools.cache
def _runs(word: int) -> tuple[tuple[int, int], ...]:
    """The dark runs of one codeword's pattern as (offset, length); a few thousand patterns exist."""
    return tuple(
        (match.start(), match.end() - match.start()) for match in _DARK_RUNS.finditer(format(word, "b"))
    )
