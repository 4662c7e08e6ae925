"""Duemint's ``notes`` for a document that came from a DTE: its detail lines as flat text.

Duemint fills a DTE's ``notes`` with a header and, for each detail line, the values of some of its
elements in document order, each as ``Name: value `` exactly as the XML writes it (a malformed value
too: the notes keep what the DTE says even where the typed fields leave it out).
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

NOTES_HEADER = "*** LINEAS DETALLE DTE *** "

NOTE_LINE_FIELDS = frozenset(
    {
        "NroLinDet",
        "NmbItem",
        "DscItem",
        "QtyItem",
        "PrcItem",
        "DescuentoPct",
        "DescuentoMonto",
        "RecargoPct",
        "RecargoMonto",
        "MontoItem",
    }
)
"""The line elements the notes show (Duemint's format)."""


def line_note(line: etree._Element) -> str:
    """One ``Detalle`` element's part of the notes."""
    parts = []
    for child in line:
        tag = child.tag
        if isinstance(tag, str) and len(child) == 0:  # an element (not a comment) without children
            name = tag.rpartition("}")[2]
            if name in NOTE_LINE_FIELDS:
                parts.append(f"{name}: {(child.text or '').strip()} ")
    return "".join(parts)


def detail_notes(line_notes: Iterable[str]) -> str:
    """The notes of a DTE whose lines' parts (:func:`line_note`) are ``line_notes``."""
    return NOTES_HEADER + "".join(line_notes)
