"""The payments pages (``/app/payments``): the list by state with paging, one payment's page, a payment
of one client split over several documents (createPayment's rules: what the service refuses shows the
form again, nothing changed), reconciling and discarding (updatePayment's), each in the audit log with
the user; viewers read and their actions answer 403."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago
from dtehub.models import AuditEvent, Payment, Role
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of


async def furnish(t: Tenant) -> dict[str, Any]:
    """A client with three facturas: $1.190.000 and $500.000 overdue, $300.000 due in 20 days."""
    client = await t.post("/v1/createClient", {"name": "ALFA LTDA", "taxId": "96874030-K"})
    assert client.status_code == 200, client.text
    today = today_in_santiago()
    documents = []
    for number, total, days in (("101", "1190000", -15), ("102", "500000", -5), ("103", "300000", 20)):
        due = today + timedelta(days=days)
        body = {
            "clientId": client.json()["id"], "number": number, "code": 33, "total": total, "taxes": "0",
            "issueDate": (due - timedelta(days=30)).isoformat(), "dueDate": due.isoformat(),
        }  # fmt: skip
        created = await t.post("/v1/createDocument", body)
        assert created.status_code == 200, created.text
        documents.append(created.json())
    return {"client": client.json(), "documents": documents}


async def signed_in(web: WebBrowser, session: Session, t: Tenant, role: Role) -> WebBrowser:
    address = f"{role.value}-pagos@example.cl"
    add_user(session, t.company_id, role, email=address)
    return await web.signed_in(address)


def payments_of(session: Session, company_id: int) -> list[tuple[int, int, int]]:
    session.expire_all()
    rows = session.execute(
        select(Payment.id, Payment.amount_cents, Payment.status)
        .where(Payment.company_id == company_id)
        .order_by(Payment.id)
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _split(furnished: dict[str, Any], amounts: list[str], **fields: str) -> dict[str, Any]:
    form: dict[str, Any] = {
        "clientId": furnished["client"]["id"], "currency": "CLP", "date": "", "method": "1",
        "description": "Transferencia de noviembre", "status": "1",
        "document": [d["id"] for d in furnished["documents"]], "allocated": amounts,
    }  # fmt: skip
    return {**form, **fields}


async def _post(web: WebBrowser, path: str, form: dict[str, Any]) -> Any:
    """A form as the browser sends it, repeated fields included, with the page's CSRF token."""
    response = await web.http.post(path, data={"csrf_token": web.csrf, **form})
    if response.status_code != 303:
        web._seen(response)
    return response


async def test_a_payment_split_over_two_documents_settles_them(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    furnished = await furnish(tenant)
    await signed_in(web, session, tenant, Role.COLLECTOR)

    chosen = await web.get("/app/payments/new", rut="96.874.030-k")
    assert chosen.status_code == 200, chosen.text
    text = text_of(chosen)
    assert "ALFA LTDA · RUT 96.874.030-K" in text
    assert re.search(r"Factura electrónica N° 101 .* \$1\.190\.000", text)
    assert "Factura electrónica N° 103" in text

    answer = await _post(
        web, "/app/payments", _split(furnished, ["1.190.000", "$200.000", ""], amount="1.500.000")
    )

    assert answer.status_code == 303, answer.text
    payment_id = answer.headers["location"].split("/")[-1].split("?")[0]
    page = text_of(await web.get(answer.headers["location"]))
    assert "Pago registrado." in page
    assert f"Pago N° {payment_id}" in page
    assert "Conciliado" in page
    assert "Monto $1.500.000" in page
    assert "Asignado a documentos $1.390.000" in page
    assert "Sin asignar $110.000" in page
    assert "Factura electrónica N° 101 $1.190.000" in page
    assert "Factura electrónica N° 102 $200.000" in page
    assert "Transferencia" in page
    assert re.search(r"Registrado \d{2}-\d{2}-\d{4} \d{2}:\d{2} ", page)  # Chilean dates, Santiago time
    first = await tenant.get("/v1/getDocument", id=furnished["documents"][0]["id"])
    second = await tenant.get("/v1/getDocument", id=furnished["documents"][1]["id"])
    assert (first.json()["statusName"], first.json()["amountDue"]) == ("Pagada", "0.00")
    assert second.json()["amountDue"] == "300000.00"
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.company_id == tenant.company_id, AuditEvent.action == "createPayment"
        )
    ).one()
    assert event.user_id is not None
    assert str(event.object_id) == payment_id

    listed = text_of(await web.get("/app/payments"))
    assert f"Pago N° {payment_id}" in listed
    assert "1 pago" in listed
    assert "N° 101 , N° 102" in listed  # the links, as text_of reads them


async def test_without_an_amount_the_payment_is_what_the_documents_receive(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    furnished = await furnish(tenant)
    await signed_in(web, session, tenant, Role.COLLECTOR)
    await web.get("/app/payments/new", clientId=furnished["client"]["id"])

    answer = await _post(web, "/app/payments", _split(furnished, ["", "100.000", "50.000"], status="0"))

    assert answer.status_code == 303, answer.text
    [(_, cents, status)] = payments_of(session, tenant.company_id)
    assert (cents, status) == (15_000_000, 0)
    page = text_of(await web.get(answer.headers["location"]))
    assert "Pendiente de conciliación" in page
    assert "Solo los pagos conciliados cuentan" in page
    due = await tenant.get("/v1/getDocument", id=furnished["documents"][1]["id"])
    assert due.json()["amountDue"] == "500000.00"  # pending: it counts for nothing yet


async def test_what_the_service_refuses_shows_the_form_again_and_changes_nothing(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    furnished = await furnish(tenant)
    await signed_in(web, session, tenant, Role.COLLECTOR)
    await web.get("/app/payments/new", clientId=furnished["client"]["id"])

    too_much = await _post(web, "/app/payments", _split(furnished, ["", "600.000", ""]))
    assert too_much.status_code == 409
    assert "Documento N° 102: el monto es mayor que su saldo." in text_of(too_much)
    assert 'value="600.000"' in too_much.text  # the form as typed

    over_payment = await _post(web, "/app/payments", _split(furnished, ["100", "100", ""], amount="150"))
    assert over_payment.status_code == 400
    assert "Lo asignado a los documentos suma más que el monto del pago." in text_of(over_payment)

    unreadable = await _post(web, "/app/payments", _split(furnished, ["mil", "", ""]))
    assert unreadable.status_code == 400
    assert "Monto de un documento: escriba un número" in text_of(unreadable)

    nothing = await _post(web, "/app/payments", _split(furnished, ["", "", ""]))
    assert nothing.status_code == 400
    assert payments_of(session, tenant.company_id) == []


async def test_an_unknown_rut_says_so(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    await furnish(tenant)
    await signed_in(web, session, tenant, Role.OWNER)

    unknown = await web.get("/app/payments/new", rut="11.111.111-1")
    wrong = await web.get("/app/payments/new", rut="96.874.030-1")

    assert unknown.status_code == 404
    assert "No hay un cliente con ese RUT en esta empresa." in text_of(unknown)
    assert wrong.status_code == 400
    assert "no es un RUT válido" in text_of(wrong)


async def test_discard_gives_the_debt_back_and_reconcile_takes_it_again(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    furnished = await furnish(tenant)
    await signed_in(web, session, tenant, Role.COLLECTOR)
    await web.get("/app/payments/new", clientId=furnished["client"]["id"])
    created = await _post(web, "/app/payments", _split(furnished, ["", "500.000", ""]))
    path = created.headers["location"].split("?")[0]
    document_id = furnished["documents"][1]["id"]
    await web.get(path)

    discarded = await web.submit(f"{path}/discard")

    assert discarded.status_code == 303
    page = text_of(await web.get(discarded.headers["location"]))
    assert "Pago descartado" in page
    assert "Descartado" in page
    assert (await tenant.get("/v1/getDocument", id=document_id)).json()["amountDue"] == "500000.00"
    assert "Pago N°" in text_of(await web.get("/app/payments", status="discarded"))
    assert "No hay pagos en este estado." in text_of(await web.get("/app/payments", status="reconciled"))

    # Meanwhile another payment settles the document: reconciling the first is refused, nothing changed.
    await web.get("/app/payments/new", clientId=furnished["client"]["id"])
    assert (await _post(web, "/app/payments", _split(furnished, ["", "500.000", ""]))).status_code == 303
    await web.get(path)
    refused = await web.submit(f"{path}/reconcile")
    assert refused.status_code == 409
    assert "Documento N° 102: el monto es mayor que su saldo." in text_of(refused)
    assert [status for _, _, status in payments_of(session, tenant.company_id)] == [2, 1]

    second = payments_of(session, tenant.company_id)[1][0]
    await web.get(f"/app/payments/{second}")
    assert (await web.submit(f"/app/payments/{second}/discard")).status_code == 303
    await web.get(path)
    reconciled = await web.submit(f"{path}/reconcile")
    assert reconciled.status_code == 303
    assert "Pago conciliado" in text_of(await web.get(reconciled.headers["location"]))
    assert (await tenant.get("/v1/getDocument", id=document_id)).json()["amountDue"] == "0.00"
    actions = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.company_id == tenant.company_id, AuditEvent.user_id.is_not(None)
        )
    ).all()
    assert actions.count("updatePayment") == 3


async def test_the_list_pages_and_filters_by_state_and_client(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    furnished = await furnish(tenant)
    client_id = furnished["client"]["id"]
    for day in range(55):
        body = {"date": f"2026-01-{day % 28 + 1:02d}", "amount": "1000", "clientId": client_id}
        assert (await tenant.post("/v1/createPayment", body)).status_code == 200
    pending = {"date": "2026-02-01", "amount": "777", "clientId": client_id, "status": 0}
    assert (await tenant.post("/v1/createPayment", pending)).status_code == 200
    await signed_in(web, session, tenant, Role.VIEWER)

    first = await web.get("/app/payments")
    second = await web.get("/app/payments", status="reconciled", page="2")
    pending_page = await web.get("/app/payments", status="pending", clientId=client_id)

    assert "55 pagos" in text_of(first)
    assert text_of(first).count("Pago N°") == 50
    assert "Página 1 de 2" in text_of(first)
    assert text_of(second).count("Pago N°") == 5
    past_the_end = await web.get("/app/payments", page="9")
    assert "Página 2 de 2" in text_of(past_the_end)  # a page past the end shows the last, as every list
    assert text_of(past_the_end).count("Pago N°") == 5
    assert (await web.get("/app/payments", page="dos")).status_code == 400
    assert "$777" in text_of(pending_page)
    assert "1 pago" in text_of(pending_page)
    assert "Cliente ALFA LTDA" in text_of(pending_page)
    assert "Registrar un pago" not in text_of(first)  # a viewer reads only
    assert (await web.get("/app/payments", status="otro")).status_code == 400
    assert (await web.get("/app/payments/987654321")).status_code == 404


async def test_a_viewer_reads_but_cannot_act(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    furnished = await furnish(tenant)
    body = {"date": "2026-01-05", "amount": "1000", "clientId": furnished["client"]["id"], "status": 0}
    payment_id = (await tenant.post("/v1/createPayment", body)).json()["id"]
    await signed_in(web, session, tenant, Role.VIEWER)

    page = await web.get(f"/app/payments/{payment_id}")
    assert page.status_code == 200
    assert "Pendiente de conciliación" in text_of(page)
    assert "Conciliar pago" not in text_of(page)
    for path in (f"/app/payments/{payment_id}/reconcile", f"/app/payments/{payment_id}/discard"):
        refused = await web.submit(path)
        assert refused.status_code == 403
    assert (await web.get("/app/payments/new")).status_code == 403
    await web.get("/app/payments")
    created = await _post(web, "/app/payments", _split(furnished, ["", "1.000", ""]))
    assert created.status_code == 403
    assert payments_of(session, tenant.company_id) == [(int(payment_id), 100_000, 0)]
    total = session.scalar(select(func.count()).where(AuditEvent.action == "updatePayment"))
    assert total == 0
