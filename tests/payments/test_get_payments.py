"""getPayments: every parameter of the spec, ordering, pages and the tenant boundary."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from dtehub.models import Payment
from tests.conftest import Tenant, assert_error, warnings_of
from tests.payments.common import new_client, new_document, paid, update


def ids(body: dict[str, Any]) -> list[str]:
    found = [item["id"] for item in body["items"]]
    return found


@pytest.fixture
async def mixed(tenant: Tenant, session: Session) -> dict[str, Any]:
    """Five payments of two clients, with known dates, currencies, methods and statuses."""
    ana = await new_client(tenant, "99999999-9", "ANA")
    bea = await new_client(tenant, "11111111-1", "BEA")
    inv1 = await new_document(tenant, ana["id"], "1", 5000)
    inv2 = await new_document(tenant, ana["id"], "2", 5000)
    usd = await new_document(tenant, bea["id"], "3", 5000, currency="USD")
    p1 = await paid(
        tenant, ana["id"], 100, [{"id": inv1["id"], "amount": 100}], date="2024-01-05", paymentMethodId=1
    )
    p2 = await paid(
        tenant,
        ana["id"],
        300,
        [{"id": inv1["id"], "amount": 100}, {"id": inv2["id"], "amount": 200}],
        date="2024-02-05",
        paymentMethodId=2,
    )
    p3 = await paid(
        tenant,
        bea["id"],
        200,
        [{"id": usd["id"], "amount": 200}],
        date="2024-03-05",
        currency="USD",
        paymentMethodId=1,
    )
    p4 = await paid(tenant, ana["id"], 50, [{"id": inv2["id"], "amount": 50}], date="2024-04-05", status=0)
    p5 = await paid(tenant, bea["id"], 75, [], date="2024-05-05", currency="USD")
    await update(tenant, p5["id"], status=2)
    # Creation and reconciliation days are "today": give them known days to filter on.
    days = {
        p1["id"]: ("2024-06-03", "2024-06-10"),
        p2["id"]: ("2024-06-02", "2024-06-11"),
        p3["id"]: ("2024-06-01", "2024-06-12"),
    }
    for payment_id, (created, reconciled) in days.items():
        session.execute(
            sql_update(Payment)
            .where(Payment.id == int(payment_id))
            .values(
                created_on=date.fromisoformat(created),
                reconciled_on=date.fromisoformat(reconciled),
                updated_at=Payment.updated_at,  # a test's back-dating is not an update the API would show
            )
        )
    session.flush()
    return {"ana": ana, "bea": bea, "inv1": inv1, "inv2": inv2, "p": [None, p1, p2, p3, p4, p5]}


async def test_default_lists_reconciled_by_payment_date_desc(tenant: Tenant, mixed: dict[str, Any]) -> None:
    p = mixed["p"]
    body = (await tenant.get("/v1/getPayments")).json()
    assert body["records"] == {"totalRecords": 3, "items": 3, "page": 1, "pages": 1}
    assert ids(body) == [p[3]["id"], p[2]["id"], p[1]["id"]]
    assert body["items"][1] == p[2]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": 0}, [4]),
        ({"status": 2}, [5]),
        ({"status": 1, "order": "asc"}, [1, 2, 3]),
        ({"since": "2024-02-01"}, [3, 2]),
        ({"until": "2024-02-05"}, [2, 1]),
        ({"since": "2024-02-05", "until": "2024-02-05"}, [2]),
        ({"dateBy": 2, "since": "2024-06-02"}, [2, 1]),
        ({"dateBy": 2, "until": "2024-06-01"}, [3]),
        ({"dateBy": 3, "since": "2024-06-11"}, [3, 2]),
        ({"dateBy": 3, "until": "2024-06-10"}, [1]),
        ({"currency": "usd"}, [3]),
        ({"currency": "CLP"}, [2, 1]),
        ({"paymentMethodId": 1}, [3, 1]),
        ({"paymentMethodId": 2}, [2]),
        ({"paymentMethodId": 7}, []),
        ({"clientTaxId": "99.999.999-9"}, [2, 1]),
        ({"clientTaxId": "11111111-1", "status": 2}, [5]),
        ({"orderBy": 3}, [2, 3, 1]),
        ({"orderBy": 3, "order": "ASC"}, [1, 3, 2]),
        ({"orderBy": 2, "order": "asc"}, [1, 2, 3]),
        ({"expandFile": 1}, [3, 2, 1]),
    ],
)
async def test_filters_and_orders(
    tenant: Tenant, mixed: dict[str, Any], params: dict[str, Any], expected: list[int]
) -> None:
    body = (await tenant.get("/v1/getPayments", **params)).json()
    assert ids(body) == [mixed["p"][n]["id"] for n in expected], body
    assert body["records"]["totalRecords"] == len(expected)
    assert all(item["files"] == [] for item in body["items"])


async def test_filters_by_client_id_and_document_id(tenant: Tenant, mixed: dict[str, Any]) -> None:
    p = mixed["p"]
    assert ids((await tenant.get("/v1/getPayments", clientId=mixed["bea"]["id"])).json()) == [p[3]["id"]]
    by_doc = (await tenant.get("/v1/getPayments", documentId=mixed["inv1"]["id"])).json()
    assert ids(by_doc) == [p[2]["id"], p[1]["id"]]
    pending = (await tenant.get("/v1/getPayments", documentId=mixed["inv2"]["id"], status=0)).json()
    assert ids(pending) == [p[4]["id"]]


async def test_pages(tenant: Tenant, mixed: dict[str, Any]) -> None:
    p = mixed["p"]
    first = (await tenant.get("/v1/getPayments", resultsPerPage=2)).json()
    second = (await tenant.get("/v1/getPayments", resultsPerPage=2, page=2)).json()
    beyond = (await tenant.get("/v1/getPayments", resultsPerPage=2, page=3)).json()
    assert first["records"] == {"totalRecords": 3, "items": 2, "page": 1, "pages": 2}
    assert second["records"] == {"totalRecords": 3, "items": 1, "page": 2, "pages": 2}
    assert ids(first) + ids(second) == [p[3]["id"], p[2]["id"], p[1]["id"]]
    assert beyond["items"] == []
    assert beyond["records"]["totalRecords"] == 3


async def test_ties_go_by_id_and_pages_neither_repeat_nor_skip(tenant: Tenant) -> None:
    client = await new_client(tenant)
    made = [(await paid(tenant, client["id"], 10, [], date="2024-01-01"))["id"] for _ in range(5)]
    seen = []
    for page in (1, 2, 3):
        seen += ids((await tenant.get("/v1/getPayments", resultsPerPage=2, page=page, order="asc")).json())
    assert seen == made


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": 3}, "status"),
        ({"since": "2024-13-01"}, "since"),
        ({"currency": "PESO"}, "currency"),
        ({"clientTaxId": "12345678-0"}, "clientTaxId"),
        ({"documentId": "x"}, "documentId"),
        ({"paymentMethodId": 0}, "paymentMethodId"),
    ],
)
async def test_bad_filters_are_400(tenant: Tenant, params: dict[str, Any], field: str) -> None:
    assert_error(await tenant.get("/v1/getPayments", **params), 400, field=field)


@pytest.mark.parametrize(
    ("params", "used"),
    [
        ({"dateBy": 4}, 1),
        ({"orderBy": 4}, 1),
        ({"order": "up-ish"}, "DESC"),
        ({"resultsPerPage": 101}, 100),
        ({"page": 0}, 1),
        ({"status": ""}, 1),  # a filter with a default: empty is absent, so reconciled ones
    ],
)
async def test_options_it_cannot_use_are_their_defaults(
    tenant: Tenant, mixed: dict[str, Any], params: dict[str, Any], used: object
) -> None:
    [(parameter, value)] = params.items()

    response = await tenant.get("/v1/getPayments", **params)

    assert warnings_of(response) == [{"parameter": parameter, "value": str(value), "used": used}]
    assert ids(response.json()) == ids((await tenant.get("/v1/getPayments")).json())


async def test_only_the_callers_payments_are_listed(
    tenant: Tenant, other_tenant: Tenant, mixed: dict[str, Any]
) -> None:
    assert (await other_tenant.get("/v1/getPayments")).json()["records"]["totalRecords"] == 0
    theirs = await paid(other_tenant, (await new_client(other_tenant))["id"], 10, [])
    assert theirs["id"] not in ids((await tenant.get("/v1/getPayments", resultsPerPage=100)).json())
    foreign = await other_tenant.get("/v1/getPayments", documentId=mixed["inv1"]["id"])
    assert foreign.json()["items"] == []
    assert (await other_tenant.get("/v1/getPayments", clientId=mixed["ana"]["id"])).json()["items"] == []


async def test_payments_need_a_token(tenant: Tenant) -> None:
    for path in ("/v1/getPayments", "/v1/getPayment?id=1", "/v1/getPaymentMethods"):
        assert_error(await tenant.http.get(path), 401, "unauthorized")
