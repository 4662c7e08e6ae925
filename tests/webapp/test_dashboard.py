"""The dashboard, the lists its figures link to, and the portfolio: what a person reads equals what
the API says of the same documents."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago
from dtehub.models import Document, Origin, Role
from dtehub.reports import service as reports
from dtehub.reports.repository import OpenFilter
from dtehub.webapp.pages import money
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of


async def _document(
    t: Tenant, client_id: str, number: int, total: int, due: date, currency: str = "CLP"
) -> dict[str, Any]:
    response = await t.post(
        "/v1/createDocument",
        {
            "clientId": client_id,
            "number": str(number),
            "code": 33,
            "issueDate": (due - timedelta(days=30)).isoformat(),
            "dueDate": due.isoformat(),
            "total": str(total),
            "taxes": "0",
            "currency": currency,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def furnish(t: Tenant) -> None:
    """Documents due from 120 days ago to 60 days ahead, one paid, one in dollars; two payments."""
    today = today_in_santiago()
    clients = []
    for name, rut in (("ALFA LTDA", "96874030-K"), ("BETA SPA", "76399752-9")):
        created = await t.post("/v1/createClient", {"name": name, "taxId": rut})
        assert created.status_code == 200, created.text
        clients.append(created.json()["id"])
    for number, (client, total, days) in enumerate(
        [
            (0, 1_000_000, -120), (0, 250_000, -75), (1, 300_000, -45), (1, 123_456, -10),
            (0, 50_000, 0), (1, 70_000, 5), (0, 200_000, 20), (1, 900_000, 60),
        ],
        start=100,
    ):  # fmt: skip
        await _document(t, clients[client], number, total, today + timedelta(days=days))
    paid = await _document(t, clients[0], 200, 80_000, today - timedelta(days=3))
    await _document(t, clients[0], 300, 5_000, today - timedelta(days=3), currency="USD")
    payment = {
        "date": today.isoformat(), "amount": "80000", "clientId": clients[0],
        "documents": [{"id": paid["id"], "amount": "80000"}],
    }  # fmt: skip
    assert (await t.post("/v1/createPayment", payment)).status_code == 200


async def api_sum(t: Tenant, **filters: Any) -> int:
    """The pesos the API says are due for these filters (CLP documents only), history left out."""
    answer = (await t.get("/v1/getDocuments", resultsPerPage=100, currency="CLP", **filters)).json()
    return int(sum(Decimal(item["amountDue"]) for item in answer["items"] if not item["history"]))


def _figure(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]+)<', page)
    assert found is not None, element_id
    return found.group(1)


async def test_the_dashboards_figures_are_the_apis_sums(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await furnish(tenant)
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")
    page = (await web.get("/app/")).text
    overdue = await api_sum(tenant, status=3)
    pending = await api_sum(tenant, status=2)

    assert _figure(page, "total-por-cobrar") == money((overdue + pending) * 100) == "$2.893.456"
    assert _figure(page, "vencido") == money(overdue * 100) == "$1.673.456"
    assert _figure(page, "vence-7") == "$120.000"
    assert _figure(page, "vence-30") == "$320.000"
    shown = text_of(await web.get("/app/"))
    for label, amount in [
        ("Al día", "$1.220.000"), ("1 a 30 días", "$123.456"), ("31 a 60 días", "$300.000"),
        ("61 a 90 días", "$250.000"), ("Más de 90 días", "$1.000.000"),
    ]:  # fmt: skip
        assert f"{label} {amount}" in shown, label
    month = today_in_santiago()
    assert "$80.000" in shown  # collected this month
    assert "ALFA LTDA RUT 96.874.030-K 4 $1.250.000 $1.500.000" in shown
    assert "Otras monedas Moneda Por cobrar Vencido USD US$5.000,00 US$5.000,00" in shown
    assert month.strftime("%Y") in shown
    assert '<svg class="chart" id="antiguedad" role="img"' in page
    assert '<title id="antiguedad-title">Antigüedad de la deuda</title>' in page


async def synced_history(t: Tenant, session: Session) -> None:
    """On top of :func:`furnish`: collections start 10 days ago; three documents synced from SII, two
    issued before that (history: one 60 days overdue, one due in 15 days) and one after (collected)."""
    today = today_in_santiago()
    client = await t.post("/v1/createClient", {"name": "GAMMA SA", "taxId": "96790240-3"})
    assert client.status_code == 200, client.text
    synced = [
        await _document(t, client.json()["id"], number, total, today + timedelta(days=days))
        for number, total, days in ((400, 5_000_000, -60), (401, 700_000, 15), (402, 33_000, 25))
    ]
    session.execute(
        update(Document)
        .where(Document.id.in_([int(d["id"]) for d in synced]))
        .values(source=Origin.SII.value)
    )
    session.commit()
    start = {"collectionsStartDate": (today - timedelta(days=10)).isoformat()}
    assert (await t.post("/v1/updateCompany", start)).status_code == 200


async def test_history_is_shown_apart_and_counted_in_no_figure(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await furnish(tenant)
    await synced_history(tenant, session)
    add_user(session, tenant.company_id, Role.OWNER, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    page = (await web.get("/app/")).text
    overdue = await api_sum(tenant, status=3)
    pending = await api_sum(tenant, status=2)

    # As without history, plus the synced document issued since collections started ($33.000).
    assert _figure(page, "total-por-cobrar") == money((overdue + pending) * 100) == "$2.926.456"
    assert _figure(page, "vencido") == money(overdue * 100) == "$1.673.456"
    assert _figure(page, "vence-30") == "$353.000"
    shown = text_of(await web.get("/app/"))
    assert "31 a 60 días $300.000" in shown
    assert "61 a 90 días $250.000" in shown
    assert "GAMMA SA RUT 96.790.240-3 1 $0 $33.000" in shown
    start = today_in_santiago() - timedelta(days=10)
    assert (
        "Histórico, fuera de estas cifras: 2 documentos abiertos sincronizados desde el SII y emitidos "
        f"antes del inicio de cobranza ({start.strftime('%d-%m-%Y')}), $5.700.000. No se cobran ni se "
        "recuerdan."
    ) in shown
    # Each figure's list is made of the same documents: no history there either.
    for link, text in re.findall(r'<a (?:id="[^"]+" )?href="(/app/documents[^"]*)">([^<]+)</a>', page):
        listed = await web.get(link.replace("&amp;", "&"))
        assert "$5.000.000" not in text_of(listed), link
        if text.startswith("$"):
            assert _figure(listed.text, "saldo") == text, link
    portfolio = text_of(await web.get("/app/portfolio"))
    assert "DUEMINT SPA RUT 76.453.707-6 Administrador 9 $1.673.456 $2.926.456" in portfolio


async def test_each_figure_links_to_the_list_it_is_made_of(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await furnish(tenant)
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")
    page = (await web.get("/app/")).text
    links = re.findall(r'<a (?:id="[^"]+" )?href="(/app/documents[^"]*)">([^<]+)</a>', page)
    assert len(links) >= 4 + 5 + 2  # figures, aging buckets, debtors

    for link, text in links:
        listed = await web.get(link.replace("&amp;", "&"))
        assert listed.status_code == 200, link
        if text.startswith("$"):
            assert _figure(listed.text, "saldo") == text, link


async def test_a_bad_filter_is_a_clear_error(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")

    answer = await web.get("/app/documents", dueSince="31-12-2026")

    assert answer.status_code == 400
    assert "dueSince: la fecha debe ser AAAA-MM-DD" in text_of(answer)


async def test_the_portfolio_and_the_company_switcher(
    web: WebBrowser, tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    await furnish(tenant)
    add_user(session, tenant.company_id, Role.OWNER, email="ana@example.cl")
    add_user(session, other_tenant.company_id, Role.VIEWER, email="ana@example.cl")
    await web.signed_in("ana@example.cl")

    shown = text_of(await web.get("/app/portfolio"))

    assert "DUEMINT SPA RUT 76.453.707-6 Administrador 8 $1.673.456 $2.893.456" in shown
    assert "COMERCIALIZADORA INNOVA MOBEL SPA RUT 76.399.752-9 Lectura 0 $0 $0" in shown
    assert "Total $1.673.456 $2.893.456" in shown
    switched = await web.submit("/app/company", {"company": str(other_tenant.company_id)})
    assert switched.headers["location"] == "/app/?ok=company"
    board = text_of(await web.get("/app/?ok=company"))
    assert "COMERCIALIZADORA INNOVA MOBEL SPA · RUT 76.399.752-9 · Lectura" in board
    assert "Total por cobrar $0" in board
    assert "Empresa cambiada." in board


async def test_another_companys_id_in_the_switcher_is_a_missing_one(
    web_browser: Callable[[], WebBrowser], tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    web = web_browser()
    await web.signed_in("ana@example.cl")

    theirs = await web.submit("/app/company", {"company": str(other_tenant.company_id)})
    missing = await web.submit("/app/company", {"company": "987654321"})

    assert theirs.status_code == missing.status_code == 404
    assert text_of(theirs) == text_of(missing)


async def test_a_list_of_open_documents_pages_in_due_order(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    """53 open documents: page 1 has the 50 due first, page 2 the other 3; same due date, lower id first."""
    created = await tenant.post("/v1/createClient", {"name": "ALFA LTDA", "taxId": "96874030-K"})
    client = created.json()["id"]
    today = today_in_santiago()
    for number in range(1, 54):  # due dates from 53 days ago, two documents a day from number 50 on
        await _document(tenant, client, number, 1_000, today - timedelta(days=53 - min(number, 50)))
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")

    def numbers(page: str) -> list[int]:
        return [int(n) for n in re.findall(r"Factura electrónica N° (\d+)</a>", page)]

    first = numbers((await web.get("/app/documents")).text)
    second = numbers((await web.get("/app/documents", page="2")).text)

    assert first == list(range(1, 51))
    assert second == [51, 52, 53]


async def test_the_open_documents_figures_read_the_index_of_open_documents(
    tenant: Tenant, session: Session
) -> None:
    """What keeps the lists behind the dashboard's figures fast at 1,000,000 documents (bench/app.py), and
    the top debtors' overdue sums: they read the partial index ix_documents_open, which only a query
    saying ``state = 0`` in its text may use (the figures themselves read the kept summaries)."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the plan of SQLite's planner; PostgreSQL's depends on its statistics")
    await furnish(tenant)
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "FROM documents" in statement and "state = 0" in statement:
            statements.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        reports.dashboard(session, tenant.company_id, today_in_santiago())
        reports.open_list(session, tenant.company_id, OpenFilter(), today_in_santiago(), 1)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert len(statements) >= 3  # the top debtors' overdue, the list's sums and its page
    for statement, parameters in statements:
        rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(parameters))
        plan = " ".join(str(row[-1]) for row in rows)
        assert "ix_documents_open" in plan, statement
