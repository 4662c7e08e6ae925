"""Documents: create (by fields or from DTE XML), read, list, delete, and present them as the API does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dtehub.auth.service import AuthContext, PresentedToken
from dtehub.clients import repository as clients_repository
from dtehub.clients import service as clients_service
from dtehub.clients.views import client_view, contact_views
from dtehub.companies import service as companies_service
from dtehub.contacts import repository as contacts_repository
from dtehub.documents import ledger, repository
from dtehub.documents.filters import DocumentFilters, OrderBy
from dtehub.documents.repository import DocumentRow
from dtehub.documents.schemas import DocumentCreate, DocumentDelete
from dtehub.documents.sii_states import NOT_SYNCED, SiiFacts
from dtehub.documents.views import document_view
from dtehub.dte.checks import XmlChecks, xml_check_columns
from dtehub.dte.models import DteFields
from dtehub.dte.pipeline import CheckedDte
from dtehub.errors import (
    AmbiguousDocument,
    BadRequest,
    Conflict,
    DocumentHasPayments,
    NotFound,
    Unprocessable,
)
from dtehub.factoring import repository as factoring_repository
from dtehub.files import repository as files_repository
from dtehub.files.schemas import FileOut
from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.kit.pagination import PageRequest
from dtehub.kit.schema import ApiModel, JsonObject, id_refs
from dtehub.kit.secrets import new_link_key
from dtehub.models import Client, Company, Document, Origin, Tag
from dtehub.models.document import NO_CODE, number_sort_key
from dtehub.notes import repository as notes_repository
from dtehub.notes import service as notes_service
from dtehub.notes.schemas import note_summary
from dtehub.payments import repository as payments_repository
from dtehub.portal.links import Links
from dtehub.reminders import queue as reminders_queue
from dtehub.tags import service as tags_service
from dtehub.tags.schemas import TagOut
from dtehub.webhooks import events as webhook_events
from dtehub.webhooks.events import EventType

CASH_PAYMENT = 1  # FmaPago 1, "contado": due on the day of issue


@dataclass(frozen=True)
class Expand:
    client: bool = False
    contact: bool = False
    tag: bool = False
    file: bool = False


def default_due_date(issue_date: date, client: Client, company: Company) -> date:
    """Issue date plus the client's payment term, or the company's when the client has none."""
    term = client.payment_term_days if client.payment_term_days is not None else company.payment_term_days
    return issue_date + timedelta(days=term)


def new_document_row(
    company_id: int,
    client_id: int,
    *,
    code: int,
    number: str,
    issue_date: date,
    due_date: date,
    currency: str,
    total_cents: int,
    taxes_cents: int,
    net_cents: int,
    now: datetime,
    purchase_order: str = "",
    gloss: str = "",
    notes: str = "",
    send: bool = False,
    checks: XmlChecks | None = None,
    source: Origin = Origin.API,
    sii: SiiFacts = NOT_SYNCED,
) -> dict[str, object]:
    """Every column of a new documents row (but its id): nothing paid, credited or debited yet, a new
    portal key, the XML's verdicts (``checks``; None for a document created by fields), how it
    came in (``source``) and what SII's register says of it (``sii``: the SII sync's rows)."""
    due_cents, state = ledger.opening_balance(total_cents)
    return {
        "company_id": company_id,
        "client_id": client_id,
        "code": code,
        "number": number,
        "number_sort": number_sort_key(number),
        "issue_date": issue_date,
        "due_date": due_date,
        "currency": currency,
        "net_cents": net_cents,
        "taxes_cents": taxes_cents,
        "total_cents": total_cents,
        "credit_cents": 0,
        "debit_cents": 0,
        "paid_cents": 0,
        "paid_date": None,
        "due_cents": due_cents,
        "voided": False,
        "state": state,
        "purchase_order": purchase_order,
        "gloss": gloss,
        "notes": notes,
        "send_requested": send,
        "portal_key": new_link_key(),
        "source": source.value,
        "held": False,
        "issuer_rut": "",
        "issuer_name": "",
        "created_at": now,
        "created_on": today_in_santiago(now),
        "updated_at": now,
        **xml_check_columns(checks),
        **sii.columns(),
    }


def insert_documents(session: Session, company_id: int, rows: list[dict[str, object]]) -> list[int]:
    """The one way documents are inserted, one or hundreds at a time: rows from :func:`new_document_row`;
    their ids, in order. A (code, number) that is already taken raises ``IntegrityError``."""
    return repository.insert_documents(session, company_id, rows)


def create_document(session: Session, company_id: int, data: DocumentCreate, links: Links) -> Document:
    company = companies_service.require(session, company_id)
    client = clients_service.require(session, company_id, data.client_id, field="clientId")
    if data.taxes > data.total:
        raise Unprocessable("taxes cannot exceed total", field="taxes")
    if data.due_date is not None and data.due_date < data.issue_date:
        raise Unprocessable("dueDate cannot be before issueDate", field="dueDate")
    code = data.code if data.code is not None else NO_CODE
    ledger.lock_arrivals(session, company_id, [(code, data.number)])
    taken = Conflict(f"document {data.number} (code {data.code or 'none'}) already exists", field="number")
    if repository.find_by_natural_key(session, company_id, code, data.number) is not None:
        raise taken
    row = new_document_row(
        company_id,
        client.id,
        code=code,
        number=data.number,
        issue_date=data.issue_date,
        due_date=data.due_date or default_due_date(data.issue_date, client, company),
        currency=data.currency,
        total_cents=data.total,
        taxes_cents=data.taxes,
        net_cents=data.total - data.taxes,
        purchase_order=data.purchase_order,
        gloss=data.gloss,
        notes=data.notes,
        send=data.send,
        now=utcnow(),
    )
    try:
        with session.begin_nested():
            [document_id] = insert_documents(session, company_id, [row])
    except IntegrityError:  # a lost race on the natural key: the same 409 as a visible duplicate
        raise taken from None
    document = repository.get(session, company_id, document_id)
    assert document is not None
    reminders_queue.new_document(session, company_id, document.id, requested=data.send)
    tags = tags_service.ensure_tags(session, company_id, data.tags)
    repository.add_tags(session, document, [tag.id for tag in tags])
    notes_service.on_document_arrival(session, document)  # notes that named it before it came
    subscriptions = webhook_events.Subscriptions(session, company_id)
    record_events(session, subscriptions, "document.created", [document.id], links)
    return document


def _due_date(fields: DteFields, client: Client, company: Company) -> date:
    if fields.due_date is not None:
        return fields.due_date
    if fields.payment_form == CASH_PAYMENT:
        return fields.issue_date
    return default_due_date(fields.issue_date, client, company)


def document_row_from_dte(
    company: Company,
    client: Client,
    checked: CheckedDte,
    *,
    send: bool,
    now: datetime,
    source: Origin = Origin.API,
) -> dict[str, object]:
    """A receivable DTE as a new documents row (:func:`new_document_row`): the caller has checked
    issuer, type, policy and that its type and folio are new."""
    fields = checked.fields
    net = fields.net_cents + fields.exempt_cents
    return new_document_row(
        company.id,
        client.id,
        code=fields.code,
        number=str(fields.folio),
        issue_date=fields.issue_date,
        due_date=_due_date(fields, client, company),
        currency="CLP",
        total_cents=fields.total_cents,
        taxes_cents=fields.total_cents - net,
        net_cents=net,
        notes=fields.detail_notes,
        send=send,
        checks=checked.checks,
        now=now,
        source=source,
    )


def delete_document(session: Session, company_id: int, data: DocumentDelete, links: Links) -> Document:
    tax_id = data.client_tax_id
    client = clients_repository.get_by_tax_id(session, company_id, tax_id)
    matches = (
        repository.find_by_client_and_number(session, company_id, client.id, data.number, data.code)
        if client is not None
        else []
    )
    if not matches:
        raise NotFound(f"no document {data.number} for client {tax_id}", field="number")
    if len(matches) > 1:
        codes = ", ".join(sorted(str(d.code) for d in matches))
        raise AmbiguousDocument(
            f"several documents {data.number} exist for this client (codes {codes}); give code", field="code"
        )
    # Locked first, so that a payment racing for the document cannot slip in between.
    ledger.lock(session, company_id, [matches[0].id])
    if payments_repository.document_has_allocations(session, company_id, matches[0].id):
        raise DocumentHasPayments(
            f"document {data.number} has payments; it cannot be deleted", field="number"
        )
    subscriptions = webhook_events.Subscriptions(session, company_id)
    record_events(session, subscriptions, "document.deleted", [matches[0].id], links)
    repository.delete_document(session, matches[0])
    return matches[0]


def list_documents_for_token(
    session: Session,
    token: PresentedToken,
    filters: DocumentFilters,
    *,
    order_by: OrderBy,
    descending: bool,
    page: PageRequest,
    today: date,
    expand: Expand,
) -> tuple[AuthContext, list[DocumentRow], int]:
    """The caller and a page of its company's documents (getDocuments). On PostgreSQL the token is
    checked in the page's own statement (a round trip fewer); a bad token is a 401 all the same."""
    if repository.lists_in_one_statement(session, page.offset):
        found = repository.list_page_for_token(
            session,
            token.hash,
            filters,
            order_by=order_by,
            descending=descending,
            offset=page.offset,
            limit=page.per_page,
            today=today,
            with_client=expand.client,
        )
        if found is not None:
            token_id, company_id, rows, total = found
            return AuthContext(company_id=company_id, token_id=token_id), rows, total
    auth = token.verify(session)
    rows, total = list_documents(
        session, auth.company_id, filters, order_by=order_by, descending=descending, page=page, today=today,
        expand=expand,
    )  # fmt: skip
    return auth, rows, total


def list_documents(
    session: Session,
    company_id: int,
    filters: DocumentFilters,
    *,
    order_by: OrderBy,
    descending: bool,
    page: PageRequest,
    today: date,
    expand: Expand,
) -> tuple[list[DocumentRow], int]:
    return repository.list_page(
        session,
        company_id,
        filters,
        order_by=order_by,
        descending=descending,
        offset=page.offset,
        limit=page.per_page,
        today=today,
        with_client=expand.client,
    )


def require_row(
    session: Session, company_id: int, document_id: int, expand: Expand | None = None
) -> DocumentRow:
    row = repository.get_row(session, company_id, document_id, with_client=bool(expand and expand.client))
    if row is None:
        raise NotFound(f"document {document_id} not found", field="id")
    return row


def require_row_for_token(
    session: Session, token: PresentedToken, document_id: int, expand: Expand
) -> tuple[AuthContext, DocumentRow]:
    """The caller and one of its company's documents, read in one statement. When nothing is found, a
    bad token is told first (401), so that the answer is the one :func:`require_row` would give."""
    found = repository.get_row_for_token(session, token.hash, document_id, with_client=expand.client)
    if found is None:
        token.verify(session)
        raise NotFound(f"document {document_id} not found", field="id")
    token_id, company_id, row = found
    return AuthContext(company_id=company_id, token_id=token_id), row


def _client_views(
    session: Session, company_id: int, rows: Sequence[DocumentRow], expand: Expand, links: Links
) -> dict[int, JsonObject]:
    """The page's expanded clients (they came with the rows), with contacts as ids or, asked, in full."""
    clients = {row.client.id: (row.client, row.contact_ids) for row in rows if row.client is not None}
    if not clients:
        return {}
    contacts = contacts_repository.by_client(session, company_id, list(clients)) if expand.contact else {}
    views = {}
    for client_id, (client, contact_ids) in clients.items():
        shown = (
            contact_views(contacts.get(client_id, []), expand=True)
            if expand.contact
            else id_refs(contact_ids)
        )
        views[client_id] = client_view(client, links, shown)
    return views


def present(
    session: Session,
    company_id: int,
    rows: Sequence[DocumentRow],
    expand: Expand,
    links: Links,
    today: date,
) -> list[JsonObject]:
    """Documents as the API shows them (``DocumentOut``). Ids of related objects come with the rows;
    full objects are read only for the expansions asked for."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    clients = _client_views(session, company_id, rows, expand, links)
    tags = repository.tags_by_document(session, company_id, ids) if expand.tag else {}
    files = files_repository.by_document(session, company_id, ids) if expand.file else {}
    ceded = [row.last_cession_id for row in rows if row.last_cession_id is not None]
    cessions = factoring_repository.cessions_by_id(session, company_id, ceded)

    def dump(model: ApiModel) -> JsonObject:
        return model.model_dump(mode="json", by_alias=True)

    return [
        document_view(
            row,
            links,
            today,
            client=clients.get(row.client_id) or {"id": str(row.client_id)},
            tags=[dump(TagOut.of(t)) for t in tags.get(row.id, [])] if expand.tag else id_refs(row.tag_ids),
            files=(
                [dump(FileOut.of(f, links)) for f in files.get(row.id, [])]
                if expand.file
                else id_refs(row.file_ids)
            ),
            cession=cessions.get(row.id),
        )
        for row in rows
    ]


def present_detail(
    session: Session, company_id: int, row: DocumentRow, expand: Expand, links: Links, today: date
) -> JsonObject:
    """One document as getDocument and the create methods show it (``DocumentDetailOut``)."""
    [view] = present(session, company_id, [row], expand, links, today)
    notes = notes_repository.by_ids(session, company_id, row.note_ids) if row.note_ids_text else []
    view["creditDebitNotes"] = [note_summary(note, links) for note in notes]
    view["dte"] = row.dte_fields
    return view


def record_events(
    session: Session,
    subscriptions: webhook_events.Subscriptions,
    event_type: EventType,
    document_ids: Sequence[int],
    links: Links,
    *,
    today: date | None = None,
    dedupe_keys: Sequence[str] | None = None,
) -> None:
    """Record ``event_type`` for each document, as getDocument shows it now (read in this transaction),
    when the company has a webhook for it; ``dedupe_keys``, one per document, make each once-only."""
    webhook_ids = subscriptions.webhooks_for(event_type) if document_ids else []
    if not webhook_ids:
        return
    company_id = subscriptions.company_id
    today = today or today_in_santiago()
    views = [
        present_detail(
            session, company_id, require_row(session, company_id, document_id), Expand(), links, today
        )
        for document_id in document_ids
    ]
    webhook_events.record(session, company_id, event_type, views, webhook_ids, dedupe_keys=dedupe_keys)


def renew_portal_key(session: Session, company_id: int, document_id: int) -> Document:
    """A new key for the document's links (page, PDF, XML): the old links stop working at once."""
    document = repository.get(session, company_id, document_id)
    if document is None:
        raise NotFound(f"document {document_id} not found", field="id")
    document.portal_key = new_link_key()
    session.flush()
    return document


TAG_NAME_MAX = 100


def tag_document(
    session: Session, company_id: int, document_id: int, name: str, links: Links
) -> tuple[Tag, bool]:
    """Put a tag on the document, by name (a new name makes the tag, as createDocument's ``tags``).
    Answers the tag and whether the document got it now (False: it had it already)."""
    name = name.strip()
    if not name or len(name) > TAG_NAME_MAX:
        raise BadRequest(f"a tag's name has 1 to {TAG_NAME_MAX} characters", field="name")
    document = repository.get(session, company_id, document_id)
    if document is None:
        raise NotFound(f"document {document_id} not found", field="id")
    [tag] = tags_service.ensure_tags(session, company_id, [name])
    if tag.id in repository.tag_ids_of(session, company_id, document.id):
        return tag, False
    repository.add_tags(session, document, [tag.id])
    subscriptions = webhook_events.Subscriptions(session, company_id)
    record_events(session, subscriptions, "document.updated", [document.id], links)
    return tag, True
