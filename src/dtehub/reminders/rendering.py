"""What each reminder says, in Spanish: subject, plain text and HTML (Jinja2, autoescaped), with the
portal link, the amounts and the PDF's name when one is attached; and the finished MIME message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from email.headerregistry import Address
from email.utils import formataddr, make_msgid
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from dtehub.kit.money import format_money
from dtehub.mail.message import OutgoingMessage, compose
from dtehub.models import Client, Company, Document, DocumentCession, Note, ReminderKind
from dtehub.models.document import NO_CODE
from dtehub.portal.service import format_date, type_name

_environment = Environment(
    loader=PackageLoader("dtehub.reminders", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
_HTML = _environment.get_template("reminder.html")
_TEXT = _environment.get_template("reminder.txt")

CLOSING = (
    "Si ya realizó el pago, por favor no considere este mensaje. "
    "Ante cualquier consulta, responda este correo."
)
THANKS = "Gracias por su pago. Ante cualquier consulta, responda este correo."
QUESTIONS = "Ante cualquier consulta, responda este correo."


@dataclass(frozen=True)
class Content:
    company_name: str
    subject: str
    heading: str
    greeting: str
    paragraphs: list[str]
    link: str
    link_label: str
    closing: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    totals: list[tuple[str, str]] = field(default_factory=list)
    attachment_name: str | None = None

    def text(self) -> str:
        return _TEXT.render(m=self)

    def html(self) -> str:
        return _HTML.render(m=self)


def file_name(code: int, number: str) -> str:
    """As the portal names the PDF: ``DTE-33-696.pdf``, ``Documento-A-1.pdf``."""
    stem = f"DTE-{code}-{number}" if code != NO_CODE else f"Documento-{number}"
    return f"{stem}.pdf"


def _title(code: int, number: str) -> str:
    return f"{type_name(code)} N° {number}"


def _greeting(client: Client) -> str:
    return f"Estimado cliente {client.name}:" if client.name else "Estimado cliente:"


def _money(cents: int, currency: str) -> str:
    return format_money(cents, currency)


_DOCUMENT_COLUMNS = ["Documento", "Emisión", "Vencimiento", "Total", "Saldo"]


def _document_row(document: Document) -> list[str]:
    return [
        _title(document.code, document.number),
        format_date(document.issue_date),
        format_date(document.due_date),
        _money(document.total_cents, document.currency),
        _money(document.due_cents, document.currency),
    ]


def document_reminder(
    kind: ReminderKind,
    company: Company,
    client: Client,
    document: Document,
    link: str,
    day: date,
    attachment_name: str | None,
) -> Content:
    """New document, soon to fall due, overdue."""
    title = _title(document.code, document.number)
    due = _money(document.due_cents, document.currency)
    due_date = format_date(document.due_date)
    if kind == ReminderKind.NEW_DOCUMENT:
        subject = f"{company.name}: {title}"
        heading = f"Nuevo documento: {title}"
        paragraphs = [
            f"{company.name} le ha emitido la {title.lower()} por un total de "
            f"{_money(document.total_cents, document.currency)}, con vencimiento el {due_date}.",
        ]
        closing = QUESTIONS
    elif kind == ReminderKind.SOON_TO_EXPIRE:
        days = (document.due_date - day).days
        when = "mañana" if days == 1 else "hoy" if days == 0 else f"en {days} días"
        subject = f"{company.name}: su {title.lower()} vence el {due_date}"
        heading = f"Su {title.lower()} vence {when}"
        paragraphs = [
            f"Le recordamos que la {title.lower()} vence el {due_date} ({when}) "
            f"y tiene un saldo por pagar de {due}.",
        ]
        closing = CLOSING
    else:
        overdue_days = (day - document.due_date).days
        subject = f"{company.name}: su {title.lower()} está vencida"
        heading = f"Documento vencido: {title}"
        paragraphs = [
            f"La {title.lower()} venció el {due_date} (hace {overdue_days} "
            f"{'día' if overdue_days == 1 else 'días'}) y tiene un saldo por pagar de {due}.",
            "Le agradeceremos regularizar el pago a la brevedad.",
        ]
        closing = CLOSING
    return Content(
        company_name=company.name,
        subject=subject,
        heading=heading,
        greeting=_greeting(client),
        paragraphs=paragraphs,
        columns=_DOCUMENT_COLUMNS,
        rows=[_document_row(document)],
        link=link,
        link_label="Ver el documento",
        closing=closing,
        attachment_name=attachment_name,
    )


def note_reminder(
    company: Company,
    client: Client,
    note: Note,
    document: Document | None,
    link: str,
    attachment_name: str | None,
) -> Content:
    title = _title(note.code, note.number)
    paragraphs = [
        f"{company.name} le ha emitido la {title.lower()} por {_money(note.total_cents, note.currency)}."
    ]
    if document is not None:
        paragraphs.append(
            f"La nota se refiere a la {_title(document.code, document.number).lower()}, cuyo saldo por "
            f"pagar es ahora {_money(document.due_cents, document.currency)}."
        )
    if note.gloss:
        paragraphs.append(f"Motivo: {note.gloss}")
    return Content(
        company_name=company.name,
        subject=f"{company.name}: {title}",
        heading=f"Nueva {title.lower()}",
        greeting=_greeting(client),
        paragraphs=paragraphs,
        columns=_DOCUMENT_COLUMNS if document is not None else [],
        rows=[_document_row(document)] if document is not None else [],
        link=link,
        link_label="Ver el documento",
        closing=QUESTIONS,
        attachment_name=attachment_name,
    )


def cession_notice(
    company: Company, client: Client, document: Document, cession: DocumentCession, link: str
) -> Content:
    """SII registered the cession of the document: from now on the debtor pays the assignee."""
    title = _title(document.code, document.number)
    assignee = f"{cession.assignee_name} (RUT {cession.assignee_rut})"
    return Content(
        company_name=company.name,
        subject=f"{company.name}: aviso de cesión de la {title.lower()}",
        heading=f"Aviso de cesión: {title}",
        greeting=_greeting(client),
        paragraphs=[
            f"{company.name} cedió la {title.lower()} a {assignee} por "
            f"{_money(cession.amount_cents, document.currency)}, y el Servicio de Impuestos Internos "
            f"registró la cesión en el Registro de Transferencia de Créditos.",
            f"Desde ahora la factura pertenece a {cession.assignee_name}: pague a {cession.assignee_name}, "
            f"no a {company.name}.",
            f"Contacto del cesionario: {cession.assignee_email}, {cession.assignee_address}.",
        ],
        columns=_DOCUMENT_COLUMNS,
        rows=[_document_row(document)],
        link=link,
        link_label="Ver el documento",
        closing=QUESTIONS,
    )


def payment_reminder(
    company: Company,
    client: Client,
    paid_on: date,
    amount_cents: int,
    currency: str,
    settled: list[tuple[Document, int]],
    link: str,
) -> Content:
    amount = _money(amount_cents, currency)
    paragraphs = [f"Hemos recibido su pago de {amount} del {format_date(paid_on)}."]
    if settled:
        paragraphs.append("El pago se aplicó a los siguientes documentos:")
    return Content(
        company_name=company.name,
        subject=f"{company.name}: recibimos su pago de {amount}",
        heading="Pago recibido",
        greeting=_greeting(client),
        paragraphs=paragraphs,
        columns=["Documento", "Vencimiento", "Pagado", "Saldo"] if settled else [],
        rows=[
            [
                _title(d.code, d.number),
                format_date(d.due_date),
                _money(applied, d.currency),
                _money(d.due_cents, d.currency),
            ]
            for d, applied in settled
        ],
        link=link,
        link_label="Ver su estado de cuenta",
        closing=THANKS,
    )


def debt_summary(
    company: Company, client: Client, documents: list[Document], link: str, day: date
) -> Content:
    totals: dict[str, int] = {}
    overdue: dict[str, int] = {}
    for d in documents:
        totals[d.currency] = totals.get(d.currency, 0) + d.due_cents
        if d.due_date < day:
            overdue[d.currency] = overdue.get(d.currency, 0) + d.due_cents
    owed = ", ".join(_money(cents, currency) for currency, cents in sorted(totals.items()))
    paragraphs = [f"Al {format_date(day)}, su saldo pendiente con {company.name} es de {owed}."]
    if overdue:
        paragraphs.append(
            "De ese saldo, "
            + ", ".join(_money(c, currency) for currency, c in sorted(overdue.items()))
            + " corresponde a documentos vencidos."
        )
    return Content(
        company_name=company.name,
        subject=f"{company.name}: resumen de su deuda al {format_date(day)}",
        heading="Resumen de su deuda",
        greeting=_greeting(client),
        paragraphs=paragraphs,
        columns=_DOCUMENT_COLUMNS,
        rows=[_document_row(d) for d in documents],
        totals=[
            (f"Total por pagar ({currency})", _money(c, currency)) for currency, c in sorted(totals.items())
        ],
        link=link,
        link_label="Ver su estado de cuenta",
        closing=CLOSING,
    )


def sender(company: Company, address: str) -> str:
    """``"DUEMINT SPA" <recordatorios@…>``: the company's name on dtehub's sending address. A line
    break or other control character in the name becomes a space: the name must never reach a header
    line of its own, nor change the address parsed back from this string."""
    name = "".join(character if character.isprintable() else " " for character in company.name)
    return formataddr((name, address))


def new_message_id(address: str) -> str:
    domain = address.rpartition("@")[2] or "dtehub.localhost"
    return make_msgid("recordatorio", domain=domain)


def mime_message(
    *,
    message_id: str,
    sender: str,
    reply_to: str | None,
    recipients: list[str],
    subject: str,
    text: str,
    html: str,
    now: datetime,
    attachment: tuple[str, bytes] | None,
) -> OutgoingMessage:
    """The MIME message: text and HTML alternatives, the PDF attached (``dtehub.mail.message``)."""
    return compose(
        sender=sender,
        recipients=recipients,
        reply_to=reply_to,
        subject=subject,
        text=text,
        html=html,
        date=now,
        message_id=message_id,
        attachment=attachment,
    )


@lru_cache(maxsize=4096)
def valid_address(address: str) -> bool:
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return "@" in address
