"""GET /v1/getDocuments: expandClient, expandContact, expandTag and expandFile."""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant
from tests.documents.listing import DATETIME, listing

# --- expansions -----------------------------------------------------------------------------------


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
