"""The web app's HTML: its Jinja2 environment (autoescaped), the headers every ``/app`` answer carries,
its stylesheet (the one public file, named by its content's hash), the formats people in Chile read
(``$1.234.567``, ``dd-mm-aaaa``) and its error page.

Nothing on a page comes from another origin, and no script runs: the policy says so
(``script-src`` falls back to ``default-src 'none'``). A page that follows a job live (an import's
progress, ``/app/sii`` while a sync runs) sends :data:`SCRIPT_POLICY` instead, for dtehub's own script.
Forms post to dtehub only. The static files (the stylesheet, the one script) are named by their
content's hash, so they may be kept long.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.responses import HTMLResponse, RedirectResponse, Response

from dtehub.dte.document_types import dte_type_name
from dtehub.kit.dates import SANTIAGO
from dtehub.kit.money import format_number
from dtehub.kit.rut import printable_tax_id

log = logging.getLogger("dtehub")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
PRIVATE_HEADERS: Mapping[str, str] = {**_SECURITY_HEADERS, "Cache-Control": "private, no-store"}
"""On every ``/app`` answer but the stylesheet: pages of a signed-in person are never cached."""
PUBLIC_HEADERS: Mapping[str, str] = {
    **_SECURITY_HEADERS,
    "Cache-Control": "public, max-age=31536000, immutable",
}

_CURRENCY_SIGNS = {"CLP": "$", "USD": "US$", "EUR": "€", "CLF": "UF"}


def money(cents: int, currency: str = "CLP") -> str:
    """``123456700`` → ``$1.234.567``; other currencies keep two decimals (``US$1.234,56``)."""
    sign = _CURRENCY_SIGNS.get(currency.upper(), currency.upper() + " ")
    decimals = 0 if currency.upper() == "CLP" and cents % 100 == 0 else 2
    text = format_number(Decimal(cents) / 100, decimals=decimals)
    return f"-{sign}{text[1:]}" if text.startswith("-") else f"{sign}{text}"


def day(value: date | None) -> str:
    """``2026-12-07`` → ``07-12-2026``."""
    return value.strftime("%d-%m-%Y") if value is not None else "—"


def moment(value: datetime | None) -> str:
    """An instant as Santiago's wall clock, ``07-12-2026 09:30``."""
    return value.astimezone(SANTIAGO).strftime("%d-%m-%Y %H:%M") if value is not None else "—"


def type_name(code: int | None) -> str:
    """A document's kind as people say it: «Factura electrónica»; one without SII code (0) «Documento»."""
    return dte_type_name(code or None).capitalize()


def count(value: int) -> str:
    return format_number(value)


_environment = Environment(
    loader=PackageLoader("dtehub.webapp", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
_environment.filters.update(money=money, day=day, moment=moment, count=count, rut=printable_tax_id)


SCRIPT_POLICY = CONTENT_SECURITY_POLICY + "; script-src 'self'; connect-src 'self'"
"""A live page's policy: its one script, from dtehub, which reads from dtehub only."""

_MEDIA_TYPES = {".css": "text/css", ".js": "text/javascript"}


@cache
def static_file(name: str) -> bytes:
    return resources.files("dtehub.webapp").joinpath("static", name).read_bytes()


@cache
def static_url(name: str) -> str:
    return f"/app/static/{name}?v={hashlib.sha256(static_file(name)).hexdigest()[:12]}"


def static_response(name: str) -> Response:
    """A static file, public and kept long (its URL changes with its content)."""
    media_type = _MEDIA_TYPES[PurePosixPath(name).suffix]
    return Response(static_file(name), media_type=media_type, headers=dict(PUBLIC_HEADERS))


def render(template: str, context: Mapping[str, Any]) -> str:
    return _environment.get_template(template).render(stylesheet_url=static_url("app.css"), **context)


def page(
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    return HTMLResponse(
        render(template, context), status_code=status_code, headers={**PRIVATE_HEADERS, **(headers or {})}
    )


def redirect(url: str) -> Response:
    """After a form: 303, so that the browser follows with a GET (and a reload posts nothing twice)."""
    return RedirectResponse(url, status_code=303, headers=dict(PRIVATE_HEADERS))


_ERROR_TEXTS = {
    401: ("Su sesión terminó", "Vuelva a ingresar para continuar."),
    403: ("Acción no permitida", "Su rol en esta empresa no permite hacer esto, o el formulario venció."),
    404: ("Página no encontrada", "Lo que busca no existe, o no pertenece a la empresa en la que trabaja."),
    405: ("Operación no permitida", "Esta dirección no acepta esa operación."),
    413: (
        "Archivo demasiado grande",
        "Lo enviado supera el tamaño máximo que acepta dtehub. Envíe menos archivos a la vez.",
    ),
    429: ("Demasiadas solicitudes", "Espere un momento e intente de nuevo."),
    503: ("Servicio no disponible", "El servicio no está disponible en este momento. Intente más tarde."),
}
_GENERIC_ERROR = ("No pudimos atender la solicitud", "Ocurrió un error inesperado. Nada se modificó.")


def error_page(status_code: int, message: str, code: str | None = None) -> HTMLResponse:
    """The page of an ``/app`` error; a 400 says what to change, the rest say what they are (a 404 says
    the same whatever its cause: another company's object is a missing one)."""
    if status_code in (400, 422):
        title, text = "Solicitud no válida", message
    elif code == "csrf_refused":
        title, text = "Formulario vencido", "Recargue la página e intente de nuevo."
    else:
        title, text = _ERROR_TEXTS.get(status_code, _GENERIC_ERROR)
    try:
        return page(
            "error.html", {"title": title, "message": text, "status": status_code}, status_code=status_code
        )
    except Exception:  # the error page must never fail itself
        log.exception("the web app's error page could not be rendered")
        body = (
            '<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Error</title></head>'
            f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></main></body></html>"
        )
        return HTMLResponse(body, status_code=status_code, headers=dict(PRIVATE_HEADERS))
