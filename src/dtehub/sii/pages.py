"""Reading SII's portal pages: errors hidden in 200 answers, the company selector, listing rows, counts.

The pages are ISO-8859-1 (read as windows-1252, its superset), their markup malformed (``<option>`` and
some ``<td>`` never closed): they are parsed by lxml's forgiving HTML parser, and only the text of a
``<script>`` is searched with a pattern, for ``alert('…')``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from lxml import etree, html

from dtehub.kit.rut import InvalidRut, normalize_rut

ENCODING = "windows-1252"

_ALERT = re.compile(r"""(?<![/\w])alert\(\s*(['"])(.*?)(?<!\\)\1\s*\)""", re.DOTALL)
_LINE_COMMENT = re.compile(r"//[^\n]*")
_DOTTED_CODE = re.compile(r"\b\d{2}(?:\.\d{1,3}){2,}\b")
_CODIGO = re.compile(r"CODIGO=(\d+)")

TYPE_CODES = {
    "factura electronica": 33,
    "factura no afecta o exenta electronica": 34,
    "factura exenta electronica": 34,
    "liquidacion factura electronica": 43,
    "factura de compra electronica": 46,
    "guia de despacho electronica": 52,
    "nota de debito electronica": 56,
    "nota de credito electronica": 61,
    "factura de exportacion electronica": 110,
}
"""The listing shows a document's type by name; these are the names the portal uses, unaccented."""


def parse(content: bytes) -> html.HtmlElement:
    text = content.decode(ENCODING, errors="replace")
    try:
        return html.document_fromstring(text)
    except etree.ParserError:  # nothing but blanks or a comment: an empty page
        return html.document_fromstring("<html></html>")


def title(page: html.HtmlElement) -> str:
    found = page.find(".//title")
    return " ".join((found.text_content() if found is not None else "").split())


def alert(page: html.HtmlElement) -> str | None:
    """The message of the page's first live ``alert(...)`` (not one commented out with ``//``)."""
    for script in page.iter("script"):
        code = _LINE_COMMENT.sub("", script.text_content())
        match = _ALERT.search(code)
        if match:
            return " ".join(match.group(2).replace("\\n", " ").split())
    return None


def error_code(text: str) -> str | None:
    """The meaningful last two digits of a dotted SII code (``01.01.215.500.440.33`` → ``33``)."""
    match = _DOTTED_CODE.search(text)
    if match is None:
        return None
    return match.group().rsplit(".", 1)[1].zfill(2)[-2:]


def is_error_page(page: html.HtmlElement) -> bool:
    return alert(page) is not None or "error al contribuyente" in plain(title(page))


def error_text(page: html.HtmlElement) -> str:
    """What an error page says, for a message: its alert, else its title and text, shortened."""
    message = alert(page)
    if message is None:
        message = " ".join(page.text_content().split())
    return message[:300]


@dataclass(frozen=True)
class CompanySelector:
    """What ``mipeSelEmpresa.cgi`` answered: the companies offered (RUT → name), or a launcher page
    (the person has exactly one company and the session is on it already)."""

    launcher: bool
    companies: dict[str, str]


def company_selector(page: html.HtmlElement) -> CompanySelector | None:
    """The selector or launcher page, or None when the page is neither."""
    if "launcher" in plain(title(page)):
        return CompanySelector(launcher=True, companies={})
    select = page.find(".//select[@name='RUT_EMP']")
    if select is None:
        return None
    companies: dict[str, str] = {}
    for option in select.iter("option"):
        value = (option.get("value") or "").strip()
        try:
            rut = normalize_rut(value)
        except InvalidRut:
            continue  # a "choose one" placeholder
        name = " ".join(option.text_content().replace(value, "").split())
        companies[rut] = name
    return CompanySelector(launcher=False, companies=companies)


@dataclass(frozen=True)
class ListedDocument:
    """One row of the issued documents' listing."""

    portal_id: str
    """The portal's own id of the document (``CODIGO``), which its PDF is asked by; not the folio."""
    receiver_rut: str
    receiver_name: str
    type_code: int | None
    folio: int
    issue_date: date | None
    total: int | None
    state: str


def listed_documents(page: html.HtmlElement) -> list[ListedDocument]:
    rows = []
    for row in page.iter("tr"):
        link = next((a for a in row.iter("a") if _CODIGO.search(a.get("href") or "")), None)
        if link is None:
            continue
        cells = [" ".join(cell.text_content().split()) for cell in row.findall("td")]
        if len(cells) < 8:
            continue
        _, receiver_rut, receiver_name, type_name, folio, issued, total, state = cells[:8]
        if not folio.isdigit():
            continue
        match = _CODIGO.search(link.get("href") or "")
        assert match is not None
        rows.append(
            ListedDocument(
                portal_id=match.group(1),
                receiver_rut=receiver_rut,
                receiver_name=receiver_name,
                type_code=TYPE_CODES.get(plain(type_name)),
                folio=int(folio),
                issue_date=_date(issued),
                total=int(total) if total.lstrip("-").isdigit() else None,
                state=state,
            )
        )
    return rows


_RUT_IN_TEXT = re.compile(r"\b\d{1,2}\.?\d{3}\.?\d{3}-[\dkK]\b")


def ruts_named(page: html.HtmlElement) -> set[str]:
    """Every valid RUT the page's text shows (the launcher names the company the session is on)."""
    found = set()
    texts = (match for node in page.itertext() for match in _RUT_IN_TEXT.findall(node))
    for text in texts:
        try:
            found.add(normalize_rut(text))
        except InvalidRut:
            continue
    return found


def record_count(page: html.HtmlElement) -> int | None:
    """``<div id="cant_reg" value="N">`` of the respaldo listing, or None when the page has none."""
    found = page.find(".//div[@id='cant_reg']")
    value = (found.get("value") or "").strip() if found is not None else ""
    return int(value) if value.isdigit() else None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def plain(text: str) -> str:
    """Lowercase without accents: SII spells the same word with and without them."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())
