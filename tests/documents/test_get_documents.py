"""GET /v1/getDocuments: the list envelope, paging, every filter, ordering, expansions, errors, auth."""

from __future__ import annotations

import base64
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from dtehub.documents import ledger
from dtehub.kit.dates import SANTIAGO, today_in_santiago
from dtehub.models import Document
from tests.conftest import Tenant, warnings_of

AMOUNT = re.compile(r"^\d+\.\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
AMOUNT_FIELDS = ("net", "taxes", "total", "paidAmount", "amountDue", "amountCredit", "amountDebit")


# --- building data through the API ---------------------------------------------------------------


async def new_client(tenant: Tenant, tax_id: str, name: str = "CLIENTE DE PRUEBA") -> dict[str, Any]:
    response = await tenant.post("/v1/createClient", {"name": name, "taxId": tax_id})
    assert response.status_code == 200, response.text
    return response.json()


async def new_document(
    tenant: Tenant,
    client_id: str,
    number: str,
    *,
    issue: date | str = "2024-01-10",
    due: date | str | None = None,
    total: str = "1190",
    taxes: str = "190",
    code: int | None = 33,
    currency: str = "CLP",
    tags: list[str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "clientId": client_id,
        "number": number,
        "issueDate": str(issue),
        "total": total,
        "taxes": taxes,
        "currency": currency,
        "tags": tags or [],
    }
    if due is not None:
        body["dueDate"] = str(due)
    if code is not None:
        body["code"] = code
    response = await tenant.post("/v1/createDocument", body)
    assert response.status_code == 200, response.text
    return response.json()


async def set_balance(
    session: Session,
    document_id: str,
    *,
    paid: int = 0,
    credit: int = 0,
    debit: int = 0,
    voided: bool = False,
) -> None:
    """Test setup only (there is no payments API yet): amounts in hundredths, straight on the row."""
    document = session.get(Document, int(document_id))
    assert document is not None
    document.paid_cents = paid
    document.credit_cents = credit
    document.debit_cents = debit
    document.voided = voided
    ledger.rebalance(document)
    session.commit()


async def listing(tenant: Tenant, **params: object) -> dict[str, Any]:
    response = await tenant.get("/v1/getDocuments", **params)
    assert response.status_code == 200, response.text
    return response.json()


def numbers(body: dict[str, Any]) -> list[str]:
    return [item["number"] for item in body["items"]]


def number_set(body: dict[str, Any]) -> set[str]:
    found = numbers(body)
    assert body["records"]["totalRecords"] == len(found)
    return set(found)


@pytest.fixture
async def client_id(tenant: Tenant) -> str:
    return str((await new_client(tenant, "99999999-9"))["id"])


# --- envelope and paging --------------------------------------------------------------------------


async def test_envelope_counts_records_items_page_and_pages(tenant: Tenant, client_id: str) -> None:
    for n in range(1, 5):
        await new_document(tenant, client_id, str(n))

    body = await listing(tenant, clientId=client_id, resultsPerPage=3)

    assert set(body) == {"records", "items"}
    assert body["records"] == {"totalRecords": 4, "items": 3, "page": 1, "pages": 2}
    assert len(body["items"]) == 3


async def test_second_page_holds_the_rest(tenant: Tenant, client_id: str) -> None:
    for n in range(1, 5):
        await new_document(tenant, client_id, str(n))

    first = await listing(tenant, resultsPerPage=3, orderBy=4, order="ASC")
    second = await listing(tenant, resultsPerPage=3, orderBy=4, order="ASC", page=2)

    assert numbers(first) == ["1", "2", "3"]
    assert numbers(second) == ["4"]
    assert second["records"] == {"totalRecords": 4, "items": 1, "page": 2, "pages": 2}


async def test_empty_company_answers_no_records(tenant: Tenant) -> None:
    body = await listing(tenant)

    assert body["items"] == []
    assert body["records"]["totalRecords"] == 0
    assert body["records"]["items"] == 0
    assert body["records"]["page"] == 1


async def test_default_page_size_is_50(tenant: Tenant, client_id: str) -> None:
    for n in range(1, 52):
        await new_document(tenant, client_id, str(n))

    body = await listing(tenant)

    assert body["records"] == {"totalRecords": 51, "items": 50, "page": 1, "pages": 2}
    assert len(body["items"]) == 50


async def test_page_size_100_is_accepted(tenant: Tenant, client_id: str) -> None:
    await new_document(tenant, client_id, "1")

    body = await listing(tenant, resultsPerPage=100)

    assert body["records"] == {"totalRecords": 1, "items": 1, "page": 1, "pages": 1}


@pytest.mark.parametrize(("size", "served"), [(101, 100), (1000, 100), (0, 50), (-1, 50), ("x", 50)])
async def test_page_size_outside_1_to_100_is_served_within_with_a_warning(
    tenant: Tenant, client_id: str, size: object, served: int
) -> None:
    for n in range(1, 4):
        await new_document(tenant, client_id, str(n))

    response = await tenant.get("/v1/getDocuments", resultsPerPage=size)

    assert warnings_of(response) == [{"parameter": "resultsPerPage", "value": str(size), "used": served}]
    assert response.json()["records"] == {"totalRecords": 3, "items": 3, "page": 1, "pages": 1}


async def test_page_beyond_the_end_is_empty_but_counts_everything(tenant: Tenant, client_id: str) -> None:
    for n in range(1, 4):
        await new_document(tenant, client_id, str(n))

    body = await listing(tenant, resultsPerPage=2, page=7)

    assert body["items"] == []
    assert body["records"] == {"totalRecords": 3, "items": 0, "page": 7, "pages": 2}


# --- item shape -----------------------------------------------------------------------------------


async def test_item_uses_duemint_formats(tenant: Tenant, client_id: str) -> None:
    await new_document(tenant, client_id, "702", issue="2018-04-11", total="9628", taxes="1537")

    [item] = (await listing(tenant))["items"]

    assert isinstance(item["id"], str)
    assert item["id"].isdigit()
    assert item["client"] == {"id": client_id}
    for field in AMOUNT_FIELDS:
        assert isinstance(item[field], str), field
        assert AMOUNT.match(item[field]), (field, item[field])
    assert (item["net"], item["taxes"], item["total"]) == ("8091.00", "1537.00", "9628.00")
    assert item["amountDue"] == "9628.00"
    assert item["paidAmount"] == item["amountCredit"] == item["amountDebit"] == "0.00"
    assert item["issueDate"] == "2018-04-11"
    assert item["dueDate"] == "2018-04-18"  # the company's 7-day term
    assert DATE.match(item["dueDate"])
    assert DATETIME.match(item["createdAt"])
    assert item["paidDate"] is None
    assert item["clientTaxId"] == "99999999-9"
    assert item["code"] == 33
    assert item["currency"] == "CLP"


async def test_created_at_is_santiago_wall_clock_now(tenant: Tenant, client_id: str) -> None:
    await new_document(tenant, client_id, "1")

    [item] = (await listing(tenant))["items"]

    created = datetime.strptime(item["createdAt"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SANTIAGO)
    assert abs(datetime.now(SANTIAGO) - created) < timedelta(minutes=5)


async def test_amount_due_adds_debits_and_subtracts_credits_and_payments(
    tenant: Tenant, client_id: str, session: Session
) -> None:
    doc = await new_document(tenant, client_id, "1", total="1000", taxes="0")
    await set_balance(session, doc["id"], debit=20_000, credit=5_000, paid=30_000)

    [item] = (await listing(tenant))["items"]

    assert item["amountDebit"] == "200.00"
    assert item["amountCredit"] == "50.00"
    assert item["paidAmount"] == "300.00"
    assert item["amountDue"] == "850.00"  # 1000 + 200 - 50 - 300
    assert item["status"] in (2, 3)


async def test_credits_reaching_the_total_make_it_anulada_with_nothing_due(
    tenant: Tenant, client_id: str, session: Session
) -> None:
    doc = await new_document(tenant, client_id, "1", total="1000", taxes="0", issue="2024-01-01")
    await set_balance(session, doc["id"], credit=150_000)

    [item] = (await listing(tenant))["items"]

    assert item["amountDue"] == "0.00"
    assert item["amountCredit"] == "1500.00"
    assert (item["status"], item["statusName"]) == (4, "Anulada")


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


# --- expansions -----------------------------------------------------------------------------------


@pytest.fixture
async def full_document(tenant: Tenant) -> dict[str, Any]:
    """A document with a contact on its client, two tags and a file."""
    client = await new_client(tenant, "99999999-9", "DELI SANDWICH")
    contact = await tenant.post(
        "/v1/createContact", {"clientId": client["id"], "email": "pagos@deli.cl", "name": "Ana"}
    )
    assert contact.status_code == 200, contact.text
    doc = await new_document(tenant, client["id"], "702", tags=["urgente", "retail"])
    file = await tenant.post(
        "/v1/createFile",
        {"documentId": doc["id"], "name": "orden.pdf", "content": base64.b64encode(b"%PDF-1.4 x").decode()},
    )
    assert file.status_code == 200, file.text
    return {"client": client, "contact": contact.json(), "document": doc, "file": file.json()}


async def only_item(tenant: Tenant, **params: object) -> dict[str, Any]:
    body = await listing(tenant, **params)
    [item] = body["items"]
    return item


async def test_without_expansions_references_are_ids_only(
    tenant: Tenant, full_document: dict[str, Any]
) -> None:
    item = await only_item(tenant)

    assert item["client"] == {"id": full_document["client"]["id"]}
    assert len(item["tags"]) == 2
    assert all(set(tag) == {"id"} for tag in item["tags"])
    assert item["files"] == [{"id": full_document["file"]["id"]}]


async def test_expand_client_gives_the_full_client_with_contact_ids(
    tenant: Tenant, full_document: dict[str, Any]
) -> None:
    item = await only_item(tenant, expandClient=1)

    client = item["client"]
    assert client["id"] == full_document["client"]["id"]
    assert client["name"] == "DELI SANDWICH"
    assert client["taxId"] == "99999999-9"
    assert client["paymentTerm"] is None or isinstance(client["paymentTerm"], int)
    for field in ("country", "region", "city", "address", "zipcode", "phone", "fax"):
        assert isinstance(client[field], str)
    assert client["sendReminders"] == {
        "newDocument": True,
        "soonToExpire": True,
        "expired": True,
        "newPayment": True,
        "debtSummary": True,
    }
    assert client["url"].startswith("https://dtehub.test/portal/client/")
    assert client["contacts"] == [{"id": full_document["contact"]["id"]}]
    assert client == (await tenant.get("/v1/getClient", id=client["id"])).json()


async def test_expand_contact_with_expand_client_gives_full_contacts(
    tenant: Tenant, full_document: dict[str, Any]
) -> None:
    item = await only_item(tenant, expandClient=1, expandContact=1)

    [contact] = item["client"]["contacts"]
    assert contact == full_document["contact"]
    assert contact["email"] == "pagos@deli.cl"
    assert contact["name"] == "Ana"


async def test_expand_contact_alone_expands_nothing(tenant: Tenant, full_document: dict[str, Any]) -> None:
    item = await only_item(tenant, expandContact=1)

    assert item["client"] == {"id": full_document["client"]["id"]}


async def test_expand_tag_gives_names(tenant: Tenant, full_document: dict[str, Any]) -> None:
    item = await only_item(tenant, expandTag=1)

    assert {tag["name"] for tag in item["tags"]} == {"urgente", "retail"}
    for tag in item["tags"]:
        assert isinstance(tag["id"], str)
        assert DATETIME.match(tag["createdAt"])
    plain = await only_item(tenant)
    assert sorted(t["id"] for t in plain["tags"]) == sorted(t["id"] for t in item["tags"])


async def test_expand_file_gives_full_files_with_url(tenant: Tenant, full_document: dict[str, Any]) -> None:
    item = await only_item(tenant, expandFile=1)

    [file] = item["files"]
    assert file == full_document["file"]
    assert file["name"] == "orden.pdf"
    assert file["documentId"] == full_document["document"]["id"]
    assert file["url"].startswith("https://dtehub.test/portal/file/")


async def test_expand_flags_accept_zero_as_no(tenant: Tenant, full_document: dict[str, Any]) -> None:
    item = await only_item(tenant, expandClient=0, expandContact=0, expandTag=0, expandFile=0)

    assert item["client"] == {"id": full_document["client"]["id"]}
    assert item["files"] == [{"id": full_document["file"]["id"]}]


# --- bad parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2018-13-01"}, "since"),
        ({"until": "2018-02-30"}, "until"),
        ({"since": "01-02-2018"}, "since"),
        ({"status": 0}, "status"),
        ({"status": 5}, "status"),
        ({"code": "abc"}, "code"),
        ({"currency": "US"}, "currency"),
        ({"currency": "USDX"}, "currency"),
        ({"clientTaxId": "76453707-5"}, "clientTaxId"),
        ({"clientTaxId": "abc"}, "clientTaxId"),
        ({"clientId": "abc"}, "clientId"),
        ({"tagId": "x"}, "tagId"),
        ({"clientId": 2**63}, "clientId"),
        ({"tagId": 10**30}, "tagId"),
        ({"xmlTed": "unsigned"}, "xmlTed"),
        ({"number": "9" * 41}, "number"),
    ],
)
async def test_a_filter_it_cannot_read_is_a_400_naming_the_field(
    tenant: Tenant, params: dict[str, object], field: str
) -> None:
    # Options it could serve at their defaults do not hide the filter's error.
    response = await tenant.get("/v1/getDocuments", **params, resultsPerPage=1000, orderBy=99)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["field"] == field
    assert error["message"]
    assert "warning" not in response.headers


@pytest.mark.parametrize(
    ("params", "used"),
    [
        ({"dateBy": 3}, 1),
        ({"orderBy": 6}, 1),
        ({"orderBy": 0}, 1),
        ({"orderBy": 99}, 1),
        ({"order": "UP"}, "DESC"),
        ({"page": 0}, 1),
        ({"page": -1}, 1),
        ({"page": "first"}, 1),
        ({"expandClient": "maybe"}, 0),
        ({"expandTag": "2"}, 0),
    ],
)
async def test_an_option_it_cannot_use_is_its_default_with_a_warning(
    tenant: Tenant, full_document: dict[str, Any], params: dict[str, object], used: object
) -> None:
    [(parameter, value)] = params.items()

    response = await tenant.get("/v1/getDocuments", **params)

    assert warnings_of(response) == [{"parameter": parameter, "value": str(value), "used": used}]
    body = response.json()
    assert body["records"] == {"totalRecords": 1, "items": 1, "page": 1, "pages": 1}
    assert body["items"] == (await tenant.get("/v1/getDocuments")).json()["items"]


# --- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/getDocuments", "/v1/getDocument?id=1"])
@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", ""]
)
async def test_documents_need_a_valid_bearer_token(
    tenant: Tenant, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = await tenant.http.get(path, headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == "unauthorized"


async def test_unauthenticated_bad_parameters_answer_401_not_400(tenant: Tenant) -> None:
    response = await tenant.http.get("/v1/getDocuments", params={"resultsPerPage": 101, "status": 9})

    assert response.status_code == 401
