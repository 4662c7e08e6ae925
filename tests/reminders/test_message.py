"""The bytes of a reminder (``dtehub.mail.message``), read back as a mail client would."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr

from dtehub.mail.message import OutgoingMessage
from dtehub.reminders import rendering

NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)


def _parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _lines(data: bytes) -> list[bytes]:
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only, as SMTP wants it
    return data.split(b"\r\n")


def _short(sender: str, subject: str, text: str = "x", html: str = "x") -> OutgoingMessage:
    """A message without reply-to nor attachment to one recipient."""
    return rendering.mime_message(
        message_id="<recordatorio.short@dtehub.test>", sender=sender, reply_to=None,
        recipients=["caja@sur.cl"], subject=subject, text=text, html=html, now=NOW, attachment=None,
    )  # fmt: skip


def test_a_reminder_reads_back_whole_with_its_pdf() -> None:
    name = "FERRETERÍA O'HIGGINS & CÍA SPA"
    subject = f"{name}: su factura electrónica n° 102 está vencida desde hace bastante tiempo ya"
    text = "Estimado cliente Constructora Ñandú:\n\nLa factura electrónica N° 102 venció.\n.\n"
    html = "<p>La factura electr&oacute;nica N° 102 venció.</p>\n" * 50
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    message = rendering.mime_message(
        message_id="<recordatorio.1@dtehub.test>",
        sender=formataddr((name, "recordatorios@dtehub.test")),  # as rendering.sender stores it
        reply_to="cobranza@ferreteria.cl",
        recipients=["pagos@andes.cl", "gerencia@andes.cl"],
        subject=subject,
        text=text,
        html=html,
        now=NOW,
        attachment=("DTE-33-102 año «1».pdf", pdf),
    )

    assert (message.sender, message.recipients) == (
        "recordatorios@dtehub.test",
        ("pagos@andes.cl", "gerencia@andes.cl"),
    )
    assert max(len(line) for line in _lines(message.data)) <= 998
    header = message.data.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in _lines(header)) <= 78
    parsed = _parse(message.data)
    assert [part.defects for part in parsed.walk()] == [[] for _ in parsed.walk()]
    assert parsed["Subject"] == subject
    assert parsed["From"].addresses[0].display_name == name
    assert parsed["From"].addresses[0].addr_spec == "recordatorios@dtehub.test"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["pagos@andes.cl", "gerencia@andes.cl"]
    assert parsed["Reply-To"] == "cobranza@ferreteria.cl"
    assert parsed["Message-ID"] == "<recordatorio.1@dtehub.test>"
    assert parsed["Date"].datetime == NOW
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed.get_body(("plain",)).get_content() == text  # type: ignore[union-attr]
    assert parsed.get_body(("html",)).get_content() == html  # type: ignore[union-attr]
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "DTE-33-102 año «1».pdf"
    assert attachment.get_content() == pdf


def test_without_a_pdf_the_alternatives_are_the_message() -> None:
    message = _short(
        formataddr(("Panadería", "recordatorios@dtehub.test")),
        "Pago recibido",
        "Gracias.\n",
        "<p>Gracias.</p>\n",
    )
    parsed = _parse(message.data)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Reply-To"] is None
    assert parsed["Subject"] == "Pago recibido"
    assert parsed["From"].addresses[0].display_name == "Panadería"
    assert list(parsed.iter_attachments()) == []
    assert parsed.get_body(("plain",)).get_content() == "Gracias.\n"  # type: ignore[union-attr]


def test_a_line_break_in_a_name_or_subject_cannot_add_a_header() -> None:
    message = _short(
        formataddr(("Empresa\r\nBcc: victima@example.test", "recordatorios@dtehub.test")),
        "Hola\r\nBcc: otra@example.test",
    )
    parsed = _parse(message.data)
    assert parsed["Bcc"] is None
    assert "Bcc" in parsed["Subject"]
    # Nor pass for the sender: the envelope and the From address stay dtehub's sending address.
    assert message.sender == "recordatorios@dtehub.test"
    assert parsed["From"].addresses[0].addr_spec == "recordatorios@dtehub.test"


def test_a_company_name_with_a_line_break_is_one_line_of_the_sender() -> None:
    class Company:
        name = "ACME.\r\nBcc: victima@example.test"

    stored = rendering.sender(Company(), "recordatorios@dtehub.test")  # type: ignore[arg-type]
    assert "\r" not in stored
    assert "\n" not in stored
    message = _short(stored, "Hola")
    parsed = _parse(message.data)
    assert message.sender == parsed["From"].addresses[0].addr_spec == "recordatorios@dtehub.test"
    assert parsed["From"].addresses[0].display_name == "ACME.  Bcc: victima@example.test"
