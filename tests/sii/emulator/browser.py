"""What the tests drive the emulator with: httpx over real TLS, and reading pages as a client would."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import quote

import httpx
from lxml import html

LOGIN = "/cgi_AUT2000/CAutInicio.cgi"
LOGOUT = "/cgi_AUT2000/autTermino.cgi"
PORTAL = "/cgi-bin/Portal001"
SELECTOR = f"{PORTAL}/mipeSelEmpresa.cgi"
LISTING = f"{PORTAL}/mipeAdminDocsEmi.cgi"
LISTA = f"{PORTAL}/lista_documentos.cgi"
DOWNLOAD = f"{PORTAL}/download.cgi"
PDF = f"{PORTAL}/mipeDisplayPDF.cgi"
LANDING = "https://www1.sii.cl/cgi-bin/Portal001/mipeAdminDocsEmi.cgi"
LOCEXP = "Tue%2C%2025%20Aug%202026%2022%3A47%3A33%20GMT"

_ALERT = re.compile(r"alert\('((?:[^'\\]|\\.)*)'\)")


class Reachable(Protocol):
    """Where an emulator answers: an :class:`~dtehub.sii.emulator.Emulator`, or one in another process."""

    @property
    def base_url(self) -> str: ...

    @property
    def ca_bundle(self) -> Path: ...


class Browser:
    """A client of the emulated SII: one cookie jar, optionally a client certificate."""

    def __init__(self, emulator: Reachable, certificate: Path | None = None, *, timeout: float = 10) -> None:
        context = ssl.create_default_context(cafile=str(emulator.ca_bundle))
        if certificate is not None:
            context.load_cert_chain(certificate)
        self.client = httpx.Client(base_url=emulator.base_url, verify=context, timeout=timeout)

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if "TOKEN" in self.client.cookies:
            self.logout()
        self.client.close()

    def login(self) -> httpx.Response:
        """Log in as dtehub does: POST with the landing page, then set ``locexp`` as the page's script
        would."""
        response = self.client.post(f"{LOGIN}?{LANDING}", data={"referencia": LANDING})
        if "TOKEN" in response.cookies:
            self.client.cookies.set("NETSCAPE_LIVEWIRE.locexp", LOCEXP)
        return response

    def logout(self) -> httpx.Response:
        response = self.client.get(LOGOUT)
        self.client.cookies.clear()
        return response

    def select(self, company: str) -> httpx.Response:
        return self.client.post(SELECTOR, data={"RUT_EMP": company, "DESDE_DONDE_URL": "OPCION=2&TIPO=4"})

    def listing(self, *, folio: str = "", code: str = "", page: int = 1) -> httpx.Response:
        query = (
            f"RUT_RECP=&FOLIO={folio}&RZN_SOC=&FEC_DESDE=&FEC_HASTA=&TPO_DOC={code}"
            f"&ESTADO=&ORDEN=&NUM_PAG={page}"
        )
        return self.client.get(f"{LISTING}?{query}")

    def lista(self, company: str, *, code: str, folio: str, folio_to: str) -> httpx.Response:
        number, dv = company.split("-")
        body = (
            f"recaptcha-response=&ORIGEN=ENV&TPO_DOC={code}&FEC_DESDE=&FEC_HASTA=&FOLIO={folio}"
            f"&FOLIOHASTA={folio_to}&RUT_RECP=&RZN_SOC=&ESTADO=&ORDEN=&NUM_PAG=1&RUT_EMP={number}"
            f"&DV_EMP={dv}&TPO_ARCHIVO=dte"
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.client.post(LISTA, content=body, headers=headers)

    def download(self, company: str, *, code: str, folio: str, folio_to: str) -> httpx.Response:
        number, dv = company.split("-")
        query = (
            f"RUT_EMP={number}&DV_EMP={dv}&ORIGEN=ENV&RUT_RECP=&FOLIO={folio}&FOLIOHASTA={folio_to}"
            f"&RZN_SOC=&FEC_DESDE=&FEC_HASTA=&TPO_DOC={code}&ESTADO=&ORDEN=&DOWNLOAD=XML"
        )
        return self.client.get(f"{DOWNLOAD}?{query}")


def page(response: httpx.Response) -> html.HtmlElement:
    assert response.headers["content-type"] == "text/html; charset=ISO-8859-1"
    return html.document_fromstring(response.content.decode("iso-8859-1"))


def title(response: httpx.Response) -> str:
    found = page(response).find(".//title")
    assert found is not None
    return found.text_content()


def alert(response: httpx.Response) -> str | None:
    """The first live ``alert('…')`` of the page (lines commented out with ``//`` skipped)."""
    for script in page(response).iter("script"):
        for line in script.text_content().splitlines():
            if line.strip().startswith("//"):
                continue
            match = _ALERT.search(line)
            if match:
                return match.group(1).replace("\\'", "'")
    return None


def login_code(response: httpx.Response) -> str:
    """The last two digits of the ``01.01.215.500.440.NN`` code in the page's alert."""
    message = alert(response)
    assert message is not None, response.text
    match = re.search(r"CODIGO: 01\.01\.215\.500\.440\.(\d\d)$", message)
    assert match, message
    return match.group(1)


def selector_options(response: httpx.Response) -> list[tuple[str, str]]:
    """The company selector's options: (value, text)."""
    form = page(response).find(".//form[@name='fPrmEmpPOP']")
    assert form is not None
    assert form.get("method") == "post"
    select = form.find(".//select[@name='RUT_EMP']")
    assert select is not None
    return [(option.get("value") or "", option.text_content().strip()) for option in select.iter("option")]


def rows(response: httpx.Response) -> list[list[str]]:
    """The listing's document rows: CODIGO, then the seven cells after the link."""
    found = []
    for row in page(response).iter("tr"):
        link = row.find(".//a")
        if link is None or "CODIGO=" not in (link.get("href") or ""):
            continue
        codigo = (link.get("href") or "").rsplit("CODIGO=", 1)[1]
        cells = [" ".join(cell.text_content().split()) for cell in row.findall("td")]
        found.append([codigo, *cells[1:]])
    return found


def quoted(text: str) -> str:
    return quote(text, safe="")


def contribuyente_code(response: httpx.Response) -> str:
    """The dotted code (``02.35.209``) of an "Error al contribuyente" page."""
    assert title(response) == "Error al contribuyente", response.text
    match = re.search(r"CODIGO: (\d\d\.\d\d\.\d{3})$", alert(response) or "")
    assert match, response.text
    return match.group(1)


def cant_reg(response: httpx.Response) -> int:
    """The respaldo listing's ``<div id="cant_reg" value="N">``."""
    return int(page(response).get_element_by_id("cant_reg").get("value") or "")
