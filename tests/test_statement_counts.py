"""How many SQL statements the hot paths run: one getDocument, one page of getDocuments, one batch of an
import. These counts do not depend on the machine's load (docs/performance.md, issue 17's section): a
change that adds a query per request, or per document of a page or a batch, fails here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from dtehub.ingest import service as ingest
from tests.conftest import LINKS, Tenant
from tests.notes import invoice_xml

# The test harness's own transaction control around each request (its savepoints), and SQLite's BEGIN:
# not the work of the request.
_HARNESS = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "COMMIT", "ROLLBACK")


class Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(_HARNESS):
            self.seen.append(" ".join(statement.split()))

    def count(self) -> int:
        count = len(self.seen)
        self.seen.clear()
        return count


@pytest.fixture
def statements(engine: Engine) -> Iterator[Statements]:
    recorder = Statements()
    event.listen(engine, "before_cursor_execute", recorder.record)
    yield recorder
    event.remove(engine, "before_cursor_execute", recorder.record)


async def store_invoices(tenant: Tenant, session: Session, first: int, count: int) -> list[str]:
    checked = [
        ingest.read_single_dte(invoice_xml(tenant, folio), max_bytes=1024 * 1024)
        for folio in range(first, first + count)
    ]
    outcomes = ingest.store_many(session, tenant.company_id, [ingest.Incoming(c) for c in checked], LINKS)
    ids = [str(outcome.id) for outcome in outcomes if isinstance(outcome, ingest.Stored)]
    assert len(ids) == count
    return ids


async def test_get_document_is_one_query_with_its_client(
    tenant: Tenant, session: Session, statements: Statements
) -> None:
    [document_id] = await store_invoices(tenant, session, 1, 1)
    statements.count()

    response = await tenant.get("/v1/getDocument", id=document_id, expandClient="1")

    assert response.status_code == 200, response.text
    assert response.json()["client"]["taxId"] == "99999999-9"
    # The token, the document and its client in one statement (docs/performance.md).
    seen = list(statements.seen)
    assert statements.count() == 1, seen


async def test_a_page_of_get_documents_costs_the_same_whatever_its_length(
    tenant: Tenant, session: Session, statements: Statements
) -> None:
    await store_invoices(tenant, session, 1, 2)
    statements.count()
    short = await tenant.get("/v1/getDocuments")
    assert len(short.json()["items"]) == 2
    few = statements.count()
    await store_invoices(tenant, session, 3, 10)
    statements.count()

    long = await tenant.get("/v1/getDocuments")

    assert len(long.json()["items"]) == 12
    assert statements.count() == few
    assert few <= 4  # the token, the count, the page's ids, their rows


async def test_a_page_of_get_documents_is_read_with_its_count_and_token_in_one_statement_on_postgresql(
    tenant: Tenant, session: Session, statements: Statements, engine: Engine
) -> None:
    ids = await store_invoices(tenant, session, 1, 5)
    statements.count()

    response = await tenant.get("/v1/getDocuments", resultsPerPage="2", page="2", orderBy="4", order="ASC")
    page = statements.count()
    beyond = await tenant.get("/v1/getDocuments", resultsPerPage="2", page="4")
    empty = statements.count()

    assert [item["id"] for item in response.json()["items"]] == ids[2:4]
    assert response.json()["records"] == {"totalRecords": 5, "items": 2, "page": 2, "pages": 3}
    assert beyond.json()["records"] == {"totalRecords": 5, "items": 0, "page": 4, "pages": 3}
    if engine.dialect.name == "postgresql":  # each statement a round trip (docs/performance.md)
        # The page with its token check; past the end, the count with its token check again.
        assert (page, empty) == (1, 2)
    else:  # SQLite: the token, the count, the page's ids, their rows; past the end, no page read
        assert (page, empty) == (4, 2)


async def test_an_import_batch_costs_the_same_statements_whatever_its_size(
    tenant: Tenant, session: Session, statements: Statements
) -> None:
    await store_invoices(tenant, session, 1, 1)  # the client exists: each batch below only finds it
    statements.count()
    await store_invoices(tenant, session, 2, 2)
    small = statements.count()

    await store_invoices(tenant, session, 4, 20)

    assert statements.count() == small  # per batch, not per DTE (an import stores 200 at a time)
