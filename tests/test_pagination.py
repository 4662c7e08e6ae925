"""Page offsets are bounded to what a listing can serve: a page request never skips more than
``MAX_OFFSET`` rows, and a page past a listing's end answers empty without asking the database to skip
rows it does not have."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from dtehub.kit.pagination import MAX_OFFSET, MAX_PAGE, MAX_PER_PAGE, PageRequest
from tests.conftest import Tenant, warnings_of
from tests.webhooks import create_webhook


def test_the_deepest_page_skips_max_offset_rows_within_a_32_bit_integer() -> None:
    assert PageRequest(page=MAX_PAGE, per_page=MAX_PER_PAGE).offset == MAX_OFFSET
    assert MAX_OFFSET < 2**31


OUT_OF_BOUNDS = [(0, 50), (-1, 50), (MAX_PAGE + 1, 50), (10**30, 100), (1, 0), (1, MAX_PER_PAGE + 1)]


@pytest.mark.parametrize(("page", "per_page"), OUT_OF_BOUNDS)
def test_a_page_request_out_of_bounds_cannot_be_made(page: int, per_page: int) -> None:
    # Whoever builds one (an endpoint, a command): no listing is asked for an offset beyond MAX_OFFSET.
    with pytest.raises(ValueError, match="pages run from 1"):
        PageRequest(page=page, per_page=per_page)


@pytest.fixture
def offsets(engine: Engine) -> Iterator[list[int]]:
    """The integers bound into the statements the test's requests run."""
    seen: list[int] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        values = parameters.values() if isinstance(parameters, dict) else parameters or ()
        seen.extend(value for value in values if isinstance(value, int))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


LISTINGS = [
    "/v1/getDocuments",
    "/v1/getNotes",
    "/v1/getPayments",
    "/v1/getClients",
    "/v1/getContacts",
    "/v1/getTags",
    "/v1/getWebhooks",
    "/v1/getWebhookDeliveries",
    "/v1/getEmails",
    "/v1/getAuditLog",
]


@pytest.mark.parametrize("page", [MAX_PAGE, 10**30], ids=["the last page", "a page beyond any integer"])
@pytest.mark.parametrize("path", LISTINGS)
async def test_a_page_past_the_end_answers_empty_without_skipping_rows(
    tenant: Tenant, offsets: list[int], path: str, page: int
) -> None:
    webhook = await create_webhook(tenant, "http://127.0.0.1:9/hook")
    client = (await tenant.post("/v1/createClient", {"name": "Deli", "taxId": "99.999.999-9"})).json()
    await tenant.post("/v1/createTag", {"name": "retail"})
    await tenant.post("/v1/createContact", {"clientId": client["id"], "name": "Ana", "email": "ana@deli.cl"})
    filters = {"webhookId": webhook["id"]} if path == "/v1/getWebhookDeliveries" else {}
    everything = (await tenant.get(path, **filters)).json()["records"]["totalRecords"]
    offsets.clear()

    response = await tenant.get(path, page=page, resultsPerPage=MAX_PER_PAGE, **filters)

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    assert response.json()["records"] == {
        "totalRecords": everything,
        "items": 0,
        "page": MAX_PAGE,  # a page beyond it is served as it, and says so
        "pages": -(-everything // MAX_PER_PAGE),
    }
    expected = [] if page == MAX_PAGE else [{"parameter": "page", "value": str(page), "used": MAX_PAGE}]
    assert warnings_of(response) == expected
    assert MAX_OFFSET not in offsets  # the database was never asked to skip them
