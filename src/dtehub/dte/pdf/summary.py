"""What a summary PDF shows of a document created from fields (no XML, hence no timbre)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DocumentSummary:
    """A document as dtehub stores it, for :func:`~dtehub.dte.pdf.render_summary_pdf`.

    Amounts are integer hundredths in :attr:`currency`, as the document store keeps them. Texts may be
    ``""`` where the document has none; they are printed as they are (cleaned), never as markup."""

    issuer_name: str
    """The company's name (razón social)."""
    issuer_rut: str
    """The company's RUT, canonical (``76453707-6``); printed with dots."""
    client_name: str
    """The client's name."""
    client_tax_id: str
    """The client's RUT (canonical, printed with dots) or a foreign client's own tax code (as given)."""
    client_address: str
    """The client's address."""
    client_comuna: str
    """The client's comuna."""
    client_city: str
    """The client's city."""
    code: int | None
    """SII's document type (``33``); None (or 0, dtehub's "no type") prints "Documento"."""
    number: str
    """The document's number (folio) as given."""
    issue_date: date
    """Fecha de emisión."""
    due_date: date | None
    """Fecha de vencimiento."""
    currency: str
    """ISO 4217 code of every amount (``CLP``, ``USD``, ``CLF``…)."""
    net_cents: int
    """Neto (net plus exempt), in hundredths."""
    taxes_cents: int
    """Impuestos (VAT and other taxes), in hundredths."""
    total_cents: int
    """Total, in hundredths."""
    gloss: str = ""
    """Glosa: a short description of the document."""
    purchase_order: str = ""
    """The client's purchase order (orden de compra)."""
    notes: str = ""
    """Free notes; printed wrapped, their line breaks kept."""
