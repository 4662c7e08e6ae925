"""createClient, getClients, getClient and updateClient, as an integrator sees them."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tests.conftest import Tenant, assert_error, random_rut, warnings_of

ALL_REMINDERS_OFF = {
    "newDocument": False,
    "soonToExpire": False,
    "expired": False,
    "newPayment": False,
    "debtSummary": False,
}


async def create_client(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "CLIENTE EJEMPLO", "taxId": random_rut(), **fields}
    response = await tenant.post("/v1/createClient", body)
    assert response.status_code == 200, response.text
    return response.json()


def json_with(body: Any, old: str, new: str) -> Any:
    """``body`` with ``old`` replaced by ``new`` in every string."""
    if isinstance(body, dict):
        return {k: json_with(v, old, new) for k, v in body.items()}
    if isinstance(body, str):
        return body.replace(old, new)
    return body


# createClient


async def test_create_client_answers_the_client(tenant: Tenant) -> None:
    response = await tenant.post(
        "/v1/createClient",
        {
            "name": "CLIENTE EJEMPLO",
            "taxId": "99999999-9",
            "activity": "VENTA AL POR MAYOR DE HUEVOS, LECHE",
            "country": "Chile",
            "region": "Metropolitana",
            "city": "SANTIAGO",
            "comuna": "LAS CONDES",
            "address": "AV LAS CONDES 6903",
            "zipcode": "7550000",
            "phone": "+56 2 2345 6789",
            "fax": "",
        },
    )

    assert response.status_code == 200, response.text
    client = response.json()
    assert isinstance(client["id"], str)
    assert client["id"].isdigit()
    assert client["name"] == "CLIENTE EJEMPLO"
    assert client["taxId"] == "99999999-9"
    assert client["activity"] == "VENTA AL POR MAYOR DE HUEVOS, LECHE"
    assert client["country"] == "Chile"
    assert client["region"] == "Metropolitana"
    assert client["city"] == "SANTIAGO"
    assert client["comuna"] == "LAS CONDES"
    assert client["address"] == "AV LAS CONDES 6903"
    assert client["zipcode"] == "7550000"
    assert client["phone"] == "+56 2 2345 6789"
    assert client["contacts"] == []
    assert client["url"].startswith("https://dtehub.test/portal/client/" + client["id"] + "/")
    # The defaults: every reminder on.
    assert client["sendReminders"] == dict.fromkeys(ALL_REMINDERS_OFF, True)


async def test_create_client_requires_name(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createClient", {"taxId": random_rut()})

    assert_error(response, 400, "missing_parameter", "name")


async def test_create_client_refuses_empty_name(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createClient", {"name": "   ", "taxId": random_rut()})

    assert_error(response, 400, field="name")


async def test_create_client_requires_tax_id(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createClient", {"name": "SIN RUT"})

    assert_error(response, 400, "missing_parameter", "taxId")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("99.999.999-9", "99999999-9"),
        ("76.453.707-6", "76453707-6"),
        ("  76453707-6 ", "76453707-6"),
        ("764537076", "76453707-6"),
        ("11.111.112-k", "11111112-K"),
        ("11111112-k", "11111112-K"),
    ],
)
async def test_create_client_normalizes_the_rut(tenant: Tenant, given: str, stored: str) -> None:
    client = await create_client(tenant, taxId=given)

    assert client["taxId"] == stored
    fetched = (await tenant.get("/v1/getClient", id=client["id"])).json()
    assert fetched["taxId"] == stored


@pytest.mark.parametrize(
    "tax_id", ["99999999-8", "76453707-K", "11111112-1", "not a rut", "12-", "0-0", "１２３４５６７８-5"]
)
async def test_create_client_refuses_a_wrong_rut(tenant: Tenant, tax_id: str) -> None:
    response = await tenant.post("/v1/createClient", {"name": "MAL RUT", "taxId": tax_id})

    assert_error(response, 400, field="taxId")
    assert (await tenant.get("/v1/getClients")).json()["records"]["totalRecords"] == 0


async def test_create_client_refuses_a_duplicate_rut(tenant: Tenant) -> None:
    first = await create_client(tenant, taxId="99999999-9")

    response = await tenant.post("/v1/createClient", {"name": "OTRO NOMBRE", "taxId": "99.999.999-9"})

    assert_error(response, 409, "already_exists", "taxId")
    listed = (await tenant.get("/v1/getClients")).json()
    assert [c["id"] for c in listed["items"]] == [first["id"]]
    assert listed["items"][0]["name"] == "CLIENTE EJEMPLO"


async def test_the_same_rut_can_be_a_client_of_two_companies(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = await create_client(tenant, taxId="99999999-9")
    theirs = await create_client(other_tenant, taxId="99999999-9")

    assert mine["id"] != theirs["id"]


@pytest.mark.parametrize("country", ["Perú", "PE", "Argentina"])
async def test_foreign_client_keeps_its_own_tax_id(tenant: Tenant, country: str) -> None:
    client = await create_client(tenant, name="CLIENTE LIMA SAC", taxId="20100070970", country=country)

    assert client["taxId"] == "20100070970"
    assert client["country"] == country
    found = (await tenant.get("/v1/getClient", id=client["id"])).json()
    assert found["taxId"] == "20100070970"


@pytest.mark.parametrize("country", ["Chile", "CL", "chile", ""])
async def test_chilean_client_needs_a_valid_rut(tenant: Tenant, country: str) -> None:
    response = await tenant.post(
        "/v1/createClient", {"name": "CLIENTE", "taxId": "20100070970", "country": country}
    )

    assert_error(response, 400, field="taxId")


async def test_create_client_stores_payment_term_and_reminders(tenant: Tenant) -> None:
    reminders = dict(ALL_REMINDERS_OFF, expired=True)
    client = await create_client(tenant, paymentTerm=45, sendReminders=reminders)

    assert client["paymentTerm"] == 45
    assert client["sendReminders"] == reminders
    fetched = (await tenant.get("/v1/getClient", id=client["id"])).json()
    assert fetched["paymentTerm"] == 45
    assert fetched["sendReminders"] == reminders


async def test_client_payment_term_defaults_to_none(tenant: Tenant) -> None:
    client = await create_client(tenant)

    assert client["paymentTerm"] is None


@pytest.mark.parametrize("term", [-1, 3651, "treinta"])
async def test_create_client_refuses_a_bad_payment_term(tenant: Tenant, term: object) -> None:
    response = await tenant.post(
        "/v1/createClient", {"name": "X", "taxId": random_rut(), "paymentTerm": term}
    )

    assert_error(response, 400, field="paymentTerm")


async def test_create_client_refuses_an_overlong_name(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createClient", {"name": "N" * 256, "taxId": random_rut()})

    assert_error(response, 400, field="name")


# getClients


async def test_get_clients_answers_the_envelope(tenant: Tenant) -> None:
    for name in ("ALFA", "BETA", "GAMMA"):
        await create_client(tenant, name=name)

    response = await tenant.get("/v1/getClients")

    assert response.status_code == 200
    body = response.json()
    assert body["records"] == {"totalRecords": 3, "items": 3, "page": 1, "pages": 1}
    assert [c["name"] for c in body["items"]] == ["ALFA", "BETA", "GAMMA"]


async def test_get_clients_empty(tenant: Tenant) -> None:
    body = (await tenant.get("/v1/getClients")).json()

    assert body == {"records": {"totalRecords": 0, "items": 0, "page": 1, "pages": 0}, "items": []}


async def test_get_clients_paginates(tenant: Tenant) -> None:
    names = [f"CLIENTE {i:02d}" for i in range(5)]
    for name in names:
        await create_client(tenant, name=name)

    pages = [(await tenant.get("/v1/getClients", resultsPerPage=2, page=p)).json() for p in (1, 2, 3, 4)]

    assert [p["records"] for p in pages] == [
        {"totalRecords": 5, "items": 2, "page": 1, "pages": 3},
        {"totalRecords": 5, "items": 2, "page": 2, "pages": 3},
        {"totalRecords": 5, "items": 1, "page": 3, "pages": 3},
        {"totalRecords": 5, "items": 0, "page": 4, "pages": 3},
    ]
    assert [c["name"] for p in pages for c in p["items"]] == names


@pytest.mark.parametrize(
    ("params", "used"),
    [
        ({"resultsPerPage": 101}, 100),
        ({"resultsPerPage": 0}, 50),
        ({"page": 0}, 1),
        ({"page": "x"}, 1),
        ({"orderBy": 4}, 1),
        ({"orderBy": 0}, 1),
        ({"order": "UP"}, "ASC"),
        ({"expandContact": "2"}, 0),
    ],
)
async def test_get_clients_serves_options_it_cannot_use_at_their_defaults(
    tenant: Tenant, params: dict[str, object], used: object
) -> None:
    for name in ("UNO", "DOS"):
        await create_client(tenant, name=name, taxId=random_rut())
    [(parameter, value)] = params.items()

    response = await tenant.get("/v1/getClients", **params)

    assert warnings_of(response) == [{"parameter": parameter, "value": str(value), "used": used}]
    assert response.json()["items"] == (await tenant.get("/v1/getClients")).json()["items"]


@pytest.mark.parametrize(
    ("params", "field"), [({"taxId": "99999999-8"}, "taxId"), ({"name": "x" * 256}, "name")]
)
async def test_get_clients_refuses_filters_it_cannot_read(
    tenant: Tenant, params: dict[str, object], field: str
) -> None:
    assert_error(await tenant.get("/v1/getClients", **params), 400, "invalid_parameter", field)


async def test_get_clients_accepts_100_per_page(tenant: Tenant) -> None:
    response = await tenant.get("/v1/getClients", resultsPerPage=100)

    assert response.status_code == 200


async def test_get_clients_filters_by_tax_id(tenant: Tenant) -> None:
    await create_client(tenant, name="UNO", taxId="99999999-9")
    await create_client(tenant, name="DOS", taxId="11111112-K")
    await create_client(tenant, name="LIMA", taxId="20100070970", country="Perú")

    for given in ("99999999-9", "99.999.999-9"):
        body = (await tenant.get("/v1/getClients", taxId=given)).json()
        assert [c["name"] for c in body["items"]] == ["UNO"]
        assert body["records"]["totalRecords"] == 1
    assert [c["name"] for c in (await tenant.get("/v1/getClients", taxId="11111112-k")).json()["items"]] == [
        "DOS"
    ]
    assert [c["name"] for c in (await tenant.get("/v1/getClients", taxId="20100070970")).json()["items"]] == [
        "LIMA"
    ]
    none = (await tenant.get("/v1/getClients", taxId="76086428-5")).json()
    assert none["items"] == []
    assert none["records"]["totalRecords"] == 0


async def test_get_clients_filters_by_part_of_the_name(tenant: Tenant) -> None:
    await create_client(tenant, name="Comercial Los Andes SpA")
    await create_client(tenant, name="ANDES MINING LTDA")
    await create_client(tenant, name="Pacífico S.A.")
    await create_client(tenant, name="100% Algodón")

    andes = (await tenant.get("/v1/getClients", name="andes")).json()
    assert sorted(c["name"] for c in andes["items"]) == ["ANDES MINING LTDA", "Comercial Los Andes SpA"]
    assert andes["records"]["totalRecords"] == 2
    # LIKE wildcards in the filter are taken literally.
    assert [c["name"] for c in (await tenant.get("/v1/getClients", name="%")).json()["items"]] == [
        "100% Algodón"
    ]
    assert (await tenant.get("/v1/getClients", name="_")).json()["items"] == []


@pytest.mark.parametrize(
    ("order_by", "order", "expected"),
    [
        (1, "ASC", ["ALFA", "BETA", "GAMMA"]),
        (1, "DESC", ["GAMMA", "BETA", "ALFA"]),
        (1, "desc", ["GAMMA", "BETA", "ALFA"]),
        (2, "ASC", ["BETA", "GAMMA", "ALFA"]),
        (2, "DESC", ["ALFA", "GAMMA", "BETA"]),
        (3, "ASC", ["GAMMA", "ALFA", "BETA"]),
        (3, "DESC", ["BETA", "ALFA", "GAMMA"]),
    ],
)
async def test_get_clients_orders(tenant: Tenant, order_by: int, order: str, expected: list[str]) -> None:
    # Created in the order BETA, GAMMA, ALFA; tax ids order GAMMA < ALFA < BETA.
    await create_client(tenant, name="BETA", taxId="33333333-3")
    await create_client(tenant, name="GAMMA", taxId="11111111-1")
    await create_client(tenant, name="ALFA", taxId="22222222-2")

    body = (await tenant.get("/v1/getClients", orderBy=order_by, order=order)).json()

    assert [c["name"] for c in body["items"]] == expected


async def test_get_clients_expand_contact(tenant: Tenant) -> None:
    client = await create_client(tenant)
    contact = (
        await tenant.post(
            "/v1/createContact",
            {"clientId": client["id"], "name": "Ana", "lastName": "Pérez", "email": "ana@example.cl"},
        )
    ).json()

    plain = (await tenant.get("/v1/getClients")).json()["items"][0]
    expanded = (await tenant.get("/v1/getClients", expandContact=1)).json()["items"][0]
    one = (await tenant.get("/v1/getClient", id=client["id"], expandContact=1)).json()

    assert plain["contacts"] == [{"id": contact["id"]}]
    assert expanded["contacts"] == [contact]
    assert expanded["contacts"][0]["email"] == "ana@example.cl"
    assert one["contacts"] == [contact]


# getClient


async def test_get_client_by_id_and_by_tax_id(tenant: Tenant) -> None:
    created = await create_client(tenant, taxId="99999999-9")

    by_id = await tenant.get("/v1/getClient", id=created["id"])
    by_tax_id = await tenant.get("/v1/getClient", taxId="99.999.999-9")

    assert by_id.status_code == 200
    assert by_tax_id.status_code == 200
    assert by_id.json() == created
    assert by_tax_id.json() == created


async def test_get_client_needs_id_or_tax_id(tenant: Tenant) -> None:
    # A rule between parameters the API document cannot state: 422, as the document says of such rules.
    for query in ({}, {"id": "", "taxId": ""}):
        response = await tenant.get("/v1/getClient", **query)

        assert_error(response, 422, "missing_alternative", "id")
        assert "id or taxId" in response.json()["error"]["message"]


async def test_get_client_refuses_a_bad_rut(tenant: Tenant) -> None:
    response = await tenant.get("/v1/getClient", taxId="99999999-8")

    assert_error(response, 400, field="taxId")


async def test_get_missing_client_is_404(tenant: Tenant) -> None:
    assert_error(await tenant.get("/v1/getClient", id=987654321), 404, "not_found", "id")
    assert_error(await tenant.get("/v1/getClient", taxId="99999999-9"), 404, "not_found", "taxId")


async def test_another_companys_client_is_404_like_a_missing_one(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await create_client(other_tenant, taxId="99999999-9")
    missing_id = int(theirs["id"]) + 100_000

    foreign = await tenant.get("/v1/getClient", id=theirs["id"])
    missing = await tenant.get("/v1/getClient", id=missing_id)

    assert foreign.status_code == missing.status_code == 404
    # The same answer, but for the id itself: nothing tells the other company's client exists.
    assert foreign.json() == json_with(missing.json(), str(missing_id), theirs["id"])
    assert foreign.headers["content-type"] == missing.headers["content-type"]
    assert (await tenant.get("/v1/getClient", taxId="99999999-9")).status_code == 404
    assert (await tenant.get("/v1/getClients")).json()["items"] == []


# updateClient


async def test_update_client_changes_only_the_fields_given(tenant: Tenant) -> None:
    created = await create_client(
        tenant,
        name="ANTES",
        taxId="99999999-9",
        city="SANTIAGO",
        address="AV LAS CONDES 6903",
        phone="123",
        paymentTerm=30,
        sendReminders=ALL_REMINDERS_OFF,
    )

    response = await tenant.post("/v1/updateClient", {"id": created["id"], "city": "VALPARAÍSO"})

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == {**created, "city": "VALPARAÍSO"}
    assert (await tenant.get("/v1/getClient", id=created["id"])).json() == updated


async def test_update_client_changes_several_fields(tenant: Tenant) -> None:
    created = await create_client(tenant, name="ANTES", taxId="99999999-9", paymentTerm=30)

    updated = (
        await tenant.post(
            "/v1/updateClient",
            {
                "id": created["id"],
                "name": "DESPUÉS",
                "taxId": "11.111.112-k",
                "paymentTerm": 60,
                "sendReminders": ALL_REMINDERS_OFF,
            },
        )
    ).json()

    assert updated["name"] == "DESPUÉS"
    assert updated["taxId"] == "11111112-K"
    assert updated["paymentTerm"] == 60
    assert updated["sendReminders"] == ALL_REMINDERS_OFF
    assert (await tenant.get("/v1/getClient", taxId="11111112-K")).json()["id"] == created["id"]
    assert (await tenant.get("/v1/getClient", taxId="99999999-9")).status_code == 404


async def test_update_client_to_its_own_tax_id_is_fine(tenant: Tenant) -> None:
    created = await create_client(tenant, taxId="99999999-9")

    response = await tenant.post("/v1/updateClient", {"id": created["id"], "taxId": "99.999.999-9"})

    assert response.status_code == 200
    assert response.json()["taxId"] == "99999999-9"


async def test_update_client_to_an_existing_tax_id_is_409(tenant: Tenant) -> None:
    await create_client(tenant, name="UNO", taxId="99999999-9")
    second = await create_client(tenant, name="DOS", taxId="11111112-K")

    response = await tenant.post("/v1/updateClient", {"id": second["id"], "taxId": "99999999-9", "name": "X"})

    assert_error(response, 409, "already_exists", "taxId")
    unchanged = (await tenant.get("/v1/getClient", id=second["id"])).json()
    assert unchanged == second


async def test_update_client_refuses_a_wrong_rut(tenant: Tenant) -> None:
    created = await create_client(tenant, taxId="99999999-9")

    # Given with a Chilean country, /openapi.json says it must be a RUT: a malformed request, 400.
    for country in ("CL", "", " chile "):
        response = await tenant.post(
            "/v1/updateClient", {"id": created["id"], "taxId": "99999999-8", "country": country}
        )
        assert_error(response, 400, field="taxId")
    # Without a country the stored one decides, which the document cannot state: 422.
    for tax_id in ("99999999-8", "ABC-123"):
        response = await tenant.post("/v1/updateClient", {"id": created["id"], "taxId": tax_id})
        assert_error(response, 422, "unprocessable", "taxId")
        assert "Chilean" in response.json()["error"]["message"]
    assert (await tenant.get("/v1/getClient", id=created["id"])).json()["taxId"] == "99999999-9"


async def test_update_client_with_an_empty_tax_id_keeps_it(tenant: Tenant) -> None:
    # Duemint's lenient rule for a field it cannot use: absent, with a warning (it was a 400).
    created = await create_client(tenant, taxId="99999999-9")

    response = await tenant.post("/v1/updateClient", {"id": created["id"], "taxId": " ", "city": "Talca"})

    assert response.status_code == 200
    assert (response.json()["taxId"], response.json()["city"]) == ("99999999-9", "Talca")
    assert response.json()["warnings"] == [{"parameter": "taxId", "value": " ", "used": None}]


async def test_update_client_tax_id_of_a_foreign_client_is_its_own_code(tenant: Tenant) -> None:
    created = await create_client(tenant, taxId="20100047218", country="Peru")

    response = await tenant.post("/v1/updateClient", {"id": created["id"], "taxId": "99999999-8"})

    assert response.status_code == 200
    assert response.json()["taxId"] == "99999999-8"


async def test_update_missing_or_foreign_client_is_404(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = await create_client(other_tenant, name="AJENO")

    assert_error(
        await tenant.post("/v1/updateClient", {"id": 987654321, "name": "X"}), 404, "not_found", "id"
    )
    assert_error(await tenant.post("/v1/updateClient", {"id": theirs["id"], "name": "X"}), 404, "not_found")
    assert (await other_tenant.get("/v1/getClient", id=theirs["id"])).json()["name"] == "AJENO"


async def test_update_client_requires_id(tenant: Tenant) -> None:
    assert_error(await tenant.post("/v1/updateClient", {"name": "X"}), 400, "missing_parameter", "id")


@pytest.mark.parametrize("expand_contact", [0, 1])
async def test_client_views_match_the_published_schema(tenant: Tenant, expand_contact: int) -> None:
    """Client views are built as plain data for speed; each must be exactly what /openapi.json says a
    client is: no field missing, none extra, every type right."""
    openapi = (await tenant.http.get("/openapi.json")).json()
    schema = {"$ref": "#/components/schemas/ClientOut", "components": openapi["components"]}
    properties = set(openapi["components"]["schemas"]["ClientOut"]["properties"])
    created = await create_client(tenant, paymentTerm=45, sendReminders=ALL_REMINDERS_OFF)
    contact = {"clientId": created["id"], "name": "Ana", "email": "ana@example.cl"}
    assert (await tenant.post("/v1/createContact", contact)).status_code == 200
    one = (await tenant.get("/v1/getClient", id=created["id"], expandContact=expand_contact)).json()
    listed = (await tenant.get("/v1/getClients", expandContact=expand_contact)).json()["items"]

    for view in [created, one, *listed]:
        assert set(view) == properties
        jsonschema.Draft202012Validator(schema).validate(view)
    assert one["contacts"]
    assert ("email" in one["contacts"][0]) == bool(expand_contact)
