"""Charts as server-rendered SVG: horizontal bars, each labelled with its name and its figure in text
and filled with its own hatching (readable without colour, and printed as drawn). Every chart sits
beside a table of the same numbers, which screen readers read; the SVG itself is one image with a title.

Only presentation attributes (no ``style``): the web app's policy allows no inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

_PATTERNS = (
    ("solid", ""),
    ("diagonal", '<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="#fff" stroke-width="2"/>'),
    ("dots", '<circle cx="4" cy="4" r="1.6" fill="#fff"/>'),
    ("cross", '<path d="M0,0 L8,8 M8,0 L0,8" stroke="#fff" stroke-width="1.5"/>'),
    ("horizontal", '<path d="M0,4 L8,4" stroke="#fff" stroke-width="2"/>'),
    ("vertical", '<path d="M4,0 L4,8" stroke="#fff" stroke-width="2"/>'),
)
_COLOURS = ("#1d4ed8", "#b45309", "#9a3412", "#991b1b", "#581c87", "#334155")


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str
    """The figure as people read it (``$1.234.567``), written at the bar's end."""


def bars(chart_id: str, title: str, items: Sequence[Bar], *, varied: bool = True) -> Markup:
    """Horizontal bars, one per item; ``varied``: each bar its own colour and hatching (categories),
    else one (a series, such as months)."""
    label_width, bar_width, row, top = 120, 300, 28, 8
    text_room = 120
    width = label_width + bar_width + text_room
    height = top * 2 + row * len(items)
    largest = max((item.value for item in items), default=0) or 1
    defs = []
    shapes = []
    for index, item in enumerate(items):
        kind = index % len(_PATTERNS) if varied else 0
        colour = _COLOURS[kind]
        pattern_id = f"{chart_id}-p{index}"
        name, drawing = _PATTERNS[kind]
        defs.append(
            f'<pattern id="{pattern_id}" width="8" height="8" patternUnits="userSpaceOnUse" '
            f'data-pattern="{name}"><rect width="8" height="8" fill="{colour}"/>{drawing}</pattern>'
        )
        y = top + index * row
        length = max(0, round(bar_width * max(item.value, 0) / largest))
        shapes.append(
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end">{escape(item.label)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{length}" height="{row - 8}" '
            f'fill="url(#{pattern_id})" stroke="#1f2933" stroke-width="1"/>'
            f'<text x="{label_width + length + 6}" y="{y + 18}">{escape(item.text)}</text>'
        )
    svg = (
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><defs>{"".join(defs)}</defs>'
        f'<line class="axis" x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - top}"/>'
        f"{''.join(shapes)}</svg>"
    )
    return Markup(svg)  # noqa: S704 (every text in it is escaped above)
