"""Printed DTEs: the PDF SII requires of a document (its "representación impresa"), on letter paper or
an 80 mm roll, and a plain summary for documents created without XML.

- :func:`render_dte_pdf` prints one stored DTE: SII's red box (issuer's RUT, type, folio) and office,
  issuer, receiver, terms, detail lines, global discounts, totals, references and the timbre (the TED's
  PDF417 with its legends); a CEDIBLE copy adds the acuse de recibo of Ley 19.983.
- :func:`render_summary_pdf` prints what dtehub knows of a document created from fields, saying plainly
  that it is not the tax document.

Both are pure and deterministic (the same input gives the same bytes) and safe with untrusted text.
"""

from __future__ import annotations

from dtehub.dte.pdf._logo import logo_image
from dtehub.dte.pdf._render import MAX_DTE_BYTES, render_dte_pdf
from dtehub.dte.pdf._summary_pdf import NOT_A_TAX_DOCUMENT_DETAIL, render_summary
from dtehub.dte.pdf.errors import DteNotPrintable, NoCedibleCopy, PrintError
from dtehub.dte.pdf.settings import IssuerPrintSettings, Paper
from dtehub.dte.pdf.summary import DocumentSummary

__all__ = [
    "MAX_DTE_BYTES",
    "NOT_A_TAX_DOCUMENT_DETAIL",
    "DocumentSummary",
    "DteNotPrintable",
    "IssuerPrintSettings",
    "NoCedibleCopy",
    "Paper",
    "PrintError",
    "render_dte_pdf",
    "render_summary_pdf",
]


def render_summary_pdf(
    summary: DocumentSummary, settings: IssuerPrintSettings, *, paper: Paper = Paper.LETTER
) -> bytes:
    """A one-page summary of a document created from fields (no XML, no timbre), headed by a notice
    that it is not the tax document; on ``paper``."""
    roll = Paper(paper) == Paper.ROLL_80MM
    logo = logo_image(settings.logo_png, settings.logo_sha256) if settings.logo_png else None
    return render_summary(summary, logo, roll=roll)
