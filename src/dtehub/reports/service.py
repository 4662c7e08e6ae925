"""What the web app's dashboard and portfolio say, from the aggregate queries of the repository: the
figures, the aging buckets, collections per month, days sales outstanding, the top debtors, and the
filter of the list each figure is made of. History (documents synced from SII and issued before the
company's ``collectionsStartDate``) is in none of them, as in the debt summaries and the customer portal;
the dashboard shows it apart (:attr:`Dashboard.history`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from dtehub.reports import repository, timeline
from dtehub.reports.repository import (
    Activity,
    Claimed,
    CompanyFigures,
    Debtor,
    HistoryTotals,
    OpenFilter,
    Receivables,
)

CURRENCY = "CLP"
DSO_DAYS = 90
MONTHS = 12
_MONTH_NAMES = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")


@dataclass(frozen=True)
class Bucket:
    label: str
    cents: int
    filter: OpenFilter


@dataclass(frozen=True)
class Month:
    first_day: date
    label: str
    cents: int


@dataclass(frozen=True)
class Dashboard:
    today: date
    currency: str
    figures: Receivables
    owed: OpenFilter
    overdue: OpenFilter
    due_7: OpenFilter
    due_30: OpenFilter
    aging: list[Bucket]
    months: list[Month]
    dso_days: int | None
    """Days sales outstanding: what is owed over the last 90 days' sales, times 90; None without sales."""
    debtors: list[Debtor]
    activity: list[Activity]
    other_currencies: list[Receivables]
    collections_start: date | None
    history: HistoryTotals
    """Open documents that are history (pesos), counted in none of the figures above."""
    claimed: Claimed
    """Open documents (pesos, history left out) the customers claimed at SII."""
    claimed_filter: OpenFilter


def _empty(currency: str) -> Receivables:
    return Receivables(currency, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def _month_start(day: date, back: int) -> date:
    month = day.month - 1 - back
    return date(day.year + month // 12, month % 12 + 1, 1)


def aging(figures: Receivables, today: date) -> list[Bucket]:
    """Al día, 1–30, 31–60, 61–90 and más de 90 días vencido, with the filter of each."""
    d = timedelta

    def overdue(since: int | None, until: int) -> OpenFilter:
        return OpenFilter(
            CURRENCY,
            overdue=True,
            due_since=today - d(days=since) if since is not None else None,
            due_until=today - d(days=until),
        )

    return [
        Bucket("Al día", figures.current, OpenFilter(CURRENCY, overdue=False)),
        Bucket("1 a 30 días", figures.days_1_30, overdue(30, 1)),
        Bucket("31 a 60 días", figures.days_31_60, overdue(60, 31)),
        Bucket("61 a 90 días", figures.days_61_90, overdue(90, 61)),
        Bucket("Más de 90 días", figures.over_90, overdue(None, 91)),
    ]


def collected_per_month(session: Session, company_id: int, today: date) -> list[Month]:
    """Reconciled payments of each of the last 12 months, this one included (oldest first)."""
    first = _month_start(today, MONTHS - 1)
    by_month: dict[date, int] = {}
    for day, cents in repository.collected_by_day(session, company_id, CURRENCY, first, today):
        key = day.replace(day=1)
        by_month[key] = by_month.get(key, 0) + cents
    months = [_month_start(today, back) for back in range(MONTHS - 1, -1, -1)]
    return [Month(m, f"{_MONTH_NAMES[m.month - 1]} {m.year}", by_month.get(m, 0)) for m in months]


def dashboard(session: Session, company_id: int, today: date) -> Dashboard:
    start = repository.collections_start(session, company_id)
    every = repository.receivables(session, company_id, today, start)
    figures = next((r for r in every if r.currency == CURRENCY), _empty(CURRENCY))
    since = today - timedelta(days=DSO_DAYS - 1)
    sold = repository.sales(session, company_id, CURRENCY, since, today, start)
    dso = round(figures.owed * DSO_DAYS / sold) if sold > 0 else None
    week, month = today + timedelta(days=7), today + timedelta(days=30)
    return Dashboard(
        today=today,
        currency=CURRENCY,
        figures=figures,
        owed=OpenFilter(CURRENCY),
        overdue=OpenFilter(CURRENCY, overdue=True),
        due_7=OpenFilter(CURRENCY, overdue=False, due_until=week),
        due_30=OpenFilter(CURRENCY, overdue=False, due_until=month),
        aging=aging(figures, today),
        months=collected_per_month(session, company_id, today),
        dso_days=dso,
        debtors=repository.top_debtors(session, company_id, CURRENCY, today, start),
        activity=repository.recent_activity(session, company_id),
        other_currencies=[r for r in every if r.currency != CURRENCY],
        collections_start=start,
        history=repository.history_totals(session, company_id, CURRENCY, start),
        claimed=repository.claimed(session, company_id, CURRENCY, start),
        claimed_filter=OpenFilter(CURRENCY, claimed=True),
    )


def portfolio(session: Session, company_ids: list[int], today: date) -> dict[int, CompanyFigures]:
    return repository.figures_of_companies(session, company_ids, CURRENCY, today)


@dataclass(frozen=True)
class OpenList:
    filter: OpenFilter
    client_name: str | None
    documents: int
    due: int
    rows: list[repository.OpenRow]
    page: int
    pages: int


PAGE_SIZE = 50


def checked_filter(session: Session, company_id: int, wanted: OpenFilter) -> tuple[OpenFilter, str | None]:
    """The filter as the company may use it, and its client's name: another company's client (or a
    missing one) lists nothing, exactly as a client without documents."""
    name = repository.client_name(session, company_id, wanted.client_id) if wanted.client_id else None
    if wanted.client_id is not None and name is None:
        wanted = dataclasses.replace(wanted, client_id=0)
    return wanted, name


def open_list(session: Session, company_id: int, wanted: OpenFilter, today: date, page: int) -> OpenList:
    """The open documents a figure is made of, with their count and sum (the figure itself); history
    left out, as in the figure."""
    wanted, name = checked_filter(session, company_id, wanted)
    start = repository.collections_start(session, company_id)
    documents, due = repository.open_totals(session, company_id, wanted, today, start)
    pages = max(1, -(-documents // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = (
        repository.open_page(session, company_id, wanted, today, start, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        if documents
        else []
    )
    return OpenList(wanted, name, documents, due, rows, page, pages)


def currencies_of_client(session: Session, company_id: int, client_id: int) -> list[str]:
    """The currencies the client owes something in."""
    return repository.open_currencies_of_client(session, company_id, client_id)


@dataclass(frozen=True)
class DocumentHistory:
    """What happened to one document besides its own row: the document page's timeline."""

    payments: list[timeline.PaymentLine]
    notes: list[timeline.NoteLine]
    reminders: list[timeline.ReminderLine]
    webhooks: list[timeline.WebhookLine]
    audit: list[timeline.AuditLine]


def document_history(session: Session, company_id: int, document_id: int) -> DocumentHistory:
    """The company's records about the document (each read filtered by the company)."""
    return DocumentHistory(
        payments=timeline.payments(session, company_id, document_id),
        notes=timeline.notes(session, company_id, document_id),
        reminders=timeline.reminders(session, company_id, document_id),
        webhooks=timeline.webhook_events(session, company_id, document_id),
        audit=timeline.audit_entries(session, company_id, document_id),
    )


EXPORT_BATCH = 1000


def open_batch(
    session: Session, company_id: int, wanted: OpenFilter, today: date, after: tuple[date, int] | None
) -> list[repository.OpenRow]:
    """The next :data:`EXPORT_BATCH` documents of a checked filter's list after ``after`` (due date,
    id): an export reads the list this way, one short unit of work per batch."""
    start = repository.collections_start(session, company_id)
    return repository.open_after(session, company_id, wanted, today, start, after, EXPORT_BATCH)


def owed_by_clients(
    session: Session, company_id: int, client_ids: list[int], today: date
) -> dict[int, list[repository.ClientOwed]]:
    """What each of these clients owes, per currency (pesos first), history left out."""
    start = repository.collections_start(session, company_id)
    owed: dict[int, list[repository.ClientOwed]] = {}
    for line in repository.owed_by_clients(session, company_id, client_ids, today, start):
        owed.setdefault(line.client_id, []).append(line)
    for lines in owed.values():
        lines.sort(key=lambda line: (line.currency != CURRENCY, line.currency))
    return owed
