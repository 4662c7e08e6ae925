"""Drawings recorded before they are drawn, so that a layout can measure before it commits.

A :class:`Sheet` records text, rules, boxes, images and barcodes in a top-down coordinate system (y grows
downwards from the sheet's top edge, as a page is read). Blocks are laid out on their own sheets, which
then know their height and are placed on a page; the letter layout can count its pages before drawing
"Página n de m", and the roll learns its length before the page exists. :func:`write_pages` and
:func:`write_roll` replay the pages on a reportlab canvas.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Literal

from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from dtehub.dte.pdf._barcode import Barcode
from dtehub.dte.pdf._text import REGULAR, width

# reportlab would wrap every compressed stream in ASCII85, a pure-Python pass (its C accelerator is a
# separate package) that cost more than the rest of a page and makes files a quarter larger; ASCII85
# only matters for 7-bit channels, which PDFs never travel through any more. This package is reportlab's
# only user in dtehub.
rl_config.useA85 = 0

Color = tuple[float, float, float]
BLACK: Color = (0.0, 0.0, 0.0)
GREY: Color = (0.35, 0.35, 0.35)
LIGHT: Color = (0.78, 0.78, 0.78)
SHADE: Color = (0.9, 0.9, 0.9)
RED: Color = (0.8, 0.0, 0.0)
Align = Literal["left", "right", "center"]


@dataclass(frozen=True, slots=True)
class _Text:
    x: float
    y: float
    text: str
    font: str
    size: float
    color: Color


@dataclass(frozen=True, slots=True)
class _Box:
    x: float
    y: float
    width: float
    height: float
    stroke: Color | None
    fill: Color | None
    line_width: float
    dash: bool


@dataclass(frozen=True, slots=True)
class _Rule:
    x: float
    y: float
    x2: float
    y2: float
    color: Color
    line_width: float


@dataclass(frozen=True, slots=True)
class _Image:
    x: float
    y: float
    width: float
    height: float
    reader: ImageReader


@dataclass(frozen=True, slots=True)
class _Symbol:
    x: float
    y: float
    barcode: Barcode


@dataclass(frozen=True, slots=True)
class _Placed:
    x: float
    y: float
    sheet: Sheet


_Op = _Text | _Box | _Rule | _Image | _Symbol | _Placed


@dataclass
class Sheet:
    """A page or a block of one. ``height`` is what the layout says it uses."""

    height: float = 0.0
    ops: list[_Op] = field(default_factory=list)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        font: str = REGULAR,
        size: float = 8,
        *,
        color: Color = BLACK,
        align: Align = "left",
    ) -> None:
        """``text`` (already cleaned) with its baseline at ``y``; ``x`` is its left, right or centre."""
        if not text:
            return
        if align == "right":
            x -= width(text, font, size)
        elif align == "center":
            x -= width(text, font, size) / 2
        self.ops.append(_Text(x, y, text, font, size, color))

    def box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        stroke: Color | None = BLACK,
        fill: Color | None = None,
        line_width: float = 0.5,
        dash: bool = False,
    ) -> None:
        """A rectangle whose top left corner is at (``x``, ``y``)."""
        self.ops.append(_Box(x, y, w, h, stroke, fill, line_width, dash))

    def rule(
        self, x: float, y: float, x2: float, y2: float, *, color: Color = LIGHT, line_width: float = 0.5
    ) -> None:
        self.ops.append(_Rule(x, y, x2, y2, color, line_width))

    def image(self, reader: ImageReader, x: float, y: float, w: float, h: float) -> None:
        self.ops.append(_Image(x, y, w, h, reader))

    def barcode(self, barcode: Barcode, x: float, y: float) -> None:
        """``barcode`` with its top left corner at (``x``, ``y``)."""
        self.ops.append(_Symbol(x, y, barcode))

    def place(self, block: Sheet, x: float, y: float) -> None:
        """Draw ``block`` with its top left corner at (``x``, ``y``)."""
        self.ops.append(_Placed(x, y, block))


def write_pages(pages: list[Sheet], size: tuple[float, float], *, title: str) -> bytes:
    """The PDF of ``pages``, each ``size`` (width, height) points."""
    return _write(pages, [size] * len(pages), title)


def write_roll(page: Sheet, page_width: float, *, title: str) -> bytes:
    """One page ``page_width`` wide and exactly as tall as ``page``."""
    return _write([page], [(page_width, page.height)], title)


def _write(pages: list[Sheet], sizes: list[tuple[float, float]], title: str) -> bytes:
    out = io.BytesIO()
    # invariant=1: fixed dates and document id, so that the same input gives the same bytes.
    canvas = Canvas(out, pagesize=sizes[0], invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("dtehub")
    canvas.setProducer("dtehub")
    for page, size in zip(pages, sizes, strict=True):
        canvas.setPageSize(size)
        _Painter(canvas, size[1]).paint(page, 0.0, 0.0)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


class _Painter:
    """Replays a sheet, setting fonts, colours and line widths only when they change."""

    def __init__(self, canvas: Canvas, page_height: float) -> None:
        self.canvas = canvas
        self.top = page_height
        self.font: tuple[str, float] | None = None
        self.fill: Color | None = None
        self.stroke: Color | None = None
        self.line_width: float | None = None

    def paint(self, sheet: Sheet, dx: float, dy: float) -> None:
        canvas = self.canvas
        top = self.top
        for op in sheet.ops:
            if isinstance(op, _Text):
                if self.font != (op.font, op.size):
                    canvas.setFont(op.font, op.size)
                    self.font = (op.font, op.size)
                self._fill(op.color)
                canvas.drawString(dx + op.x, top - dy - op.y, op.text)
            elif isinstance(op, _Box):
                if op.fill is not None:
                    self._fill(op.fill)
                if op.stroke is not None:
                    self._stroke(op.stroke, op.line_width)
                if op.dash:
                    canvas.setDash(2, 2)
                canvas.rect(
                    dx + op.x,
                    top - dy - op.y - op.height,
                    op.width,
                    op.height,
                    stroke=int(op.stroke is not None),
                    fill=int(op.fill is not None),
                )
                if op.dash:
                    canvas.setDash()
            elif isinstance(op, _Rule):
                self._stroke(op.color, op.line_width)
                canvas.line(dx + op.x, top - dy - op.y, dx + op.x2, top - dy - op.y2)
            elif isinstance(op, _Image):
                canvas.drawImage(op.reader, dx + op.x, top - dy - op.y - op.height, op.width, op.height)
            elif isinstance(op, _Symbol):
                # Self-contained (q … Q): the canvas's own colour and font state stay valid.
                canvas.addLiteral(op.barcode.placed(dx + op.x, top - dy - op.y - op.barcode.height))
            else:
                self.paint(op.sheet, dx + op.x, dy + op.y)

    def _fill(self, color: Color) -> None:
        if self.fill != color:
            self.canvas.setFillColorRGB(*color)
            self.fill = color

    def _stroke(self, color: Color, line_width: float) -> None:
        if self.stroke != color:
            self.canvas.setStrokeColorRGB(*color)
            self.stroke = color
        if self.line_width != line_width:
            self.canvas.setLineWidth(line_width)
            self.line_width = line_width
