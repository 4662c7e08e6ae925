"""GET /v1/getDocuments: the list envelope, paging, the items' shape, bad parameters, auth."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from dtehub.auth.service import issue_token, revoke_token
from dtehub.kit.dates import SANTIAGO
from tests.conftest import Tenant, warnings_of
from tests.documents.listing import (
    AMOUNT,
    AMOUNT_FIELDS,
    DATE,
    DATETIME,
    listing,
    new_document,
    numbers,
    set_balance,
)

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


async def test_a_revoked_token_lists_nothing_and_another_token_of_the_company_lists_the_same(
    tenant: Tenant, other_tenant: Tenant, session: Session, client_id: str
) -> None:
    # On PostgreSQL the page's statement checks the token itself: a page with rows, a page past the end
    # and a filter that matches nothing all answer 401 for a revoked token, and another company's token
    # sees its own (empty) listing.
    for n in range(1, 4):
        await new_document(tenant, client_id, str(n))
    second = issue_token(session, tenant.company_id)
    session.commit()
    queries: list[dict[str, Any]] = [{}, {"page": 9}, {"number": "404"}, {"clientId": client_id}]
    before = [await listing(tenant, **query) for query in queries]

    revoke_token(session, tenant.token)
    session.commit()

    for query in queries:
        response = await tenant.get("/v1/getDocuments", **query)
        assert response.status_code == 401, (query, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
    headers = {"Authorization": f"Bearer {second}"}
    by_second = [await tenant.http.get("/v1/getDocuments", params=q, headers=headers) for q in queries]
    assert [response.json() for response in by_second] == before
    assert (await listing(other_tenant))["records"]["totalRecords"] == 0
    assert (await listing(other_tenant, clientId=client_id))["items"] == []


async def test_unauthenticated_bad_parameters_answer_401_not_400(tenant: Tenant) -> None:
    response = await tenant.http.get("/v1/getDocuments", params={"resultsPerPage": 101, "status": 9})

    assert response.status_code == 401
