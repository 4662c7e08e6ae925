"""/v1 document methods, with Duemint's names, parameters and shapes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.dependencies import AuthDep, PresentedTokenDep, SessionDep, SettingsDep, transactional
from dtehub.documents import service
from dtehub.documents.filters import DateBy, DocumentFilters, OrderBy
from dtehub.documents.schemas import (
    DocumentCreate,
    DocumentDelete,
    DocumentDeleted,
    DocumentDetailOut,
    DocumentFromXml,
    DocumentOut,
)
from dtehub.documents.sii_states import SiiStateFilter
from dtehub.documents.status import DocumentStatus
from dtehub.dte.checks import SchemaVerdict, SignatureVerdict, TedVerdict, Verdict
from dtehub.errors import UnsupportedCountry
from dtehub.errors_http import error_responses
from dtehub.ingest import service as ingest
from dtehub.kit.dates import Day, today_in_santiago
from dtehub.kit.pagination import Page, PageDep, page_json
from dtehub.kit.parameters import OrderQuery, choice, flag
from dtehub.kit.rut import ClientTaxId
from dtehub.kit.schema import MAX_ID, NO_NUL, RenewKey, respond, respond_json
from dtehub.notes import service as notes_service
from dtehub.notes.schemas import NoteOut
from dtehub.portal.links import Links

router = APIRouter(prefix="/v1", tags=["documents"])


ExpandClient = Annotated[bool, flag("expandClient", "1: include the full client")]
ExpandContact = Annotated[
    bool, flag("expandContact", "1: include the client's contacts (needs expandClient=1)")
]
ExpandTag = Annotated[bool, flag("expandTag", "1: include full tags")]
ExpandFile = Annotated[bool, flag("expandFile", "1: include full files")]


def _expand(client: bool, contact: bool, tag: bool, file: bool) -> service.Expand:
    return service.Expand(client=client, contact=client and contact, tag=tag, file=file)


def _view(session: Session, company_id: int, document_id: int, links: Links) -> Response:
    row = service.require_row(session, company_id, document_id)
    expand = service.Expand()
    return respond_json(service.present_detail(session, company_id, row, expand, links, today_in_santiago()))


DocumentPage = Page[DocumentOut]


@router.get("/getDocuments", response_model=DocumentPage, responses=error_responses())
@transactional
def get_documents(
    token: PresentedTokenDep,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    since: Annotated[Day | None, Query(description="From this date (YYYY-MM-DD), per dateBy")] = None,
    until: Annotated[Day | None, Query(description="Up to this date (YYYY-MM-DD), per dateBy")] = None,
    date_by: Annotated[DateBy, choice("dateBy", "1 issue date (default), 2 creation", DateBy)] = DateBy.ISSUE,
    status: Annotated[
        DocumentStatus | None, Query(description="1 Pagada, 2 Por vencer, 3 Vencida, 4 Anulada")
    ] = None,
    number: Annotated[str | None, Query(max_length=40, pattern=NO_NUL, description="Folio or number")] = None,
    code: Annotated[int | None, Query(ge=1, le=999, description="SII document code, e.g. 33")] = None,
    currency: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$", description="ISO code, e.g. CLP")] = None,
    client_id: Annotated[int | None, Query(alias="clientId", ge=1, le=MAX_ID)] = None,
    client_tax_id: Annotated[
        ClientTaxId | None, Query(alias="clientTaxId", description="e.g. 99999999-9")
    ] = None,
    tag_id: Annotated[int | None, Query(alias="tagId", ge=1, le=MAX_ID)] = None,
    xml_schema: Annotated[
        SchemaVerdict | None, Query(alias="xmlSchema", description="Documents whose schema check says this")
    ] = None,
    xml_signature: Annotated[
        SignatureVerdict | None,
        Query(alias="xmlSignature", description="Documents whose XML-signature check says this"),
    ] = None,
    xml_ted: Annotated[
        TedVerdict | None, Query(alias="xmlTed", description="Documents whose timbre (TED) check says this")
    ] = None,
    held: Annotated[
        bool | None,
        Query(
            description="1: only the documents the company holds (bought through a cession); 0: only "
            "those it issued; absent: both"
        ),
    ] = None,
    sii_state: Annotated[
        SiiStateFilter | None,
        Query(
            alias="siiState",
            description="Documents in this state at SII (the sii object's state, on today's date in "
            "Santiago), or never_synced: no SII sync has found them in SII's register",
        ),
    ] = None,
    is_ceded: Annotated[
        int | None,
        Query(
            alias="isCeded",
            ge=0,
            le=1,
            description="1: documents whose cession SII registered; 0: the others",
        ),
    ] = None,
    order_by: Annotated[
        OrderBy,
        choice("orderBy", "1 issue date (default), 2 creation, 3 due date, 4 number, 5 total", OrderBy),
    ] = OrderBy.ISSUE_DATE,
    order: OrderQuery = "DESC",
    expand_client: ExpandClient = False,
    expand_contact: ExpandContact = False,
    expand_tag: ExpandTag = False,
    expand_file: ExpandFile = False,
) -> Response:
    """List the company's documents (Duemint's getDocuments): those it issued and those it holds."""
    today = today_in_santiago()
    filters = DocumentFilters(
        date_by=date_by,
        since=since,
        until=until,
        status=status,
        number=number,
        code=code,
        currency=currency.upper() if currency else None,
        client_id=client_id,
        client_tax_id=client_tax_id,
        tag_id=tag_id,
        xml_schema=Verdict(xml_schema) if xml_schema else None,
        xml_signature=Verdict(xml_signature) if xml_signature else None,
        xml_ted=Verdict(xml_ted) if xml_ted else None,
        held=held,
        sii_state=sii_state,
        is_ceded=bool(is_ceded) if is_ceded is not None else None,
    )
    expand = _expand(expand_client, expand_contact, expand_tag, expand_file)
    auth, rows, total = service.list_documents_for_token(
        session,
        token,
        filters,
        order_by=order_by,
        descending=order == "DESC",
        page=page,
        today=today,
        expand=expand,
    )
    items = service.present(session, auth.company_id, rows, expand, Links(settings.public_base), today)
    return respond_json(page_json(items, total, page))


@router.get("/getDocument", response_model=DocumentDetailOut, responses=error_responses(404))
@transactional
def get_document(
    token: PresentedTokenDep,
    session: SessionDep,
    settings: SettingsDep,
    id: Annotated[int, Query(ge=1, le=MAX_ID, description="The document's id")],
    expand_client: ExpandClient = False,
    expand_contact: ExpandContact = False,
    expand_tag: ExpandTag = False,
    expand_file: ExpandFile = False,
) -> Response:
    """One document by id (Duemint's getDocument)."""
    expand = _expand(expand_client, expand_contact, expand_tag, expand_file)
    auth, row = service.require_row_for_token(session, token, id, expand)
    links = Links(settings.public_base)
    today = today_in_santiago()
    return respond_json(service.present_detail(session, auth.company_id, row, expand, links, today))


@router.post("/createDocument", response_model=DocumentDetailOut, responses=error_responses(404, 409))
@transactional(audit=Action.CREATE_DOCUMENT)
def create_document(
    auth: AuthDep, session: SessionDep, settings: SettingsDep, body: DocumentCreate
) -> Response:
    """Create a document from its fields. Tags are given by name and created when new."""
    links = Links(settings.public_base)
    document = service.create_document(session, auth.company_id, body, links)
    return _view(session, auth.company_id, document.id, links)


@router.post(
    "/createDocumentFromXml",
    response_model=DocumentDetailOut | NoteOut,
    responses=error_responses(409, 413, 422),
)
@transactional(audit=Action.CREATE_DOCUMENT_FROM_XML)
def create_document_from_xml(
    auth: AuthDep, session: SessionDep, settings: SettingsDep, body: DocumentFromXml
) -> Response:
    """Create a document, or a credit or debit note, from its DTE (base64); a note answers in the note
    shape (as getNote). The very same XML again answers what is stored."""
    if body.country_code.upper() != "CL":
        raise UnsupportedCountry(
            f"country {body.country_code!r} is not supported; dtehub reads Chilean DTEs (CL)",
            field="countryCode",
        )
    content = ingest.decode_base64_xml(body.xml, max_bytes=settings.max_xml_bytes)
    checked = ingest.read_single_dte(content, max_bytes=settings.max_xml_bytes)
    links = Links(settings.public_base)
    stored = ingest.store(session, auth.company_id, checked, links, tax_id=body.tax_id, send=body.send)
    # The audit event: a note or a document, with its DTE's hash; the very same XML again changes nothing.
    dte = {"code": checked.fields.code, "folio": str(checked.fields.folio), "dteSha256": checked.sha256}
    audit.annotate(
        session, object_type=stored.kind.value, object_id=stored.id, summary=dte, skip=not stored.changed
    )
    if stored.kind == ingest.Kind.NOTE:
        note = notes_service.require(session, auth.company_id, stored.id)
        return respond(notes_service.present(session, auth.company_id, note, links))
    return _view(session, auth.company_id, stored.id, links)


@router.delete("/deleteDocument", response_model=DocumentDeleted, responses=error_responses(404, 409))
@transactional(audit=Action.DELETE_DOCUMENT)
def delete_document(
    auth: AuthDep, session: SessionDep, settings: SettingsDep, body: DocumentDelete
) -> Response:
    """Delete a document by client and number (and code when the number is ambiguous)."""
    document = service.delete_document(session, auth.company_id, body, Links(settings.public_base))
    return respond(DocumentDeleted(id=str(document.id), msg="Documento eliminado."))


@router.post("/renewDocumentKey", response_model=DocumentDetailOut, responses=error_responses(404))
@transactional(audit=Action.RENEW_DOCUMENT_KEY)
def renew_document_key(auth: AuthDep, session: SessionDep, settings: SettingsDep, body: RenewKey) -> Response:
    """Give the document's customer links (url, pdf, xml) a new key; the old ones answer 404 from now on."""
    document = service.renew_portal_key(session, auth.company_id, body.id)
    return _view(session, auth.company_id, document.id, Links(settings.public_base))
