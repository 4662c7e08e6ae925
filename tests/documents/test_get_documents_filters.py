"""GET /v1/getDocuments: every filter, alone and combined, within the caller's company."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago
from tests.conftest import Tenant
from tests.documents.listing import listing, new_client, new_document, number_set, numbers, set_balance

# --- filters --------------------------------------------------------------------------------------


@pytest.fixture
async def issued_on_four_days(tenant: Tenant, client_id: str) -> None:
    for number, issue in (
        ("9", "2024-01-09"),
        ("10", "2024-01-10"),
        ("11", "2024-01-11"),
        ("12", "2024-01-12"),
    ):
        await new_document(tenant, client_id, number, issue=issue)


@pytest.mark.usefixtures("issued_on_four_days")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"since": "2024-01-10"}, {"10", "11", "12"}),
        ({"until": "2024-01-11"}, {"9", "10", "11"}),
        ({"since": "2024-01-10", "until": "2024-01-11"}, {"10", "11"}),
        ({"since": "2024-01-10", "until": "2024-01-10"}, {"10"}),
        ({"since": "2024-01-13"}, set()),
        ({"until": "2024-01-08"}, set()),
        ({"since": "2024-01-10", "dateBy": 1}, {"10", "11", "12"}),
    ],
)
async def test_issue_date_range_is_inclusive(
    tenant: Tenant, params: dict[str, object], expected: set[str]
) -> None:
    assert number_set(await listing(tenant, **params)) == expected


async def test_creation_date_filter_uses_today_in_santiago(tenant: Tenant, client_id: str) -> None:
    await new_document(tenant, client_id, "1", issue="2020-05-05")
    await new_document(tenant, client_id, "2", issue="2024-01-10")
    today = today_in_santiago()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)

    assert number_set(await listing(tenant, dateBy=2, since=today)) == {"1", "2"}
    assert number_set(await listing(tenant, dateBy=2, until=today)) == {"1", "2"}
    assert number_set(await listing(tenant, dateBy=2, since=today, until=today)) == {"1", "2"}
    assert number_set(await listing(tenant, dateBy=2, until=yesterday)) == set()
    assert number_set(await listing(tenant, dateBy=2, since=tomorrow)) == set()


async def test_creation_date_filter_ignores_issue_dates(tenant: Tenant, client_id: str) -> None:
    await new_document(tenant, client_id, "1", issue="2020-05-05")
    today = today_in_santiago()

    assert number_set(await listing(tenant, dateBy=2, since=today)) == {"1"}
    assert number_set(await listing(tenant, dateBy=1, since=today)) == set()
    assert number_set(await listing(tenant, dateBy=2, until="2020-05-05")) == set()
    assert number_set(await listing(tenant, dateBy=1, until="2020-05-05")) == {"1"}


@pytest.fixture
async def one_of_each_status(tenant: Tenant, client_id: str, session: Session) -> None:
    today = today_in_santiago()
    issue = today - timedelta(days=30)
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    paid = await new_document(tenant, client_id, "101", issue=issue, due=yesterday, total="1000", taxes="0")
    await set_balance(session, paid["id"], paid=100_000)
    credited = await new_document(
        tenant, client_id, "102", issue=issue, due=tomorrow, total="1000", taxes="0"
    )
    await set_balance(session, credited["id"], credit=100_000)
    await new_document(tenant, client_id, "201", issue=issue, due=today)
    await new_document(tenant, client_id, "202", issue=issue, due=tomorrow)
    await new_document(tenant, client_id, "301", issue=issue, due=yesterday)
    voided = await new_document(tenant, client_id, "401", issue=issue, due=yesterday, total="1000", taxes="0")
    await set_balance(session, voided["id"], voided=True)
    voided_paid = await new_document(
        tenant, client_id, "402", issue=issue, due=tomorrow, total="10", taxes="0"
    )
    await set_balance(session, voided_paid["id"], paid=1_000, voided=True)


@pytest.mark.usefixtures("one_of_each_status")
@pytest.mark.parametrize(
    ("status", "name", "expected"),
    [
        (1, "Pagada", {"101"}),
        (2, "Por vencer", {"201", "202"}),
        (3, "Vencida", {"301"}),
        (4, "Anulada", {"102", "401", "402"}),  # 102: credited in full
    ],
)
async def test_status_filter_returns_exactly_that_status(
    tenant: Tenant, status: int, name: str, expected: set[str]
) -> None:
    body = await listing(tenant, status=status)

    assert number_set(body) == expected
    assert {(item["status"], item["statusName"]) for item in body["items"]} == {(status, name)}


@pytest.mark.usefixtures("one_of_each_status")
async def test_voided_document_with_amount_due_is_status_4_and_keeps_its_amount(tenant: Tenant) -> None:
    [item] = (await listing(tenant, number="401"))["items"]

    assert (item["status"], item["statusName"]) == (4, "Anulada")
    assert item["amountDue"] == "1000.00"


async def test_number_filter_matches_the_whole_number_only(tenant: Tenant, client_id: str) -> None:
    for number in ("100", "1000", "10", "F-100"):
        await new_document(tenant, client_id, number)

    assert number_set(await listing(tenant, number="100")) == {"100"}
    assert number_set(await listing(tenant, number="F-100")) == {"F-100"}
    assert number_set(await listing(tenant, number="999")) == set()


async def test_number_filter_finds_every_code_with_that_number(tenant: Tenant, client_id: str) -> None:
    await new_document(tenant, client_id, "55", code=33)
    await new_document(tenant, client_id, "55", code=34)
    await new_document(tenant, client_id, "56", code=33)

    body = await listing(tenant, number="55")

    assert sorted(item["code"] for item in body["items"]) == [33, 34]
    assert body["records"]["totalRecords"] == 2


async def test_code_filter(tenant: Tenant, client_id: str) -> None:
    await new_document(tenant, client_id, "1", code=33)
    await new_document(tenant, client_id, "2", code=34)
    await new_document(tenant, client_id, "3", code=33)
    await new_document(tenant, client_id, "4", code=None)

    assert number_set(await listing(tenant, code=33)) == {"1", "3"}
    assert number_set(await listing(tenant, code=34)) == {"2"}
    assert number_set(await listing(tenant, code=39)) == set()


@pytest.mark.parametrize("currency", ["USD", "usd", "Usd"])
async def test_currency_filter_is_case_insensitive(tenant: Tenant, client_id: str, currency: str) -> None:
    await new_document(tenant, client_id, "1", currency="CLP")
    await new_document(tenant, client_id, "2", currency="USD")
    await new_document(tenant, client_id, "3", currency="usd")

    body = await listing(tenant, currency=currency)

    assert number_set(body) == {"2", "3"}
    assert {item["currency"] for item in body["items"]} == {"USD"}


async def test_currency_filter_with_no_match(tenant: Tenant, client_id: str) -> None:
    await new_document(tenant, client_id, "1", currency="CLP")

    assert number_set(await listing(tenant, currency="EUR")) == set()


@pytest.fixture
async def two_clients(tenant: Tenant) -> tuple[str, str]:
    first = await new_client(tenant, "99999999-9", "PRIMERO")
    second = await new_client(tenant, "96874030-K", "SEGUNDO")
    await new_document(tenant, first["id"], "1")
    await new_document(tenant, first["id"], "2")
    await new_document(tenant, second["id"], "3")
    return first["id"], second["id"]


async def test_client_id_filter(tenant: Tenant, two_clients: tuple[str, str]) -> None:
    first, second = two_clients

    assert number_set(await listing(tenant, clientId=first)) == {"1", "2"}
    assert number_set(await listing(tenant, clientId=second)) == {"3"}
    assert number_set(await listing(tenant, clientId=999_999_999)) == set()


@pytest.mark.usefixtures("two_clients")
@pytest.mark.parametrize("tax_id", ["96874030-K", "96874030-k", "96.874.030-k", "96.874.030-K"])
async def test_client_tax_id_filter_normalizes_dots_and_k(tenant: Tenant, tax_id: str) -> None:
    body = await listing(tenant, clientTaxId=tax_id)

    assert number_set(body) == {"3"}
    assert body["items"][0]["clientTaxId"] == "96874030-K"


@pytest.mark.usefixtures("two_clients")
async def test_client_tax_id_filter_for_an_unknown_client(tenant: Tenant) -> None:
    assert number_set(await listing(tenant, clientTaxId="76399752-9")) == set()


async def test_tag_id_filter(tenant: Tenant, client_id: str) -> None:
    await new_document(tenant, client_id, "1", tags=["urgente"])
    await new_document(tenant, client_id, "2", tags=["urgente", "retail"])
    await new_document(tenant, client_id, "3", tags=["retail"])
    await new_document(tenant, client_id, "4")
    tags = {tag["name"]: tag["id"] for tag in (await tenant.get("/v1/getTags")).json()["items"]}

    assert number_set(await listing(tenant, tagId=tags["urgente"])) == {"1", "2"}
    assert number_set(await listing(tenant, tagId=tags["retail"])) == {"2", "3"}


@pytest.mark.parametrize("order", ["ASC", "DESC"])
async def test_a_tags_pages_follow_issue_date_then_id(tenant: Tenant, client_id: str, order: str) -> None:
    # Issue dates out of creation order, two documents on one day: the id breaks the tie.
    for number, issue in (("1", "2024-02-01"), ("2", "2024-01-15"), ("3", "2024-03-01"), ("4", "2024-01-15")):
        await new_document(tenant, client_id, number, issue=issue, tags=["serie"])
    await new_document(tenant, client_id, "5", issue="2024-01-20")  # untagged, never listed
    [tag] = (await tenant.get("/v1/getTags")).json()["items"]

    pages = [await listing(tenant, tagId=tag["id"], order=order, resultsPerPage=3, page=p) for p in (1, 2, 3)]

    expected = ["2", "4", "1", "3"] if order == "ASC" else ["3", "1", "4", "2"]
    assert [numbers(page) for page in pages] == [expected[:3], expected[3:], []]
    assert {page["records"]["totalRecords"] for page in pages} == {4}


async def test_tag_without_documents_finds_nothing(tenant: Tenant, client_id: str) -> None:
    await new_document(tenant, client_id, "1", tags=["urgente"])
    tag = (await tenant.post("/v1/createTag", {"name": "vacía"})).json()

    assert number_set(await listing(tenant, tagId=tag["id"])) == set()


async def test_filters_combine(tenant: Tenant, client_id: str, session: Session) -> None:
    other_client = (await new_client(tenant, "96874030-K"))["id"]
    today = today_in_santiago()
    issue = today - timedelta(days=20)
    yesterday = today - timedelta(days=1)
    target = await new_document(
        tenant, client_id, "1", issue=issue, due=yesterday, currency="USD", tags=["t"]
    )
    await new_document(tenant, client_id, "2", issue=issue, due=yesterday, currency="CLP", tags=["t"])
    await new_document(
        tenant, client_id, "3", issue=issue, due=yesterday, currency="USD", code=34, tags=["t"]
    )
    await new_document(tenant, other_client, "4", issue=issue, due=yesterday, currency="USD", tags=["t"])
    await new_document(tenant, client_id, "5", issue=issue, due=yesterday, currency="USD")
    await new_document(tenant, client_id, "6", issue=issue - timedelta(days=5), due=yesterday, currency="USD")
    paid = await new_document(tenant, client_id, "7", issue=issue, due=yesterday, currency="USD", tags=["t"])
    await set_balance(session, paid["id"], paid=119_000)
    [tag] = [t for t in (await tenant.get("/v1/getTags")).json()["items"] if t["name"] == "t"]

    body = await listing(
        tenant,
        since=issue,
        until=issue,
        status=3,
        code=33,
        currency="usd",
        clientId=client_id,
        clientTaxId="99.999.999-9",
        tagId=tag["id"],
    )

    assert [item["id"] for item in body["items"]] == [target["id"]]
    assert body["records"]["totalRecords"] == 1


async def test_client_id_and_tax_id_of_different_clients_find_nothing(
    tenant: Tenant, two_clients: tuple[str, str]
) -> None:
    first, _ = two_clients

    assert number_set(await listing(tenant, clientId=first, clientTaxId="96874030-K")) == set()


# --- tenant boundary in filters -------------------------------------------------------------------


async def test_list_holds_only_the_callers_documents(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = await new_client(tenant, "99999999-9")
    theirs = await new_client(other_tenant, "99999999-9")
    await new_document(tenant, mine["id"], "1")
    await new_document(other_tenant, theirs["id"], "2")
    await new_document(other_tenant, theirs["id"], "3")

    assert number_set(await listing(tenant)) == {"1"}
    assert number_set(await listing(other_tenant)) == {"2", "3"}
    assert number_set(await listing(tenant, clientTaxId="99999999-9")) == {"1"}


async def test_other_companys_client_and_tag_ids_find_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = await new_client(tenant, "99999999-9")
    await new_document(tenant, mine["id"], "1", tags=["compartida"])
    theirs = await new_client(other_tenant, "99999999-9")
    await new_document(other_tenant, theirs["id"], "2", tags=["compartida"])
    [their_tag] = (await other_tenant.get("/v1/getTags")).json()["items"]

    assert number_set(await listing(tenant, clientId=theirs["id"])) == set()
    assert number_set(await listing(tenant, tagId=their_tag["id"])) == set()
