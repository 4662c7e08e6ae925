"""POST /v1/createDocument: a document from its fields, as Duemint's createDocument."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dtehub.documents.service import insert_documents, new_document_row
from dtehub.kit.dates import today_in_santiago, utcnow
from tests.conftest import Tenant, error_of

CLIENT_TAX_ID = "99999999-9"


async def create_client(tenant: Tenant, tax_id: str = CLIENT_TAX_ID, **fields: Any) -> str:
    response = await tenant.post("/v1/createClient", {"name": "CLIENTE EJEMPLO", "taxId": tax_id, **fields})
    assert response.status_code == 200, response.text
    client_id: str = response.json()["id"]
    return client_id


def spec_body(client_id: str, **overrides: Any) -> dict[str, Any]:
    """The body of Duemint's createDocument example, for one of our clients."""
    body: dict[str, Any] = {
        "clientId": client_id,
        "number": "696",
        "issueDate": "2018-04-06",
        "total": "96272",
        "taxes": "15371",
        "currency": "CLP",
    }
    body.update(overrides)
    return body


async def document_count(tenant: Tenant) -> int:
    response = await tenant.get("/v1/getDocuments")
    assert response.status_code == 200, response.text
    count: int = response.json()["records"]["totalRecords"]
    return count


async def tag_names(tenant: Tenant) -> list[str]:
    response = await tenant.get("/v1/getTags", resultsPerPage=100)
    assert response.status_code == 200, response.text
    return [tag["name"] for tag in response.json()["items"]]


async def test_spec_example_answers_the_example_response(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id))

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["clientTaxId"] == CLIENT_TAX_ID
    assert doc["number"] == "696"
    assert doc["issueDate"] == "2018-04-06"
    assert doc["dueDate"] == "2018-04-13"  # the company's 7 days: the client has no payment term
    assert doc["net"] == "80901.00"
    assert doc["taxes"] == "15371.00"
    assert doc["total"] == "96272.00"
    assert doc["amountDue"] == "96272.00"
    assert doc["paidAmount"] == "0.00"
    assert doc["paidDate"] is None
    assert doc["currency"] == "CLP"
    assert doc["code"] is None
    assert (doc["status"], doc["statusName"]) == (3, "Vencida")
    assert (doc["purchaseOrder"], doc["gloss"], doc["notes"]) == ("", "", "")
    assert doc["client"] == {"id": client_id}
    assert doc["tags"] == []
    assert doc["files"] == []


async def test_created_document_is_what_get_document_answers(tenant: Tenant) -> None:
    client_id = await create_client(tenant)
    created = (await tenant.post("/v1/createDocument", spec_body(client_id))).json()

    fetched = await tenant.get("/v1/getDocument", id=created["id"])

    assert fetched.status_code == 200
    assert fetched.json() == created
    assert await document_count(tenant) == 1


async def test_due_date_uses_the_clients_payment_term(tenant: Tenant) -> None:
    client_id = await create_client(tenant, paymentTerm=30)

    doc = (await tenant.post("/v1/createDocument", spec_body(client_id))).json()

    assert doc["dueDate"] == "2018-05-06"


async def test_a_client_term_of_zero_days_is_used_rather_than_the_companys(tenant: Tenant) -> None:
    client_id = await create_client(tenant, paymentTerm=0)

    doc = (await tenant.post("/v1/createDocument", spec_body(client_id))).json()

    assert doc["dueDate"] == "2018-04-06"


async def test_due_date_uses_each_companys_own_term(tenant: Tenant, other_tenant: Tenant) -> None:
    other_client = await create_client(other_tenant)

    doc = (await other_tenant.post("/v1/createDocument", spec_body(other_client))).json()

    assert doc["dueDate"] == "2018-05-06"  # other_tenant's term is 30 days


async def test_explicit_due_date_is_kept(tenant: Tenant) -> None:
    client_id = await create_client(tenant, paymentTerm=30)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, dueDate="2018-06-30"))

    assert response.status_code == 200, response.text
    assert response.json()["dueDate"] == "2018-06-30"


async def test_due_date_equal_to_issue_date_is_accepted(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, dueDate="2018-04-06"))

    assert response.status_code == 200, response.text
    assert response.json()["dueDate"] == "2018-04-06"


async def test_future_due_date_is_not_yet_due(tenant: Tenant) -> None:
    client_id = await create_client(tenant)
    today = today_in_santiago()
    body = spec_body(client_id, issueDate=today.isoformat(), dueDate=(today + timedelta(days=10)).isoformat())

    doc = (await tenant.post("/v1/createDocument", body)).json()

    assert (doc["status"], doc["statusName"]) == (2, "Por vencer")


async def test_amounts_may_be_json_numbers(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, total=96272, taxes=15371))

    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["net"], doc["taxes"], doc["total"]) == ("80901.00", "15371.00", "96272.00")


@pytest.mark.parametrize(
    ("total", "taxes", "expected"),
    [
        ("10.5", "0", ("10.50", "0.00", "10.50")),
        ("10.55", "1.05", ("9.50", "1.05", "10.55")),
        (10.5, 0.25, ("10.25", "0.25", "10.50")),
        (0.1, 0, ("0.10", "0.00", "0.10")),
        (" 100 ", "19", ("81.00", "19.00", "100.00")),
        ("100.00", "100", ("0.00", "100.00", "100.00")),
    ],
)
async def test_amounts_with_up_to_two_decimals_are_exact(
    tenant: Tenant, total: object, taxes: object, expected: tuple[str, str, str]
) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, total=total, taxes=taxes))

    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["net"], doc["taxes"], doc["total"]) == expected
    assert doc["amountDue"] == expected[2]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total", "10.505"),
        ("total", 10.505),
        ("total", "-1"),
        ("total", -96272),
        ("total", "abc"),
        ("total", "NaN"),
        ("total", "Infinity"),
        ("total", ""),
        ("total", True),
        ("total", "1" + "0" * 20),
        ("taxes", "0.001"),
        ("taxes", "-15371"),
    ],
)
async def test_invalid_amounts_are_refused_naming_the_field(
    tenant: Tenant, field: str, value: object
) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, **{field: value}))

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid_parameter", field)
    assert await document_count(tenant) == 0


async def test_taxes_over_the_total_are_refused(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, total="100", taxes="100.01"))

    # Each field is as the API document states; together they cannot be accepted: 422.
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("unprocessable", "taxes")
    assert await document_count(tenant) == 0


async def test_due_date_before_issue_date_is_refused(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, dueDate="2018-04-05"))

    # Each field is as the API document states; together they cannot be accepted: 422.
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("unprocessable", "dueDate")
    assert await document_count(tenant) == 0


@pytest.mark.parametrize("code", [33, 34, 39, 41, 43, 46, 110])
async def test_receivable_codes_are_accepted_and_shown(tenant: Tenant, code: int) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, code=code))

    assert response.status_code == 200, response.text
    assert response.json()["code"] == code


@pytest.mark.parametrize("code", [61, 56, 52, 999, 0, -33])
async def test_codes_that_are_not_receivables_are_refused(tenant: Tenant, code: int) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, code=code))

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid_parameter", "code")
    assert await document_count(tenant) == 0


@pytest.mark.parametrize("issue_date", ["2018-02-30", "06-04-2018", "2018/04/06", "yesterday", ""])
async def test_bad_issue_date_is_refused(tenant: Tenant, issue_date: str) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, issueDate=issue_date))

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("invalid_parameter", "issueDate")


async def test_bad_due_date_is_refused(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, dueDate="2018-13-01"))

    assert response.status_code == 400, response.text
    assert error_of(response)["field"] == "dueDate"


@pytest.mark.parametrize("missing", ["clientId", "number", "issueDate", "total", "taxes"])
async def test_missing_required_field_is_named(tenant: Tenant, missing: str) -> None:
    client_id = await create_client(tenant)
    body = spec_body(client_id)
    del body[missing]

    response = await tenant.post("/v1/createDocument", body)

    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("missing_parameter", missing)
    assert await document_count(tenant) == 0


async def test_blank_number_is_refused(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, number="   "))

    assert response.status_code == 400, response.text
    assert error_of(response)["field"] == "number"


@pytest.mark.parametrize("content", [b'{"clientId": "1", "number": ', b"clientId=1&number=696", b"\xff\xfe"])
async def test_invalid_json_body_is_refused(tenant: Tenant, content: bytes) -> None:
    response = await tenant.http.post(
        "/v1/createDocument", content=content, headers={**tenant.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 400, response.text
    assert error_of(response)["code"] == "invalid_json"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
async def test_body_is_read_as_json_whatever_the_content_type(
    tenant: Tenant, content_type: str | None
) -> None:
    """Duemint's curl examples send -d without a Content-Type, so curl declares a form."""
    client_id = await create_client(tenant)
    headers = dict(tenant.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = await tenant.http.post(
        "/v1/createDocument", content=json.dumps(spec_body(client_id)).encode(), headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["total"] == "96272.00"
    assert await document_count(tenant) == 1


async def test_new_tags_are_created_and_listed_on_the_document(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, tags=["Retail", "Urgente"]))

    assert response.status_code == 200, response.text
    tags = (await tenant.get("/v1/getTags")).json()["items"]
    assert sorted(t["name"] for t in tags) == ["Retail", "Urgente"]
    assert sorted(t["id"] for t in response.json()["tags"]) == sorted(t["id"] for t in tags)
    expanded = (await tenant.get("/v1/getDocument", id=response.json()["id"], expandTag=1)).json()
    assert sorted(t["name"] for t in expanded["tags"]) == ["Retail", "Urgente"]


async def test_existing_tags_are_reused_not_duplicated(tenant: Tenant) -> None:
    client_id = await create_client(tenant)
    existing = (await tenant.post("/v1/createTag", {"name": "Retail"})).json()

    first = await tenant.post("/v1/createDocument", spec_body(client_id, tags=["Retail", "Nueva"]))
    second = await tenant.post("/v1/createDocument", spec_body(client_id, number="697", tags=["Nueva"]))

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert sorted(await tag_names(tenant)) == ["Nueva", "Retail"]
    assert existing["id"] in [t["id"] for t in first.json()["tags"]]
    assert second.json()["tags"] == [t for t in first.json()["tags"] if t["id"] != existing["id"]]


async def test_a_tag_named_twice_in_one_request_is_one_tag(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, tags=["Retail", "Retail"]))

    assert response.status_code == 200, response.text
    assert len(response.json()["tags"]) == 1
    assert await tag_names(tenant) == ["Retail"]


async def test_tags_are_per_company(tenant: Tenant, other_tenant: Tenant) -> None:
    await other_tenant.post("/v1/createTag", {"name": "Retail"})
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, tags=["Retail"]))

    assert response.status_code == 200, response.text
    [tag] = (await tenant.get("/v1/getTags")).json()["items"]
    assert response.json()["tags"] == [{"id": tag["id"]}]
    assert await tag_names(other_tenant) == ["Retail"]


@pytest.mark.parametrize("send", [1, 0, True, False, "1"])
async def test_send_is_accepted(tenant: Tenant, send: object) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, send=send))

    assert response.status_code == 200, response.text


async def test_purchase_order_gloss_and_notes_are_stored(tenant: Tenant) -> None:
    client_id = await create_client(tenant)
    body = spec_body(client_id, purchaseOrder="OC456", gloss="Asesoría de abril", notes="Línea 1\nLínea 2")

    created = (await tenant.post("/v1/createDocument", body)).json()

    doc = (await tenant.get("/v1/getDocument", id=created["id"])).json()
    assert doc["purchaseOrder"] == "OC456"
    assert doc["gloss"] == "Asesoría de abril"
    assert doc["notes"] == "Línea 1\nLínea 2"


async def test_currency_is_stored_upper_case(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    created = (await tenant.post("/v1/createDocument", spec_body(client_id, currency="usd"))).json()

    assert created["currency"] == "USD"
    listed = (await tenant.get("/v1/getDocuments", currency="USD")).json()
    assert [d["id"] for d in listed["items"]] == [created["id"]]


async def test_currency_defaults_to_clp(tenant: Tenant) -> None:
    client_id = await create_client(tenant)
    body = spec_body(client_id)
    del body["currency"]

    response = await tenant.post("/v1/createDocument", body)

    assert response.status_code == 200, response.text
    assert response.json()["currency"] == "CLP"


@pytest.mark.parametrize("currency", ["US", "USDX", "U$D", "123"])
async def test_currency_that_is_not_three_letters_is_refused(tenant: Tenant, currency: str) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, currency=currency))

    assert response.status_code == 400, response.text
    assert error_of(response)["field"] == "currency"


@pytest.mark.parametrize("code", [None, 33])
async def test_duplicate_number_and_code_is_a_conflict_and_changes_nothing(
    tenant: Tenant, code: int | None
) -> None:
    client_id = await create_client(tenant)
    original = (await tenant.post("/v1/createDocument", spec_body(client_id, code=code))).json()

    response = await tenant.post(
        "/v1/createDocument", spec_body(client_id, code=code, total="1000", taxes="0", tags=["Nueva"])
    )

    assert response.status_code == 409, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("already_exists", "number")
    assert await document_count(tenant) == 1
    assert (await tenant.get("/v1/getDocument", id=original["id"])).json() == original
    assert await tag_names(tenant) == []


async def test_duplicate_is_detected_after_whitespace_is_trimmed(tenant: Tenant) -> None:
    client_id = await create_client(tenant)
    await tenant.post("/v1/createDocument", spec_body(client_id))

    response = await tenant.post("/v1/createDocument", spec_body(client_id, number=" 696 "))

    assert response.status_code == 409, response.text
    assert await document_count(tenant) == 1


async def test_duplicate_for_another_client_of_the_same_company_is_a_conflict(tenant: Tenant) -> None:
    first_client = await create_client(tenant)
    second_client = await create_client(tenant, tax_id="76399752-9")
    await tenant.post("/v1/createDocument", spec_body(first_client, code=33))

    response = await tenant.post("/v1/createDocument", spec_body(second_client, code=33))

    assert response.status_code == 409, response.text
    assert await document_count(tenant) == 1


@pytest.mark.parametrize(("first_code", "second_code"), [(None, 33), (33, 34), (33, None)])
async def test_same_number_with_a_different_code_is_another_document(
    tenant: Tenant, first_code: int | None, second_code: int | None
) -> None:
    client_id = await create_client(tenant)
    first = await tenant.post("/v1/createDocument", spec_body(client_id, code=first_code))

    second = await tenant.post("/v1/createDocument", spec_body(client_id, code=second_code))

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert first.json()["id"] != second.json()["id"]
    assert await document_count(tenant) == 2


async def test_same_number_in_another_company_is_another_document(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    ours = await tenant.post("/v1/createDocument", spec_body(await create_client(tenant), code=33))

    theirs = await other_tenant.post(
        "/v1/createDocument", spec_body(await create_client(other_tenant), code=33)
    )

    assert ours.status_code == 200, ours.text
    assert theirs.status_code == 200, theirs.text
    assert await document_count(tenant) == 1
    assert await document_count(other_tenant) == 1


async def test_unknown_client_is_not_found(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createDocument", spec_body("987654321"))

    assert response.status_code == 404, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("not_found", "clientId")
    assert await document_count(tenant) == 0


async def test_another_companys_client_is_indistinguishable_from_a_missing_one(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await create_client(other_tenant)
    missing = str(int(theirs) + 1000)

    foreign = await tenant.post("/v1/createDocument", spec_body(theirs))
    absent = await tenant.post("/v1/createDocument", spec_body(missing))

    assert foreign.status_code == absent.status_code == 404
    foreign_error, absent_error = error_of(foreign), error_of(absent)
    assert foreign_error["message"].replace(theirs, "<id>") == absent_error["message"].replace(
        missing, "<id>"
    )
    assert {**foreign_error, "message": ""} == {**absent_error, "message": ""}
    assert await document_count(tenant) == 0
    assert await document_count(other_tenant) == 0


@pytest.mark.parametrize("client_id", ["0", "-5", "abc", "1" + "0" * 30])
async def test_client_id_that_is_no_id_is_refused(tenant: Tenant, client_id: str) -> None:
    response = await tenant.post("/v1/createDocument", spec_body(client_id))

    assert response.status_code in (400, 404, 422), response.text
    assert error_of(response)["field"] == "clientId"
    assert await document_count(tenant) == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"clientId": "987654321"},
        {"total": "100", "taxes": "200"},
        {"dueDate": "2018-01-01"},
        {"code": 61},
    ],
)
async def test_a_refused_request_creates_none_of_its_tags(tenant: Tenant, overrides: dict[str, Any]) -> None:
    client_id = await create_client(tenant)

    response = await tenant.post("/v1/createDocument", spec_body(client_id, tags=["Nueva"], **overrides))

    assert response.status_code in (400, 404, 422), response.text
    assert await tag_names(tenant) == []
    assert await document_count(tenant) == 0


async def test_without_a_token_nothing_is_created(tenant: Tenant) -> None:
    client_id = await create_client(tenant)

    response = await tenant.http.post("/v1/createDocument", json=spec_body(client_id))

    assert response.status_code == 401, response.text
    assert error_of(response)["code"] == "unauthorized"
    assert await document_count(tenant) == 0


async def test_the_insert_itself_refuses_a_taken_number(tenant: Tenant, session: Session) -> None:
    """Documents are inserted one way (createDocument, the import, SII retrieval): a (code, number)
    taken by a writer that got there first is refused by the insert too, and changes nothing."""
    client_id = int(await create_client(tenant))

    def row() -> dict[str, object]:
        return new_document_row(
            tenant.company_id, client_id, code=33, number="696", issue_date=date(2018, 4, 6),
            due_date=date(2018, 4, 13), currency="CLP", total_cents=9627200, taxes_cents=1537100,
            net_cents=8090100, now=utcnow(),
        )  # fmt: skip

    [first] = insert_documents(session, tenant.company_id, [row()])
    with pytest.raises(IntegrityError), session.begin_nested():
        insert_documents(session, tenant.company_id, [row()])

    assert await document_count(tenant) == 1
    shown = (await tenant.get("/v1/getDocument", id=first)).json()
    assert (shown["number"], shown["total"], shown["amountDue"], shown["status"]) == (
        "696",
        "96272.00",
        "96272.00",
        3,
    )
    response = await tenant.post("/v1/createDocument", spec_body(str(client_id), code=33))
    assert response.status_code == 409, response.text
