"""The aggregate queries behind the web app's dashboard, portfolio and their lists: sums and counts
computed by the database, never documents loaded one by one. Every query filters by company.

The dashboard's and the portfolio's figures read the summaries the database keeps with triggers
(migration 0027: ``open_balances``, ``client_balances``, ``issued_totals``, ``collected_days``; 0028:
``claimed_balances``), a few
hundred or thousand rows a company whatever its number of documents; the lists of open documents behind
each figure, and what the ten top debtors have overdue, read the partial index of open documents.

**History is left out** of every figure and list of open documents (owed, overdue, the windows, aging,
debtors, the portfolio, sales for the DSO): documents synced from SII and issued before the company's
``collectionsStartDate`` (:mod:`dtehub.documents.history`) are not collected with dtehub, so the web app
counts them as the debt summaries and the customer portal do: not at all. :func:`history_totals` shows
them apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, case, false, func, literal_column, or_, select, true
from sqlalchemy.orm import Session

from dtehub.documents.history import collected
from dtehub.documents.repository import claimed_at_sii
from dtehub.models import (
    AuditEvent,
    ClaimedBalance,
    Client,
    ClientBalance,
    CollectedDay,
    Company,
    Document,
    DocumentState,
    IssuedTotal,
    OpenBalance,
    User,
)

# A literal, not a bound parameter: only a query that says ``state = 0`` in its text may read the partial
# index of open documents (ix_documents_open), on SQLite and in PostgreSQL's generic plans alike.
_OPEN = Document.state == literal_column(str(DocumentState.OPEN.value))


def collections_start(session: Session, company_id: int) -> date | None:
    """The company's ``collectionsStartDate`` (None: nothing is history)."""
    return session.scalar(select(Company.collections_start_date).where(Company.id == company_id))


def _collected(start: date | None) -> ColumnElement[bool]:
    """Not history, for a company whose collections start on ``start``."""
    return collected(Document.source, Document.issue_date, start)


def _sum_when(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, Document.due_cents), else_=0)), 0)


def _count_when(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class Receivables:
    """What a company is owed in one currency, today: totals, windows and aging buckets (hundredths)."""

    currency: str
    owed: int
    documents: int
    overdue: int
    overdue_documents: int
    due_7: int
    due_30: int
    current: int
    """Not yet due (al día)."""
    days_1_30: int
    days_31_60: int
    days_61_90: int
    over_90: int


def _not_history(sii_issue_date: Any, start: Any) -> ColumnElement[bool]:
    """SQL: a summary row that is not history, for a company whose collections start on ``start`` (a
    date, None, or the company's column). ``sii_issue_date`` is the issue date of documents synced from
    SII and ``NOT_SYNCED`` for the others, so one comparison says it whatever the start is now."""
    if start is None:
        return true()
    if isinstance(start, date):
        return sii_issue_date >= start  # type: ignore[no-any-return]
    return or_(start.is_(None), sii_issue_date >= start)


def receivables(session: Session, company_id: int, today: date, start: date | None) -> list[Receivables]:
    """One row per currency of the company's open documents (history left out), from the kept summary
    of open documents per currency and due date (``open_balances``, a few hundred or thousand rows): the
    due dates are added into the windows and buckets here."""
    rows = session.execute(
        select(
            OpenBalance.currency,
            OpenBalance.due_date,
            func.sum(OpenBalance.documents),
            func.sum(OpenBalance.due_cents),
        )
        .where(OpenBalance.company_id == company_id, _not_history(OpenBalance.sii_issue_date, start))
        .group_by(OpenBalance.currency, OpenBalance.due_date)
        .order_by(OpenBalance.currency, OpenBalance.due_date)
    ).all()
    days = [today - timedelta(days=n) for n in (30, 60, 90)]
    week, month = today + timedelta(days=7), today + timedelta(days=30)
    totals: dict[str, list[int]] = {}
    for currency, due, count, cents in rows:
        count, cents = int(count), int(cents or 0)
        t = totals.setdefault(currency, [0] * 11)
        t[0] += cents
        t[1] += count
        if due < today:
            t[2] += cents
            t[3] += count
            bucket = 7 if due >= days[0] else 8 if due >= days[1] else 9 if due >= days[2] else 10
            t[bucket] += cents
        else:
            t[6] += cents
            t[4] += cents if due <= week else 0
            t[5] += cents if due <= month else 0
    return [Receivables(currency, *values) for currency, values in totals.items()]


class HistoryTotals(NamedTuple):
    documents: int
    due: int


def history_totals(session: Session, company_id: int, currency: str, start: date | None) -> HistoryTotals:
    """The open documents that are history, apart: how many and their amount due (hundredths)."""
    if start is None:
        return HistoryTotals(0, 0)
    row = session.execute(
        select(
            func.coalesce(func.sum(OpenBalance.documents), 0),
            func.coalesce(func.sum(OpenBalance.due_cents), 0),
        ).where(
            OpenBalance.company_id == company_id,
            OpenBalance.currency == currency,
            OpenBalance.sii_issue_date < start,
        )
    ).one()
    return HistoryTotals(int(row[0]), int(row[1]))


def sales(
    session: Session, company_id: int, currency: str, since: date, until: date, start: date | None
) -> int:
    """The total of the documents issued in [since, until] that are not voided nor history
    (hundredths), from the kept totals per issue day (``issued_totals``)."""
    history = (
        and_(IssuedTotal.from_sii == 1, IssuedTotal.issue_date < start) if start is not None else false()
    )
    total = session.scalar(
        select(func.coalesce(func.sum(IssuedTotal.total_cents), 0)).where(
            IssuedTotal.company_id == company_id,
            IssuedTotal.currency == currency,
            IssuedTotal.issue_date >= since,
            IssuedTotal.issue_date <= until,
            ~history,
        )
    )
    return int(total or 0)


def collected_by_day(
    session: Session, company_id: int, currency: str, since: date, until: date
) -> list[tuple[date, int]]:
    """Reconciled payments per day in [since, until] (hundredths), from the kept sums per payment day
    (``collected_days``): at most a year of rows."""
    rows = session.execute(
        select(CollectedDay.paid_on, CollectedDay.amount_cents)
        .where(
            CollectedDay.company_id == company_id,
            CollectedDay.currency == currency,
            CollectedDay.paid_on >= since,
            CollectedDay.paid_on <= until,
        )
        .order_by(CollectedDay.paid_on)
    ).all()
    return [(row[0], int(row[1])) for row in rows]


class Debtor(NamedTuple):
    client_id: int
    name: str
    tax_id: str
    owed: int
    documents: int
    overdue: int


def top_debtors(
    session: Session, company_id: int, currency: str, today: date, start: date | None, limit: int = 10
) -> list[Debtor]:
    """The clients that owe the most: chosen from the kept sums per client (``client_balances``, a row
    per client and SII issue date); what the ten have overdue from their open documents alone (on the
    index of open documents by client)."""
    owed = func.sum(ClientBalance.due_cents).label("owed")
    client = ClientBalance.client_id.label("client_id")
    top = session.execute(
        select(client, owed, func.sum(ClientBalance.documents))
        .where(
            ClientBalance.company_id == company_id,
            ClientBalance.currency == currency,
            _not_history(ClientBalance.sii_issue_date, start),
        )
        .group_by(client)
        .order_by(owed.desc(), client)
        .limit(limit)
    ).all()
    if not top:
        return []
    ids = [row[0] for row in top]
    overdue: dict[int, int] = dict(
        session.execute(
            # The due date summed over, not searched: the ten clients' open documents on the index by client.
            select(Document.client_id, _sum_when(Document.due_date < today))
            .where(
                Document.company_id == company_id,
                _OPEN,
                Document.currency == currency,
                Document.client_id.in_(ids),
                _collected(start),
            )
            .group_by(Document.client_id)
        ).all()
    )
    names = {
        row[0]: (row[1], row[2])
        for row in session.execute(
            select(Client.id, Client.name, Client.tax_id).where(
                Client.company_id == company_id, Client.id.in_(ids)
            )
        )
    }
    return [
        Debtor(client_id, *names[client_id], int(cents), int(count), int(overdue.get(client_id) or 0))
        for client_id, cents, count in top
        if client_id in names
    ]


class Activity(NamedTuple):
    created_at: datetime
    actor: str
    user_email: str | None
    token_id: int | None
    action: str
    object_type: str | None
    object_id: int | None


def recent_activity(session: Session, company_id: int, limit: int = 10) -> list[Activity]:
    rows = session.execute(
        select(
            AuditEvent.created_at,
            AuditEvent.actor,
            User.email,
            AuditEvent.token_id,
            AuditEvent.action,
            AuditEvent.object_type,
            AuditEvent.object_id,
        )
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(AuditEvent.company_id == company_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [Activity(*row) for row in rows]


class CompanyFigures(NamedTuple):
    company_id: int
    owed: int
    overdue: int
    documents: int
    overdue_documents: int
    claimed_documents: int = 0
    """Open documents the customer claimed at SII (``claimed_balances``)."""
    claimed: int = 0


def figures_of_companies(
    session: Session, company_ids: Sequence[int], currency: str, today: date
) -> dict[int, CompanyFigures]:
    """Owed and overdue per company (the portfolio), in one grouped query over the kept summaries of open
    documents (``open_balances``); each company's history left out by its own ``collectionsStartDate``."""
    if not company_ids:
        return {}
    overdue = OpenBalance.due_date < today
    rows = session.execute(
        select(
            OpenBalance.company_id,
            func.coalesce(func.sum(OpenBalance.due_cents), 0),
            func.coalesce(func.sum(case((overdue, OpenBalance.due_cents), else_=0)), 0),
            func.coalesce(func.sum(OpenBalance.documents), 0),
            func.coalesce(func.sum(case((overdue, OpenBalance.documents), else_=0)), 0),
        )
        .join(Company, Company.id == OpenBalance.company_id)
        .where(
            OpenBalance.company_id.in_(company_ids),
            OpenBalance.currency == currency,
            _not_history(OpenBalance.sii_issue_date, Company.collections_start_date),
        )
        .group_by(OpenBalance.company_id)
    ).all()
    claims = claimed_of_companies(session, company_ids, currency)
    return {
        row[0]: CompanyFigures(
            row[0], int(row[1]), int(row[2]), int(row[3]), int(row[4]), *claims.get(row[0], Claimed(0, 0))
        )
        for row in rows
    }


class Claimed(NamedTuple):
    """Open documents the customers claimed at SII: how many, and what they owe (hundredths)."""

    documents: int
    due: int


def claimed(session: Session, company_id: int, currency: str, start: date | None) -> Claimed:
    """The company's open documents claimed at SII in ``currency`` (history left out), from the kept
    summary (``claimed_balances``)."""
    row = session.execute(
        select(
            func.coalesce(func.sum(ClaimedBalance.documents), 0),
            func.coalesce(func.sum(ClaimedBalance.due_cents), 0),
        ).where(
            ClaimedBalance.company_id == company_id,
            ClaimedBalance.currency == currency,
            _not_history(ClaimedBalance.sii_issue_date, start),
        )
    ).one()
    return Claimed(int(row[0]), int(row[1]))


def claimed_of_companies(session: Session, company_ids: Sequence[int], currency: str) -> dict[int, Claimed]:
    """:func:`claimed` of each company (none claimed: absent), in one grouped query, each company's
    history left out by its own ``collectionsStartDate``."""
    rows = session.execute(
        select(
            ClaimedBalance.company_id,
            func.coalesce(func.sum(ClaimedBalance.documents), 0),
            func.coalesce(func.sum(ClaimedBalance.due_cents), 0),
        )
        .join(Company, Company.id == ClaimedBalance.company_id)
        .where(
            ClaimedBalance.company_id.in_(company_ids),
            ClaimedBalance.currency == currency,
            _not_history(ClaimedBalance.sii_issue_date, Company.collections_start_date),
        )
        .group_by(ClaimedBalance.company_id)
    ).all()
    return {row[0]: Claimed(int(row[1]), int(row[2])) for row in rows if row[1]}


@dataclass(frozen=True)
class OpenFilter:
    """The open documents a figure is made of: overdue or not (None: both), a due-date range, a client.
    History is never in them."""

    currency: str = "CLP"
    overdue: bool | None = None
    due_since: date | None = None
    due_until: date | None = None
    client_id: int | None = None
    claimed: bool = False
    """Only those the customer claimed at SII (``dtehub.documents.sii_states``: a claim recorded)."""


def _open_conditions(
    company_id: int, wanted: OpenFilter, today: date, start: date | None
) -> list[ColumnElement[bool]]:
    conditions = [Document.company_id == company_id, _OPEN, Document.currency == wanted.currency]
    conditions.append(_collected(start))
    if wanted.overdue is True:
        conditions.append(Document.due_date < today)
    elif wanted.overdue is False:
        conditions.append(Document.due_date >= today)
    if wanted.due_since is not None:
        conditions.append(Document.due_date >= wanted.due_since)
    if wanted.due_until is not None:
        conditions.append(Document.due_date <= wanted.due_until)
    if wanted.client_id is not None:
        conditions.append(Document.client_id == wanted.client_id)
    if wanted.claimed:
        conditions.append(claimed_at_sii())
    return conditions


def open_totals(
    session: Session, company_id: int, wanted: OpenFilter, today: date, start: date | None
) -> tuple[int, int]:
    """(documents, amount due) of the open documents the filter names."""
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(Document.due_cents), 0)).where(
            *_open_conditions(company_id, wanted, today, start)
        )
    ).one()
    return int(row[0]), int(row[1])


class OpenRow(NamedTuple):
    id: int
    code: int
    number: str
    client_id: int
    client_name: str
    client_tax_id: str
    issue_date: date
    due_date: date
    total: int
    due: int


_OPEN_ROW_COLUMNS: list[Any] = [
    Document.id,
    Document.code,
    Document.number,
    Document.client_id,
    Client.name,
    Client.tax_id,
    Document.issue_date,
    Document.due_date,
    Document.total_cents,
    Document.due_cents,
]


def _open_rows(conditions: list[ColumnElement[bool]]) -> Select[Any]:
    """The :class:`OpenRow` columns of the documents the conditions name, the oldest due first."""
    return (
        select(*_OPEN_ROW_COLUMNS)
        .join(Client, Client.id == Document.client_id)
        .where(*conditions)
        .order_by(Document.due_date, Document.id)
    )


def open_page(
    session: Session,
    company_id: int,
    wanted: OpenFilter,
    today: date,
    start: date | None,
    offset: int,
    limit: int,
) -> list[OpenRow]:
    """A page of those documents, the oldest due first."""
    # The page's ids from the index of open documents alone (a deep page skips index entries, not rows).
    page = (
        select(Document.id)
        .where(*_open_conditions(company_id, wanted, today, start))
        .order_by(Document.due_date, Document.id)
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(*_OPEN_ROW_COLUMNS)
        .join(page, page.c.id == Document.id)
        .join(Client, Client.id == Document.client_id)
        .where(Document.company_id == company_id)
        .order_by(Document.due_date, Document.id)
    ).all()
    return [OpenRow._make(row) for row in rows]


def client_name(session: Session, company_id: int, client_id: int) -> str | None:
    return session.scalar(select(Client.name).where(Client.company_id == company_id, Client.id == client_id))


def open_currencies_of_client(session: Session, company_id: int, client_id: int) -> list[str]:
    """The currencies the client owes something in (a new payment's currency choices)."""
    query = (
        select(Document.currency)
        .where(Document.company_id == company_id, Document.client_id == client_id, _OPEN)
        .distinct()
    )
    return sorted(session.scalars(query))


def open_after(
    session: Session,
    company_id: int,
    wanted: OpenFilter,
    today: date,
    start: date | None,
    after: tuple[date, int] | None,
    limit: int,
) -> list[OpenRow]:
    """The next rows of those documents after ``after`` (due date, id), in the list's order: an export
    reads a large list in batches this way, each on the index, none skipping rows it read before."""
    conditions = _open_conditions(company_id, wanted, today, start)
    if after is not None:
        due, last_id = after
        # A lower bound on the due date the index can seek to; the rows of that day already read left out.
        conditions += [Document.due_date >= due, (Document.due_date > due) | (Document.id > last_id)]
    rows = session.execute(_open_rows(conditions).limit(limit)).all()
    return [OpenRow._make(row) for row in rows]


class ClientOwed(NamedTuple):
    """What one client owes in one currency today (hundredths), history left out."""

    client_id: int
    currency: str
    owed: int
    documents: int
    overdue: int
    overdue_documents: int


def owed_by_clients(
    session: Session, company_id: int, client_ids: Sequence[int], today: date, start: date | None
) -> list[ClientOwed]:
    """Owed and overdue per client and currency, for a page of clients, in one grouped query (on the
    index of the company's documents by client)."""
    if not client_ids:
        return []
    rows = session.execute(
        select(
            Document.client_id,
            Document.currency,
            func.coalesce(func.sum(Document.due_cents), 0),
            func.count(),
            _sum_when(Document.due_date < today),
            _count_when(Document.due_date < today),
        )
        .where(
            Document.company_id == company_id,
            Document.client_id.in_(set(client_ids)),
            _OPEN,
            _collected(start),
        )
        .group_by(Document.client_id, Document.currency)
        .order_by(Document.client_id, Document.currency)
    ).all()
    return [ClientOwed(row[0], row[1], *(int(value) for value in row[2:])) for row in rows]
