"""What the portal tests share: documents made through the API as an integration would, and pages
read as a person reads them (the texts of an HTML page, not its markup)."""

from __future__ import annotations

import base64
import copy
import io
import re
from datetime import date
from typing import Any

import httpx
import lxml.html
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from dtehub.documents import ledger
from dtehub.models import Document
from tests.conftest import FIXTURES, PUBLIC_URL, Tenant

FACTURA = (FIXTURES / "DTE--76399752-9--33--25568.xml").read_bytes()
"""A real signed and stamped invoice of 76399752-9 (other_tenant) to EMPRESAS LA POLAR S.A."""

PORTAL_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


def local(url: str) -> str:
    """An absolute link handed out by the API, as a path on the test client."""
    assert url.startswith(PUBLIC_URL + "/portal/"), url
    return url.removeprefix(PUBLIC_URL)


def key_of(url: str) -> str:
    return url.split("?")[0].rsplit("/", 1)[1]


def wrong(key: str) -> str:
    """The same key with its last character changed."""
    return key[:-1] + ("A" if key[-1] != "A" else "B")


# A PDF is drawn by the browser's own viewer, which default-src 'none' would block.
PDF_POLICY = "frame-ancestors 'none'; form-action 'none'; base-uri 'none'"


def assert_portal_headers(response: httpx.Response, *, cache: str = "private, no-store") -> None:
    expected = dict(PORTAL_HEADERS)
    if response.headers.get("content-type") == "application/pdf":
        expected["content-security-policy"] = PDF_POLICY
    for name, value in expected.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    assert response.headers["cache-control"] == cache


def text(element: Any, *, visible: bool = False) -> str:
    """An element's text as it reads, whitespace collapsed; ``visible``: without the text that only
    screen readers announce (``visually-hidden``)."""
    if visible:
        element = copy.deepcopy(element)
        for hidden in element.xpath('.//*[contains(concat(" ", @class, " "), " visually-hidden ")]'):
            hidden.drop_tree()
    return re.sub(r"\s+", " ", element.text_content()).strip()


class Page:
    """An HTML page as a person reads it."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.headers["content-type"] == "text/html; charset=utf-8", response.headers
        self.response = response
        self.tree = lxml.html.fromstring(response.text)

    @property
    def body(self) -> str:
        return text(self.tree.body)

    def texts(self, xpath: str) -> list[str]:
        return [text(element) for element in self.tree.xpath(xpath)]

    def one(self, xpath: str) -> str:
        found = self.texts(xpath)
        assert len(found) == 1, (xpath, found)
        return found[0]

    def facts(self, section_id: str) -> dict[str, str]:
        """The terms and values of a section's description list."""
        pairs = self.tree.xpath(f'//section[@aria-labelledby="{section_id}"]//dl/div')
        return {text(pair.find("dt")): text(pair.find("dd")) for pair in pairs}

    def table(self, caption_start: str) -> list[list[str]]:
        """The rows of the table whose caption starts so, each as its cells' visible texts."""
        tables = [t for t in self.tree.xpath("//table") if text(t.find("caption")).startswith(caption_start)]
        assert len(tables) == 1, caption_start
        rows = tables[0].xpath("tbody/tr")
        return [[text(cell, visible=True) for cell in row.xpath("th|td")] for row in rows]

    def links(self) -> dict[str, str]:
        """Each link's visible text (screen-reader text included) and its address."""
        return {text(a): a.get("href") for a in self.tree.xpath("//a[@href]")}

    def downloads(self) -> dict[str, tuple[str, str]]:
        """The download links: text → (address, file name)."""
        return {text(a): (a.get("href"), a.get("download")) for a in self.tree.xpath("//a[@download]")}


async def open_page(http: httpx.AsyncClient, path: str) -> Page:
    response = await http.get(path)
    assert response.status_code == 200, response.text
    assert_portal_headers(response)
    return Page(response)


async def upload(tenant: Tenant, content: bytes) -> dict[str, Any]:
    response = await tenant.post("/v1/createDocumentFromXml", {"xml": base64.b64encode(content).decode()})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def create_client(tenant: Tenant, name: str, tax_id: str) -> dict[str, Any]:
    response = await tenant.post("/v1/createClient", {"name": name, "taxId": tax_id})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def create_document(tenant: Tenant, client_id: str, number: str, **fields: Any) -> dict[str, Any]:
    body = {"clientId": client_id, "number": number, "issueDate": "2024-03-01", "total": "119000"}
    body |= {"taxes": "19000", "code": 33} | fields
    response = await tenant.post("/v1/createDocument", body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


async def get_client(tenant: Tenant, client_id: str) -> dict[str, Any]:
    response = await tenant.get("/v1/getClient", id=client_id)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def mark_paid(session: Session, document_id: str, paid_on: date) -> None:
    """Record the document as paid in full (payments arrive through the API with a later issue)."""
    document = session.get(Document, int(document_id))
    assert document is not None
    document.paid_cents = document.total_cents + document.debit_cents - document.credit_cents
    document.paid_date = paid_on
    ledger.rebalance(document)
    session.commit()


def logo_png() -> bytes:
    """A small logo: a blue rounded square with a white mark."""
    image = Image.new("RGBA", (240, 96), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 95, 95), radius=18, fill=(29, 78, 216, 255))
    draw.polygon([(24, 70), (48, 24), (72, 70)], fill=(255, 255, 255, 255))
    draw.rounded_rectangle((110, 30, 230, 44), radius=6, fill=(30, 58, 138, 255))
    draw.rounded_rectangle((110, 54, 200, 66), radius=6, fill=(100, 116, 139, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
