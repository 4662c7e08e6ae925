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

from pdf417gen.compaction import BYTE_LATCH, BYTE_LATCH_ALT, compact
from pdf417gen.compaction.byte import compact_bytes
from pdf417gen.encoding import encode_rows, get_padding
from pdf417gen.error_correction import compute_error_correction_code_words
from pdf417gen.util import chunks

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
    data_words = _data_words(payload)
    columns, module = _best_columns(data_words, max_width, max_height)
    codes = _encode(data_words, columns)
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


@functools.lru_cache(maxsize=64)
def _data_words(payload: bytes) -> tuple[int, ...]:
    """The payload's code words: pdf417gen's mixed compaction, or byte compaction alone when that is
    shorter. A timbre is mostly base64, where switching between text submodes can cost more words than
    bytes do, and a large timbre must not lose its barcode for a few words."""
    mixed = tuple(compact(payload))
    latch = BYTE_LATCH_ALT if len(payload) % 6 == 0 else BYTE_LATCH
    binary = (latch, *compact_bytes(payload))
    return binary if len(binary) < len(mixed) else mixed


def _encode(data_words: tuple[int, ...], columns: int) -> list[list[int]]:
    """The symbol's rows of low-level code words (what ``pdf417gen.encode`` does after compacting):
    length descriptor, data, padding to fill the last row, then the level's error correction."""
    padding = get_padding(len(data_words), 2 ** (SECURITY_LEVEL + 1), columns)
    extended = [len(data_words) + len(padding) + 1, *data_words, *padding]
    words = extended + compute_error_correction_code_words(extended, SECURITY_LEVEL)
    return list(encode_rows(list(chunks(words, columns)), columns, SECURITY_LEVEL))


def _best_columns(words_of_data: tuple[int, ...], max_width: float, max_height: float) -> tuple[int, float]:
    data_words = len(words_of_data)
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
