"""Customer-facing links. Each is authorized by its key alone; a wrong key looks exactly like a
missing object. The invoice page, the customer page and the PDF arrive with the portal itself; until
then their links answer a clean 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from dtehub.dependencies import SessionDep, transactional
from dtehub.documents import service as documents_service
from dtehub.errors import NotFound
from dtehub.files import service as files_service
from dtehub.kit.schema import MAX_ID

_HTML_NOT_FOUND = {"description": "No such link (an HTML page)", "content": {"text/html": {}}}
router = APIRouter(prefix="/portal", tags=["portal"], responses={404: _HTML_NOT_FOUND})

ObjectId = Annotated[str, Path(description="The object's id")]
Key = Annotated[str, Path(description="The link's key")]


def _id(text: str) -> int:
    """Portal links answer one 404 for anything that is not a live link, malformed ones included."""
    # ASCII only: str.isdigit() also takes "²", which int() refuses (a 500 otherwise).
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ID:
        raise NotFound("not found")
    return int(text)


_PRIVATE_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _attachment(name: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name) or "file"
    return f'attachment; filename="{safe}"'


@router.get("/downloadInvoiceXml/{document_id}/{key}", response_class=Response)
@transactional
def download_invoice_xml(session: SessionDep, document_id: ObjectId, key: Key) -> Response:
    """The DTE's original bytes, exactly as received."""
    document, content = documents_service.xml_for_portal(session, _id(document_id), key)
    headers = dict(_PRIVATE_HEADERS)
    headers["Content-Disposition"] = _attachment(f"DTE-{document.code}-{document.number}.xml")
    return Response(content, media_type="application/xml", headers=headers)


@router.get("/file/{file_id}/{key}", response_class=Response)
@transactional
def download_file(session: SessionDep, file_id: ObjectId, key: Key) -> Response:
    file = files_service.download(session, _id(file_id), key)
    headers = dict(_PRIVATE_HEADERS)
    headers["Content-Disposition"] = _attachment(file.name)
    return Response(file.content, media_type=file.mime_type, headers=headers)


@router.get("/invoice/{document_id}/{key}", response_class=Response)
def invoice_page(document_id: ObjectId, key: Key) -> Response:
    raise NotFound("the invoice page is not available yet")


@router.get("/showPdf/{document_id}/{key}", response_class=Response)
def invoice_pdf(document_id: ObjectId, key: Key) -> Response:
    raise NotFound("the PDF is not available yet")


@router.get("/client/{client_id}/{key}", response_class=Response)
def client_page(client_id: ObjectId, key: Key) -> Response:
    raise NotFound("the customer page is not available yet")
