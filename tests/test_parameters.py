"""Every method of /v1 reads its parameters by the same rules (dtehub.kit.parameters), as Duemint
integrations send them: an empty parameter is absent, an option with a documented default serves a
value it cannot use as that default, a filter it cannot read is a 400; every adjustment is reported."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.documents import service as documents_service
from dtehub.documents.schemas import DocumentCreate
from dtehub.kit.pagination import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from dtehub.kit.parameters import rules_of
from dtehub.models import Document
from tests.conftest import FIXTURES, LINKS, Tenant, assert_error, warnings_of

# What each method takes as options (everything else is a filter), with Duemint's documented defaults;
# clients, contacts and tags list in ascending order by default (docs/decisions.md).
PAGING = {"resultsPerPage": DEFAULT_PER_PAGE, "page": 1}
EXPAND = {"expandClient": 0, "expandContact": 0, "expandTag": 0, "expandFile": 0}
OPTIONS: dict[str, dict[str, object]] = {
    "/v1/getDocuments": {**PAGING, "dateBy": 1, "orderBy": 1, "order": "DESC", **EXPAND},
    "/v1/getDocument": EXPAND,
    "/v1/getNotes": {**PAGING, "dateBy": 1, "orderBy": 1, "order": "DESC", "expandFile": 0},
    "/v1/getPayments": {**PAGING, "dateBy": 1, "orderBy": 1, "order": "DESC", "expandFile": 0},
    "/v1/getClients": {**PAGING, "orderBy": 1, "order": "ASC", "expandContact": 0},
    "/v1/getClient": {"expandContact": 0},
    "/v1/getContacts": {**PAGING, "orderBy": 1, "order": "ASC"},
    "/v1/getTags": {**PAGING, "orderBy": 1, "order": "ASC"},
    "/v1/getEmails": PAGING,
    "/v1/getWebhooks": PAGING,
    "/v1/getWebhookDeliveries": PAGING,
    "/v1/getAuditLog": PAGING,
    "/v1/getSiiSyncRuns": PAGING,
    "/v1/getContact": {},
    "/v1/getNote": {},
    "/v1/getPayment": {},
    "/v1/getEmail": {},
    "/v1/getDocumentCedibility": {},
    "/v1/getSiiSyncRun": {},
}
LISTS = [path for path, options in OPTIONS.items() if "page" in options]
ORDERED = [path for path, options in OPTIONS.items() if "orderBy" in options]
REQUIRED = {"id", "webhookId"}


@pytest.fixture
def rules(app: FastAPI) -> dict[str, Any]:
    return rules_of(app.routes)


@pytest.fixture
async def world(tenant: Tenant) -> dict[str, str]:
    """A client with a contact, a tag, two documents, a payment and a webhook; by the names of the
    parameters their ids go in."""

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await tenant.post(path, body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    client = await post("/v1/createClient", {"name": "DELI SANDWICH", "taxId": "99999999-9"})
    await post("/v1/createContact", {"clientId": client["id"], "email": "pago@example.com"})
    tag = await post("/v1/createTag", {"name": "retail"})
    for number, total in (("1", "1190"), ("2", "2380")):
        document = await post(
            "/v1/createDocument",
            {
                "clientId": client["id"],
                "number": number,
                "issueDate": "2024-05-01",
                "total": total,
                "taxes": "190",
                "code": 33,
                "tags": ["retail"],
            },
        )
    await post(
        "/v1/createPayment",
        {
            "date": "2024-05-02",
            "amount": "1190",
            "clientId": client["id"],
            "documents": [{"id": document["id"], "amount": "1190"}],
        },
    )
    webhook = await post(
        "/v1/createWebhook", {"url": "http://127.0.0.1:9/hook", "events": ["document.created"]}
    )
    return {
        "clientId": client["id"],
        "tagId": tag["id"],
        "documentId": document["id"],
        "webhookId": webhook["id"],
    }


def required(path: str, world: dict[str, str], tried: str = "") -> dict[str, str]:
    """The parameters a method cannot do without (other than ``tried``, the one a test gives)."""
    if path == "/v1/getWebhookDeliveries":
        return {"webhookId": world["webhookId"]}
    if path == "/v1/getDocument":
        return {"id": world["documentId"]}
    if path == "/v1/getClient":
        return {"taxId": "99999999-9"} if tried == "id" else {"id": world["clientId"]}
    return {}


async def call(tenant: Tenant, path: str, query: str) -> httpx.Response:
    """A GET with its query string exactly as written (``clientId&page=1`` stays so)."""
    return await tenant.http.get(f"{path}?{query}" if query else path, headers=tenant.headers)


def query_of(params: dict[str, str]) -> str:
    return "&".join(f"{name}={value}" for name, value in params.items())


# --- the rules each method declares ----------------------------------------------------------------


def test_each_method_declares_its_options_and_their_documented_defaults(rules: dict[str, Any]) -> None:
    declared = {path: dict(rules[path].options) for path in rules}
    assert set(declared) == set(OPTIONS)
    for path, options in OPTIONS.items():
        assert set(declared[path]) == set(options), path
        assert {name: rules[path].defaults[name] for name in options} == options, path


# --- options: lists -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", LISTS)
async def test_a_clean_request_carries_no_warnings(tenant: Tenant, world: dict[str, str], path: str) -> None:
    response = await tenant.get(path, **required(path, world), resultsPerPage=2, page=1)

    assert warnings_of(response) == []
    assert "warnings" not in response.json()
    assert "warning" not in response.headers


PAGING_CASES = [  # sent, used, the page answered
    ({"resultsPerPage": "1000"}, {"resultsPerPage": MAX_PER_PAGE}, 1),
    ({"resultsPerPage": "0"}, {"resultsPerPage": DEFAULT_PER_PAGE}, 1),
    ({"resultsPerPage": "-5"}, {"resultsPerPage": DEFAULT_PER_PAGE}, 1),
    ({"resultsPerPage": "ten"}, {"resultsPerPage": DEFAULT_PER_PAGE}, 1),
    ({"page": "0"}, {"page": 1}, 1),
    ({"page": "-1"}, {"page": 1}, 1),
    ({"page": "1.5"}, {"page": 1}, 1),
    ({"page": str(MAX_PAGE * 10)}, {"page": MAX_PAGE}, MAX_PAGE),
    ({"resultsPerPage": "", "page": ""}, {"resultsPerPage": DEFAULT_PER_PAGE, "page": 1}, 1),
]


@pytest.mark.parametrize("path", LISTS)
async def test_paging_it_cannot_use_is_served_within_its_bounds(
    tenant: Tenant, world: dict[str, str], path: str
) -> None:
    for params, used, records_page in PAGING_CASES:
        response = await call(tenant, path, query_of({**required(path, world), **params}))

        assert warnings_of(response) == [
            {"parameter": name, "value": params[name], "used": value} for name, value in used.items()
        ], params
        records = response.json()["records"]
        per_page = used.get("resultsPerPage", DEFAULT_PER_PAGE)
        assert records["page"] == records_page, params
        assert records["pages"] == -(-records["totalRecords"] // per_page), params


@pytest.mark.parametrize("path", LISTS)
async def test_paging_without_a_value_is_absent(tenant: Tenant, world: dict[str, str], path: str) -> None:
    response = await call(tenant, path, query_of(required(path, world)) + "&resultsPerPage&page")

    assert warnings_of(response) == [
        {"parameter": "resultsPerPage", "value": "", "used": DEFAULT_PER_PAGE},
        {"parameter": "page", "value": "", "used": 1},
    ]
    assert response.headers.get_list("warning") == [
        f'299 dtehub "resultsPerPage= served as {DEFAULT_PER_PAGE}"',
        '299 dtehub "page= served as 1"',
    ]


async def test_a_page_size_over_the_maximum_answers_at_most_100_items(
    tenant: Tenant, session: Session, world: dict[str, str]
) -> None:
    for number in range(3, 3 + MAX_PER_PAGE):
        fields = {"clientId": world["clientId"], "number": str(number), "issueDate": "2024-06-01"}
        data = DocumentCreate.model_validate({**fields, "total": "100", "taxes": "0"})
        documents_service.create_document(session, tenant.company_id, data, LINKS)
    session.flush()

    response = await tenant.get("/v1/getDocuments", resultsPerPage=1000)

    assert warnings_of(response) == [{"parameter": "resultsPerPage", "value": "1000", "used": 100}]
    assert response.headers["warning"] == '299 dtehub "resultsPerPage=1000 served as 100"'
    body = response.json()
    assert len(body["items"]) == MAX_PER_PAGE
    assert body["records"] == {"totalRecords": MAX_PER_PAGE + 2, "items": MAX_PER_PAGE, "page": 1, "pages": 2}


@pytest.mark.parametrize("path", ORDERED)
async def test_an_order_it_cannot_use_is_the_default_order(
    tenant: Tenant, world: dict[str, str], path: str
) -> None:
    default = (await tenant.get(path)).json()

    for order_by in ("99", "0", "first", "1.0"):
        response = await tenant.get(path, orderBy=order_by, order="sideways")

        assert warnings_of(response) == [
            {"parameter": "orderBy", "value": order_by, "used": 1},
            {"parameter": "order", "value": "sideways", "used": OPTIONS[path]["order"]},
        ]
        assert response.json()["items"] == default["items"]


@pytest.mark.parametrize("path", ORDERED)
async def test_order_in_any_case_is_no_adjustment(tenant: Tenant, world: dict[str, str], path: str) -> None:
    ascending = await tenant.get(path, order="asc", orderBy="02")

    assert warnings_of(ascending) == []
    assert ascending.json()["items"] == (await tenant.get(path, order="ASC", orderBy=2)).json()["items"]


@pytest.mark.parametrize("path", ["/v1/getDocuments", "/v1/getNotes", "/v1/getPayments"])
async def test_a_date_kind_it_cannot_use_is_the_default(
    tenant: Tenant, world: dict[str, str], path: str
) -> None:
    response = await tenant.get(path, dateBy=9, since="2024-01-01")

    assert warnings_of(response) == [{"parameter": "dateBy", "value": "9", "used": 1}]
    assert response.json()["items"] == (await tenant.get(path, since="2024-01-01")).json()["items"]


@pytest.mark.parametrize(
    ("path", "flag"),
    [(path, flag) for path, options in OPTIONS.items() for flag in options if flag.startswith("expand")],
)
async def test_an_expand_flag_it_cannot_read_is_0(
    tenant: Tenant, world: dict[str, str], path: str, flag: str
) -> None:
    plain = (await tenant.get(path, **required(path, world))).json()

    for value in ("2", "maybe", "-1"):
        response = await tenant.get(path, **required(path, world), **{flag: value})

        assert warnings_of(response) == [{"parameter": flag, "value": value, "used": 0}]
        body = response.json()
        del body["warnings"]
        assert body == plain


async def test_expand_flags_spelled_as_true_are_1(tenant: Tenant, world: dict[str, str]) -> None:
    response = await tenant.get("/v1/getDocument", id=world["documentId"], expandClient="true")

    assert warnings_of(response) == []
    assert response.json()["client"]["name"] == "DELI SANDWICH"


# --- empty parameters: absent ---------------------------------------------------------------------


def _empty_cases() -> list[tuple[str, str]]:
    """Every (method, parameter) pair but the required ones, read without a database."""
    unused = Path(tempfile.gettempdir()) / "dtehub-parameters-listing-unused.db"  # never opened
    app = create_app(Settings(database_url=f"sqlite:///{unused}", db_pool_size=1))
    try:
        rules = rules_of(app.routes)
    finally:
        app.state.engine.dispose()
    return [(path, name) for path in rules for name in rules[path].defaults if name not in REQUIRED]


EMPTY_CASES = _empty_cases()


@pytest.mark.parametrize(("path", "name"), EMPTY_CASES, ids=[f"{p}?{n}" for p, n in EMPTY_CASES])
async def test_every_parameter_given_empty_is_absent(
    tenant: Tenant, rules: dict[str, Any], world: dict[str, str], path: str, name: str
) -> None:
    base = query_of(required(path, world, tried=name))
    expected = (await call(tenant, path, base)).json()
    used = rules[path].defaults[name]

    for spelling, value in ((f"{name}=", ""), (name, ""), (f"{name}=%20%09", " \t")):
        response = await call(tenant, path, "&".join(filter(None, [spelling, base])))

        assert warnings_of(response) == [{"parameter": name, "value": value, "used": used}], spelling
        body = response.json()
        del body["warnings"]
        assert body == expected, spelling


async def test_a_client_id_without_a_value_lists_every_document(
    tenant: Tenant, world: dict[str, str]
) -> None:
    response = await call(tenant, "/v1/getDocuments", "clientId&page=1")

    assert warnings_of(response) == [{"parameter": "clientId", "value": "", "used": None}]
    assert response.headers["warning"] == '299 dtehub "clientId= ignored"'
    assert response.json()["records"]["totalRecords"] == 2


async def test_an_empty_status_lists_every_document(tenant: Tenant, world: dict[str, str]) -> None:
    response = await call(tenant, "/v1/getDocuments", "status=")

    assert warnings_of(response) == [{"parameter": "status", "value": "", "used": None}]
    assert response.json()["records"]["totalRecords"] == 2


async def test_a_repeated_parameter_counts_by_its_last_value(tenant: Tenant, world: dict[str, str]) -> None:
    last_empty = await call(tenant, "/v1/getDocuments", f"clientId=999&clientId=&tagId={world['tagId']}")
    last_set = await call(tenant, "/v1/getDocuments", "clientId=&clientId=999")

    assert warnings_of(last_empty) == [{"parameter": "clientId", "value": "", "used": None}]
    assert last_empty.json()["records"]["totalRecords"] == 2
    assert warnings_of(last_set) == []
    assert last_set.json()["records"]["totalRecords"] == 0


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v1/getDocument", "id="),
        ("/v1/getDocument", "id&expandClient=1"),
        ("/v1/getNote", "id=%20"),
        ("/v1/getPayment", "id="),
        ("/v1/getContact", "id="),
        ("/v1/getEmail", "id="),
        ("/v1/getWebhookDeliveries", "webhookId="),
    ],
)
async def test_a_required_parameter_given_empty_is_missing(tenant: Tenant, path: str, query: str) -> None:
    response = await call(tenant, path, query)

    assert_error(response, 400, "missing_parameter", query.split("=")[0].split("&")[0])
    assert "warning" not in response.headers


async def test_get_client_by_tax_id_with_an_empty_id(tenant: Tenant, world: dict[str, str]) -> None:
    response = await call(tenant, "/v1/getClient", "id=&taxId=99999999-9&expandContact=2")

    assert warnings_of(response) == [
        {"parameter": "id", "value": "", "used": None},
        {"parameter": "expandContact", "value": "2", "used": 0},
    ]
    assert response.json()["id"] == world["clientId"]


# --- filters it cannot read: 400, whatever else it could adjust -------------------------------------

BAD_FILTERS = [
    ("/v1/getDocuments", "status", "9"),
    ("/v1/getDocuments", "code", "abc"),
    ("/v1/getDocuments", "number", "9" * 41),
    ("/v1/getDocuments", "currency", "US"),
    ("/v1/getDocuments", "clientId", "x"),
    ("/v1/getDocuments", "clientTaxId", "76453707-5"),
    ("/v1/getDocuments", "tagId", "0"),
    ("/v1/getDocuments", "since", "2024-13-01"),
    ("/v1/getDocuments", "until", "ayer"),
    ("/v1/getDocuments", "xmlSignature", "maybe"),
    ("/v1/getDocuments", "held", "maybe"),
    ("/v1/getDocuments", "siiState", "pending"),
    ("/v1/getDocument", "id", "x"),
    ("/v1/getNotes", "type", "refund"),
    ("/v1/getNotes", "documentId", "0"),
    ("/v1/getNotes", "code", "33"),
    ("/v1/getPayments", "status", "3"),
    ("/v1/getPayments", "paymentMethodId", "0"),
    ("/v1/getClients", "taxId", "99999999-8"),
    ("/v1/getClient", "id", "-1"),
    ("/v1/getContacts", "contactTypeId", "9"),
    ("/v1/getTags", "name", "x" * 101),
    ("/v1/getEmails", "status", "lost"),
    ("/v1/getEmails", "kind", "spam"),
    ("/v1/getWebhookDeliveries", "status", "lost"),
    ("/v1/getAuditLog", "actor", "robot"),
    ("/v1/getAuditLog", "objectType", "secret"),
]


@pytest.mark.parametrize(("path", "name", "value"), BAD_FILTERS)
async def test_a_filter_it_cannot_read_is_a_400(
    tenant: Tenant, world: dict[str, str], path: str, name: str, value: str
) -> None:
    params = {**required(path, world), name: value, "resultsPerPage": "1000", "orderBy": "99"}

    response = await call(tenant, path, query_of(params))

    assert_error(response, 400, "invalid_parameter", name)
    assert "warning" not in response.headers


# --- the Warning header --------------------------------------------------------------------------


async def test_warning_headers_carry_no_quote_line_break_or_raw_non_ascii(tenant: Tenant) -> None:
    response = await call(tenant, "/v1/getDocuments", "orderBy=%22%0D%0AX-Evil:%201%C3%B1%5C")

    assert warnings_of(response) == [{"parameter": "orderBy", "value": '"\r\nX-Evil: 1ñ\\', "used": 1}]
    assert response.headers["warning"] == '299 dtehub "orderBy=%22%0D%0AX-Evil:%201%C3%B1%5C served as 1"'
    assert "x-evil" not in response.headers


async def test_a_long_value_is_cut_in_warnings(tenant: Tenant) -> None:
    response = await tenant.get("/v1/getDocuments", order="x" * 1000)

    [warning] = warnings_of(response)
    assert warning["value"] == "x" * 200 + "…"
    assert response.headers["warning"] == f'299 dtehub "order={"x" * 64} served as DESC"'


# --- request bodies: the same idea ------------------------------------------------------------------

SEED = (FIXTURES / "seed-duemint-example-33-696.xml").read_bytes()  # issued by the tenant's RUT


def document_body(client_id: str, number: str, **fields: object) -> dict[str, object]:
    return {
        "clientId": client_id,
        "number": number,
        "issueDate": "2024-05-01",
        "total": "1190",
        "taxes": "190",
    } | fields


@pytest.mark.parametrize(
    ("fields", "warnings"),
    [
        ({"send": ""}, [{"parameter": "send", "value": "", "used": 0}]),
        ({"send": "maybe"}, [{"parameter": "send", "value": "maybe", "used": 0}]),
        ({"send": 2}, [{"parameter": "send", "value": 2, "used": 0}]),
        ({"send": None}, [{"parameter": "send", "value": None, "used": 0}]),
        ({"send": 1}, []),
        ({"send": "0"}, []),
        ({"dueDate": ""}, [{"parameter": "dueDate", "value": "", "used": None}]),
        ({"code": " "}, [{"parameter": "code", "value": " ", "used": None}]),
        ({"currency": None}, [{"parameter": "currency", "value": None, "used": "CLP"}]),
        ({"tags": ""}, [{"parameter": "tags", "value": "", "used": []}]),
        ({"gloss": ""}, []),
    ],
)
async def test_create_document_reads_empty_fields_and_unusable_options_as_their_defaults(
    tenant: Tenant, world: dict[str, str], fields: dict[str, object], warnings: list[dict[str, object]]
) -> None:
    response = await tenant.post("/v1/createDocument", document_body(world["clientId"], "700", **fields))

    assert warnings_of(response) == warnings
    document = response.json()
    assert (document["currency"], document["code"], document["tags"]) == ("CLP", None, [])
    assert document["dueDate"] == "2024-05-08"  # the company's payment term (7 days)


@pytest.mark.parametrize(
    "fields",
    [
        {"clientId": ""},  # required: empty is missing
        {"dueDate": "2024-13-01"},
        {"code": 52},
        {"currency": "PESOS"},
        {"total": ""},
        {"tags": "retail"},
    ],
)
async def test_create_document_refuses_what_it_cannot_read_and_stores_nothing(
    tenant: Tenant, session: Session, world: dict[str, str], fields: dict[str, object]
) -> None:
    before = session.scalar(select(func.count()).select_from(Document))

    response = await tenant.post("/v1/createDocument", document_body(world["clientId"], "701", **fields))

    assert response.status_code == 400, response.text
    assert "warning" not in response.headers
    assert session.scalar(select(func.count()).select_from(Document)) == before


async def test_create_document_from_xml_with_empty_country_and_send(tenant: Tenant) -> None:
    body = {"xml": base64.b64encode(SEED).decode(), "countryCode": "", "send": "", "taxId": ""}

    response = await tenant.post("/v1/createDocumentFromXml", body)

    assert warnings_of(response) == [
        {"parameter": "countryCode", "value": "", "used": "CL"},
        {"parameter": "taxId", "value": "", "used": None},
        {"parameter": "send", "value": "", "used": 0},
    ]
    assert response.json()["number"] == "696"


async def test_a_payment_names_its_client_by_tax_id_with_an_empty_client_id(
    tenant: Tenant, world: dict[str, str]
) -> None:
    body = {
        "date": "2024-05-03",
        "amount": "100",
        "clientId": "",
        "clientTaxId": "99999999-9",
        "paymentMethodId": "",
        "documents": [{"id": world["documentId"], "code": "", "amount": "100"}],
    }

    response = await tenant.post("/v1/createPayment", body)

    # Each once, the allocation's too, although the payment was read twice.
    assert warnings_of(response) == [
        {"parameter": "code", "value": "", "used": None},
        {"parameter": "clientId", "value": "", "used": None},
        {"parameter": "paymentMethodId", "value": "", "used": None},
    ]
    payment = response.json()
    assert payment["client"]["id"] == world["clientId"]
    assert [d["amount"] for d in payment["documents"]] == ["100.00"]


async def test_update_client_leaves_a_field_given_empty_as_it_was(
    tenant: Tenant, world: dict[str, str]
) -> None:
    set_term = await tenant.post("/v1/updateClient", {"id": world["clientId"], "paymentTerm": 15})
    assert warnings_of(set_term) == []

    response = await tenant.post("/v1/updateClient", {"id": world["clientId"], "paymentTerm": "", "city": ""})

    assert warnings_of(response) == [{"parameter": "paymentTerm", "value": "", "used": None}]
    assert response.json()["paymentTerm"] == 15
    assert response.json()["city"] == ""  # an empty text is a text


# --- what /openapi.json says ----------------------------------------------------------------------


async def test_the_published_document_states_the_rules(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    def accepts(schema: dict[str, Any], value: object) -> bool:
        validator = Draft202012Validator({**schema, "components": document["components"]})
        return bool(validator.is_valid(value))

    for path, options in OPTIONS.items():
        operation = document["paths"][path]["get"]
        for parameter in operation["parameters"]:
            schema = parameter["schema"]
            if parameter["required"]:  # empty is missing: a 400
                assert "allowEmptyValue" not in parameter
                assert not accepts(schema, "")
                continue
            assert parameter["allowEmptyValue"] is True, (path, parameter)
            assert accepts(schema, ""), (path, parameter)
            assert accepts(schema, " \t"), (path, parameter)
            if parameter["name"] in options:  # any other text is served as the default
                assert accepts(schema, "sideways"), (path, parameter)
                assert accepts(schema, "-1"), (path, parameter)
                assert "default" in schema, (path, parameter)
        ok = operation["responses"]["200"]
        assert "Warning" in ok["headers"]
        [_, extra] = ok["content"]["application/json"]["schema"]["allOf"]
        assert extra["properties"]["warnings"]["items"] == {"$ref": "#/components/schemas/ParameterWarning"}
    warning = document["components"]["schemas"]["ParameterWarning"]
    assert warning["required"] == ["parameter", "value", "used"]
    send = document["components"]["schemas"]["DocumentCreate"]["properties"]["send"]
    assert {} in send["anyOf"]
    due = document["components"]["schemas"]["DocumentCreate"]["properties"]["dueDate"]
    assert {"type": "null"} in due["anyOf"]
    assert {"type": "string", "pattern": "^[ \t]*$"} in due["anyOf"]
