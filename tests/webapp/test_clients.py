"""The clients' pages (``/app/clients``, ``/app/clients/{id}``): what each client owes and has overdue
(the same sums as the API's documents, history left out), searched by name or RUT, paged; one client's
contacts, documents and reminder switches, which collectors and owners change (CSRF, audited) and
viewers only read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago
from dtehub.models import AuditEvent, Client, Role
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of


async def client_with(t: Tenant, name: str, rut: str, *amounts: tuple[int, int]) -> str:
    """A client and one factura per (total, days until due; negative: overdue)."""
    created = await t.post("/v1/createClient", {"name": name, "taxId": rut})
    assert created.status_code == 200, created.text
    client_id: str = created.json()["id"]
    today = today_in_santiago()
    for number, (total, days) in enumerate(amounts, 1):
        due = today + timedelta(days=days)
        body: dict[str, Any] = {
            "clientId": client_id, "number": f"{rut[:4]}{number}", "code": 33, "total": str(total),
            "taxes": "0", "issueDate": (due - timedelta(days=30)).isoformat(), "dueDate": due.isoformat(),
        }  # fmt: skip
        answer = await t.post("/v1/createDocument", body)
        assert answer.status_code == 200, answer.text
    return client_id


async def signed_in(web: WebBrowser, session: Session, t: Tenant, role: Role) -> WebBrowser:
    add_user(session, t.company_id, role, email=f"{role.value}@example.cl")
    return await web.signed_in(f"{role.value}@example.cl")


async def test_the_list_shows_what_each_client_owes_and_has_overdue(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    alfa = await client_with(tenant, "ALFA LTDA", "96874030-K", (1_190_000, -10), (500_000, 5))
    beta = await client_with(tenant, "BETA SPA", "77777777-7", (300_000, 20))
    await client_with(tenant, "GAMMA SA", "76086428-5")
    await signed_in(web, session, tenant, Role.VIEWER)

    page = await web.get("/app/clients")

    assert page.status_code == 200
    text = text_of(page)
    assert "3 clientes" in text
    assert "ALFA LTDA 96.874.030-K 2 $1.690.000 $1.190.000" in text
    assert "BETA SPA 77.777.777-7 1 $300.000 $0" in text
    assert "GAMMA SA 76.086.428-5 0 $0 $0" in text
    assert f'href="/app/clients/{alfa}"' in page.text
    assert f'href="/app/clients/{beta}"' in page.text
    assert text.index("ALFA") < text.index("BETA") < text.index("GAMMA")  # by name
    # The same sums as the API's documents of each client
    owed = sum(
        int(float(d["amountDue"]))
        for d in (await tenant.get("/v1/getDocuments", clientId=alfa)).json()["items"]
    )
    assert owed == 1_690_000


async def test_search_by_name_by_rut_and_by_its_first_digits(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await client_with(tenant, "ALFA LTDA", "96874030-K")
    await client_with(tenant, "Beta Servicios", "77777777-7")
    await signed_in(web, session, tenant, Role.VIEWER)

    def names(text: str) -> list[str]:
        return [n for n in ("ALFA LTDA", "Beta Servicios") if n in text]

    assert names(text_of(await web.get("/app/clients", q="servi"))) == ["Beta Servicios"]
    assert names(text_of(await web.get("/app/clients", q="96.874.030-k"))) == ["ALFA LTDA"]
    assert names(text_of(await web.get("/app/clients", q="968740"))) == ["ALFA LTDA"]
    assert names(text_of(await web.get("/app/clients", q="7777"))) == ["Beta Servicios"]
    assert names(text_of(await web.get("/app/clients", q="96874030"))) == ["ALFA LTDA"]  # without its DV
    assert names(text_of(await web.get("/app/clients", q="96874030K"))) == ["ALFA LTDA"]  # without hyphen
    assert names(text_of(await web.get("/app/clients", q="96874030-"))) == ["ALFA LTDA"]
    nothing = await web.get("/app/clients", q="zeta")
    assert nothing.status_code == 200
    assert "Ningún cliente coincide con la búsqueda." in text_of(nothing)
    assert 'value="zeta"' in nothing.text  # the box keeps the search
    odd = await web.get("/app/clients", q="100%_\\")
    assert odd.status_code == 200
    assert "0 clientes" in text_of(odd)


async def test_the_list_is_paged_by_fifty(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    session.add_all(
        Client(company_id=tenant.company_id, tax_id=f"{10_000_000 + n}-X", name=f"CLIENTE {n:03d}")
        for n in range(60)
    )
    session.commit()
    await signed_in(web, session, tenant, Role.VIEWER)

    first = await web.get("/app/clients", q="cliente")
    assert "Página 1 de 2" in text_of(first)
    assert "CLIENTE 049" in text_of(first)
    assert "CLIENTE 050" not in text_of(first)
    assert 'href="/app/clients?q=cliente&amp;page=2"' in first.text
    second = text_of(await web.get("/app/clients", q="cliente", page="2"))
    assert "CLIENTE 050" in second
    assert "CLIENTE 059" in second
    assert "CLIENTE 049" not in second
    beyond = text_of(await web.get("/app/clients", page="99"))
    assert "60 clientes" in beyond
    assert "Página 2 de 2" in beyond
    assert "CLIENTE 059" in beyond
    not_a_page = await web.get("/app/clients", page="x")
    assert not_a_page.status_code == 400
    assert "page: debe ser un número" in text_of(not_a_page)


async def test_a_clients_page_shows_what_it_owes_its_contacts_and_documents(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    alfa = await client_with(tenant, "ALFA LTDA", "96874030-K", (1_190_000, -10), (500_000, 5))
    contact = {"clientId": alfa, "email": "pagos@alfa.example.cl", "name": "Ana", "lastName": "Rojas"}
    assert (await tenant.post("/v1/createContact", contact)).status_code == 200
    await signed_in(web, session, tenant, Role.VIEWER)

    page = await web.get(f"/app/clients/{alfa}")

    assert page.status_code == 200
    text = text_of(page)
    assert "ALFA LTDA" in text
    assert "RUT 96.874.030-K" in text
    assert "Por cobrar $1.690.000 2 documentos" in text
    assert "Vencido $1.190.000 1 documento" in text
    assert f'href="/app/documents?status=overdue&amp;clientId={alfa}"' in page.text
    assert "Ana Rojas pagos@alfa.example.cl Cobranza" in text
    assert "Documentos (2)" in text
    assert "Vencida" in text
    assert "Por vencer" in text
    documents = (await tenant.get("/v1/getDocuments", clientId=alfa)).json()["items"]
    for document in documents:
        assert f'href="/app/documents/{document["id"]}"' in page.text
    assert f'href="/app/reminders?clientId={alfa}"' in page.text
    # A viewer reads the switches and is offered no form
    assert "Documento nuevo Sí" in text
    assert 'action="/app/clients/' not in page.text


async def test_a_collector_changes_the_reminder_switches(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    alfa = await client_with(tenant, "ALFA LTDA", "96874030-K")
    await signed_in(web, session, tenant, Role.COLLECTOR)
    path = f"/app/clients/{alfa}"
    page = await web.get(path)
    assert 'name="expired" value="1" checked' in page.text

    answer = await web.submit(f"{path}/reminders", {"newDocument": "1", "newPayment": "1"})

    assert answer.status_code == 303
    assert answer.headers["location"] == f"{path}?ok=client-reminders"
    after = await web.get(path, ok="client-reminders")
    assert "Recordatorios del cliente guardados." in text_of(after)
    assert 'name="expired" value="1" checked' not in after.text
    assert 'name="newPayment" value="1" checked' in after.text
    api = (await tenant.get("/v1/getClient", id=alfa)).json()["sendReminders"]
    assert api == {
        "newDocument": True, "soonToExpire": False, "expired": False, "newPayment": True,
        "debtSummary": False,
    }  # fmt: skip
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.company_id == tenant.company_id, AuditEvent.action == "updateClient"
        )
    ).one()
    assert (event.actor, event.object_id, event.summary["sendReminders"]["newPayment"]) == (
        "user",
        int(alfa),
        True,
    )


async def test_switches_without_csrf_or_by_a_viewer_change_nothing(
    web_browser: Callable[[], WebBrowser], tenant: Tenant, session: Session
) -> None:
    web = web_browser()
    alfa = await client_with(tenant, "ALFA LTDA", "96874030-K")
    await signed_in(web, session, tenant, Role.COLLECTOR)
    await web.get(f"/app/clients/{alfa}")
    refused = await web.post(f"/app/clients/{alfa}/reminders", {"newDocument": "1"})
    assert refused.status_code == 403

    viewer = await signed_in(web_browser(), session, tenant, Role.VIEWER)
    await viewer.get(f"/app/clients/{alfa}")
    forbidden = await viewer.submit(f"/app/clients/{alfa}/reminders", {"newDocument": "1"})
    assert forbidden.status_code == 403
    assert "Acción no permitida" in text_of(forbidden)

    api = (await tenant.get("/v1/getClient", id=alfa)).json()["sendReminders"]
    assert all(api.values())


async def test_a_missing_or_malformed_client_is_the_404_page(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await signed_in(web, session, tenant, Role.OWNER)
    for path in ("/app/clients/987654321", "/app/clients/abc", "/app/clients/0"):
        answer = await web.get(path)
        assert answer.status_code == 404, path
        assert "Página no encontrada" in text_of(answer)
    await web.get("/app/clients")
    assert (await web.submit("/app/clients/987654321/reminders")).status_code == 404
