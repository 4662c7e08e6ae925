"""Every query on documents, their tags and their XML sources."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    String,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    join,
    select,
)
from sqlalchemy.orm import Session, aliased

from dtehub.auth.repository import presented_token_of
from dtehub.clients.repository import CLIENT_ROW_COLUMNS, ClientRow
from dtehub.documents.filters import DateBy, DocumentFilters, OrderBy
from dtehub.documents.history import history_flag
from dtehub.documents.sii_states import (
    ACCEPTABLE_CODES,
    ACCEPTED_EVENT,
    CLAIMED_EVENT,
    TACIT_EVENT,
    SiiStateFilter,
    tacit_before,
)
from dtehub.documents.status import DocumentStatus
from dtehub.kit.sql import execute_core, insert_rows, key_in, on_postgresql
from dtehub.models import (
    ApiToken,
    Base,
    Client,
    Company,
    Contact,
    Document,
    DocumentCession,
    DocumentCount,
    DocumentSource,
    DocumentState,
    DocumentTag,
    DocumentTotal,
    File,
    Note,
    Tag,
)
from dtehub.models.document_cession import UPLOADING as CESSION_UPLOADING


class DocumentRow(NamedTuple):
    """A document as every API view of it needs it, read in one query as plain columns (no ORM
    object: a listing builds 50 of these per request): the client's tax id, the ids of its tags and
    files; when the client is expanded, the client and its contacts' ids; and for one document's
    detail, the ids of its notes and the fields read from its DTE."""

    id: int
    client_id: int
    code: int
    number: str
    created_at: datetime
    issue_date: date
    due_date: date
    state: int
    currency: str
    net_cents: int
    taxes_cents: int
    total_cents: int
    paid_cents: int
    paid_date: date | None
    due_cents: int
    credit_cents: int
    debit_cents: int
    purchase_order: str
    gloss: str
    notes: str
    portal_key: str
    xml_schema: str | None
    xml_signature: str | None
    xml_ted: str | None
    xml_signer: str | None
    xml_signed_at: datetime | None
    xml_problems: list[dict[str, Any]] | None
    xml_signed_form: dict[str, Any] | None
    source: str | None
    held: bool
    issuer_rut: str
    issuer_name: str
    sii_received_at: datetime | None
    sii_accepted_at: datetime | None
    sii_claimed_at: datetime | None
    sii_event_code: str | None
    sii_event_description: str | None
    sii_synced_at: datetime | None
    sii_total_cents: int | None
    sii_issue_date: date | None
    client_tax_id: str
    tag_ids_text: str | None
    file_ids_text: str | None
    history: bool
    """Synced from SII and issued before the company's collectionsStartDate (``documents.history``)."""
    last_cession_id: int | None
    """The document's last cession through SII's RTC, if any (read in full only then)."""
    client: ClientRow | None = None
    contact_ids_text: str | None = None
    note_ids_text: str | None = None
    dte_fields: dict[str, Any] | None = None

    @property
    def tag_ids(self) -> list[int]:
        return split_ids(self.tag_ids_text)

    @property
    def file_ids(self) -> list[int]:
        return split_ids(self.file_ids_text)

    @property
    def contact_ids(self) -> list[int]:
        return split_ids(self.contact_ids_text)

    @property
    def note_ids(self) -> list[int]:
        return split_ids(self.note_ids_text)


_DOCUMENTS_TABLE = Base.metadata.tables["documents"]
_DOCUMENTS = _DOCUMENTS_TABLE.c
_DOCUMENT_FIELDS = DocumentRow._fields[: DocumentRow._fields.index("client_tax_id")]
_VIEW_COLUMNS = [_DOCUMENTS[name] for name in _DOCUMENT_FIELDS]
_COMPANIES = Company.__table__.c


def _id_list(column: Any, *where: ColumnElement[bool]) -> ScalarSelect[str]:
    # One comma-separated list per row (group_concat / string_agg) instead of one query per relation.
    return select(func.aggregate_strings(cast(column, String), ",")).where(*where).scalar_subquery()


def split_ids(text: str | None) -> list[int]:
    return sorted(int(part) for part in text.split(",")) if text else []


def _rows_query(with_client: bool, detail: bool = False) -> Select[Any]:
    tags, files, contacts = DocumentTag.__table__.c, File.__table__.c, Contact.__table__.c
    notes, sources = Note.__table__.c, DocumentSource.__table__.c
    cessions = DocumentCession.__table__.c
    columns: list[Any] = [
        *_VIEW_COLUMNS,
        Client.__table__.c.tax_id,
        _id_list(tags.tag_id, tags.document_id == _DOCUMENTS.id),
        _id_list(files.id, files.document_id == _DOCUMENTS.id),
        history_flag(_DOCUMENTS.source, _DOCUMENTS.issue_date, _COMPANIES.collections_start_date),
        select(func.max(cessions.id))
        .where(
            cessions.company_id == _DOCUMENTS.company_id,
            cessions.document_id == _DOCUMENTS.id,
            cessions.sii_state != CESSION_UPLOADING,  # a claim is shown once SII took its file
        )
        .scalar_subquery(),
    ]
    if with_client:  # the full client only when it is shown: most listings need just its tax id
        columns += [*CLIENT_ROW_COLUMNS, _id_list(contacts.id, contacts.client_id == Client.id)]
    if detail:  # one document: its notes' ids (read in full only when there are any) and its DTE fields
        fields = select(sources.fields).where(sources.document_id == _DOCUMENTS.id).scalar_subquery()
        columns += [_id_list(notes.id, notes.document_id == _DOCUMENTS.id), fields]
    return (
        select(*columns)
        .join(Client, Client.id == _DOCUMENTS.client_id)
        .join(Company, _COMPANIES.id == _DOCUMENTS.company_id)
    )


# Complete statements with bound values, built once: a statement object keeps its cache key, which makes
# reading a document three times cheaper than building the query on every call.
_ROW_BY_ID = {
    with_client: _rows_query(with_client, detail=True).where(
        _DOCUMENTS.company_id == bindparam("company_id"), _DOCUMENTS.id == bindparam("document_id")
    )
    for with_client in (False, True)
}
# The same read joined on the caller's token: getDocument checks the token and reads in one statement.
_TOKENS = ApiToken.__table__.c
_ROW_BY_TOKEN = {
    with_client: _rows_query(with_client, detail=True)
    .join(ApiToken, presented_token_of(_DOCUMENTS.company_id))
    .where(_DOCUMENTS.id == bindparam("document_id"))
    .add_columns(_TOKENS.id, _TOKENS.company_id)
    for with_client in (False, True)
}
_PAGE_ROWS = {with_client: _rows_query(with_client) for with_client in (False, True)}
_ROWS_BY_IDS = {  # SQLite's listing: the page's rows by their ids
    with_client: _PAGE_ROWS[with_client].where(
        _DOCUMENTS.company_id == bindparam("company_id"), _DOCUMENTS.id.in_(bindparam("ids", expanding=True))
    )
    for with_client in (False, True)
}
_BASE_LENGTH = len(_DOCUMENT_FIELDS) + 5
_CLIENT_LENGTH = len(CLIENT_ROW_COLUMNS)


def _to_rows(result: Sequence[Any], *, with_client: bool, detail: bool = False) -> list[DocumentRow]:
    if not (with_client or detail):
        return [DocumentRow(*row) for row in result]
    rows = []
    for row in result:
        extra: dict[str, Any] = {}
        rest = row[_BASE_LENGTH:]
        if with_client:
            extra["client"] = ClientRow(*rest[:_CLIENT_LENGTH])
            extra["contact_ids_text"] = rest[_CLIENT_LENGTH]
            rest = rest[_CLIENT_LENGTH + 1 :]
        if detail:
            extra["note_ids_text"], extra["dte_fields"] = rest
        rows.append(DocumentRow(*row[:_BASE_LENGTH], **extra))
    return rows


_ORDER_COLUMNS = {
    OrderBy.ISSUE_DATE: Document.issue_date,
    OrderBy.CREATION: Document.created_at,
    OrderBy.DUE_DATE: Document.due_date,
    OrderBy.NUMBER: Document.number_sort,
    OrderBy.TOTAL: Document.total_cents,
}


def _status_condition(status: DocumentStatus, today: date) -> ColumnElement[bool]:
    # Must agree with documents.status.status_of.
    if status == DocumentStatus.VOIDED:
        return Document.state == DocumentState.VOIDED
    if status == DocumentStatus.PAID:
        return Document.state == DocumentState.SETTLED
    if status == DocumentStatus.OVERDUE:
        return (Document.state == DocumentState.OPEN) & (Document.due_date < today)
    return (Document.state == DocumentState.OPEN) & (Document.due_date >= today)


def claimed_at_sii() -> ColumnElement[bool]:
    """A document's SII state is ``claimed`` (whatever the day: a claim recorded by a sync). The kept
    summary ``claimed_balances`` (migration 0028) counts the open ones by the same rule."""
    event = func.coalesce(Document.sii_event_code, "")
    claimed = Document.sii_claimed_at.is_not(None) | (event == CLAIMED_EVENT)
    return Document.sii_synced_at.is_not(None) & claimed


def _sii_state_condition(wanted: SiiStateFilter, today: date) -> ColumnElement[bool]:
    # Must agree with documents.sii_states.state_of (tests/documents/test_sii_states.py holds them together).
    if wanted == SiiStateFilter.NEVER_SYNCED:
        return Document.sii_synced_at.is_(None)
    if wanted == SiiStateFilter.CLAIMED:
        return claimed_at_sii()
    event = func.coalesce(Document.sii_event_code, "")
    claimed = Document.sii_claimed_at.is_not(None) | (event == CLAIMED_EVENT)
    accepted = Document.sii_accepted_at.is_not(None) | (event == ACCEPTED_EVENT)
    tacit = (event == TACIT_EVENT) | (
        Document.code.in_(sorted(ACCEPTABLE_CODES))
        & Document.sii_received_at.is_not(None)
        & (Document.sii_received_at < tacit_before(today))
    )
    synced = Document.sii_synced_at.is_not(None)
    if wanted == SiiStateFilter.ACCEPTED:
        return synced & ~claimed & accepted
    if wanted == SiiStateFilter.TACITLY_ACCEPTED:
        return synced & ~claimed & ~accepted & tacit
    return synced & ~claimed & ~accepted & ~tacit


def tacitly_accepted_between(
    session: Session, company_id: int, first: date, last: date
) -> list[tuple[int, datetime]]:
    """(id, SII's reception) of the company's facturas that became tacitly accepted by their days (no
    acceptance, claim or receiver event A, C or R) on a Santiago day from ``first`` to ``last``: received
    from the day 9 days before ``first`` to the day 9 days before ``last``
    (:func:`dtehub.documents.sii_states.state_of`)."""
    event = func.coalesce(Document.sii_event_code, "")
    query = select(Document.id, Document.sii_received_at).where(
        Document.company_id == company_id,
        Document.code.in_(sorted(ACCEPTABLE_CODES)),
        Document.sii_synced_at.is_not(None),
        Document.sii_accepted_at.is_(None),
        Document.sii_claimed_at.is_(None),
        event.not_in([TACIT_EVENT, ACCEPTED_EVENT, CLAIMED_EVENT]),
        Document.sii_received_at >= tacit_before(first - timedelta(days=1)),
        Document.sii_received_at < tacit_before(last),
    )
    return [(row.id, row.sii_received_at) for row in execute_core(session, query)]


CompanyRef = int | ScalarSelect[int]
"""A company: its id, or the company of the caller's token as a subquery (:func:`list_page_for_token`)."""


def _conditions(company_id: CompanyRef, filters: DocumentFilters, today: date) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Document.company_id == company_id]
    day = Document.issue_date if filters.date_by == DateBy.ISSUE else Document.created_on
    if filters.since is not None:
        conditions.append(day >= filters.since)
    if filters.until is not None:
        conditions.append(day <= filters.until)
    if filters.status is not None:
        conditions.append(_status_condition(filters.status, today))
    if filters.open_only:
        conditions.append(Document.state == DocumentState.OPEN)
    if filters.number is not None:
        conditions.append(Document.number == filters.number)
    if filters.code is not None:
        conditions.append(Document.code == filters.code)
    if filters.held is not None:
        conditions.append(Document.held.is_(filters.held))
    if filters.currency is not None:
        conditions.append(Document.currency == filters.currency)
    if filters.client_id is not None:
        conditions.append(Document.client_id == filters.client_id)
    if filters.client_tax_id is not None:
        client_ids = select(Client.id).where(
            Client.company_id == company_id, Client.tax_id == filters.client_tax_id
        )
        conditions.append(Document.client_id.in_(client_ids.scalar_subquery()))
    for column, verdict in (
        (Document.xml_schema, filters.xml_schema),
        (Document.xml_signature, filters.xml_signature),
        (Document.xml_ted, filters.xml_ted),
    ):
        if verdict is not None:
            conditions.append(column == verdict.value)
    if filters.sii_state is not None:
        conditions.append(_sii_state_condition(filters.sii_state, today))
    if filters.is_ceded is not None:
        ceded = exists().where(
            DocumentCession.company_id == company_id,
            DocumentCession.document_id == Document.id,
            DocumentCession.sii_state == "accepted",
        )
        conditions.append(ceded if filters.is_ceded else ~ceded)
    if filters.tag_id is not None:
        # Joined in by _from(): the tag's links are read from their own index.
        conditions.append(_TAG_LINK.tag_id == filters.tag_id)
    return conditions


# The tag filter joins the links under their own name, apart from the tag-id list of each row.
_TAG_LINK = aliased(DocumentTag, name="tag_link")


def _from(filters: DocumentFilters) -> Any:
    """documents, or a tag's links joined to their documents when filtering by tag."""
    if filters.tag_id is None:
        return Document.__table__
    return join(_TAG_LINK, Document, Document.id == _TAG_LINK.document_id)


def _summarized(filters: DocumentFilters) -> bool:
    """Whether document_counts holds every dimension these filters use."""
    return (
        filters.number is None
        and filters.client_id is None
        and filters.client_tax_id is None
        and filters.tag_id is None
        and filters.xml_schema is None
        and filters.xml_signature is None
        and filters.xml_ted is None
        and filters.sii_state is None
        and filters.is_ceded is None
        and not filters.open_only
        and filters.status in (None, DocumentStatus.PAID, DocumentStatus.VOIDED)
    )


def _only_a_tag(filters: DocumentFilters) -> bool:
    return filters.tag_id is not None and filters == DocumentFilters(
        date_by=filters.date_by, tag_id=filters.tag_id
    )


def _owned_tag_links(company_id: CompanyRef, filters: DocumentFilters) -> ColumnElement[bool]:
    """The links of the filtered tag, once the tag is known to be this company's: its documents then are
    too, so the links are read from their own index without joining a single document."""
    owned = select(Tag.id).where(Tag.id == filters.tag_id, Tag.company_id == company_id).scalar_subquery()
    return DocumentTag.tag_id == owned


def count(session: Session, company_id: int, filters: DocumentFilters, today: date) -> int:
    """totalRecords: from the trigger-kept summary when it covers the filters, else counted exactly."""
    return int(execute_core(session, _count_query(company_id, filters, today)).scalar_one())


def _count_query(company_id: CompanyRef, filters: DocumentFilters, today: date) -> Select[Any]:
    if _summarized(filters):
        summary: type[DocumentCount] | type[DocumentTotal] = DocumentCount
        if filters.since is None and filters.until is None:
            summary = DocumentTotal  # no dates: a dozen rows per company rather than one per day
        conditions = [summary.company_id == company_id]
        if filters.since is not None or filters.until is not None:
            day = DocumentCount.issue_date if filters.date_by == DateBy.ISSUE else DocumentCount.created_on
            if filters.since is not None:
                conditions.append(day >= filters.since)
            if filters.until is not None:
                conditions.append(day <= filters.until)
        if filters.code is not None:
            conditions.append(summary.code == filters.code)
        if filters.currency is not None:
            conditions.append(summary.currency == filters.currency)
        if filters.status == DocumentStatus.PAID:
            conditions.append(summary.state == DocumentState.SETTLED)
        elif filters.status == DocumentStatus.VOIDED:
            conditions.append(summary.state == DocumentState.VOIDED)
        return select(func.coalesce(func.sum(summary.documents), 0)).where(*conditions)
    if _only_a_tag(filters):
        # Only a tag: count its links, once the tag is known to be this company's.
        return select(func.count()).select_from(DocumentTag).where(_owned_tag_links(company_id, filters))
    conditions = _conditions(company_id, filters, today)
    return select(func.count()).select_from(_from(filters)).where(*conditions)


ONE_STATEMENT_MAX_OFFSET = 10_000
"""The deepest offset PostgreSQL's one-statement page is used for (page 200 of 50): beyond, the count
comes first."""


def list_page(
    session: Session,
    company_id: int,
    filters: DocumentFilters,
    *,
    order_by: OrderBy,
    descending: bool,
    offset: int,
    limit: int,
    today: date,
    with_client: bool,
) -> tuple[list[DocumentRow], int]:
    """A page of the company's documents and totalRecords. The page's ids are read from an index first
    (skipping the offset on the index alone, not on joined rows), then only those rows in full.

    On PostgreSQL in one statement, the count beside the rows: each statement is a round trip to the
    server, and the count, the ids and the rows as three statements cost a listing two more of them
    (an empty page, past the last document or with no match, then asks for the count alone). On
    SQLite as three statements (see below)."""
    if not on_postgresql(session) or offset > ONE_STATEMENT_MAX_OFFSET:
        # SQLite: three statements, each a call into the library; the rows' statement is built once
        # (building and caching the one statement below costs more CPU than the two calls it saves).
        # A deep page on PostgreSQL too: counted first, so that a page past the end never has the
        # database skip rows (a request for page 1,000,000 would walk every matching row).
        total = count(session, company_id, filters, today)
        if offset >= total:
            return [], total
        page_ids, ordering, _column = _page_ids(company_id, filters, order_by, descending, today)
        ids = list(execute_core(session, page_ids.order_by(*ordering).offset(offset).limit(limit)).scalars())
        params = {"company_id": company_id, "ids": ids}
        found = execute_core(session, _ROWS_BY_IDS[with_client], params).all()
        rows = _to_rows(found, with_client=with_client)
        by_id = {row.id: row for row in rows}
        return [by_id[i] for i in ids], total
    query = _one_statement_page(company_id, filters, order_by, descending, offset, limit, today, with_client)
    found = execute_core(session, query.where(_DOCUMENTS.company_id == company_id)).all()
    if not found:
        return [], count(session, company_id, filters, today)
    total = int(found[0][-1])
    return _to_rows([row[:-1] for row in found], with_client=with_client), total


def lists_in_one_statement(session: Session, offset: int) -> bool:
    """Whether :func:`list_page_for_token` serves a page at this offset (PostgreSQL, not too deep)."""
    return on_postgresql(session) and offset <= ONE_STATEMENT_MAX_OFFSET


_CALLER = (_TOKENS.token_hash == bindparam("token_hash"), _TOKENS.revoked_at.is_(None))
# Never correlated with an enclosing read of api_tokens (the count below): each runs once (an InitPlan).
_CALLER_COMPANY = select(_TOKENS.company_id).where(*_CALLER).correlate(None).scalar_subquery()
_CALLER_TOKEN = select(_TOKENS.id).where(*_CALLER).correlate(None).scalar_subquery()


def list_page_for_token(
    session: Session,
    token_hash: str,
    filters: DocumentFilters,
    *,
    order_by: OrderBy,
    descending: bool,
    offset: int,
    limit: int,
    today: date,
    with_client: bool,
) -> tuple[int, int, list[DocumentRow], int] | None:
    """(token id, company id, page, totalRecords) of :func:`list_page` for the company of the unrevoked
    token with this hash, the token checked in the page's own statement: one round trip to PostgreSQL
    rather than two (only where :func:`lists_in_one_statement`). Every condition names the token's
    company. None for a bad token, as for a missing one; an empty page is then counted with the token."""
    company = _CALLER_COMPANY
    query = _one_statement_page(company, filters, order_by, descending, offset, limit, today, with_client)
    query = query.where(_DOCUMENTS.company_id == company).add_columns(_CALLER_TOKEN, company)
    params = {"token_hash": token_hash}
    found: list[tuple[Any, ...]] = [tuple(row) for row in execute_core(session, query, params)]
    if found:
        *_, total, token_id, company_id = found[0]
        rows = _to_rows([row[:-3] for row in found], with_client=with_client)
        return token_id, company_id, rows, int(total)
    # No page: past the end, no match, or a bad token. The count, the token checked beside it.
    counted = select(_TOKENS.id, _TOKENS.company_id, _count_query(company, filters, today).scalar_subquery())
    caller = execute_core(session, counted.where(*_CALLER), params).first()
    if caller is None:
        return None
    token_id, company_id, total = tuple(caller)
    return token_id, company_id, [], int(total)


def _page_ids(
    company_id: CompanyRef, filters: DocumentFilters, order_by: OrderBy, descending: bool, today: date
) -> tuple[Select[Any], tuple[Any, Any], Any]:
    """The ids of the matching documents (unordered), their ordering, and the sort key column."""
    page_ids: Select[Any]
    if _only_a_tag(filters) and order_by == OrderBy.ISSUE_DATE:
        # A tag's page at offset 10,000 walks 10,000 index entries rather than joining as many documents.
        column: Any = DocumentTag.issue_date
        tie: Any = DocumentTag.document_id
        page_ids = select(tie.label("id")).where(_owned_tag_links(company_id, filters))
    else:
        column, tie = _ORDER_COLUMNS[order_by], Document.id
        if filters.tag_id is not None and order_by == OrderBy.ISSUE_DATE:
            column, tie = _TAG_LINK.issue_date, _TAG_LINK.document_id
        conditions = _conditions(company_id, filters, today)
        page_ids = select(Document.id.label("id")).select_from(_from(filters)).where(*conditions)
    return page_ids, _ordering(column, tie, descending), column


def _one_statement_page(
    company_id: CompanyRef,
    filters: DocumentFilters,
    order_by: OrderBy,
    descending: bool,
    offset: int,
    limit: int,
    today: date,
    with_client: bool,
) -> Select[Any]:
    """PostgreSQL's page: the ids as a LIMIT/OFFSET subquery on the same indexes as SQLite's (with their
    sort key), joined to the rows and ordered by that key, the count a scalar subquery beside them (run
    once, as an InitPlan). The caller adds the rows' company condition."""
    page_ids, ordering, column = _page_ids(company_id, filters, order_by, descending, today)
    page = (
        page_ids.add_columns(column.label("sort_key")).order_by(*ordering).offset(offset).limit(limit)
    ).subquery("page")
    return (
        _PAGE_ROWS[with_client]
        .join(page, page.c.id == _DOCUMENTS.id)
        .add_columns(_count_query(company_id, filters, today).scalar_subquery())
        .order_by(*_ordering(page.c.sort_key, page.c.id, descending))
    )


def _ordering(column: Any, tie: Any, descending: bool) -> tuple[Any, Any]:
    return (column.desc(), tie.desc()) if descending else (column.asc(), tie.asc())


def get_row(session: Session, company_id: int, document_id: int, *, with_client: bool) -> DocumentRow | None:
    params = {"company_id": company_id, "document_id": document_id}
    rows = _to_rows(
        execute_core(session, _ROW_BY_ID[with_client], params).all(), with_client=with_client, detail=True
    )
    return rows[0] if rows else None


def get_row_for_token(
    session: Session, token_hash: str, document_id: int, *, with_client: bool
) -> tuple[int, int, DocumentRow] | None:
    """(token id, company id, row) of a document of the company whose unrevoked token has this hash;
    None for a missing document, another company's, and a bad token alike."""
    params = {"token_hash": token_hash, "document_id": document_id}
    found = execute_core(session, _ROW_BY_TOKEN[with_client], params).first()
    if found is None:
        return None
    values: tuple[Any, ...] = tuple(found)
    *columns, token_id, company_id = values
    [row] = _to_rows([columns], with_client=with_client, detail=True)
    return token_id, company_id, row


def get(session: Session, company_id: int, document_id: int) -> Document | None:
    return (
        session.scalars(select(Document).where(Document.company_id == company_id, Document.id == document_id))
    ).first()


def find_by_natural_key(session: Session, company_id: int, code: int, number: str) -> Document | None:
    return (
        session.scalars(
            select(Document).where(
                Document.company_id == company_id,
                Document.held.is_(False),
                Document.code == code,
                Document.number == number,
            )
        )
    ).first()


def insert_documents(session: Session, company_id: int, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert a company's new documents (every column but the id: ``service.new_document_row``; its own,
    not held ones) in one statement; their ids, in order, read back by natural key."""
    if not rows:
        return []
    insert_rows(session, _DOCUMENTS_TABLE, rows)
    keys = {(row["code"], row["number"]) for row in rows}
    query = select(_DOCUMENTS.code, _DOCUMENTS.number, _DOCUMENTS.id).where(
        _DOCUMENTS.company_id == company_id,
        _DOCUMENTS.held.is_(False),
        *key_in(_DOCUMENTS.code, _DOCUMENTS.number, keys),
    )
    ids = {(row.code, row.number): row.id for row in execute_core(session, query)}
    return [ids[(row["code"], row["number"])] for row in rows]


def find_by_client_and_number(
    session: Session, company_id: int, client_id: int, number: str, code: int | None
) -> list[Document]:
    query = select(Document).where(
        Document.company_id == company_id, Document.client_id == client_id, Document.number == number
    )
    if code is not None:
        query = query.where(Document.code == code)
    return list(session.scalars(query.limit(10)).all())


def source_content(session: Session, company_id: int, document_id: int) -> bytes | None:
    """The company's document's DTE as it was received; None when it was created by fields."""
    query = (
        select(DocumentSource.content)
        .join(Document, Document.id == DocumentSource.document_id)
        .where(Document.company_id == company_id, DocumentSource.document_id == document_id)
    )
    return session.execute(query).scalar_one_or_none()


def add_tags(session: Session, document: Document, tag_ids: Sequence[int]) -> None:
    if tag_ids:
        session.execute(
            insert(DocumentTag),
            [{"document_id": document.id, "tag_id": t, "issue_date": document.issue_date} for t in tag_ids],
        )


def tags_by_document(session: Session, company_id: int, document_ids: Sequence[int]) -> dict[int, list[Tag]]:
    rows = session.execute(
        select(DocumentTag.document_id, Tag)
        .join(Tag, Tag.id == DocumentTag.tag_id)
        .where(Tag.company_id == company_id, DocumentTag.document_id.in_(document_ids))
        .order_by(DocumentTag.document_id, Tag.id)
    )
    result: dict[int, list[Tag]] = defaultdict(list)
    for document_id, tag in rows:
        result[document_id].append(tag)
    return result


def delete_document(session: Session, document: Document) -> None:
    session.execute(
        delete(Document).where(Document.company_id == document.company_id, Document.id == document.id)
    )


def lock_in_id_order(session: Session, company_id: int, document_ids: Collection[int]) -> list[Document]:
    """The company's documents among ``document_ids`` (another company's are left out), their rows
    locked until commit in id order (PostgreSQL), so that two writers locking the same documents take
    turns and never deadlock. Rows this session loaded before show what the lock saw."""
    if not document_ids:
        return []
    query = (
        select(Document)
        .where(Document.company_id == company_id, Document.id.in_(document_ids))
        .order_by(Document.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def tag_ids_of(session: Session, company_id: int, document_id: int) -> set[int]:
    """The ids of the company's tags on the document."""
    rows = session.scalars(
        select(DocumentTag.tag_id)
        .join(Tag, Tag.id == DocumentTag.tag_id)
        .where(Tag.company_id == company_id, DocumentTag.document_id == document_id)
    )
    return set(rows)
