"""Document status: the rule, Santiago's day boundary, and the list filter agreeing with the rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from dtehub.documents import ledger, repository
from dtehub.documents.filters import DocumentFilters, OrderBy
from dtehub.documents.status import STATUS_NAMES, DocumentStatus, status_of
from dtehub.kit.dates import today_in_santiago
from dtehub.models import Document, DocumentState
from tests.conftest import Tenant

TODAY = date(2026, 3, 1)
YESTERDAY = TODAY - timedelta(days=1)
TOMORROW = TODAY + timedelta(days=1)


# --- the rule -------------------------------------------------------------------------------------


def test_status_numbers_and_names_are_duemints() -> None:
    assert {int(s): name for s, name in STATUS_NAMES.items()} == {
        1: "Pagada",
        2: "Por vencer",
        3: "Vencida",
        4: "Anulada",
    }


@pytest.mark.parametrize(
    ("state", "due", "expected"),
    [
        (DocumentState.OPEN, TOMORROW, DocumentStatus.PENDING),
        (DocumentState.OPEN, TODAY, DocumentStatus.PENDING),  # due today is not yet overdue
        (DocumentState.OPEN, YESTERDAY, DocumentStatus.OVERDUE),
        (DocumentState.OPEN, date(2018, 4, 13), DocumentStatus.OVERDUE),
        (DocumentState.SETTLED, YESTERDAY, DocumentStatus.PAID),  # paid late is still paid
        (DocumentState.SETTLED, TODAY, DocumentStatus.PAID),
        (DocumentState.SETTLED, TOMORROW, DocumentStatus.PAID),
        (DocumentState.VOIDED, YESTERDAY, DocumentStatus.VOIDED),  # voided wins over overdue
        (DocumentState.VOIDED, TOMORROW, DocumentStatus.VOIDED),
    ],
)
def test_status_of(state: DocumentState, due: date, expected: DocumentStatus) -> None:
    assert status_of(state, due, TODAY) == expected


def _state_after(
    total: int, *, paid: int = 0, credit: int = 0, debit: int = 0, voided: bool = False
) -> Document:
    document = Document(
        total_cents=total, paid_cents=paid, credit_cents=credit, debit_cents=debit, voided=voided
    )
    ledger.rebalance(document)
    return document


@pytest.mark.parametrize(
    ("amounts", "due_cents", "state"),
    [
        ({"total": 1000}, 1000, DocumentState.OPEN),
        ({"total": 1000, "paid": 999}, 1, DocumentState.OPEN),
        ({"total": 1000, "paid": 1000}, 0, DocumentState.SETTLED),
        ({"total": 1000, "paid": 600, "credit": 400}, 0, DocumentState.SETTLED),
        ({"total": 1000, "credit": 1500}, 0, DocumentState.VOIDED),  # credits reaching the total void it
        ({"total": 1000, "credit": 1000}, 0, DocumentState.VOIDED),
        ({"total": 1000, "credit": 1000, "debit": 200}, 200, DocumentState.OPEN),  # a debit reopens it
        ({"total": 1000, "credit": 1200, "debit": 200}, 0, DocumentState.VOIDED),
        ({"total": 1000, "paid": 1000, "debit": 200}, 200, DocumentState.OPEN),  # a debit note reopens it
        ({"total": 1000, "voided": True}, 1000, DocumentState.VOIDED),  # voided keeps its amount due
        ({"total": 1000, "paid": 1000, "voided": True}, 0, DocumentState.VOIDED),
        ({"total": 0}, 0, DocumentState.SETTLED),
    ],
)
def test_balance_decides_the_state(amounts: dict[str, Any], due_cents: int, state: DocumentState) -> None:
    document = _state_after(**amounts)

    assert document.due_cents == due_cents
    assert document.state == state


# --- Santiago's day -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "santiago_day"),
    [
        # Summer (UTC-3): the day turns at 03:00 UTC.
        (datetime(2026, 3, 2, 2, 30, tzinfo=UTC), date(2026, 3, 1)),
        (datetime(2026, 3, 2, 2, 59, 59, tzinfo=UTC), date(2026, 3, 1)),
        (datetime(2026, 3, 2, 3, 0, tzinfo=UTC), date(2026, 3, 2)),
        (datetime(2026, 1, 1, 2, 0, tzinfo=UTC), date(2025, 12, 31)),
        # Winter (UTC-4): the day turns at 04:00 UTC.
        (datetime(2026, 7, 15, 3, 30, tzinfo=UTC), date(2026, 7, 14)),
        (datetime(2026, 7, 15, 3, 59, 59, tzinfo=UTC), date(2026, 7, 14)),
        (datetime(2026, 7, 15, 4, 0, tzinfo=UTC), date(2026, 7, 15)),
        # Midday is the same calendar day everywhere involved.
        (datetime(2026, 3, 1, 15, 0, tzinfo=UTC), date(2026, 3, 1)),
    ],
)
def test_today_in_santiago(utc: datetime, santiago_day: date) -> None:
    assert today_in_santiago(utc) == santiago_day


def test_today_in_santiago_reads_any_time_zone_as_the_same_instant() -> None:
    in_utc = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
    in_tokyo = in_utc.astimezone(timezone(timedelta(hours=9)))

    assert today_in_santiago(in_tokyo) == today_in_santiago(in_utc) == date(2026, 3, 1)


def test_today_in_santiago_without_now_is_todays_date_there() -> None:
    before = today_in_santiago(datetime.now(UTC))
    today = today_in_santiago()
    after = today_in_santiago(datetime.now(UTC))

    assert today in (before, after)


def test_status_turns_overdue_at_santiago_midnight_not_utc_midnight() -> None:
    due = date(2026, 3, 1)
    # 2026-03-02 01:00 UTC is already the 2nd in UTC but still the 1st in Santiago.
    late_evening = today_in_santiago(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    just_after_midnight = today_in_santiago(datetime(2026, 3, 2, 3, 0, 1, tzinfo=UTC))

    assert status_of(DocumentState.OPEN, due, late_evening) == DocumentStatus.PENDING
    assert status_of(DocumentState.OPEN, due, just_after_midnight) == DocumentStatus.OVERDUE


@pytest.mark.parametrize(
    ("day", "first_utc", "next_day_utc"),
    [
        (date(2026, 3, 1), datetime(2026, 3, 1, 3, tzinfo=UTC), datetime(2026, 3, 2, 3, tzinfo=UTC)),
        (date(2026, 7, 14), datetime(2026, 7, 14, 4, tzinfo=UTC), datetime(2026, 7, 15, 4, tzinfo=UTC)),
        # 2026-04-05: clocks go back from 00:00 to 23:00 of the 4th, so the 4th lasts 25 hours.
        (date(2026, 4, 4), datetime(2026, 4, 4, 3, tzinfo=UTC), datetime(2026, 4, 5, 4, tzinfo=UTC)),
        # 2026-09-06: clocks jump from 00:00 to 01:00, so the 6th lasts 23 hours.
        (date(2026, 9, 6), datetime(2026, 9, 6, 4, tzinfo=UTC), datetime(2026, 9, 7, 3, tzinfo=UTC)),
    ],
)
def test_santiago_day_spans_summer_winter_and_the_clock_changes(
    day: date, first_utc: datetime, next_day_utc: datetime
) -> None:
    assert today_in_santiago(first_utc - timedelta(microseconds=1)) == day - timedelta(days=1)
    assert today_in_santiago(first_utc) == day
    assert today_in_santiago(next_day_utc - timedelta(microseconds=1)) == day
    assert today_in_santiago(next_day_utc) == day + timedelta(days=1)


# --- the filter agrees with the rule --------------------------------------------------------------


async def _new_document(
    tenant: Tenant, client_id: str, number: str, issue: date, due: date
) -> dict[str, Any]:
    response = await tenant.post(
        "/v1/createDocument",
        {
            "clientId": client_id,
            "number": number,
            "issueDate": str(issue),
            "dueDate": str(due),
            "total": "1000",
            "taxes": "0",
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _set_balance(session: Session, document_id: str, *, paid: int, voided: bool) -> None:
    """Test setup only (there is no payments API yet): amounts in hundredths, straight on the row."""
    document = session.get(Document, int(document_id))
    assert document is not None
    document.paid_cents = paid
    document.voided = voided
    ledger.rebalance(document)
    session.commit()


BALANCES = {  # name → (paid in hundredths of a 1000.00 total, voided)
    "open": (0, False),
    "partly-paid": (40_000, False),
    "paid": (100_000, False),
    "voided": (0, True),
    "voided-paid": (100_000, True),
}


@pytest.fixture
async def documents_around_today(tenant: Tenant, session: Session) -> dict[str, tuple[date, str]]:
    """Every balance due yesterday, today and tomorrow (in Santiago); number → (due date, balance)."""
    client = await tenant.post("/v1/createClient", {"name": "CLIENTE", "taxId": "99999999-9"})
    assert client.status_code == 200, client.text
    today = today_in_santiago()
    made: dict[str, tuple[date, str]] = {}
    for offset in (-1, 0, 1):
        due = today + timedelta(days=offset)
        for balance, (paid, voided) in BALANCES.items():
            number = f"{balance}/{offset:+d}"
            doc = await _new_document(tenant, client.json()["id"], number, today - timedelta(days=10), due)
            await _set_balance(session, doc["id"], paid=paid, voided=voided)
            made[number] = (due, balance)
    return made


async def _listed(tenant: Tenant, **params: object) -> list[dict[str, Any]]:
    response = await tenant.get("/v1/getDocuments", resultsPerPage=100, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["records"]["totalRecords"] == len(body["items"])
    return list(body["items"])


async def test_each_status_filter_returns_only_documents_showing_that_status(
    tenant: Tenant, documents_around_today: dict[str, tuple[date, str]]
) -> None:
    seen: list[str] = []
    for status in DocumentStatus:
        items = await _listed(tenant, status=int(status))
        assert {(item["status"], item["statusName"]) for item in items} <= {
            (int(status), STATUS_NAMES[status])
        }
        seen += [item["number"] for item in items]

    assert sorted(seen) == sorted(documents_around_today)  # every document in exactly one status


async def test_status_filters_split_the_documents_as_the_rule_says(
    tenant: Tenant, documents_around_today: dict[str, tuple[date, str]]
) -> None:
    expected = {
        DocumentStatus.PAID: {"paid/-1", "paid/+0", "paid/+1"},
        DocumentStatus.PENDING: {"open/+0", "open/+1", "partly-paid/+0", "partly-paid/+1"},
        DocumentStatus.OVERDUE: {"open/-1", "partly-paid/-1"},
        DocumentStatus.VOIDED: {f"{v}/{o}" for v in ("voided", "voided-paid") for o in ("-1", "+0", "+1")},
    }

    for status, numbers in expected.items():
        assert {item["number"] for item in await _listed(tenant, status=int(status))} == numbers, status


async def test_unfiltered_list_shows_the_status_the_rule_gives(
    tenant: Tenant, documents_around_today: dict[str, tuple[date, str]]
) -> None:
    today = today_in_santiago()
    state_of = {
        "open": DocumentState.OPEN,
        "partly-paid": DocumentState.OPEN,
        "paid": DocumentState.SETTLED,
        "voided": DocumentState.VOIDED,
        "voided-paid": DocumentState.VOIDED,
    }

    items = await _listed(tenant)

    assert len(items) == len(documents_around_today)
    for item in items:
        due, balance = documents_around_today[item["number"]]
        assert item["dueDate"] == due.isoformat()
        assert item["status"] == status_of(state_of[balance], due, today), item["number"]


@pytest.mark.parametrize("shift", [-2, -1, 0, 1, 2])
async def test_repository_filter_agrees_with_status_of_on_any_day(
    tenant: Tenant, session: Session, documents_around_today: dict[str, tuple[date, str]], shift: int
) -> None:
    """The SQL condition and the Python rule must agree whatever day "today" is."""
    today = today_in_santiago() + timedelta(days=shift)

    everything, total = repository.list_page(
        session,
        tenant.company_id,
        DocumentFilters(),
        order_by=OrderBy.NUMBER,
        descending=False,
        offset=0,
        limit=100,
        today=today,
        with_client=False,
    )
    assert total == len(documents_around_today)
    by_rule = {
        status: {
            row.id for row in everything if status_of(DocumentState(row.state), row.due_date, today) == status
        }
        for status in DocumentStatus
    }

    for status in DocumentStatus:
        rows, count = repository.list_page(
            session,
            tenant.company_id,
            DocumentFilters(status=status),
            order_by=OrderBy.NUMBER,
            descending=False,
            offset=0,
            limit=100,
            today=today,
            with_client=False,
        )
        assert {row.id for row in rows} == by_rule[status], (status, today)
        assert count == len(by_rule[status])


async def test_overdue_and_pending_pages_by_issue_date_read_the_due_date_from_the_index(
    tenant: Tenant, session: Session, documents_around_today: dict[str, tuple[date, str]]
) -> None:
    """What keeps status=2/3 in their default order fast (docs/performance.md): the page's ids are read
    from ix_documents_company_state_issue alone, which holds the due date (migration 0029); without it
    SQLite reads the table row of every open document the page passes (10,000 for page 200)."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the plan of SQLite's planner; PostgreSQL's depends on its statistics")
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "LIMIT" in statement:
            statements.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for status in (DocumentStatus.OVERDUE, DocumentStatus.PENDING):
            for descending in (True, False):
                repository.list_page(
                    session,
                    tenant.company_id,
                    DocumentFilters(status=status),
                    order_by=OrderBy.ISSUE_DATE,
                    descending=descending,
                    offset=0,
                    limit=50,
                    today=today_in_santiago(),
                    with_client=False,
                )
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert len(statements) == 4
    for statement, parameters in statements:
        rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(parameters))
        plan = " ".join(str(row[-1]) for row in rows)
        assert "COVERING INDEX ix_documents_company_state_issue" in plan, plan
