"""The pages the emulated portal answers with, as SII writes them: ISO-8859-1, errors inside 200 pages,
and the malformed markup clients must survive (``<option>`` and the receiver's ``<td>`` never closed,
a commented-out ``//alert(`` in pages that are not errors).

Every function returns the body as bytes; text outside ISO-8859-1 becomes a character reference.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from dtehub.sii.emulator.data import StoredDte

ENCODING = "iso-8859-1"
HTML_CONTENT_TYPE = "text/html; charset=ISO-8859-1"
LOGIN_CODE_PREFIX = "01.01.215.500.440."
"""SII's login codes end in the two digits that say what went wrong (``auth-error-codes.txt``)."""
PORTAL = "/cgi-bin/Portal001"

TYPE_NAMES = {
    33: "Factura Electronica",
    34: "Factura No Afecta o Exenta Electronica",
    39: "Boleta Electronica",
    41: "Boleta Exenta Electronica",
    43: "Liquidacion Factura Electronica",
    46: "Factura de Compra Electronica",
    52: "Guia de Despacho Electronica",
    56: "Nota de Debito Electronica",
    61: "Nota de Credito Electronica",
    110: "Factura de Exportacion Electronica",
    111: "Nota de Debito de Exportacion Electronica",
    112: "Nota de Credito de Exportacion Electronica",
}


def type_name(code: int) -> str:
    return TYPE_NAMES.get(code, f"Documento Tributario Electronico {code}")


def login_code(last_two: int) -> str:
    return f"{LOGIN_CODE_PREFIX}{last_two:02d}"


# --- building blocks -----------------------------------------------------------------------------------


def _encode(text: str) -> bytes:
    return text.encode(ENCODING, "xmlcharrefreplace")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _js(text: str) -> str:
    """Text for a single-quoted JavaScript string inside a ``<script>`` element."""
    return (
        text.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("\n", "\\n")
        .replace("\r", "")
        .replace("<", "\\x3c")
    )


def _page(title: str, body: str, script: str = "") -> bytes:
    head_script = f'<script language="JavaScript">\n{script}</script>\n' if script else ""
    return _encode(
        "<html>\n<head>\n"
        '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">\n'
        f"<title>{_e(title)}</title>\n{head_script}</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


# --- errors ----------------------------------------------------------------------------------------------


def alert_page(message: str, code: str | None = None) -> bytes:
    """SII's usual error: a "Redireccionando" page whose script alerts and goes back.

    ``alert('<message> CODIGO: <code>');`` then ``history.go(-1);`` (without the code part when None).
    """
    text = f"{message} CODIGO: {code}" if code else message
    return _page("Redireccionando", "", f"alert('{_js(text)}');\nhistory.go(-1);\n")


def contribuyente_error_page(message: str, code: str) -> bytes:
    """The portal's other error: titled "Error al contribuyente", alert ending ``CODIGO: 02.35.209``."""
    text = f"{message} CODIGO: {code}"
    body = f"<h2>Error al contribuyente</h2>\n<p>{_e(message)}</p>\n<p>CODIGO: {_e(code)}</p>\n"
    return _page("Error al contribuyente", body, f"alert('{_js(text)}');\nhistory.back();\n")


def unavailable_page() -> bytes:
    body = (
        "<h1>Servicio no disponible</h1>\n<p>El servicio no se encuentra disponible. Intente más tarde.</p>\n"
    )
    return _page("Servicio no disponible", body)


def not_found_page(path: str) -> bytes:
    return _page("404 Not Found", f"<h1>Not Found</h1>\n<p>The requested URL {_e(path)} was not found.</p>\n")


def rcv_login_wall_page() -> bytes:
    """What the RCV's facade answers when the session is gone: SII's login wall, as a 200 HTML page."""
    body = (
        "<p>NO ESTA AUTENTICADO</p>\n"
        '<form action="/cgi_AUT2000/CAutInicio.cgi" method="post"><input type="hidden" name="referencia" '
        'value="https://www4.sii.cl/consdcvinternetui/"></form>\n'
    )
    return _page("SII | Autenticación", body)


def rcv_spa_page() -> bytes:
    """The RCV's single-page application (its shell only)."""
    return _page("Registro de Compras y Ventas", '<div ng-app="consdcvinternetui"></div>\n')


# --- login and logout ----------------------------------------------------------------------------------


def login_success_page(referencia: str) -> bytes:
    """Titled "Autenticación"; its script sets ``NETSCAPE_LIVEWIRE.locexp`` (now + 2 h) and goes on."""
    script = (
        "var expira = new Date();\n"
        "expira.setTime(expira.getTime() + 2 * 60 * 60 * 1000);\n"
        'document.cookie = "NETSCAPE_LIVEWIRE.locexp=" + escape(expira.toGMTString()) + "; path=/";\n'
        f"location.replace('{_js(referencia)}');\n"
    )
    return _page("Autenticación", "", script)


def logout_page() -> bytes:
    script = "location.replace('https://www.sii.cl');\n"
    return _page("Cierre de Sesión", "<p>Su sesión ha sido cerrada.</p>\n", script)


# --- company selection ---------------------------------------------------------------------------------


def company_selector_page(companies: Sequence[tuple[str, str]]) -> bytes:
    """``<form name="fPrmEmpPOP" method="post">`` with ``<select name="RUT_EMP">`` and one unclosed
    ``<option value="RUT">NAME RUT`` per (RUT, name); an empty select when there are none."""
    options = "".join(f'<option value="{_e(rut)}">{_e(name)} {_e(rut)}\n' for rut, name in companies)
    body = (
        "<h3>Seleccione la empresa con la que desea operar</h3>\n"
        '<form name="fPrmEmpPOP" method="post" action="mipeSelEmpresa.cgi">\n'
        '<input type="hidden" name="DESDE_DONDE_URL" value="OPCION=2&amp;TIPO=4">\n'
        f'<select name="RUT_EMP">\n{options}</select>\n'
        '<input type="submit" value="Enviar">\n'
        "</form>\n"
    )
    return _page("Selección de Empresa", body)


def launcher_page(company_rut: str, company_name: str) -> bytes:
    """Titled ``Facturacion Electronica - Launcher``: the session is on the company shown."""
    script = "function ir(destino) {\n//alert('Opcion no disponible');\nlocation.href = destino;\n}\n"
    body = (
        f"<h3>{_e(company_name)} {_e(company_rut)}</h3>\n<ul>\n"
        f'<li><a href="{PORTAL}/mipeAdminDocsEmi.cgi">Ver documentos emitidos</a></li>\n'
        f'<li><a href="{PORTAL}/auth.cgi">Respaldo de archivos</a></li>\n'
        f'<li><a href="{PORTAL}/mipeSelEmpresa.cgi?DESDE_DONDE_URL=OPCION%3D2%26TIPO%3D4">'
        "Cambiar empresa</a></li>\n</ul>\n"
    )
    return _page("Facturacion Electronica - Launcher", body, script)


# --- the issued documents' listing --------------------------------------------------------------------


@dataclass(frozen=True)
class Paging:
    page: int
    pages: int
    total: int
    previous_query: str | None
    next_query: str | None


def listing_page(documents: Sequence[StoredDte], paging: Paging) -> bytes:
    """Titled "Documentos Emitidos"; one row per document, exactly as SII writes it (see the docs), then
    ``<div id="paginacion">Página P de N</div>`` with "Anterior"/"Siguiente" links when there are such
    pages, or ``No existen documentos`` when nothing matched."""
    script = (
        "function buscar() {\n//alert('Debe ingresar un criterio de busqueda');\n"
        "document.fBusqueda.submit();\n}\n"
    )
    header = (
        "<tr><th>&nbsp;</th><th>RUT Receptor</th><th>Razón Social Receptor</th><th>Documento</th>"
        "<th>Folio</th><th>Fecha</th><th>Monto Total</th><th>Estado</th></tr>\n"
    )
    rows = "".join(_row(document) for document in documents)
    empty = "<p>No existen documentos para los criterios de búsqueda.</p>\n" if not documents else ""
    links = ""
    if paging.previous_query is not None:
        links += f' <a href="{PORTAL}/mipeAdminDocsEmi.cgi?{_e(paging.previous_query)}">Anterior</a>'
    if paging.next_query is not None:
        links += f' <a href="{PORTAL}/mipeAdminDocsEmi.cgi?{_e(paging.next_query)}">Siguiente</a>'
    body = (
        '<form name="fBusqueda" method="get" action="mipeAdminDocsEmi.cgi"></form>\n'
        f'<table class="tabla" width="100%">\n{header}{rows}</table>\n{empty}'
        f'<div id="paginacion">Página {paging.page} de {paging.pages}{links}</div>\n'
    )
    return _page("Documentos Emitidos", body, script)


def _row(document: StoredDte) -> str:
    return (
        f'<tr> <td> <a href="{PORTAL}/mipeGesDocEmi.cgi?ALL_PAGE_ANT=2&CODIGO={document.codigo}">'
        '<img src="/Portal001/button_edit.gif"></a></td>\n'
        f"  <td>{_e(document.receiver_rut)} <td>{_e(document.receiver_name)}</td> "
        f"<td>{_e(type_name(document.code))}</td> <td>{document.folio}</td>\n"
        f"  <td>{document.issue_date.isoformat()}</td> <td>{document.total}</td> "
        f"<td>{_e(document.state)}</td> </tr>\n"
    )


def detail_page(document: StoredDte) -> bytes:
    """The document's detail (``mipeGesDocEmi.cgi``), with the link to its PDF."""
    fields = (
        ("Tipo de Documento", type_name(document.code)),
        ("Folio", str(document.folio)),
        ("RUT Emisor", document.issuer_rut),
        ("RUT Receptor", document.receiver_rut),
        ("Razón Social Receptor", document.receiver_name),
        ("Fecha de Emisión", document.issue_date.isoformat()),
        ("Monto Total", str(document.total)),
        ("Estado", document.state),
    )
    rows = "".join(f"<tr><td>{_e(label)}</td><td>{_e(value)}</td></tr>\n" for label, value in fields)
    body = (
        f"<table>\n{rows}</table>\n"
        f'<a href="{PORTAL}/mipeDisplayPDF.cgi?DHDR_CODIGO={document.codigo}">Ver Documento</a>\n'
    )
    return _page("Detalle de Documento Emitido", body)


# --- the respaldo route ---------------------------------------------------------------------------------

RESPALDO_TITLE = "RESPALDO DE ARCHIVOS MIPYME"
_RESPALDO_ROWS_SHOWN = 100


def respaldo_form_page(rut_number: str, dv: str) -> bytes:
    """``auth.cgi``: the form that asks which company's files to list."""
    body = (
        '<form name="fEmpresa" method="post" action="lista_documentos.cgi">\n'
        f'RUT Empresa: <input type="text" name="RUT_EMP" value="{_e(rut_number)}"> - '
        f'<input type="text" name="DV_EMP" size="1" value="{_e(dv)}">\n'
        '<input type="hidden" name="ORIGEN" value="ENV">\n'
        '<input type="hidden" name="TPO_ARCHIVO" value="dte">\n'
        '<input type="submit" value="Consultar">\n</form>\n'
    )
    return _page("Respaldo de Archivos", body)


def respaldo_list_page(documents: Sequence[StoredDte], download_query: str) -> bytes:
    """Titled ``RESPALDO DE ARCHIVOS MIPYME`` with ``<div id="cant_reg" value="N"></div>`` (N matched),
    the first rows, and the link to ``download.cgi``."""
    rows = "".join(
        f"<tr><td>{_e(type_name(d.code))}</td><td>{d.folio}</td><td>{d.issue_date.isoformat()}</td>"
        f"<td>{_e(d.receiver_rut)}</td><td>{d.total}</td></tr>\n"
        for d in documents[:_RESPALDO_ROWS_SHOWN]
    )
    body = (
        f"<h2>{RESPALDO_TITLE}</h2>\n"
        f'<div id="cant_reg" value="{len(documents)}"></div>\n'
        f"<table>\n{rows}</table>\n"
        f'<a href="{PORTAL}/download.cgi?{_e(download_query)}">Descargar XML</a>\n'
    )
    return _page(RESPALDO_TITLE, body)


def set_dte(documents: Sequence[StoredDte]) -> bytes:
    """The XML download: a ``SetDTE`` with each DTE's stored bytes, untouched, one per line."""
    parts = [b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<SetDTE ID="SetDoc">\n']
    for document in documents:
        parts += [document.content, b"\n"]
    parts.append(b"</SetDTE>\n")
    return b"".join(parts)


# --- the PDF -----------------------------------------------------------------------------------------------


def pdf_document(document: StoredDte) -> bytes:
    """A small, valid, deterministic one-page PDF naming the document (not SII's layout)."""
    lines = (
        "dtehub SII emulator - documento de prueba",
        f"{type_name(document.code)} N° {document.folio}",
        f"RUT Emisor: {document.issuer_rut}",
        f"Receptor: {document.receiver_rut} {document.receiver_name}",
        f"Fecha de Emision: {document.issue_date.isoformat()}",
        f"Monto Total: $ {document.total}",
    )
    text = b"BT /F1 12 Tf 72 740 Td 16 TL"
    for line in lines:
        text += b" (" + _pdf_string(line) + b") Tj T*"
    text += b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(text)).encode() + b" >>\nstream\n" + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    output = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, 1):
        offsets.append(len(output))
        output += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(output)
    output += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    output += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    output += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(output)


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("cp1252", "replace")
