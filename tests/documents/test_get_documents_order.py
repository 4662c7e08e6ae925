"""GET /v1/getDocuments: orderBy and order, and pages of ties without gaps or repeats."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant
from tests.documents.listing import listing, new_document, numbers

# --- ordering -------------------------------------------------------------------------------------


@pytest.fixture
async def four_to_sort(tenant: Tenant, client_id: str) -> None:
    # number, issue date, due date, total — created in this order.
    rows = [
        ("9", "2024-03-01", "2024-03-20", "400"),
        ("10", "2024-01-15", "2024-04-01", "700"),
        ("100", "2024-02-10", "2024-02-15", "300"),
        ("2", "2024-02-10", "2024-05-01", "300"),
    ]
    for number, issue, due, total in rows:
        await new_document(tenant, client_id, number, issue=issue, due=due, total=total, taxes="0")


ASCENDING = {
    1: ["10", "100", "2", "9"],  # issue date; 100 and 2 share one, the earlier created first
    2: ["9", "10", "100", "2"],  # creation
    3: ["100", "9", "10", "2"],  # due date
    4: ["2", "9", "10", "100"],  # number, numerically
    5: ["100", "2", "9", "10"],  # total; 100 and 2 share one, the earlier created first
}


@pytest.mark.usefixtures("four_to_sort")
@pytest.mark.parametrize("order_by", sorted(ASCENDING))
async def test_order_by_ascending(tenant: Tenant, order_by: int) -> None:
    assert numbers(await listing(tenant, orderBy=order_by, order="ASC")) == ASCENDING[order_by]


@pytest.mark.usefixtures("four_to_sort")
@pytest.mark.parametrize("order_by", sorted(ASCENDING))
async def test_order_by_descending_is_the_exact_reverse(tenant: Tenant, order_by: int) -> None:
    expected = list(reversed(ASCENDING[order_by]))

    assert numbers(await listing(tenant, orderBy=order_by, order="DESC")) == expected
    assert numbers(await listing(tenant, orderBy=order_by)) == expected  # DESC is the default


@pytest.mark.usefixtures("four_to_sort")
async def test_default_order_is_issue_date_descending(tenant: Tenant) -> None:
    assert numbers(await listing(tenant)) == list(reversed(ASCENDING[1]))


@pytest.mark.usefixtures("four_to_sort")
async def test_order_is_case_insensitive(tenant: Tenant) -> None:
    assert numbers(await listing(tenant, orderBy=4, order="asc")) == ASCENDING[4]
    assert numbers(await listing(tenant, orderBy=4, order="Desc")) == list(reversed(ASCENDING[4]))


@pytest.mark.parametrize("order_by", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("order", ["ASC", "DESC"])
async def test_ties_page_without_gaps_or_repeats(
    tenant: Tenant, client_id: str, order_by: int, order: str
) -> None:
    for n in range(5):
        await new_document(
            tenant, client_id, f"X{n}", issue="2024-01-10", due="2024-02-10", total="100", taxes="0"
        )
    whole = [item["id"] for item in (await listing(tenant, orderBy=order_by, order=order))["items"]]

    paged: list[str] = []
    for page in (1, 2, 3):
        body = await listing(tenant, orderBy=order_by, order=order, resultsPerPage=2, page=page)
        paged += [item["id"] for item in body["items"]]

    assert paged == whole
    assert len(set(whole)) == 5
    assert whole == sorted(whole, key=int, reverse=order == "DESC")  # ties go by creation
