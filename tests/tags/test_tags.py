"""createTag and getTags."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant, assert_error, warnings_of


async def test_create_tag(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createTag", {"name": "Cobranza judicial"})

    assert response.status_code == 200, response.text
    tag = response.json()
    assert set(tag) == {"id", "name", "createdAt"}
    assert tag["id"].isdigit()
    assert tag["name"] == "Cobranza judicial"
    listed = (await tenant.get("/v1/getTags")).json()
    assert listed == {"records": {"totalRecords": 1, "items": 1, "page": 1, "pages": 1}, "items": [tag]}


async def test_create_tag_trims_the_name(tenant: Tenant) -> None:
    tag = (await tenant.post("/v1/createTag", {"name": "  VIP  "})).json()

    assert tag["name"] == "VIP"


async def test_duplicate_tag_is_409(tenant: Tenant) -> None:
    await tenant.post("/v1/createTag", {"name": "VIP"})

    assert_error(await tenant.post("/v1/createTag", {"name": "VIP"}), 409, "already_exists", "name")
    assert_error(await tenant.post("/v1/createTag", {"name": " VIP "}), 409, "already_exists", "name")
    assert (await tenant.get("/v1/getTags")).json()["records"]["totalRecords"] == 1


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}, {"name": 5}])
async def test_create_tag_refuses_a_bad_name(tenant: Tenant, body: dict[str, object]) -> None:
    assert_error(await tenant.post("/v1/createTag", body), 400, field="name")
    assert (await tenant.get("/v1/getTags")).json()["items"] == []


async def test_a_tag_name_may_repeat_in_another_company(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = (await tenant.post("/v1/createTag", {"name": "VIP"})).json()
    theirs = await other_tenant.post("/v1/createTag", {"name": "VIP"})

    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["id"] != mine["id"]


async def test_get_tags_orders_filters_and_paginates(tenant: Tenant) -> None:
    for name in ("beta", "alfa", "gamma"):
        assert (await tenant.post("/v1/createTag", {"name": name})).status_code == 200

    async def names(**params: object) -> list[str]:
        response = await tenant.get("/v1/getTags", **params)
        assert response.status_code == 200, response.text
        return [t["name"] for t in response.json()["items"]]

    assert await names() == ["alfa", "beta", "gamma"]
    assert await names(order="DESC") == ["gamma", "beta", "alfa"]
    assert await names(orderBy=2, order="ASC") == ["beta", "alfa", "gamma"]
    assert await names(orderBy=2, order="DESC") == ["gamma", "alfa", "beta"]
    assert await names(name="alfa") == ["alfa"]
    assert await names(name="alf") == []
    page2 = (await tenant.get("/v1/getTags", resultsPerPage=2, page=2)).json()
    assert page2["records"] == {"totalRecords": 3, "items": 1, "page": 2, "pages": 2}
    assert [t["name"] for t in page2["items"]] == ["gamma"]
    served = await tenant.get("/v1/getTags", orderBy=3)
    assert warnings_of(served) == [{"parameter": "orderBy", "value": "3", "used": 1}]
    assert [t["name"] for t in served.json()["items"]] == ["alfa", "beta", "gamma"]


async def test_tags_are_isolated_between_companies(tenant: Tenant, other_tenant: Tenant) -> None:
    await tenant.post("/v1/createTag", {"name": "MIA"})
    await other_tenant.post("/v1/createTag", {"name": "SUYA"})

    mine = (await tenant.get("/v1/getTags")).json()
    theirs = (await other_tenant.get("/v1/getTags")).json()

    assert [t["name"] for t in mine["items"]] == ["MIA"]
    assert mine["records"]["totalRecords"] == 1
    assert [t["name"] for t in theirs["items"]] == ["SUYA"]
    assert (await tenant.get("/v1/getTags", name="SUYA")).json()["items"] == []
