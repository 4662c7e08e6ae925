"""What the dashboard and the portfolio say of SII: the open documents claimed there (from the kept
summary ``claimed_balances``) equal the API's claimed documents and link to exactly those, and the last
SII sync: none, a finished run, a failed one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.models import Document, Role, SiiSyncRun
from dtehub.webapp.pages import money
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of
from tests.webapp.test_dashboard import _document, furnish


async def _claim(t: Tenant, session: Session) -> list[int]:
    """On top of :func:`tests.webapp.test_dashboard.furnish`: the SII sync records claims of three open
    pesos documents (a claim date, SII's event R), a claim of the paid one, an acceptance of another, and
    a claimed one in dollars. Returns the ids of the open pesos documents claimed."""
    listed = (await t.get("/v1/getDocuments", resultsPerPage=100)).json()["items"]
    by_number = {item["number"]: item for item in listed}
    now = datetime.now(UTC)
    facts = {
        "100": {"sii_claimed_at": now},
        "103": {"sii_event_code": "R", "sii_event_description": "Reclamado"},
        "106": {"sii_claimed_at": now, "sii_accepted_at": now},  # a claim wins over an acceptance
        "200": {"sii_claimed_at": now},  # paid
        "101": {"sii_accepted_at": now},
        "300": {"sii_claimed_at": now},  # dollars
    }
    for number, columns in facts.items():
        values = {"sii_synced_at": now, "sii_received_at": now - timedelta(days=2), **columns}
        session.execute(update(Document).where(Document.id == int(by_number[number]["id"])).values(**values))
    session.commit()
    return [int(by_number[n]["id"]) for n in ("100", "103", "106")]


async def _claimed_by_the_api(t: Tenant) -> tuple[set[str], Decimal]:
    """The open pesos documents the API says are claimed at SII: their ids and what they owe."""
    ids: set[str] = set()
    due = Decimal(0)
    for status in (2, 3):  # pending, overdue
        answer = await t.get(
            "/v1/getDocuments", resultsPerPage=100, currency="CLP", siiState="claimed", status=status
        )
        assert answer.status_code == 200, answer.text
        for item in answer.json()["items"]:
            assert item["sii"]["state"] == "claimed"
            ids.add(item["id"])
            due += Decimal(item["amountDue"])
    return ids, due


async def test_the_claimed_figure_is_the_apis_and_lists_exactly_those(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await furnish(tenant)
    claimed = await _claim(tenant, session)
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")

    page = (await web.get("/app/")).text
    ids, due = await _claimed_by_the_api(tenant)

    assert ids == {str(i) for i in claimed}
    found = re.search(r'<a id="reclamados-sii" href="([^"]+)">([^<]+)</a>', page)
    assert found is not None
    link, figure = found.group(1).replace("&amp;", "&"), found.group(2)
    assert figure == money(int(due * 100)) == "$1.323.456"
    assert re.search(r'id="reclamados-sii-documentos">3<', page)
    assert link == "/app/documents?siiState=claimed"
    listed = await web.get(link)
    assert listed.status_code == 200
    assert "Documentos por cobrar reclamados en el SII" in text_of(listed)
    assert set(re.findall(r'href="/app/documents/(\d+)"', listed.text)) == ids
    assert re.search(r'id="saldo"[^>]*>\$1\.323\.456<', listed.text)
    exported = await web.get("/app/documents.csv", siiState="claimed")
    assert exported.status_code == 200
    assert len(exported.text.strip().splitlines()) == 1 + 3  # the header and the three

    # Paid in full: no longer owed, no longer in the figure.
    document = (await tenant.get("/v1/getDocument", id=str(claimed[2]))).json()
    body = {
        "date": today_in_santiago().isoformat(), "amount": "200000", "clientId": document["client"]["id"],
        "documents": [{"id": document["id"], "amount": "200000"}],
    }  # fmt: skip
    paid = await tenant.post("/v1/createPayment", body)
    assert paid.status_code == 200, paid.text
    again = (await web.get("/app/")).text
    assert re.search(r'id="reclamados-sii"[^>]*>\$1\.123\.456<', again)
    assert re.search(r'id="reclamados-sii-documentos">2<', again)


async def test_a_bad_sii_state_in_the_list_is_a_clear_error(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")

    answer = await web.get("/app/documents", siiState="reclamado")

    assert answer.status_code == 400
    assert "siiState: uno de received, accepted, tacitly_accepted, claimed, never_synced" in text_of(answer)


def _run(company_id: int, state: str, **fields: object) -> SiiSyncRun:
    values: dict[str, object] = {
        "company_id": company_id, "state": state, "trigger": "schedule", "since": "2026-01",
        "until": "2026-03", "periods": ["2026-01", "2026-02", "2026-03"], "periods_done": ["2026-01"],
        "documents_created": 4, "documents_updated": 2, "xmls_fetched": 0, "messages": [], "resumed": 0,
        "queued_at": utcnow(),
    }  # fmt: skip
    values.update(fields)
    return SiiSyncRun(**values)


def _last_sync(text: str) -> str:
    start = text.index("Última sincronización con el SII")
    return text[
        start : text.index("Sincronización con el SII", start + 10) + len("Sincronización con el SII")
    ]


async def test_the_last_sii_sync_none_finished_failed(
    web: WebBrowser, tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")
    # Another company's runs are not this one's.
    session.add(_run(other_tenant.company_id, "done", finished_at=utcnow()))
    session.commit()

    shown = text_of(await web.get("/app/"))
    assert (
        _last_sync(shown)
        == "Última sincronización con el SII Sin sincronizaciones. Sincronización con el SII"
    )
    assert 'href="/app/sii"' in (await web.get("/app/")).text

    finished_at = datetime(2026, 3, 2, 15, 4, tzinfo=UTC)  # 12:04 in Santiago (summer time)
    done = _run(
        tenant.company_id, "done", periods_done=["2026-01", "2026-02", "2026-03"], finished_at=finished_at
    )
    session.add(done)
    session.commit()
    shown = text_of(await web.get("/app/"))
    assert _last_sync(shown) == (
        "Última sincronización con el SII Cuándo 02-03-2026 12:04 Estado Terminada "
        "Documentos 4 nuevos, 2 actualizados Períodos 3 de 3 (2026-01 a 2026-03) Sincronización con el SII"
    )

    failed = _run(
        tenant.company_id, "failed", error_code="certificate_expired",
        error_message="the SII certificate expired on 2026-02-01",
        finished_at=finished_at + timedelta(days=1),
    )  # fmt: skip
    session.add(failed)
    session.commit()
    shown = text_of(await web.get("/app/"))
    assert _last_sync(shown) == (
        "Última sincronización con el SII Cuándo 03-03-2026 12:04 Estado Falló: El certificado venció: un "
        "administrador debe subir uno vigente. Documentos 4 nuevos, 2 actualizados Períodos 1 de 3 "
        "(2026-01 a 2026-03) Sincronización con el SII"
    )


async def test_the_portfolio_shows_what_each_company_has_claimed_at_sii(
    web: WebBrowser, tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    await furnish(tenant)
    await _claim(tenant, session)
    theirs = await other_tenant.post("/v1/createClient", {"name": "ALFA LTDA", "taxId": "96874030-K"})
    await _document(other_tenant, theirs.json()["id"], 1, 10_000, today_in_santiago())
    add_user(session, tenant.company_id, Role.OWNER, email="ana@example.cl")
    add_user(session, other_tenant.company_id, Role.VIEWER, email="ana@example.cl")
    await web.signed_in("ana@example.cl")

    shown = text_of(await web.get("/app/portfolio"))

    assert "Por cobrar Reclamados en el SII" in shown
    assert (
        "DUEMINT SPA RUT 76.453.707-6 Administrador 8 $1.673.456 $2.893.456 $1.323.456 3 documentos" in shown
    )
    assert "COMERCIALIZADORA INNOVA MOBEL SPA RUT 76.399.752-9 Lectura 1 $0 $10.000 $0 0 documentos" in shown
    assert "Total $1.673.456 $2.903.456 $1.323.456" in shown
