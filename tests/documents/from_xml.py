"""Helpers of the createDocumentFromXml tests: the fixture DTEs, edited copies of them, envelopes."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx

from tests.conftest import FIXTURES, Tenant

POLAR = FIXTURES / "DTE--76399752-9--33--25568.xml"  # issued by other_tenant's RUT; ISO-8859-1, signed
POLAR_CLEANED = FIXTURES / "DTE--76399752-9--33--25568--cleaned.xml"
CREDIT_NOTE = FIXTURES / "DTE--96670340-7--61--110616.xml"
SII_NS = "http://www.sii.cl/SiiDte"
SEED = (FIXTURES / "seed-duemint-example-33-696.xml").read_text("ascii")  # issued by tenant's RUT

SII_NAMESPACE = "http://www.sii.cl/SiiDte"
MAX_XML_BYTES = 512 * 1024  # the harness's settings
POLAR_NOTES = (
    "*** LINEAS DETALLE DTE *** NroLinDet: 1 NmbItem: JUEGO_LIVI - CHOCOLATE DscItem: ROMA 3.1.1 "
    "QtyItem: 1.00 PrcItem: 194111.00 MontoItem: 194111 "
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def seed_xml(**changes: str | None) -> str:
    """The seed invoice with the text of some elements changed, or the elements removed (None)."""
    text = SEED
    for name, value in changes.items():
        element = re.compile(rf"\s*<{name}>[^<]*</{name}>" if value is None else rf"<{name}>[^<]*</{name}>")
        replacement = "" if value is None else f"<{name}>{value}</{name}>"
        text, count = element.subn(replacement, text, count=1)
        assert count == 1, name
    return text


def insert_after(text: str, element: str, snippet: str) -> str:
    closing = f"</{element}>"
    assert closing in text
    return text.replace(closing, closing + snippet, 1)


def with_declaration(text: str, encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n{text}'


def dte_part(text: str) -> str:
    """The DTE element of a document, without its XML declaration."""
    return text[text.index("<DTE") :]


def envelope(*dtes: str, root: str, namespace: bool) -> bytes:
    xmlns = f' xmlns="{SII_NAMESPACE}"' if namespace else ""
    caratula = (
        '<Caratula version="1.0"><RutEmisor>76453707-6</RutEmisor><RutEnvia>11111111-1</RutEnvia>'
        "<RutReceptor>99999999-9</RutReceptor><FchResol>2014-08-22</FchResol><NroResol>80</NroResol>"
        "<TmstFirmaEnv>2018-04-06T10:00:00</TmstFirmaEnv></Caratula>"
    )
    body = caratula + "".join(dte_part(d) for d in dtes)
    if root == "EnvioDTE":
        xml = f'<EnvioDTE{xmlns} version="1.0"><SetDTE ID="SetDoc">{body}</SetDTE></EnvioDTE>'
    else:
        xml = f'<SetDTE{xmlns} ID="SetDoc">{body}</SetDTE>'
    return with_declaration(xml, "ISO-8859-1").encode("latin-1")


async def post_xml(tenant: Tenant, xml: bytes, **extra: Any) -> httpx.Response:
    return await tenant.post("/v1/createDocumentFromXml", {"xml": b64(xml), **extra})


async def counts(tenant: Tenant) -> tuple[int, int]:
    """(documents, clients) of the tenant, as getDocuments and getClients report them."""
    documents = (await tenant.get("/v1/getDocuments")).json()["records"]["totalRecords"]
    clients = (await tenant.get("/v1/getClients")).json()["records"]["totalRecords"]
    return documents, clients


async def client_of(tenant: Tenant, doc: dict[str, Any]) -> dict[str, Any]:
    response = await tenant.get("/v1/getClient", id=doc["client"]["id"])
    assert response.status_code == 200, response.text
    client: dict[str, Any] = response.json()
    return client
