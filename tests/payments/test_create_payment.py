"""createPayment, getPayment and what a payment does to its documents, as an integrator sees them."""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant, assert_error
from tests.notes import credit_xml, debit_xml, invoice_xml, store
from tests.payments.common import amounts, document_now, new_client, new_document, paid, pay


async def test_create_payment_answers_the_payment_as_get_payment_shows_it(tenant: Tenant) -> None:
    client = await new_client(tenant, "99999999-9", "CLIENTE EJEMPLO")
    first = await new_document(tenant, client["id"], "100", 1000)
    second = await new_document(tenant, client["id"], "101", 500, code=34)

    response = await pay(
        tenant,
        client["id"],
        "1500.50",
        [{"id": first["id"], "amount": 1000}, {"number": "101", "code": 34, "amount": "500"}],
        currency="clp",
        paymentMethodId=1,
        description="Pago facturas enero",
        bankCode="001",
        accountNumber="123-456",
        transactionCode="TX-9",
        comments="conciliado a mano",
    )

    assert response.status_code == 200, response.text
    payment = response.json()
    assert isinstance(payment["id"], str)
    assert payment["date"] == "2024-02-01"
    assert payment["currency"] == "CLP"
    assert payment["amount"] == "1500.50"
    assert payment["unallocatedAmount"] == "0.50"
    assert payment["paymentMethod"] == "Transferencia"
    assert payment["paymentMethodId"] == "1"
    assert (payment["description"], payment["bankCode"], payment["accountNumber"]) == (
        "Pago facturas enero",
        "001",
        "123-456",
    )
    assert (payment["transactionCode"], payment["comments"]) == ("TX-9", "conciliado a mano")
    assert payment["status"] == 1
    assert payment["statusName"] == "Conciliado"
    assert payment["reconciledAt"] is not None
    assert len(payment["reconciledAt"]) == 19
    assert len(payment["createdAt"]) == 19
    assert payment["client"] == {"id": client["id"], "name": "CLIENTE EJEMPLO", "taxId": "99999999-9"}
    assert payment["documentNumber"] == "100"
    assert payment["documents"] == [
        {"amount": "1000.00", "document": {"id": first["id"], "number": "100", "code": 33}},
        {"amount": "500.00", "document": {"id": second["id"], "number": "101", "code": 34}},
    ]
    assert payment["files"] == []
    shown = await tenant.get("/v1/getPayment", id=payment["id"])
    assert shown.status_code == 200
    assert shown.json() == payment


async def test_client_by_tax_id_and_a_payment_without_documents(tenant: Tenant) -> None:
    client = await new_client(tenant, "99999999-9")
    response = await tenant.post(
        "/v1/createPayment", {"date": "2024-03-01", "amount": 10, "clientTaxId": "99.999.999-9"}
    )
    assert response.status_code == 200, response.text
    payment = response.json()
    assert payment["client"]["id"] == client["id"]
    assert payment["documents"] == []
    assert payment["documentNumber"] is None
    assert payment["unallocatedAmount"] == "10.00"
    assert payment["paymentMethod"] is None


async def test_a_reconciled_payment_settles_at_once(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "7", 1000)
    assert amounts(document) == ("0.00", None, "1000.00", 2)

    await paid(tenant, client["id"], 1000, [{"id": document["id"], "amount": 1000}], date="2024-02-03")

    after = await document_now(tenant, document["id"])
    assert amounts(after) == ("1000.00", "2024-02-03", "0.00", 1)
    assert after["statusName"] == "Pagada"


async def test_partial_payments_add_up_and_the_settling_one_gives_paid_date(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "8", 1000, due="2020-01-31")
    assert document["status"] == 3  # Vencida

    await paid(tenant, client["id"], 300, [{"id": document["id"], "amount": 300}], date="2024-02-01")
    assert amounts(await document_now(tenant, document["id"])) == ("300.00", None, "700.00", 3)

    await paid(tenant, client["id"], 650, [{"id": document["id"], "amount": "650.00"}], date="2024-02-10")
    assert amounts(await document_now(tenant, document["id"])) == ("950.00", None, "50.00", 3)

    await paid(tenant, client["id"], 50, [{"id": document["id"], "amount": 50}], date="2024-02-20")
    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", "2024-02-20", "0.00", 1)


async def test_paid_date_is_the_payment_that_settled_by_payment_date_not_by_arrival(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "9", 1000)
    await paid(tenant, client["id"], 600, [{"id": document["id"], "amount": 600}], date="2024-03-10")
    # Recorded later, but paid earlier: the March payment is the one that completed it.
    await paid(tenant, client["id"], 400, [{"id": document["id"], "amount": 400}], date="2024-03-01")
    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", "2024-03-10", "0.00", 1)


async def test_one_payment_split_over_several_documents(tenant: Tenant) -> None:
    client = await new_client(tenant)
    a = await new_document(tenant, client["id"], "10", 1000)
    b = await new_document(tenant, client["id"], "11", 2000)
    c = await new_document(tenant, client["id"], "12", 300, due="2020-01-01")

    await paid(
        tenant,
        client["id"],
        3000,
        [{"id": a["id"], "amount": 1000}, {"id": b["id"], "amount": 1700}, {"id": c["id"], "amount": 300}],
    )

    assert amounts(await document_now(tenant, a["id"])) == ("1000.00", "2024-02-01", "0.00", 1)
    assert amounts(await document_now(tenant, b["id"])) == ("1700.00", None, "300.00", 2)
    assert amounts(await document_now(tenant, c["id"])) == ("300.00", "2024-02-01", "0.00", 1)


async def test_a_pending_payment_does_not_count_until_reconciled(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "13", 1000)
    payment = await paid(tenant, client["id"], 1000, [{"id": document["id"], "amount": 1000}], status=0)
    assert payment["status"] == 0
    assert payment["statusName"] == "Pendiente de conciliación"
    assert payment["reconciledAt"] is None
    assert amounts(await document_now(tenant, document["id"])) == ("0.00", None, "1000.00", 2)


async def test_the_status_and_amount_due_agree_with_get_documents(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "14", 1000)
    await paid(tenant, client["id"], 1000, [{"id": document["id"], "amount": 1000}])
    listed = (await tenant.get("/v1/getDocuments", status=1)).json()["items"]
    assert [(d["id"], d["amountDue"], d["paidAmount"]) for d in listed] == [
        (document["id"], "0.00", "1000.00")
    ]
    assert (await tenant.get("/v1/getDocuments", status=2)).json()["items"] == []


# refusals: each answers a clear error and changes nothing


async def _nothing_changed(tenant: Tenant, *documents: dict[str, Any]) -> None:
    for document in documents:
        assert amounts(await document_now(tenant, document["id"])) == amounts(document)
    for status in (0, 1, 2):
        assert (await tenant.get("/v1/getPayments", status=status)).json()["records"]["totalRecords"] == 0


async def test_more_than_the_document_owes_is_refused(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "20", 1000)
    response = await pay(tenant, client["id"], 2000, [{"id": document["id"], "amount": "1000.01"}])
    assert_error(response, 409, "allocation_exceeds_due", "documents[0].amount")
    assert "1000.00" in response.json()["error"]["message"]
    await _nothing_changed(tenant, document)


async def test_what_is_owed_counts_the_reconciled_payments_only(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "21", 1000)
    await paid(tenant, client["id"], 600, [{"id": document["id"], "amount": 600}])
    await paid(tenant, client["id"], 400, [{"id": document["id"], "amount": 400}], status=0)  # pending

    response = await pay(tenant, client["id"], 401, [{"id": document["id"], "amount": 401}])
    assert_error(response, 409, "allocation_exceeds_due", "documents[0].amount")
    await paid(tenant, client["id"], 400, [{"id": document["id"], "amount": 400}])  # exactly what is owed
    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", "2024-02-01", "0.00", 1)
    settled = await pay(tenant, client["id"], 1, [{"id": document["id"], "amount": "0.01"}])
    assert_error(settled, 409, "allocation_exceeds_due")


async def test_allocations_over_the_payments_amount_are_refused(tenant: Tenant) -> None:
    client = await new_client(tenant)
    a = await new_document(tenant, client["id"], "22", 1000)
    b = await new_document(tenant, client["id"], "23", 1000)
    response = await pay(
        tenant, client["id"], 1000, [{"id": a["id"], "amount": 600}, {"id": b["id"], "amount": "400.01"}]
    )
    assert_error(response, 422, "allocation_exceeds_payment", "documents")
    await _nothing_changed(tenant, a, b)


async def test_a_document_of_another_client_is_refused(tenant: Tenant) -> None:
    client = await new_client(tenant)
    other = await new_client(tenant)
    document = await new_document(tenant, other["id"], "24", 1000)
    response = await pay(tenant, client["id"], 100, [{"id": document["id"], "amount": 100}])
    assert_error(response, 422, "document_of_another_client", "documents[0].amount")
    await _nothing_changed(tenant, document)


async def test_a_document_in_another_currency_is_refused(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "25", 1000, currency="USD")
    response = await pay(tenant, client["id"], 100, [{"id": document["id"], "amount": 100}])
    assert_error(response, 422, "currency_mismatch", "documents[0].amount")
    ok = await pay(tenant, client["id"], 100, [{"id": document["id"], "amount": 100}], currency="USD")
    assert ok.status_code == 200, ok.text


async def test_a_document_listed_twice_is_refused(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "26", 1000)
    response = await pay(
        tenant,
        client["id"],
        200,
        [{"id": document["id"], "amount": 100}, {"number": "26", "code": 33, "amount": 100}],
    )
    assert_error(response, 422, "duplicate_document", "documents[1]")
    await _nothing_changed(tenant, document)


async def test_a_voided_document_is_refused(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, 27, 1190))
    await store(tenant, credit_xml(tenant, 1, 100, 27, reason=1, reason_text="Anula factura"))
    response = await pay(tenant, document["client"]["id"], 100, [{"id": document["id"], "amount": 100}])
    assert_error(response, 409, "document_voided", "documents[0].amount")


async def test_credit_and_debit_notes_change_what_is_owed(tenant: Tenant) -> None:
    document = await store(tenant, invoice_xml(tenant, 29, 1190))
    client_id = document["client"]["id"]
    await store(tenant, credit_xml(tenant, 2, 190, 29))
    assert_error(await pay(tenant, client_id, 1001, [{"id": document["id"], "amount": 1001}]), 409)
    await paid(tenant, client_id, 1000, [{"id": document["id"], "amount": 1000}])
    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", "2024-02-01", "0.00", 1)
    await store(tenant, debit_xml(tenant, 3, 50, 29))  # owed again: a payment may take it
    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", None, "50.00", 2)
    await paid(tenant, client_id, 50, [{"id": document["id"], "amount": 50}], date="2024-04-01")
    assert amounts(await document_now(tenant, document["id"])) == ("1050.00", "2024-04-01", "0.00", 1)


async def test_a_credit_note_that_settles_a_partly_paid_document_dates_it_by_its_last_payment(
    tenant: Tenant,
) -> None:
    document = await store(tenant, invoice_xml(tenant, 32, 1190))
    client_id = document["client"]["id"]
    await paid(tenant, client_id, 1000, [{"id": document["id"], "amount": 1000}], date="2024-03-05")
    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", None, "190.00", 2)

    await store(tenant, credit_xml(tenant, 4, 190, 32))

    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", "2024-03-05", "0.00", 1)


async def test_unknown_and_another_companys_documents_answer_alike(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    client = await new_client(tenant)
    theirs_client = await new_client(other_tenant)
    theirs = await new_document(other_tenant, theirs_client["id"], "28", 1000)

    foreign = await pay(tenant, client["id"], 100, [{"id": theirs["id"], "amount": 100}])
    missing = await pay(tenant, client["id"], 100, [{"id": "999999999", "amount": 100}])
    assert_error(foreign, 404, "not_found", "documents[0].id")
    assert_error(missing, 404, "not_found", "documents[0].id")
    assert foreign.json()["error"]["message"] == missing.json()["error"]["message"].replace(
        "999999999", theirs["id"]
    )
    by_number = await pay(tenant, client["id"], 100, [{"number": "28", "amount": 100}])
    assert_error(by_number, 404, "not_found", "documents[0].number")
    assert amounts(await document_now(other_tenant, theirs["id"])) == ("0.00", None, "1000.00", 2)


async def test_another_companys_client_and_payment_answer_as_missing(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs_client = await new_client(other_tenant)
    theirs = await paid(other_tenant, theirs_client["id"], 100, [])
    assert_error(await pay(tenant, theirs_client["id"], 100, []), 404, "not_found", "clientId")
    assert_error(await tenant.get("/v1/getPayment", id=theirs["id"]), 404, "not_found", "id")
    assert_error(await tenant.get("/v1/getPayment", id="999999999"), 404, "not_found", "id")
    assert_error(
        await tenant.post("/v1/updatePayment", {"id": theirs["id"], "status": 2}), 404, "not_found", "id"
    )
    assert (await other_tenant.get("/v1/getPayment", id=theirs["id"])).json()["status"] == 1


async def test_an_ambiguous_number_needs_its_code(tenant: Tenant) -> None:
    client = await new_client(tenant)
    await new_document(tenant, client["id"], "30", 1000, code=33)
    exempt = await new_document(tenant, client["id"], "30", 1000, code=34)
    response = await pay(tenant, client["id"], 100, [{"number": "30", "amount": 100}])
    assert_error(response, 409, "ambiguous_document", "documents[0].code")
    payment = await paid(tenant, client["id"], 100, [{"number": "30", "code": 34, "amount": 100}])
    assert payment["documents"][0]["document"]["id"] == exempt["id"]


async def test_bad_bodies_are_400(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "31", 1000)
    ref = [{"id": document["id"], "amount": 1}]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": 1, "clientId": client["id"]}, "date"),
        ({"date": "2024-02-30", "amount": 1, "clientId": client["id"]}, "date"),
        ({"date": "2024-02-01", "clientId": client["id"]}, "amount"),
        ({"date": "2024-02-01", "amount": 0, "clientId": client["id"]}, "amount"),
        ({"date": "2024-02-01", "amount": "1.001", "clientId": client["id"]}, "amount"),
        ({"date": "2024-02-01", "amount": -5, "clientId": client["id"]}, "amount"),
        ({"date": "2024-02-01", "amount": 1, "clientId": client["id"], "currency": "PESOS"}, "currency"),
        (
            {"date": "2024-02-01", "amount": 1, "clientId": client["id"], "paymentMethodId": 99},
            "paymentMethodId",
        ),
        ({"date": "2024-02-01", "amount": 1, "clientId": client["id"], "status": 2}, "status"),
        ({"date": "2024-02-01", "amount": 1, "clientTaxId": "12345678-0"}, "clientTaxId"),
        ({"date": "2024-02-01", "amount": 1}, "clientId"),
        ({"date": "2024-02-01", "amount": 1, "clientId": client["id"], "documents": [{"amount": 1}]}, "0"),
        (
            {
                "date": "2024-02-01",
                "amount": 1,
                "clientId": client["id"],
                "documents": [{**ref[0], "amount": 0}],
            },
            "amount",
        ),
    ]
    for body, field in cases:
        response = await tenant.post("/v1/createPayment", body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["field"] == field, (body, response.text)
    await _nothing_changed(tenant, document)


async def test_client_id_and_tax_id_must_agree(tenant: Tenant) -> None:
    client = await new_client(tenant)
    response = await tenant.post(
        "/v1/createPayment",
        {"date": "2024-02-01", "amount": 1, "clientId": client["id"], "clientTaxId": "99999999-9"},
    )
    # Each is well-formed: that they name different clients is a 422 (docs/api.md, the API document).
    assert_error(response, 422, "unprocessable", "clientTaxId")
    unknown = await tenant.post(
        "/v1/createPayment", {"date": "2024-02-01", "amount": 1, "clientTaxId": "99999999-9"}
    )
    assert_error(unknown, 404, "not_found", "clientTaxId")


async def test_payment_methods(tenant: Tenant) -> None:
    response = await tenant.get("/v1/getPaymentMethods")
    assert response.status_code == 200
    body = response.json()
    assert body["records"] == {"totalRecords": 10, "items": 10, "page": 1, "pages": 1}
    assert body["items"][0] == {"id": "1", "name": "Transferencia"}
    assert {"id": "10", "name": "Otro"} in body["items"]
    for item in body["items"]:
        payment_method = {"date": "2024-02-01", "amount": 1, "clientId": (await new_client(tenant))["id"]}
        created = await tenant.post(
            "/v1/createPayment", {**payment_method, "paymentMethodId": int(item["id"])}
        )
        assert created.json()["paymentMethod"] == item["name"]
