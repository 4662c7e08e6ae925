"""The portal's HTML: a Jinja2 environment on the package's templates (autoescaped: every value on a
page came from a DTE or an API caller), the headers every portal answer carries, the error pages and
the stylesheet, which is the one public, cacheable file of the portal."""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.responses import HTMLResponse, Response

log = logging.getLogger("dtehub")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
PRIVATE_HEADERS: Mapping[str, str] = {**_SECURITY_HEADERS, "Cache-Control": "private, no-store"}
"""On every portal answer but the stylesheet: a link's key is its only credential, so nothing it opens
may stay in a shared cache, travel in a Referer or be framed by another site."""
PUBLIC_HEADERS: Mapping[str, str] = {
    **_SECURITY_HEADERS,
    "Cache-Control": "public, max-age=31536000, immutable",
}
"""On the stylesheet, whose URL changes with its content."""

_environment = Environment(
    loader=PackageLoader("dtehub.portal", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


@cache
def stylesheet() -> bytes:
    return resources.files("dtehub.portal").joinpath("static", "portal.css").read_bytes()


@cache
def stylesheet_url() -> str:
    version = hashlib.sha256(stylesheet()).hexdigest()[:12]
    return f"/portal/static/portal.css?v={version}"


def render(template: str, context: Mapping[str, Any]) -> str:
    return _environment.get_template(template).render(stylesheet_url=stylesheet_url(), **context)


def page(template: str, context: Mapping[str, Any], *, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(render(template, context), status_code=status_code, headers=dict(PRIVATE_HEADERS))


_ERROR_TEXTS = {
    404: (
        "Página no encontrada",
        "El enlace no existe o ya no es válido. "
        "Si lo recibió por correo, pida uno nuevo a quien se lo envió.",
    ),
    405: ("Operación no permitida", "Esta dirección solo se puede abrir, no enviar datos a ella."),
    429: (
        "Demasiadas solicitudes",
        "Este enlace se abrió demasiadas veces en poco tiempo. Espere un momento e intente de nuevo.",
    ),
    503: ("Servicio no disponible", "El servicio no está disponible en este momento. Intente más tarde."),
}
_GENERIC_ERROR = ("No pudimos atender la solicitud", "Ocurrió un error inesperado. Intente más tarde.")


def error_page(status_code: int, message: str, code: str = "") -> HTMLResponse:
    """The page of a portal error. A 404 says the same whatever its cause (no such object, a wrong
    key, a malformed id), so that a guessed link learns nothing; a 400 or a 422 says what to change.
    A missing CEDIBLE copy (``not_cedible``, a 404 too) is told only once the key has opened the
    object, so its page says why."""
    if code == "not_cedible":
        title, text = "Sin copia CEDIBLE", message
    elif status_code == 400:
        title, text = "Solicitud no válida", message
    elif status_code == 422:
        title, text = "No pudimos preparar el archivo", message
    else:
        title, text = _ERROR_TEXTS.get(status_code, _GENERIC_ERROR)
    try:
        return page("error.html", {"title": title, "message": text}, status_code=status_code)
    except Exception:  # the error page must never fail itself: a plain one, without the stylesheet
        log.exception("the portal's error page could not be rendered")
        body = (
            '<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Error</title></head>'
            f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></main></body></html>"
        )
        return HTMLResponse(body, status_code=status_code, headers=dict(PRIVATE_HEADERS))


# A PDF shown inline is drawn by the browser's own viewer, which an HTML page's policy (object-src
# falls back to default-src 'none') would block in Chromium; a PDF runs nothing of dtehub's anyway.
_PDF_POLICY = "frame-ancestors 'none'; form-action 'none'; base-uri 'none'"


def private_file(content: bytes, media_type: str, disposition: str) -> Response:
    headers = {**PRIVATE_HEADERS, "Content-Disposition": disposition}
    if media_type == "application/pdf":
        headers["Content-Security-Policy"] = _PDF_POLICY
    return Response(content, media_type=media_type, headers=headers)


def safe_filename(name: str) -> str:
    """A name that needs no quoting in a header nor in a ``download`` attribute."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name) or "file"


def disposition(kind: str, name: str) -> str:
    """``attachment`` or ``inline`` with the file's name; a name beyond ASCII also travels whole, as
    RFC 6266's ``filename*``, for the browsers that read it."""
    value = f'{kind}; filename="{safe_filename(name)}"'
    if not name.isascii():
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value
