"""updatePayment: reconcile, discard, back to pending, and the free-text fields; and deleteDocument."""

from __future__ import annotations

from tests.conftest import Tenant, assert_error
from tests.payments.common import amounts, document_now, new_client, new_document, paid, update


async def test_reconciling_a_pending_payment_settles_its_documents(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "40", 1000)
    payment = await paid(tenant, client["id"], 1000, [{"id": document["id"], "amount": 1000}], status=0)

    response = await update(tenant, payment["id"], status=1)

    assert response.status_code == 200, response.text
    reconciled = response.json()
    assert reconciled["status"] == 1
    assert reconciled["reconciledAt"] is not None
    assert reconciled == (await tenant.get("/v1/getPayment", id=payment["id"])).json()
    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", "2024-02-01", "0.00", 1)


async def test_discard_then_re_reconcile(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "41", 1000, due="2020-06-30")
    payment = await paid(tenant, client["id"], 1000, [{"id": document["id"], "amount": 1000}])
    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", "2024-02-01", "0.00", 1)

    discarded = (await update(tenant, payment["id"], status=2)).json()
    assert (discarded["status"], discarded["statusName"], discarded["reconciledAt"]) == (
        2,
        "Descartado",
        None,
    )
    assert amounts(await document_now(tenant, document["id"])) == ("0.00", None, "1000.00", 3)

    again = (await update(tenant, payment["id"], status=1)).json()
    assert again["status"] == 1
    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", "2024-02-01", "0.00", 1)

    pending = (await update(tenant, payment["id"], status=0)).json()
    assert pending["status"] == 0
    assert pending["reconciledAt"] is None
    assert amounts(await document_now(tenant, document["id"])) == ("0.00", None, "1000.00", 3)


async def test_reconciling_re_checks_what_is_owed_now(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "42", 1000)
    pending = await paid(tenant, client["id"], 700, [{"id": document["id"], "amount": 700}], status=0)
    await paid(tenant, client["id"], 500, [{"id": document["id"], "amount": 500}])  # reconciled meanwhile

    response = await update(tenant, pending["id"], status=1, comments="try")

    assert_error(response, 409, "allocation_exceeds_due", "documents[0].amount")
    still = (await tenant.get("/v1/getPayment", id=pending["id"])).json()
    assert (still["status"], still["comments"]) == (0, "")  # the refusal changed nothing
    assert amounts(await document_now(tenant, document["id"])) == ("500.00", None, "500.00", 2)


async def test_discarding_frees_what_was_owed_for_another_payment(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "43", 1000)
    first = await paid(tenant, client["id"], 1000, [{"id": document["id"], "amount": 1000}])
    await update(tenant, first["id"], status=2)
    await paid(tenant, client["id"], 1000, [{"id": document["id"], "amount": 1000}], date="2024-05-05")
    assert amounts(await document_now(tenant, document["id"])) == ("1000.00", "2024-05-05", "0.00", 1)
    assert_error(await update(tenant, first["id"], status=1), 409, "allocation_exceeds_due")


async def test_free_text_fields_and_method_change_alone(tenant: Tenant) -> None:
    client = await new_client(tenant)
    document = await new_document(tenant, client["id"], "44", 1000)
    payment = await paid(tenant, client["id"], 300, [{"id": document["id"], "amount": 300}], description="a")

    response = await update(
        tenant,
        payment["id"],
        description="Pago parcial",
        bankCode="012",
        accountNumber="9-87",
        transactionCode="T1",
        comments="ok",
        paymentMethodId=3,
    )

    changed = response.json()
    assert response.status_code == 200, response.text
    assert (changed["description"], changed["bankCode"], changed["accountNumber"]) == (
        "Pago parcial",
        "012",
        "9-87",
    )
    assert (changed["transactionCode"], changed["comments"], changed["paymentMethod"]) == (
        "T1",
        "ok",
        "Cheque",
    )
    assert changed["status"] == 1
    assert changed["amount"] == "300.00"
    assert changed["reconciledAt"] == payment["reconciledAt"]
    assert amounts(await document_now(tenant, document["id"])) == ("300.00", None, "700.00", 2)
    same = await update(tenant, payment["id"], status=1)  # already reconciled: nothing to do
    assert same.status_code == 200
    assert same.json()["reconciledAt"] == payment["reconciledAt"]


async def test_bad_updates_are_400(tenant: Tenant) -> None:
    client = await new_client(tenant)
    payment = await paid(tenant, client["id"], 10, [])
    for body, field in [
        ({"status": 3}, "status"),
        ({"status": -1}, "status"),
        ({"paymentMethodId": 0}, "paymentMethodId"),
        ({"description": "x" * 256}, "description"),
    ]:
        response = await update(tenant, payment["id"], **body)
        assert_error(response, 400, "invalid_parameter", field)
    assert_error(await tenant.post("/v1/updatePayment", {"status": 1}), 400, "missing_parameter", "id")


async def test_a_document_with_payments_cannot_be_deleted(tenant: Tenant) -> None:
    client = await new_client(tenant, "99999999-9")
    document = await new_document(tenant, client["id"], "45", 1000)
    payment = await paid(tenant, client["id"], 100, [{"id": document["id"], "amount": 100}], status=0)
    body = {"clientTaxId": "99999999-9", "number": "45"}

    response = await tenant.delete("/v1/deleteDocument", body)

    assert_error(response, 409, "document_has_payments", "number")
    assert "payments" in response.json()["error"]["message"]
    await update(tenant, payment["id"], status=2)  # even a discarded payment keeps its document
    assert_error(await tenant.delete("/v1/deleteDocument", body), 409, "document_has_payments")
    assert (await tenant.get("/v1/getDocument", id=document["id"])).status_code == 200
    unpaid = await new_document(tenant, client["id"], "46", 1000)
    assert (await tenant.delete("/v1/deleteDocument", {**body, "number": "46"})).status_code == 200
    assert (await tenant.get("/v1/getDocument", id=unpaid["id"])).status_code == 404
