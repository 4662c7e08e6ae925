"""createContact, getContacts and getContact."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Tenant, assert_error, random_rut, warnings_of

CONTACT_FIELDS = {
    "id",
    "clientId",
    "name",
    "lastName",
    "email",
    "position",
    "contactTypeId",
    "contactTypeName",
    "divisionsKeys",
    "createdAt",
}


async def create_client(
    tenant: Tenant, name: str = "CLIENTE EJEMPLO", tax_id: str | None = None
) -> dict[str, Any]:
    response = await tenant.post("/v1/createClient", {"name": name, "taxId": tax_id or random_rut()})
    assert response.status_code == 200, response.text
    return response.json()


async def create_contact(tenant: Tenant, client_id: str, **fields: Any) -> dict[str, Any]:
    body = {"clientId": client_id, "email": "cobranza@example.cl", **fields}
    response = await tenant.post("/v1/createContact", body)
    assert response.status_code == 200, response.text
    return response.json()


# createContact


async def test_create_contact_by_client_id(tenant: Tenant) -> None:
    client = await create_client(tenant)

    response = await tenant.post(
        "/v1/createContact",
        {
            "clientId": client["id"],
            "name": "Ana",
            "lastName": "Pérez",
            "email": "ana.perez@example.cl",
            "position": "Tesorera",
            "contactTypeId": 2,
        },
    )

    assert response.status_code == 200, response.text
    contact = response.json()
    assert set(contact) == CONTACT_FIELDS
    assert contact["id"].isdigit()
    assert contact["clientId"] == client["id"]
    assert contact["name"] == "Ana"
    assert contact["lastName"] == "Pérez"
    assert contact["email"] == "ana.perez@example.cl"
    assert contact["position"] == "Tesorera"
    assert contact["contactTypeId"] == 2
    assert contact["contactTypeName"] == "Facturación"
    assert contact["divisionsKeys"] == []
    assert (await tenant.get("/v1/getContact", id=contact["id"])).json() == contact


async def test_create_contact_by_client_tax_id(tenant: Tenant) -> None:
    client = await create_client(tenant, tax_id="99999999-9")

    contact = (
        await tenant.post("/v1/createContact", {"clientTaxId": "99.999.999-9", "email": "pagos@example.cl"})
    ).json()

    assert contact["clientId"] == client["id"]
    # Defaults: empty texts, the collections role.
    assert (contact["name"], contact["lastName"], contact["position"]) == ("", "", "")
    assert (contact["contactTypeId"], contact["contactTypeName"]) == (1, "Cobranza")
    listed = (await tenant.get("/v1/getClient", id=client["id"])).json()["contacts"]
    assert listed == [{"id": contact["id"]}]


async def test_contact_types_have_names(tenant: Tenant) -> None:
    client = await create_client(tenant)

    names = {
        type_id: (await create_contact(tenant, client["id"], contactTypeId=type_id))["contactTypeName"]
        for type_id in range(1, 6)
    }

    assert names == {1: "Cobranza", 2: "Facturación", 3: "Comercial", 4: "Contabilidad", 5: "Otro"}


@pytest.mark.parametrize("type_id", [0, 6, "cobranza"])
async def test_create_contact_refuses_an_unknown_type(tenant: Tenant, type_id: object) -> None:
    client = await create_client(tenant)

    response = await tenant.post(
        "/v1/createContact", {"clientId": client["id"], "email": "a@example.cl", "contactTypeId": type_id}
    )

    assert_error(response, 400, field="contactTypeId")


@pytest.mark.parametrize("email", ["not-an-email", "ana@", "@example.cl", "ana example@example.cl", ""])
async def test_create_contact_refuses_a_bad_email(tenant: Tenant, email: str) -> None:
    client = await create_client(tenant)

    response = await tenant.post("/v1/createContact", {"clientId": client["id"], "email": email})

    assert_error(response, 400, "invalid_parameter", "email")
    assert (await tenant.get("/v1/getContacts")).json()["items"] == []


@pytest.mark.parametrize("email", ["pago@empresa.test", "pago@intranet.LOCAL", "a@localhost", "a@x.onion"])
async def test_create_contact_refuses_a_special_use_domain_as_the_document_says(
    tenant: Tenant, email: str
) -> None:
    # No reminder could reach such an address: refused, and /openapi.json's pattern says so too.
    client = await create_client(tenant)

    response = await tenant.post("/v1/createContact", {"clientId": client["id"], "email": email})

    assert_error(response, 400, "invalid_parameter", "email")
    document = (await tenant.http.get("/openapi.json")).json()
    published = document["components"]["schemas"]["ContactCreate"]["properties"]["email"]
    assert re.search(published["pattern"], email) is None
    assert re.search(published["pattern"], "pago@test.cl")


async def test_create_contact_requires_email(tenant: Tenant) -> None:
    client = await create_client(tenant)

    response = await tenant.post("/v1/createContact", {"clientId": client["id"], "name": "Ana"})

    assert_error(response, 400, "missing_parameter", "email")


async def test_create_contact_requires_a_client(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createContact", {"email": "a@example.cl"})

    assert_error(response, 400, "missing_parameter", "clientId")


async def test_create_contact_for_an_unknown_client_is_404(tenant: Tenant) -> None:
    assert_error(
        await tenant.post("/v1/createContact", {"clientId": 987654321, "email": "a@example.cl"}),
        404,
        "not_found",
        "clientId",
    )
    assert_error(
        await tenant.post("/v1/createContact", {"clientTaxId": "99999999-9", "email": "a@example.cl"}),
        404,
        "not_found",
        "clientTaxId",
    )


async def test_create_contact_refuses_a_wrong_client_rut(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createContact", {"clientTaxId": "99999999-8", "email": "a@example.cl"})

    assert_error(response, 400, field="clientTaxId")


async def test_create_contact_for_another_companys_client_is_404(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await create_client(other_tenant, tax_id="99999999-9")

    assert_error(
        await tenant.post("/v1/createContact", {"clientId": theirs["id"], "email": "a@example.cl"}), 404
    )
    assert_error(
        await tenant.post("/v1/createContact", {"clientTaxId": "99999999-9", "email": "a@example.cl"}), 404
    )
    assert (await other_tenant.get("/v1/getContacts")).json()["items"] == []


# getContacts / getContact


async def test_get_contacts_filters(tenant: Tenant) -> None:
    first = await create_client(tenant, name="UNO", tax_id="99999999-9")
    second = await create_client(tenant, name="DOS", tax_id="11111112-K")
    a = await create_contact(tenant, first["id"], email="a@example.cl", contactTypeId=1)
    b = await create_contact(tenant, first["id"], email="b@example.cl", contactTypeId=2)
    c = await create_contact(tenant, second["id"], email="c@example.cl", contactTypeId=2)

    async def ids(**params: object) -> list[str]:
        response = await tenant.get("/v1/getContacts", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["records"]["totalRecords"] == len(body["items"])
        return [item["id"] for item in body["items"]]

    assert await ids() == [a["id"], b["id"], c["id"]]
    assert await ids(clientId=first["id"]) == [a["id"], b["id"]]
    assert await ids(clientId=second["id"]) == [c["id"]]
    assert await ids(clientTaxId="99.999.999-9") == [a["id"], b["id"]]
    assert await ids(clientTaxId="11111112-k") == [c["id"]]
    assert await ids(contactTypeId=2) == [b["id"], c["id"]]
    assert await ids(contactTypeId=1) == [a["id"]]
    assert await ids(contactTypeId=5) == []
    assert await ids(clientId=first["id"], contactTypeId=2) == [b["id"]]
    assert await ids(clientTaxId="76086428-5") == []


async def test_get_contacts_refuses_bad_filters(tenant: Tenant) -> None:
    assert_error(await tenant.get("/v1/getContacts", clientTaxId="99999999-8"), 400, field="clientTaxId")
    assert_error(await tenant.get("/v1/getContacts", contactTypeId=9), 400, field="contactTypeId")
    assert_error(await tenant.get("/v1/getContacts", clientId="x"), 400, field="clientId")


async def test_get_contacts_serves_an_order_it_cannot_use_as_the_default(tenant: Tenant) -> None:
    response = await tenant.get("/v1/getContacts", orderBy=5)

    assert warnings_of(response) == [{"parameter": "orderBy", "value": "5", "used": 1}]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (1, ["x", "y", "z"]),  # email
        (2, ["y", "z", "x"]),  # name
        (3, ["z", "x", "y"]),  # last name
        (4, ["z", "x", "y"]),  # client name (then id)
    ],
)
async def test_get_contacts_orders(tenant: Tenant, order_by: int, expected: list[str]) -> None:
    client_b = await create_client(tenant, name="BETA")
    client_a = await create_client(tenant, name="ALFA")
    # keys: x, y, z
    await create_contact(
        tenant, client_b["id"], email="a@example.cl", name="Carla", lastName="Bravo", position="x"
    )
    await create_contact(
        tenant, client_b["id"], email="b@example.cl", name="Ana", lastName="Cruz", position="y"
    )
    await create_contact(
        tenant, client_a["id"], email="c@example.cl", name="Berta", lastName="Alba", position="z"
    )

    ascending = (await tenant.get("/v1/getContacts", orderBy=order_by, order="ASC")).json()["items"]
    descending = (await tenant.get("/v1/getContacts", orderBy=order_by, order="DESC")).json()["items"]

    assert [c["position"] for c in ascending] == expected
    assert [c["position"] for c in descending] == expected[::-1]


async def test_get_contacts_paginates(tenant: Tenant) -> None:
    client = await create_client(tenant)
    emails = [f"c{i}@example.cl" for i in range(5)]
    for email in emails:
        await create_contact(tenant, client["id"], email=email)

    pages = [(await tenant.get("/v1/getContacts", resultsPerPage=2, page=p)).json() for p in (1, 2, 3)]

    assert [p["records"] for p in pages] == [
        {"totalRecords": 5, "items": 2, "page": 1, "pages": 3},
        {"totalRecords": 5, "items": 2, "page": 2, "pages": 3},
        {"totalRecords": 5, "items": 1, "page": 3, "pages": 3},
    ]
    assert [c["email"] for p in pages for c in p["items"]] == emails


async def test_get_contact_missing_is_404(tenant: Tenant) -> None:
    assert_error(await tenant.get("/v1/getContact", id=987654321), 404, "not_found", "id")
    assert_error(await tenant.get("/v1/getContact"), 400, "missing_parameter", "id")


async def test_contacts_are_isolated_between_companies(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = await create_client(tenant, tax_id="99999999-9")
    theirs = await create_client(other_tenant, tax_id="99999999-9")
    my_contact = await create_contact(tenant, mine["id"], email="mia@example.cl")
    their_contact = await create_contact(other_tenant, theirs["id"], email="suya@example.cl")

    mine_listed = (await tenant.get("/v1/getContacts")).json()
    theirs_listed = (await other_tenant.get("/v1/getContacts")).json()

    assert [c["id"] for c in mine_listed["items"]] == [my_contact["id"]]
    assert mine_listed["records"]["totalRecords"] == 1
    assert [c["id"] for c in theirs_listed["items"]] == [their_contact["id"]]
    assert (await tenant.get("/v1/getContacts", clientId=theirs["id"])).json()["items"] == []
    assert [
        c["id"] for c in (await tenant.get("/v1/getContacts", clientTaxId="99999999-9")).json()["items"]
    ] == [my_contact["id"]]
    assert_error(await tenant.get("/v1/getContact", id=their_contact["id"]), 404, "not_found", "id")
    expanded = (await tenant.get("/v1/getClient", id=mine["id"], expandContact=1)).json()
    assert [c["id"] for c in expanded["contacts"]] == [my_contact["id"]]
