"""The web app's e-mails (a password reset, an invitation), composed as dtehub's other messages and
handed to the configured transport (SMTP, or ``.eml`` files: ``DTEHUB_SMTP_URL``, ``DTEHUB_MAIL_FOLDER``).
They are sent after the request's change is committed (:class:`dtehub.dependencies.AfterCommit`), so a
link is never mailed that the database does not hold."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from email.utils import formataddr
from html import escape

from dtehub.config import Settings
from dtehub.kit.dates import utcnow
from dtehub.mail.message import compose
from dtehub.mail.transport import SendFailed
from dtehub.reminders.service import make_transport

log = logging.getLogger("dtehub")


@dataclass(frozen=True)
class LinkMail:
    to: str
    subject: str
    lines: tuple[str, ...]
    link: str
    action: str


def send(settings: Settings, mail: LinkMail) -> bool:
    """Send it now; False (logged, without the link) when the transport refused it."""
    text = "\n\n".join([*mail.lines, f"{mail.action}: {mail.link}", "dtehub"])
    html = (
        "".join(f"<p>{escape(line)}</p>" for line in mail.lines)
        + f'<p><a href="{escape(mail.link)}">{escape(mail.action)}</a></p><p>dtehub</p>'
    )
    domain = settings.mail_from.rpartition("@")[2] or "dtehub.localhost"
    message = compose(
        sender=formataddr(("dtehub", settings.mail_from)),
        recipients=[mail.to],
        reply_to=None,
        subject=mail.subject,
        text=text,
        html=html,
        date=utcnow(),
        message_id=f"<{secrets.token_hex(16)}@{domain}>",
    )
    transport = make_transport(settings)
    try:
        transport.send(message, f"app-{secrets.token_hex(8)}")
    except SendFailed as failed:
        log.warning("the web app's e-mail to a user was not sent: %s", failed)
        return False
    finally:
        transport.close()
    return True


def reset_mail(settings: Settings, to: str, token: str) -> LinkMail:
    return LinkMail(
        to=to,
        subject="Crear una contraseña nueva en dtehub",
        lines=(
            "Alguien (ojalá usted) pidió crear una contraseña nueva para esta dirección en dtehub.",
            "El enlace sirve una vez, durante una hora. Si no lo pidió, ignore este correo: su contraseña "
            "sigue igual.",
        ),
        link=f"{settings.public_base}/app/password/{token}",
        action="Crear contraseña nueva",
    )


def invitation_mail(settings: Settings, to: str, company: str, inviter: str, token: str | None) -> LinkMail:
    """An invitation: with a link to choose a password (a new user), or to sign in (a user already)."""
    if token is None:
        return LinkMail(
            to=to,
            subject=f"Acceso a {company} en dtehub",
            lines=(f"{inviter} le dio acceso a {company} en dtehub.", "Ingrese con su correo y contraseña."),
            link=f"{settings.public_base}/app/login",
            action="Ingresar",
        )
    return LinkMail(
        to=to,
        subject=f"Invitación a {company} en dtehub",
        lines=(
            f"{inviter} lo invitó a trabajar en {company} en dtehub.",
            "Elija su contraseña con este enlace; sirve una vez, durante 24 horas.",
        ),
        link=f"{settings.public_base}/app/password/{token}",
        action="Elegir contraseña",
    )
