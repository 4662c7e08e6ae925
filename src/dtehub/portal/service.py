"""The customer portal: what a link's holder sees and downloads.

A link names an object by id and carries its key; the key is the only credential. It is compared in
constant time, and a wrong key, a missing object and a malformed id all end in the same
:class:`~dtehub.errors.NotFound`. Everything else a page shows is read through the object it opened:
the document's own company, client and notes, or the client's own documents of its company.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from dtehub.clients import repository as clients_repository
from dtehub.companies import repository as companies_repository
from dtehub.companies import service as companies_service
from dtehub.documents import repository as documents_repository
from dtehub.documents.status import STATUS_NAMES, DocumentStatus, status_of
from dtehub.dte.constants import PESO_CL
from dtehub.dte.document_types import CEDIBLE_CODES, GUIA_DE_DESPACHO, dte_type_name
from dtehub.dte.pdf import (
    DocumentSummary,
    IssuerPrintSettings,
    NoCedibleCopy,
    Paper,
    PrintError,
    render_dte_pdf,
    render_summary_pdf,
)
from dtehub.dte.published import DteOut
from dtehub.errors import BadRequest, DteRefused, NotCedible, NotFound
from dtehub.kit.money import InvalidAmount, format_money, format_number, to_cents
from dtehub.kit.rut import printable_tax_id
from dtehub.kit.secrets import new_link_key, same_secret
from dtehub.models import Client, Company, Document, DocumentState, Note, NoteReason
from dtehub.models.document import NO_CODE
from dtehub.models.note import CREDIT_NOTE_CODES
from dtehub.portal import repository
from dtehub.portal.links import Links
from dtehub.portal.repository import OTHERS_LIMIT, PENDING_LIMIT, CurrencyTotals

log = logging.getLogger("dtehub")

# Compared against when there is no object, so that a missing id costs what a wrong key does.
_NO_KEY = new_link_key()
# Pages link to each other by path: the page is already on dtehub's own host.
_PAGE_LINKS = Links("")


def _opened(key: str, expected: str | None) -> bool:
    matches = same_secret(key, expected if expected is not None else _NO_KEY)
    return matches and expected is not None


def _not_found() -> NotFound:
    return NotFound("not found")  # one error for every way a link can fail: the page says nothing more


class _Keyed(Protocol):
    portal_key: str


_K = TypeVar("_K", bound=_Keyed)


def _opened_by(found: _K | None, key: str) -> _K:
    """The object a link names, when the link's key opens it; else the one 404."""
    if not _opened(key, found.portal_key if found is not None else None):
        raise _not_found()
    assert found is not None
    return found


def _document(session: Session, document_id: int, key: str) -> Document:
    return _opened_by(repository.document(session, document_id), key)


def _client(session: Session, client_id: int, key: str) -> Client:
    return _opened_by(repository.client(session, client_id), key)


def _note(session: Session, note_id: int, key: str) -> Note:
    return _opened_by(repository.note(session, note_id), key)


def _company(session: Session, company_id: int) -> Company:
    company = companies_repository.get(session, company_id)
    if company is None:  # deleted while the link was followed: the link is gone with it
        raise _not_found()
    return company


# --- how things read on a page --------------------------------------------------------------------


def format_date(day: date | None) -> str:
    """``2019-03-29`` → ``29-03-2019``, as dates are written in Chile."""
    return day.strftime("%d-%m-%Y") if day is not None else "—"


def type_name(code: int) -> str:
    """``33`` → ``Factura electrónica``; a document created without a code is a ``Documento``."""
    return dte_type_name(None if code == NO_CODE else code).capitalize()


_BADGES = {
    DocumentStatus.PAID: "paid",
    DocumentStatus.PENDING: "pending",
    DocumentStatus.OVERDUE: "overdue",
    DocumentStatus.VOIDED: "voided",
}

_REASONS: dict[int, str] = {
    NoteReason.VOIDS: "Anula el documento",
    NoteReason.CORRECTS_TEXT: "Corrige texto",
    NoteReason.CORRECTS_AMOUNTS: "Corrige montos",
}


@dataclass(frozen=True)
class Status:
    name: str
    badge: str
    """``paid``, ``pending``, ``overdue`` or ``voided``: the badge's style."""

    @classmethod
    def of(cls, document: Document, today: date) -> Status:
        status = status_of(document.state, document.due_date, today)
        return cls(STATUS_NAMES[status], _BADGES[status])


@dataclass(frozen=True)
class Party:
    name: str
    tax_id: str


@dataclass(frozen=True)
class Issuer:
    name: str
    tax_id: str
    logo: str | None
    """A ``data:`` URL of the company's logo (a PNG dtehub re-encoded itself), or None."""
    logo_width: int
    logo_height: int


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    filename: str | None = None
    """Set for a file: the link downloads it under this name."""
    hint: str = ""


@dataclass(frozen=True)
class DetailLine:
    """A detail line of the DTE as the invoice page lists it."""

    name: str
    description: str
    quantity: str
    unit_price: str
    amount: str


@dataclass(frozen=True)
class Line:
    label: str
    amount: str
    emphasis: bool = False


@dataclass(frozen=True)
class NoteRow:
    type_name: str
    number: str
    issue_date: str
    amount: str
    reason: str
    links: list[Link]


@dataclass(frozen=True)
class Payment:
    """A payment received. Until payments are recorded one by one, the document's paid amount and
    date are shown as one."""

    date: str
    amount: str


@dataclass(frozen=True)
class InvoicePage:
    title: str
    issuer: Issuer
    customer: Party
    type_name: str
    number: str
    issue_date: str
    due_date: str
    status: Status
    total: str
    amount_due: str
    lines: list[Line]
    payments: list[Payment]
    notes: list[NoteRow]
    remarks: list[tuple[str, str]]
    downloads: list[Link]
    detail: list[DetailLine]


@dataclass(frozen=True)
class DocumentRow:
    title: str
    issue_date: str
    due_date: str
    status: Status
    total: str
    amount_due: str
    href: str


@dataclass(frozen=True)
class Totals:
    currency: str
    owed: str
    overdue: str
    has_overdue: bool


@dataclass(frozen=True)
class Listing:
    rows: list[DocumentRow]
    count: int
    """How many the customer has in all; ``len(rows)`` when they are all listed."""

    @property
    def capped(self) -> bool:
        return len(self.rows) < self.count


@dataclass(frozen=True)
class ClientPage:
    title: str
    issuer: Issuer
    customer: Party
    totals: list[Totals]
    pending: Listing
    others: Listing


def _invoice_href(document: Document) -> str:
    return _PAGE_LINKS.invoice_page(document.id, document.portal_key)


def _issuer(session: Session, company: Company) -> Issuer:
    logo = companies_repository.get_logo(session, company.id)
    if logo is None:
        return Issuer(company.name, printable_tax_id(company.rut), None, 0, 0)
    data = "data:image/png;base64," + base64.b64encode(logo.content).decode("ascii")
    return Issuer(company.name, printable_tax_id(company.rut), data, logo.width, logo.height)


def _file_name(code: int, number: str, extension: str, *suffixes: str) -> str:
    stem = f"DTE-{code}-{number}" if code != NO_CODE else f"Documento-{number}"
    return "-".join((stem, *suffixes)) + f".{extension}"


def _amount_due(document: Document) -> int:
    """What the customer still owes: nothing on a settled or voided document."""
    return document.due_cents if document.state == DocumentState.OPEN else 0


def _document_title(document: Document) -> str:
    return f"{type_name(document.code)} N° {document.number}"


def _published_dte(stored: dict[str, Any] | None) -> DteOut | None:
    """The ``dte`` object stored with a document, typed; None when it has none. JSON that is not that
    object (which dtehub never stores) leaves the page without what it would add, not without a page."""
    if not stored:
        return None
    try:
        return DteOut.model_validate(stored)
    except ValidationError as exc:
        where = [".".join(map(str, error["loc"])) for error in exc.errors()[:3]]
        log.warning("a document's stored DTE fields do not read as its dte object (at %s)", ", ".join(where))
        return None


def _exempt_cents(dte: DteOut | None) -> int:
    """MntExe of a DTE in pesos (a document's ``net`` holds MntNeto + MntExe, as Duemint's does)."""
    if dte is None or dte.currency != PESO_CL or not dte.totals.exempt:
        return 0
    try:
        return to_cents(dte.totals.exempt)
    except InvalidAmount:  # a negative exempt amount (liquidaciones-factura) is not shown apart
        return 0


def _detail_lines(dte: DteOut | None) -> list[DetailLine]:
    """The DTE's detail lines, amounts in the DTE's own currency."""
    if dte is None:
        return []
    sign = "$ " if dte.currency in ("", PESO_CL) else f"{dte.currency} "

    def number(value: Decimal | None) -> str:
        return format_number(value) if value is not None else ""

    detail = []
    for line in dte.lines:
        quantity = " ".join(part for part in (number(line.quantity), line.unit or "") if part)
        price = number(line.unit_price)
        detail.append(
            DetailLine(
                name=line.name,
                description=line.description or "",
                quantity=quantity,
                unit_price=sign + price if price else "",
                amount=sign + number(line.amount),
            )
        )
    return detail


def _note_row(note: Note, has_xml: bool) -> NoteRow:
    pdf = _PAGE_LINKS.note_pdf(note.id, note.portal_key)
    links = [Link("PDF", pdf, _file_name(note.code, note.number, "pdf"))]
    if has_xml:
        xml = _PAGE_LINKS.note_xml(note.id, note.portal_key)
        links.append(Link("XML", xml, _file_name(note.code, note.number, "xml")))
    sign = ("−" if note.code in CREDIT_NOTE_CODES else "+") if note.moves_money else ""
    return NoteRow(
        type_name=type_name(note.code),
        number=note.number,
        issue_date=format_date(note.issue_date),
        amount=sign + format_money(note.total_cents, note.currency),
        reason=_REASONS.get(note.reason or 0, ""),
        links=links,
    )


def _downloads(document: Document, has_xml: bool) -> list[Link]:
    base = _PAGE_LINKS.invoice_pdf(document.id, document.portal_key)
    code, number = document.code, document.number
    links = [
        Link("PDF", base, _file_name(code, number, "pdf"), "tamaño carta"),
        Link(
            "PDF 80 mm",
            f"{base}?format=80mm",
            _file_name(code, number, "pdf", "80mm"),
            "para impresora térmica",
        ),
    ]
    if has_xml:
        xml = _PAGE_LINKS.invoice_xml(document.id, document.portal_key)
        links.append(Link("XML", xml, _file_name(code, number, "xml"), "el documento tributario electrónico"))
        if code in CEDIBLE_CODES:
            hint = "con su factura" if code == GUIA_DE_DESPACHO else "para ceder la factura"
            links.append(
                Link("Copia CEDIBLE", f"{base}?cedible=1", _file_name(code, number, "pdf", "CEDIBLE"), hint)
            )
    return links


def invoice_page(session: Session, document_id: int, key: str, today: date) -> InvoicePage:
    """The invoice page of a document link: who issued it to whom, what it says is owed and until
    when, what has been paid or credited since, and its files."""
    document = _document(session, document_id, key)
    company = _company(session, document.company_id)
    client = clients_repository.get(session, company.id, document.client_id)
    if client is None:
        raise _not_found()
    currency = document.currency
    has_xml, stored = repository.document_source_fields(session, document.id)
    dte = _published_dte(stored)
    notes = repository.notes_of_document(session, document)

    exempt_cents = _exempt_cents(dte)
    lines = [
        Line("Neto", format_money(document.net_cents - exempt_cents, currency)),
        *([Line("Exento", format_money(exempt_cents, currency))] if exempt_cents else []),
        Line("Impuestos", format_money(document.taxes_cents, currency)),
        Line("Total", format_money(document.total_cents, currency), emphasis=True),
    ]
    if document.credit_cents:
        lines.append(Line("Notas de crédito", "−" + format_money(document.credit_cents, currency)))
    if document.debit_cents:
        lines.append(Line("Notas de débito", "+" + format_money(document.debit_cents, currency)))
    if document.paid_cents:
        lines.append(Line("Pagado", "−" + format_money(document.paid_cents, currency)))
    amount_due = format_money(_amount_due(document), currency)
    lines.append(Line("Saldo por pagar", amount_due, emphasis=True))
    payments = (
        [Payment(format_date(document.paid_date), format_money(document.paid_cents, currency))]
        if document.paid_cents
        else []
    )
    remarks = [
        (label, text)
        for label, text in (
            ("Glosa", document.gloss),
            ("Orden de compra", document.purchase_order),
            # A DTE's notes are its detail lines in Duemint's flat text: the detail table shows them.
            ("Observaciones", "" if has_xml else document.notes),
        )
        if text.strip()
    ]
    if document.held:  # the holder collects: the page says whose invoice it was and whom to pay
        issuer_rut = (
            f"RUT {printable_tax_id(document.issuer_rut)}"  # the name may be unknown yet (sync-cessions)
        )
        issued_by = f"{document.issuer_name}, {issuer_rut}" if document.issuer_name else issuer_rut
        remarks.insert(
            0, ("Cesión", f"Factura emitida por {issued_by}, cedida a {company.name}, a quien se paga")
        )
    title = _document_title(document)
    return InvoicePage(
        title=title,
        issuer=_issuer(session, company),
        customer=Party(client.name, printable_tax_id(client.tax_id)),
        type_name=type_name(document.code),
        number=document.number,
        issue_date=format_date(document.issue_date),
        due_date=format_date(document.due_date),
        status=Status.of(document, today),
        total=format_money(document.total_cents, currency),
        amount_due=amount_due,
        lines=lines,
        payments=payments,
        notes=[_note_row(note, note_has_xml) for note, note_has_xml in notes],
        remarks=remarks,
        downloads=_downloads(document, has_xml),
        detail=_detail_lines(dte),
    )


def _document_row(document: Document, today: date) -> DocumentRow:
    return DocumentRow(
        title=_document_title(document),
        issue_date=format_date(document.issue_date),
        due_date=format_date(document.due_date),
        status=Status.of(document, today),
        total=format_money(document.total_cents, document.currency),
        amount_due=format_money(_amount_due(document), document.currency),
        href=_invoice_href(document),
    )


def _totals(totals: Sequence[CurrencyTotals]) -> list[Totals]:
    shown = [t for t in totals if t.owed_cents or t.currency == "CLP"] or [CurrencyTotals("CLP", 0, 0, 0, 0)]
    return [
        Totals(
            t.currency,
            format_money(t.owed_cents, t.currency),
            format_money(t.overdue_cents, t.currency),
            t.overdue_cents > 0,
        )
        for t in shown
    ]


def client_page(session: Session, client_id: int, key: str, today: date) -> ClientPage:
    """The customer page of a client link: that client's documents of that company, the pending ones
    first (earliest due first), then the settled and voided ones (latest first), with what is owed
    and overdue in each currency over all of them. Documents the company does not collect with dtehub
    (history) are left out, so the page agrees with the debt summary that links to it."""
    client = _client(session, client_id, key)
    company = _company(session, client.company_id)
    start = company.collections_start_date
    totals = repository.client_totals(session, company.id, client.id, today, start)
    pending = repository.pending_documents(session, company.id, client.id, PENDING_LIMIT, start)
    others = repository.other_documents(session, company.id, client.id, OTHERS_LIMIT, start)
    return ClientPage(
        title=f"Documentos de {client.name or printable_tax_id(client.tax_id)}",
        issuer=_issuer(session, company),
        customer=Party(client.name, printable_tax_id(client.tax_id)),
        totals=_totals(totals),
        pending=Listing([_document_row(d, today) for d in pending], sum(t.pending_count for t in totals)),
        others=Listing([_document_row(d, today) for d in others], sum(t.other_count for t in totals)),
    )


# --- files ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrintOptions:
    paper: Paper
    cedible: bool

    @classmethod
    def parse(cls, paper: str | None, cedible: str | None) -> PrintOptions:
        """``?format=letter|80mm&cedible=0|1``; anything else is a 400 that says what is accepted."""
        papers = {p.value: p for p in Paper}
        if paper is not None and paper not in papers:
            accepted = " o ".join(papers)
            raise BadRequest(f"El formato «{paper}» no existe: use {accepted}.", field="format")
        if cedible not in (None, "0", "1"):
            raise BadRequest(
                "El parámetro cedible acepta 0 (copia normal) o 1 (copia CEDIBLE).", field="cedible"
            )
        return cls(papers[paper] if paper is not None else Paper.LETTER, cedible == "1")

    def file_name(self, code: int, number: str) -> str:
        suffixes = (["80mm"] if self.paper == Paper.ROLL_80MM else []) + (["CEDIBLE"] if self.cedible else [])
        return _file_name(code, number, "pdf", *suffixes)


@dataclass(frozen=True)
class File:
    content: bytes
    name: str


def _not_cedible(what: str) -> NotCedible:
    return NotCedible(
        f"{what} no tiene copia CEDIBLE: solo las facturas y guías de despacho se pueden ceder.",
        field="cedible",
    )


def _summary(document: Document, company: Company, client: Client) -> DocumentSummary:
    return DocumentSummary(
        issuer_name=company.name,
        issuer_rut=company.rut,
        client_name=client.name,
        client_tax_id=client.tax_id,
        client_address=client.address,
        client_comuna=client.comuna,
        client_city=client.city,
        code=None if document.code == NO_CODE else document.code,
        number=document.number,
        issue_date=document.issue_date,
        due_date=document.due_date,
        currency=document.currency,
        net_cents=document.net_cents,
        taxes_cents=document.taxes_cents,
        total_cents=document.total_cents,
        gloss=document.gloss,
        purchase_order=document.purchase_order,
        notes=document.notes,
    )


@dataclass(frozen=True)
class PrintJob:
    """A PDF to print, with all it needs read in the request's unit of work (:func:`document_print`,
    :func:`note_print`). Printing takes tens of milliseconds and no database: :func:`print_pdf` runs
    once the connection is back in the pool."""

    name: str
    what: str
    """The object, as the log names it."""
    options: PrintOptions
    settings: IssuerPrintSettings
    content: bytes | None
    """The DTE to print from; None when the document came without one."""
    summary: DocumentSummary | None
    """The document's fields, printed when it has no DTE or its DTE cannot be printed."""
    unprintable: str | None = None
    """The refusal when the DTE cannot be printed and its fields are no substitute (a CEDIBLE copy, a
    note)."""


def document_print(
    session: Session, document_id: int, key: str, paper: str | None, cedible: str | None
) -> PrintJob:
    """The document's PDF to print: from its DTE (with the timbre) when it came as XML, else a summary of
    its fields; the CEDIBLE copy only for a type that can be assigned, and only from the DTE. The
    options are read once the key has opened the document: a bad link is a 404 whatever it asks."""
    document = _document(session, document_id, key)
    options = PrintOptions.parse(paper, cedible)
    if options.cedible and document.code not in CEDIBLE_CODES:
        raise _not_cedible(f"Un documento de tipo {type_name(document.code).lower()}")
    company = _company(session, document.company_id)
    content = documents_repository.source_content(session, document.company_id, document.id)
    if content is None and options.cedible:
        raise NotCedible(
            "La copia CEDIBLE se imprime desde el XML del documento, y este documento no lo tiene.",
            field="cedible",
        )
    summary = None
    if not options.cedible:  # what prints without a DTE, or when the DTE cannot be printed
        client = clients_repository.get(session, company.id, document.client_id)
        summary = _summary(document, company, client) if client is not None else None
    return PrintJob(
        name=options.file_name(document.code, document.number),
        what=f"document {document.id}",
        options=options,
        settings=companies_service.print_settings(session, company),
        content=content,
        summary=summary,
        unprintable=(
            "No pudimos imprimir la copia CEDIBLE desde el XML de este documento; descargue el XML."
            if options.cedible
            else None
        ),
    )


def note_print(session: Session, note_id: int, key: str, paper: str | None, cedible: str | None) -> PrintJob:
    """A credit or debit note's PDF to print, from its DTE (notes have no CEDIBLE copy)."""
    note = _note(session, note_id, key)
    options = PrintOptions.parse(paper, cedible)
    if options.cedible:
        raise NotCedible("Las notas de crédito y débito no tienen copia CEDIBLE.", field="cedible")
    company = _company(session, note.company_id)
    content = repository.note_content(session, note.id)
    if content is None:
        raise _not_found()
    return PrintJob(
        name=options.file_name(note.code, note.number),
        what=f"note {note.id}",
        options=options,
        settings=companies_service.print_settings(session, company),
        content=content,
        summary=None,
        unprintable="No pudimos imprimir esta nota desde su XML; descargue el XML.",
    )


def print_pdf(job: PrintJob) -> File:
    """The PDF of ``job``: its DTE printed, else its fields; no database."""
    if job.content is not None:
        try:
            pdf = render_dte_pdf(
                job.content, job.settings, paper=job.options.paper, cedible=job.options.cedible
            )
        except NoCedibleCopy:
            raise _not_cedible("Este documento") from None
        except PrintError as error:
            if job.unprintable is not None:
                raise DteRefused(job.unprintable) from None
            log.warning("%s: its DTE cannot be printed (%s); printing its fields", job.what, error.code)
        else:
            return File(pdf, job.name)
    if job.summary is None:
        raise _not_found()
    return File(render_summary_pdf(job.summary, job.settings, paper=job.options.paper), job.name)


def document_xml(session: Session, document_id: int, key: str) -> File:
    """The document's DTE, byte for byte as it was received (cut out of its envelope)."""
    document = _document(session, document_id, key)
    content = documents_repository.source_content(session, document.company_id, document.id)
    if content is None:  # created by fields: there is no XML to give
        raise _not_found()
    return File(content, _file_name(document.code, document.number, "xml"))


def note_xml(session: Session, note_id: int, key: str) -> File:
    """The note's DTE, byte for byte as it was received."""
    note = _note(session, note_id, key)
    content = repository.note_content(session, note.id)
    if content is None:
        raise _not_found()
    return File(content, _file_name(note.code, note.number, "xml"))
