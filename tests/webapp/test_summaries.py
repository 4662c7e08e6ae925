"""The dashboard's and the portfolio's figures come from summaries the database keeps with triggers
(open_balances, client_balances, issued_totals, collected_days, claimed_balances): after every kind of
write they must equal the same figures recomputed from the documents and payments themselves, history
included or not."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from dtehub.documents.history import is_history
from dtehub.documents.sii_states import SII_COLUMNS, SiiState, state_of
from dtehub.kit.dates import today_in_santiago
from dtehub.models import (
    ClaimedBalance,
    ClientBalance,
    CollectedDay,
    Company,
    Document,
    DocumentState,
    IssuedTotal,
    OpenBalance,
    Origin,
    Payment,
    PaymentStatus,
)
from dtehub.models.open_balance import NOT_SYNCED
from dtehub.reports import repository
from dtehub.reports import service as reports
from dtehub.reports.repository import CompanyFigures, Debtor, Receivables
from tests.conftest import Tenant, make_tenant
from tests.factoring.aecs import aec_to
from tests.factoring.test_holding import FACTORING_RUT, hold
from tests.notes import credit_xml, invoice_xml, store

TODAY = today_in_santiago()


def _documents(session: Session, company_id: int) -> list[Any]:
    return list(
        session.execute(
            select(
                Document.currency,
                Document.due_date,
                Document.issue_date,
                Document.source,
                Document.client_id,
                Document.state,
                Document.due_cents,
                Document.total_cents,
            ).where(Document.company_id == company_id)
        )
    )


def _claims(session: Session, company_id: int) -> list[Any]:
    """The company's documents with SII's facts, as the SII sync stored them."""
    facts = [getattr(Document, name) for name in SII_COLUMNS]
    columns = (Document.code, Document.currency, Document.state, Document.due_cents, Document.source)
    # The document's own issue date, under another name: sii_issue_date is SII's register's.
    query = select(*columns, Document.issue_date.label("own_issue_date"), *facts)
    return list(session.execute(query.where(Document.company_id == company_id)))


def _kept(session: Session, company_id: int) -> dict[str, dict[tuple[Any, ...], tuple[int, int]]]:
    """Every summary row of the company, by table."""
    tables: dict[str, Any] = {
        "open": (OpenBalance, ("currency", "due_date", "sii_issue_date"), "documents", "due_cents"),
        "clients": (ClientBalance, ("currency", "client_id", "sii_issue_date"), "documents", "due_cents"),
        "issued": (IssuedTotal, ("currency", "issue_date", "from_sii"), "documents", "total_cents"),
        "collected": (CollectedDay, ("currency", "paid_on"), "payments", "amount_cents"),
        "claimed": (ClaimedBalance, ("currency", "sii_issue_date"), "documents", "due_cents"),
    }
    kept: dict[str, dict[tuple[Any, ...], tuple[int, int]]] = {}
    for name, (model, keys, count, amount) in tables.items():
        columns = [getattr(model, key) for key in keys]
        rows = session.execute(
            select(*columns, getattr(model, count), getattr(model, amount)).where(
                model.company_id == company_id
            )
        )
        kept[name] = {tuple(row[:-2]): (int(row[-2]), int(row[-1])) for row in rows}
    return kept


def _recomputed(session: Session, company_id: int) -> dict[str, dict[tuple[Any, ...], tuple[int, int]]]:
    """The same summaries, added up here from the documents and payments."""
    sums: dict[str, dict[tuple[Any, ...], list[int]]] = {
        name: defaultdict(lambda: [0, 0]) for name in ("open", "clients", "issued", "collected", "claimed")
    }
    for row in _claims(session, company_id):
        if row.state == DocumentState.OPEN and state_of(row.code, row, TODAY) == SiiState.CLAIMED:
            key = (row.currency, row.own_issue_date if row.source == Origin.SII else NOT_SYNCED)
            sums["claimed"][key][0] += 1
            sums["claimed"][key][1] += row.due_cents
    for currency, due, issued, source, client, state, due_cents, total in _documents(session, company_id):
        synced = issued if source == Origin.SII else NOT_SYNCED
        if state == DocumentState.OPEN:
            for name, key in (("open", (currency, due, synced)), ("clients", (currency, client, synced))):
                sums[name][key][0] += 1
                sums[name][key][1] += due_cents
        if state in (DocumentState.OPEN, DocumentState.SETTLED):
            key = (currency, issued, 1 if source == Origin.SII else 0)
            sums["issued"][key][0] += 1
            sums["issued"][key][1] += total
    payments = session.execute(
        select(Payment.currency, Payment.paid_on, Payment.amount_cents).where(
            Payment.company_id == company_id, Payment.status == PaymentStatus.RECONCILED
        )
    )
    for currency, paid_on, cents in payments:
        sums["collected"][(currency, paid_on)][0] += 1
        sums["collected"][(currency, paid_on)][1] += cents
    return {name: {key: (n, cents) for key, (n, cents) in rows.items()} for name, rows in sums.items()}


def _currency(figures: Receivables) -> str:
    return figures.currency


def _expected_receivables(rows: list[Any], start: date | None) -> list[Receivables]:
    totals: dict[str, list[int]] = {}
    for currency, due, issued, source, _client, state, cents, _total in rows:
        if state != DocumentState.OPEN or is_history(source, issued, start):
            continue
        late = (TODAY - due).days
        t = totals.setdefault(currency, [0] * 11)
        t[0], t[1] = t[0] + cents, t[1] + 1
        if late > 0:
            t[2], t[3] = t[2] + cents, t[3] + 1
            t[7 if late <= 30 else 8 if late <= 60 else 9 if late <= 90 else 10] += cents
        else:
            t[6] += cents
            t[4] += cents if -late <= 7 else 0
            t[5] += cents if -late <= 30 else 0
    return [Receivables(currency, *values) for currency, values in totals.items()]


def _expected_debtors(rows: list[Any], currency: str, start: date | None) -> list[tuple[int, int, int, int]]:
    per: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row_currency, due, issued, source, client, state, cents, _total in rows:
        if row_currency != currency or state != DocumentState.OPEN or is_history(source, issued, start):
            continue
        per[client][0] += cents
        per[client][1] += 1
        per[client][2] += cents if due < TODAY else 0
    ordered = sorted(per.items(), key=lambda item: (-item[1][0], item[0]))[:10]
    return [(client, *values) for client, values in ordered]


def _assert_exact(session: Session, *tenants: Tenant) -> None:
    """The kept rows are the recomputed ones, and every figure read from them is the one the documents
    give, for the company's start date and for a few others (a change of the start is only read)."""
    session.expire_all()
    for tenant in tenants:
        company_id = tenant.company_id
        kept = _kept(session, company_id)
        assert kept == _recomputed(session, company_id)
        rows = _documents(session, company_id)
        own_start = session.scalar(select(Company.collections_start_date).where(Company.id == company_id))
        for start in {own_start, None, TODAY - timedelta(days=45), TODAY + timedelta(days=1)}:
            got = sorted(repository.receivables(session, company_id, TODAY, start), key=_currency)
            assert got == sorted(_expected_receivables(rows, start), key=_currency), start
            debtors: list[Debtor] = repository.top_debtors(session, company_id, "CLP", TODAY, start)
            shown = [(d.client_id, d.owed, d.documents, d.overdue) for d in debtors]
            assert shown == _expected_debtors(rows, "CLP", start), start
            since = TODAY - timedelta(days=89)
            sold = sum(
                total
                for currency, _due, issued, source, _c, state, _d, total in rows
                if currency == "CLP" and state != DocumentState.VOIDED and since <= issued <= TODAY
                if not is_history(source, issued, start)
            )
            assert repository.sales(session, company_id, "CLP", since, TODAY, start) == sold, start
            history = [
                cents
                for currency, _due, issued, source, _c, state, cents, _t in rows
                if currency == "CLP" and state == DocumentState.OPEN and is_history(source, issued, start)
            ]
            assert tuple(repository.history_totals(session, company_id, "CLP", start)) == (
                len(history),
                sum(history),
            )
        for start in {own_start, None, TODAY - timedelta(days=45), TODAY + timedelta(days=1)}:
            claimed = [
                (n, cents)
                for (currency, issued), (n, cents) in kept["claimed"].items()
                if currency == "CLP" and (start is None or issued >= start)
            ]
            expected = (sum(n for n, _ in claimed), sum(cents for _, cents in claimed))
            assert tuple(repository.claimed(session, company_id, "CLP", start)) == expected, start
        clp = next((r for r in _expected_receivables(rows, own_start) if r.currency == "CLP"), None)
        portfolio = reports.portfolio(session, [company_id], TODAY)
        if clp is None:
            assert portfolio == {}
        else:
            claims = tuple(repository.claimed(session, company_id, "CLP", own_start))
            assert portfolio == {
                company_id: CompanyFigures(
                    company_id, clp.owed, clp.overdue, clp.documents, clp.overdue_documents, *claims
                )
            }
        months = reports.collected_per_month(session, company_id, TODAY)
        collected: dict[date, int] = defaultdict(int)
        for paid_on, cents in session.execute(
            select(Payment.paid_on, Payment.amount_cents).where(
                Payment.company_id == company_id,
                Payment.status == PaymentStatus.RECONCILED,
                Payment.currency == "CLP",
                Payment.paid_on >= months[0].first_day,
                Payment.paid_on <= TODAY,
            )
        ):
            collected[paid_on.replace(day=1)] += cents
        assert {m.first_day: m.cents for m in months if m.cents} == dict(collected)


async def _client(t: Tenant, name: str, rut: str) -> str:
    response = await t.post("/v1/createClient", {"name": name, "taxId": rut})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def _document(
    t: Tenant, client: str, number: int, total: int, days: int, currency: str = "CLP", code: int = 33
) -> dict[str, Any]:
    due = TODAY + timedelta(days=days)
    body = {
        "clientId": client, "number": str(number), "code": code, "currency": currency, "taxes": "0",
        "issueDate": (due - timedelta(days=30)).isoformat(), "dueDate": due.isoformat(), "total": str(total),
    }  # fmt: skip
    response = await t.post("/v1/createDocument", body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _pay(t: Tenant, client: str, amount: int, document: dict[str, Any], **more: Any) -> dict[str, Any]:
    body = {
        "date": (TODAY - timedelta(days=40)).isoformat(), "amount": str(amount), "clientId": client,
        "documents": [{"id": document["id"], "amount": str(amount)}], **more,
    }  # fmt: skip
    response = await t.post("/v1/createPayment", body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_every_write_keeps_the_summaries_exact(
    tenant: Tenant, other_tenant: Tenant, session: Session, client: httpx.AsyncClient
) -> None:
    alfa = await _client(tenant, "ALFA LTDA", "96874030-K")
    beta = await _client(tenant, "BETA SPA", "76399752-9")
    theirs = await _client(other_tenant, "ALFA LTDA", "96874030-K")
    _assert_exact(session, tenant, other_tenant)

    # Created through the API: many due dates, two clients, two currencies, another company beside.
    created = [
        await _document(tenant, [alfa, beta][n % 2], 100 + n, 10_000 * (n + 1), days)
        for n, days in enumerate((-120, -75, -45, -10, 0, 5, 20, 60, -10, 5))
    ]
    await _document(tenant, alfa, 300, 5_000, -3, currency="USD")
    await _document(other_tenant, theirs, 1, 777_000, -20)
    _assert_exact(session, tenant, other_tenant)

    # Payments: a part, a whole, one pending then reconciled, one discarded.
    await _pay(tenant, alfa, 4_000, created[0])
    await _pay(tenant, beta, 20_000, created[1])
    pending = await _pay(tenant, alfa, 1_000, created[2], status=0)
    _assert_exact(session, tenant)
    assert (await tenant.post("/v1/updatePayment", {"id": pending["id"], "status": 1})).status_code == 200
    _assert_exact(session, tenant)
    assert (await tenant.post("/v1/updatePayment", {"id": pending["id"], "status": 2})).status_code == 200
    _assert_exact(session, tenant)

    # An imported XML invoice and its credit note (the ledger lowers what the invoice owes).
    invoice = await store(tenant, invoice_xml(tenant, 7001, 119_000))
    _assert_exact(session, tenant)
    await store(tenant, credit_xml(tenant, 1, 19_000, 7001))
    after = (await tenant.get("/v1/getDocument", id=invoice["id"])).json()
    assert after["amountDue"] == "100000.00"
    _assert_exact(session, tenant)
    await store(tenant, credit_xml(tenant, 2, 100_000, 7001))  # the rest: voided
    _assert_exact(session, tenant)

    # A delete, a due-date change and a void written past the API (the triggers live in the database).
    number = created[3]["number"]
    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": "76399752-9", "number": number})
    assert response.status_code == 200, response.text
    session.execute(
        update(Document)
        .where(Document.id == int(created[4]["id"]))
        .values(due_date=TODAY - timedelta(days=100))
    )
    session.execute(
        update(Document)
        .where(Document.id == int(created[5]["id"]))
        .values(voided=True, state=DocumentState.VOIDED, due_cents=0)
    )
    session.commit()
    _assert_exact(session, tenant, other_tenant)

    # Claims arrive with the SII sync (its UPDATE of the sii_* columns): a claim date, SII's event R, a
    # claim in dollars, an acceptance (not claimed), a claim on a document not found by a sync (not
    # claimed); then a claimed one is paid in full, another deleted, and a claim is withdrawn.
    usd = await _document(tenant, alfa, 301, 7_000, -3, currency="USD")
    synced_at = datetime.now(UTC)
    facts = {
        int(created[6]["id"]): {"sii_claimed_at": synced_at},
        int(created[7]["id"]): {"sii_event_code": "R", "sii_event_description": "Reclamado"},
        int(created[0]["id"]): {"sii_claimed_at": synced_at},
        int(usd["id"]): {"sii_claimed_at": synced_at},
        int(created[8]["id"]): {"sii_accepted_at": synced_at},
    }
    for document_id, columns in facts.items():
        values = {"sii_synced_at": synced_at, "sii_received_at": synced_at, **columns}
        session.execute(update(Document).where(Document.id == document_id).values(**values))
    session.execute(
        update(Document).where(Document.id == int(created[9]["id"])).values(sii_claimed_at=synced_at)
    )
    session.commit()
    _assert_exact(session, tenant, other_tenant)
    assert _kept(session, tenant.company_id)["claimed"] != {}
    await _pay(tenant, alfa, 70_000, created[6])
    _assert_exact(session, tenant)
    number = created[7]["number"]
    response = await tenant.delete("/v1/deleteDocument", {"clientTaxId": "76399752-9", "number": number})
    assert response.status_code == 200, response.text
    _assert_exact(session, tenant)
    session.execute(update(Document).where(Document.id == int(usd["id"])).values(sii_claimed_at=None))
    session.execute(  # an UPDATE of a column no summary reads
        update(Document).where(Document.company_id == tenant.company_id).values(sii_event_description="x")
    )
    session.commit()
    _assert_exact(session, tenant)

    # Synced from SII, then collections start after some of them: history, both ways of the line.
    synced = [int(d["id"]) for d in created[6:9]]
    session.execute(update(Document).where(Document.id.in_(synced)).values(source=Origin.SII.value))
    session.commit()
    _assert_exact(session, tenant)
    for start in (TODAY - timedelta(days=20), TODAY + timedelta(days=40), TODAY - timedelta(days=400)):
        changed = await tenant.post("/v1/updateCompany", {"collectionsStartDate": start.isoformat()})
        assert changed.status_code == 200, changed.text
        _assert_exact(session, tenant)

    # A held document: an AEC received makes another company's invoice this company's to collect.
    factoring = make_tenant(session, client, FACTORING_RUT, "FACTORING CAPITAL SPA")
    held = await hold(factoring, aec_to(FACTORING_RUT, 3001, amount=1_000_000))
    _assert_exact(session, factoring)
    await _pay(factoring, str(held["document"]["client"]["id"]), 500, held["document"])
    _assert_exact(session, factoring)

    # Bulk changes of many rows in one statement, and a delete past the API.
    session.execute(
        update(Document)
        .where(Document.company_id == tenant.company_id)
        .values(currency="EUR", due_date=TODAY)
    )
    session.execute(
        update(Payment).where(Payment.company_id == tenant.company_id).values(status=PaymentStatus.DISCARDED)
    )
    session.execute(delete(Document).where(Document.company_id == other_tenant.company_id))
    session.commit()
    _assert_exact(session, tenant, other_tenant)
    assert _kept(session, other_tenant.company_id)["open"] == {}


async def test_the_dashboard_reads_no_document_for_its_figures(tenant: Tenant, session: Session) -> None:
    """Owed, overdue, the windows, aging, sales and collections come from the summaries: of the
    dashboard's statements only the ten top debtors' overdue sums read documents."""
    alfa = await _client(tenant, "ALFA LTDA", "96874030-K")
    await _document(tenant, alfa, 1, 1_000, -5)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        reports.dashboard(session, tenant.company_id, TODAY)
        reports.portfolio(session, [tenant.company_id], TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    reading = [s for s in statements if "FROM documents" in s or "FROM payments" in s]
    assert len(reading) == 1, reading
    assert "client_id IN" in reading[0]
