"""Customer-facing links: the invoice page, the customer page and the files behind them. Each is
authorized by its key alone; a wrong key looks exactly like a missing object (one 404 page).

Every answer carries the portal's security headers and is never kept by a shared cache, but the
stylesheet, which is public and named by its content.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import WithJsonSchema

from dtehub.dependencies import AfterCommit, SessionDep, transactional
from dtehub.dte.pdf.settings import Paper
from dtehub.errors import NotFound
from dtehub.files import service as files_service
from dtehub.kit.dates import today_in_santiago
from dtehub.kit.schema import MAX_ID
from dtehub.portal import pages, service

_HTML_NOT_FOUND = {"description": "No such link (an HTML page)", "content": {"text/html": {}}}
_HTML_TOO_MANY = {
    "description": "Too many requests with this link; retry after the seconds in Retry-After (an HTML page)",
    "content": {"text/html": {}},
}
_HTML_BAD_REQUEST = {
    "description": "A bad format or cedible value (an HTML page)",
    "content": {"text/html": {}},
}
_PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PDF, shown inline"},
    400: _HTML_BAD_REQUEST,
    404: {
        "description": "No such link, or no CEDIBLE copy of the object (a note, a type that cannot be "
        "ceded, a document without its XML): an HTML page",
        "content": {"text/html": {}},
    },
}


async def _limit_by_key(request: Request) -> None:
    """Each link's key has its own rate limit (:mod:`dtehub.ratelimit`), checked on the event loop
    before the key is looked up; the stylesheet has no key and no limit."""
    key = request.path_params.get("key")
    if key is not None:
        request.app.state.portal_limiter.check(key)


router = APIRouter(
    prefix="/portal",
    tags=["portal"],
    responses={404: _HTML_NOT_FOUND, 429: _HTML_TOO_MANY},
    dependencies=[Depends(_limit_by_key)],
)

ObjectId = Annotated[str, Path(description="The object's id")]
Key = Annotated[str, Path(description="The link's key")]
# Published as the values PrintOptions.parse takes; anything else is its 400.
PaperQuery = Annotated[
    Annotated[str, WithJsonSchema({"type": "string", "enum": [paper.value for paper in Paper]})] | None,
    Query(alias="format", description="letter (default) or 80mm (a thermal roll)"),
]
CedibleQuery = Annotated[
    Annotated[str, WithJsonSchema({"type": "string", "enum": ["0", "1"]})] | None,
    Query(description="1: the CEDIBLE copy (invoices and guías with XML)"),
]


def _id(text: str) -> int:
    """Portal links answer one 404 for anything that is not a live link, malformed ones included."""
    # ASCII only: str.isdigit() also takes "²", which int() refuses (a 500 otherwise).
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ID:
        raise NotFound("not found")
    return int(text)


@router.get("/invoice/{document_id}/{key}", response_class=Response)
@transactional
def invoice_page(session: SessionDep, document_id: ObjectId, key: Key) -> Response:
    """The invoice page: issuer, customer, amounts, due date, status, notes, payments, downloads."""
    page = service.invoice_page(session, _id(document_id), key, today_in_santiago())
    return pages.page("invoice.html", {"page": page})


@router.get("/client/{client_id}/{key}", response_class=Response)
@transactional
def client_page(session: SessionDep, client_id: ObjectId, key: Key) -> Response:
    """The customer page: the client's documents of the company, pending first, with what is owed."""
    page = service.client_page(session, _id(client_id), key, today_in_santiago())
    return pages.page("client.html", {"page": page})


def _pdf(job: service.PrintJob) -> Response:
    """Printed after the unit of work: the connection is back in the pool while the PDF is drawn."""
    pdf = service.print_pdf(job)
    return pages.private_file(pdf.content, "application/pdf", pages.disposition("inline", pdf.name))


@router.get("/showPdf/{document_id}/{key}", response_class=Response, responses=_PDF)
@transactional
def invoice_pdf(
    session: SessionDep,
    document_id: ObjectId,
    key: Key,
    paper: PaperQuery = None,
    cedible: CedibleQuery = None,
) -> AfterCommit:
    """The document printed (letter or 80 mm; the CEDIBLE copy on request), shown inline."""
    job = service.document_print(session, _id(document_id), key, paper, cedible)
    return AfterCommit(lambda: _pdf(job))


@router.get("/showNotePdf/{note_id}/{key}", response_class=Response, responses=_PDF)
@transactional
def note_pdf(
    session: SessionDep, note_id: ObjectId, key: Key, paper: PaperQuery = None, cedible: CedibleQuery = None
) -> AfterCommit:
    """A credit or debit note printed (letter or 80 mm), shown inline."""
    job = service.note_print(session, _id(note_id), key, paper, cedible)
    return AfterCommit(lambda: _pdf(job))


@router.get("/downloadInvoiceXml/{document_id}/{key}", response_class=Response)
@transactional
def download_invoice_xml(session: SessionDep, document_id: ObjectId, key: Key) -> Response:
    """The DTE's original bytes, exactly as received."""
    xml = service.document_xml(session, _id(document_id), key)
    return pages.private_file(xml.content, "application/xml", pages.disposition("attachment", xml.name))


@router.get("/downloadNoteXml/{note_id}/{key}", response_class=Response)
@transactional
def download_note_xml(session: SessionDep, note_id: ObjectId, key: Key) -> Response:
    """The note's DTE, exactly as received."""
    xml = service.note_xml(session, _id(note_id), key)
    return pages.private_file(xml.content, "application/xml", pages.disposition("attachment", xml.name))


@router.get("/file/{file_id}/{key}", response_class=Response)
@transactional
def download_file(session: SessionDep, file_id: ObjectId, key: Key) -> Response:
    file = files_service.download(session, _id(file_id), key)
    return pages.private_file(file.content, file.mime_type, pages.disposition("attachment", file.name))


@router.get("/static/portal.css", response_class=Response, include_in_schema=False)
async def stylesheet() -> Response:
    """The portal's only stylesheet; pages name it with its content's hash, so it may be kept long."""
    return Response(pages.stylesheet(), media_type="text/css", headers=dict(pages.PUBLIC_HEADERS))
