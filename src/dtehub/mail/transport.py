"""Transports hand a finished message over: to an SMTP server, or to a folder as an ``.eml`` file.

``DTEHUB_SMTP_URL`` picks SMTP: ``smtp://[user:password@]host[:587]`` speaks STARTTLS when the server
offers it (and refuses to send a password over a connection that is not encrypted),
``smtps://[user:password@]host[:465]`` is TLS from the first byte. Without it, each message is
written to ``DTEHUB_MAIL_FOLDER`` as ``<name>.eml``, atomically (a temporary file renamed into place),
so a retry of the same message rewrites the same file, and a file that is there is complete.

Both take an :class:`~dtehub.mail.message.OutgoingMessage`: the envelope and the finished bytes.

A failure raises :class:`SendFailed`; the password is never part of what is logged or raised.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import smtplib
import socket
import ssl
import tempfile
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from dtehub.mail.message import OutgoingMessage


class SendFailed(Exception):
    """The message was not accepted (connection refused, TLS, an SMTP 4xx/5xx answer): try again later."""


class OutcomeUnknown(SendFailed):
    """The connection failed while the message itself was being handed over (the DATA phase): the
    server may have accepted it. Never retried, so that nothing goes out twice."""


class Transport(Protocol):
    idempotent: bool
    """Whether sending the same message twice has the effect of once (a file named by the message)."""
    identity: str
    """Where messages go, in at most 10 characters: a run records it with its claims, so that only the
    same destination is asked what a dead run handed over (another folder, or SMTP, cannot tell)."""

    def send(self, message: OutgoingMessage, name: str) -> None:
        """Hand ``message`` over; ``name`` identifies it (the outbox row) for transports that store it."""

    def handed_over(self, name: str, message_id: str | None) -> bool | None:
        """Whether the message ``name`` (with ``message_id``), which a run that stopped was handing over,
        went out: True or False when the transport can tell (the folder), None when it cannot (SMTP)."""

    def close(self) -> None: ...


class FolderTransport:
    """Writes each message to ``folder/<name>.eml``."""

    idempotent = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # This host's folder at this real path: a folder elsewhere holds none of its files.
        where = f"{socket.gethostname()}\0{os.path.realpath(folder)}"
        self.identity = "f" + hashlib.sha256(where.encode()).hexdigest()[:9]

    def send(self, message: OutgoingMessage, name: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(message.data)
                    file.flush()
                    os.fsync(file.fileno())  # on disk before the outbox may say sent (0.3 ms here)
                os.replace(temporary, self.folder / f"{name}.eml")
                _sync_directory(self.folder)  # and so is its name
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise SendFailed(f"cannot write {name}.eml: {exc.strerror or exc}") from None

    def handed_over(self, name: str, message_id: str | None) -> bool | None:
        """True when ``<name>.eml`` is there with this Message-ID (whole: files are renamed into place);
        False when there is no such file (the folder is where messages end up, nothing takes files
        out of it: the message was never written); None for a file of another message."""
        if not self.folder.is_dir():  # not mounted, or moved: its absence proves nothing
            return None
        try:
            content = (self.folder / f"{name}.eml").read_bytes()
        except FileNotFoundError:
            return False
        except OSError:
            return None
        found = BytesHeaderParser().parsebytes(content)["Message-ID"]
        if message_id is not None and found is not None and str(found).strip() == message_id:
            return True
        return None

    def close(self) -> None:
        pass


def _sync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class InvalidSmtpUrl(ValueError):
    pass


class SmtpTransport:
    """One SMTP connection, opened at the first message and kept for the next ones (re-opened after
    a failure)."""

    idempotent = False
    identity = "smtp"

    def __init__(self, url: str, *, timeout: float = 30.0, ca_bundle: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise InvalidSmtpUrl("the SMTP URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise InvalidSmtpUrl("the SMTP URL names no host")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_bundle)
        self._connection: smtplib.SMTP | None = None
        self._in_data = False

    def __repr__(self) -> str:  # never the password
        return f"SmtpTransport({'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port})"

    def _connect(self) -> smtplib.SMTP:
        connection: smtplib.SMTP
        if self.implicit_tls:
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            connection.ehlo()
            if connection.has_extn("starttls"):
                connection.starttls(context=self._context)
                connection.ehlo()
            elif self._user is not None:
                connection.close()
                raise SendFailed(
                    f"{self.host}:{self.port} offers no STARTTLS: the password is not sent in clear"
                )
        if self._user is not None:
            connection.login(self._user, self._password or "")
        handover = connection.data

        def data(content: Any) -> tuple[int, bytes]:
            self._in_data = True  # from here on a lost connection leaves the outcome unknown
            return handover(content)

        connection.data = data  # type: ignore[method-assign,assignment]
        return connection

    def send(self, message: OutgoingMessage, name: str) -> None:
        self._in_data = False
        try:
            if self._connection is None:
                self._connection = self._connect()
            connection = self._connection
            options: list[str] = []
            if not all(a.isascii() for a in (message.sender, *message.recipients)):
                connection.ehlo_or_helo_if_needed()
                if not connection.has_extn("smtputf8"):
                    raise SendFailed(
                        f"{self.host}:{self.port} does not take international addresses (SMTPUTF8)"
                    )
                options = ["SMTPUTF8", "BODY=8BITMIME"]
            refused = connection.sendmail(message.sender, list(message.recipients), message.data, options)
        except SendFailed:
            self._drop()
            raise
        except smtplib.SMTPResponseException as exc:
            self._drop()
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            raise SendFailed(f"SMTP {exc.smtp_code}: {text}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            self._drop()
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise SendFailed(f"every recipient was refused (SMTP {', '.join(map(str, codes))})") from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            if self._in_data:
                raise OutcomeUnknown(
                    f"connection lost while sending the message: {type(exc).__name__}"
                ) from None
            raise SendFailed(f"{type(exc).__name__}: {exc}") from None
        if refused:
            # Accepted for some recipients: it went out, and a retry would send it twice to the others.
            return

    def handed_over(self, name: str, message_id: str | None) -> bool | None:
        return None  # what a server accepted before a run stopped cannot be asked

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.close()
            self._connection = None

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.quit()
            self._drop()
