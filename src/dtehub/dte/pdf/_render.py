"""From stored DTE bytes to the PDF SII requires."""

from __future__ import annotations

from lxml import etree

from dtehub.dte.document_types import CEDIBLE_CODES, dte_type_name
from dtehub.dte.errors import DteUnreadable
from dtehub.dte.models import DteFields
from dtehub.dte.pdf._letter import render_letter
from dtehub.dte.pdf._logo import logo_image
from dtehub.dte.pdf._roll import render_roll
from dtehub.dte.pdf._text import long_date, short_date
from dtehub.dte.pdf._view import printed_dte
from dtehub.dte.pdf.errors import DteNotPrintable, NoCedibleCopy
from dtehub.dte.pdf.settings import IssuerPrintSettings, Paper
from dtehub.dte.reader import dte_elements, read_fields
from dtehub.dte.ted import TedMissing, ted_barcode_payload
from dtehub.kit.xml import XmlError, parse_untrusted

MAX_DTE_BYTES = 5 * 1024 * 1024
"""One DTE is tens of kilobytes; the limit only bounds what a corrupt store could hand over."""


def render_dte_pdf(
    content: bytes, settings: IssuerPrintSettings, *, paper: Paper = Paper.LETTER, cedible: bool = False
) -> bytes:
    """The printed representation of the DTE in ``content`` (the stored bytes of one ``DTE`` element,
    with or without the SII namespace, ISO-8859-1 or UTF-8), on ``paper``; ``cedible`` prints the copy
    for factoring (CEDIBLE and the acuse de recibo).

    Raises :class:`~dtehub.dte.pdf.errors.DteNotPrintable` when ``content`` is not one DTE dtehub can
    read, :class:`~dtehub.dte.pdf.errors.NoCedibleCopy` when a CEDIBLE copy is asked for a type that
    cannot be ceded. A DTE without timbre
    prints with a notice where the barcode goes."""
    roll = Paper(paper) == Paper.ROLL_80MM
    element, fields = _read(content)
    if cedible and fields.code not in CEDIBLE_CODES:
        raise NoCedibleCopy(
            f"a {dte_type_name(fields.code).lower()} cannot be ceded, so it has no CEDIBLE copy"
        )
    try:
        ted: bytes | None = ted_barcode_payload(element)
    except TedMissing:
        ted = None
    logo = logo_image(settings.logo_png, settings.logo_sha256) if settings.logo_png else None
    if roll:
        return render_roll(printed_dte(fields, ted, settings, cedible=cedible, date_text=short_date), logo)
    return render_letter(printed_dte(fields, ted, settings, cedible=cedible, date_text=long_date), logo)


def _read(content: bytes) -> tuple[etree._Element, DteFields]:
    try:
        root = parse_untrusted(content, max_bytes=MAX_DTE_BYTES)
        elements = dte_elements(root)
        if len(elements) != 1:
            raise DteUnreadable(f"the content holds {len(elements)} DTEs; one is printed at a time")
        return elements[0], read_fields(elements[0])
    except (XmlError, DteUnreadable) as exc:
        raise DteNotPrintable(f"the document cannot be read as a DTE: {exc}") from None
