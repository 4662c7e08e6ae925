"""A finished e-mail: its envelope and its bytes, composed directly rather than through ``email``'s
generator.

The messages dtehub sends all have one shape (plain text and HTML alternatives, optionally a file
attached), so their bytes are written from that shape: every body is base64 (76-character lines), so
no part can contain a boundary (``=_`` never occurs in base64), and only the headers that may carry
free text (the sender's name, the subject, the file's name) need encoding (RFC 2047 encoded words,
RFC 2231 for the file name). The result is an RFC 5322 message with CRLF line endings, as SMTP wants
it and as an ``.eml`` file may be; ``email.message_from_bytes`` reads it back. It costs a few tens of
microseconds where ``email.mime`` and its generator took about half a millisecond (header folding
through ``email.header.Header`` for every header, a regular expression compiled per boundary).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from urllib.parse import quote

CRLF = "\r\n"
_WORD_BYTES = 39
"""UTF-8 bytes per encoded word: 52 base64 characters, 64 with ``=?utf-8?b?…?=``, so that a header's
first line (``Subject: `` and one word) stays within RFC 5322's recommended 78 characters."""
_PLAIN_HEADER_CHARACTERS = 70
_LONGEST_WORD = 900
"""Lines must stay under 998 characters (RFC 5322)."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What a transport hands over: the envelope (``MAIL FROM`` and ``RCPT TO`` addresses) and the
    message itself (RFC 5322, CRLF line endings)."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable()


def encoded_words(value: str) -> str:
    """``value`` as RFC 2047 encoded words (UTF-8, base64), one per folded line, each cut at a
    character boundary."""
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for character in value:
        length = len(character.encode())
        if size + length > _WORD_BYTES:
            words.append(_word("".join(chunk)))
            chunk, size = [], 0
        chunk.append(character)
        size += length
    if chunk or not words:
        words.append(_word("".join(chunk)))
    return (CRLF + " ").join(words)


def _word(value: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(value.encode()).decode("ascii") + "?="


def unstructured(value: str) -> str:
    """A free-text header value (the subject): as is when it is short printable ASCII, else encoded
    words (which also keep a line break in ``value`` from ending the header)."""
    if _printable_ascii(value) and len(value) <= _PLAIN_HEADER_CHARACTERS:
        return value
    return encoded_words(value)


@lru_cache(maxsize=1024)
def mailbox(value: str) -> tuple[str, str]:
    """A ``Name <address>`` string (the name may be encoded words already, as ``formataddr`` writes
    it) as (header value, address): the name quoted when it is printable ASCII and short, else encoded
    words."""
    # A line break cannot belong to a name: one kept would let the name pass for another address
    # (outbox rows rendered before names were cleaned when rendered).
    name, address = parseaddr(value.replace("\r", " ").replace("\n", " "))
    if "=?" in name:
        name = str(make_header(decode_header(name)))
    if not name:
        return address, address
    plain = formataddr((name, address))
    if _printable_ascii(name) and len(plain) <= _PLAIN_HEADER_CHARACTERS:
        return plain, address
    # One word, as ``formataddr`` writes it: Python's own parser puts a space between the adjacent
    # encoded words of a name (other readers follow RFC 2047 and join them), so a name is cut only
    # when one word would not fit in a line.
    word = _word(name)
    phrase = word if len(word) <= _LONGEST_WORD else encoded_words(name)
    return f"{phrase}{CRLF} <{address}>", address


def _filename(name: str) -> str:
    """The ``filename`` parameter: quoted when printable ASCII, else RFC 2231 (UTF-8, percent-encoded)."""
    if _printable_ascii(name):
        return 'filename="' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "filename*=utf-8''" + quote(name, safe="")


def _base64(content: bytes) -> bytes:
    """Base64 in 76-character lines, each ending in CRLF (as MIME wants)."""
    return base64.encodebytes(content).replace(b"\n", b"\r\n")


def _boundary() -> str:
    return "=_" + secrets.token_hex(16)


def compose(
    *,
    sender: str,
    recipients: list[str],
    reply_to: str | None,
    subject: str,
    text: str,
    html: str,
    date: datetime,
    message_id: str,
    attachment: tuple[str, bytes] | None = None,
    attachment_type: str = "application/pdf",
) -> OutgoingMessage:
    """Text and HTML alternatives (UTF-8), and ``attachment`` (name, content) when given.

    Addresses are given valid (``sender`` as ``Name <address>``); a non-ASCII address is written as
    UTF-8 (RFC 6532), which only a server that offers SMTPUTF8 accepts.
    """
    from_header, envelope_sender = mailbox(sender)
    alternative = _boundary()
    headers = [
        f"From: {from_header}",
        "To: " + ("," + CRLF + " ").join(recipients),
    ]
    if reply_to:
        headers.append(f"Reply-To: {reply_to}")
    headers += [
        f"Subject: {unstructured(subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
    ]
    body = [
        f'Content-Type: multipart/alternative; boundary="{alternative}"{CRLF}{CRLF}'.encode(),
        f'--{alternative}{CRLF}Content-Type: text/plain; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: base64{CRLF}{CRLF}".encode(),
        _base64(text.encode()),
        f'--{alternative}{CRLF}Content-Type: text/html; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: base64{CRLF}{CRLF}".encode(),
        _base64(html.encode()),
        f"--{alternative}--{CRLF}".encode(),
    ]
    if attachment is not None:
        mixed = _boundary()
        name, content = attachment
        headers.append(f'Content-Type: multipart/mixed; boundary="{mixed}"{CRLF}')
        parts = [
            f"--{mixed}{CRLF}".encode(),
            *body,
            f"{CRLF}--{mixed}{CRLF}Content-Type: {attachment_type}{CRLF}"
            f"Content-Transfer-Encoding: base64{CRLF}"
            f"Content-Disposition: attachment; {_filename(name)}{CRLF}{CRLF}".encode(),
            _base64(content),
            f"--{mixed}--{CRLF}".encode(),
        ]
    else:
        parts = body
    head = CRLF.join(headers) + CRLF
    return OutgoingMessage(
        sender=envelope_sender,
        recipients=tuple(recipients),
        data=head.encode() + b"".join(parts),
    )
