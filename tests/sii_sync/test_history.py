"""History does not spam customers, end to end: a sync over real TLS against the emulator's register
(July to September 2026) for a company whose collections start on 1 September; then reminders runs as
dtehub serve or cron would make them, e-mails written to a folder. What came from before the start is
shown (``history: true``, in getDocuments and in its ``document.created`` webhook) and never reminded
nor in a debt summary; what came from the start on is reminded like any other; and an owner moving
collectionsStartDate moves the line for every synced document from then on (docs/reminders.md)."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.kit.money import format_money
from dtehub.mail.transport import FolderTransport
from dtehub.models import (
    Client,
    Company,
    Contact,
    Document,
    DocumentState,
    EmailMessage,
    Note,
    ReminderKind,
    WebhookEvent,
)
from dtehub.reminders import service as reminders
from dtehub.sii.config import SiiConfig
from dtehub.sii.emulator import Emulator
from tests.conftest import served
from tests.reminders.conftest import reminder_settings
from tests.sii.rcv.conftest import COMPANY, People
from tests.sii_sync.conftest import Committed, company_committed
from tests.sii_sync.test_e2e import emulated, sync

START = date(2026, 9, 1)
"""The company's collectionsStartDate: what it issued before is history."""


@pytest.fixture
def company(settings: Settings) -> Iterator[Committed]:
    with company_committed(settings, COMPANY) as committed:
        with unit_of_work(committed.factory) as session:
            row = session.get(Company, committed.company_id)
            assert row is not None
            row.collections_start_date = START
            row.reminder_days_before = 3
            row.reminder_overdue_every = 1  # every overdue document, every day: history would show
            row.debt_summary_period = "monthly"
            row.debt_summary_day = 15
        yield committed


def _events(committed: Committed, event_type: str) -> list[dict[str, Any]]:
    with unit_of_work(committed.factory, writes=False) as session:
        rows = session.scalars(
            select(WebhookEvent.data)
            .where(WebhookEvent.company_id == committed.company_id, WebhookEvent.type == event_type)
            .order_by(WebhookEvent.id)
        )
        return [json.loads(data) for data in rows]


async def _listed(http: Any, headers: dict[str, str], path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = await http.get(path, params={"page": page, "resultsPerPage": 100}, headers=headers)
        assert answer.status_code == 200, answer.text
        items += answer.json()["items"]
        if len(items) >= answer.json()["records"]["totalRecords"]:
            return items
        page += 1


def _give_every_client_a_contact(committed: Committed) -> None:
    with unit_of_work(committed.factory) as session:
        for client_id in session.scalars(select(Client.id).where(Client.company_id == committed.company_id)):
            session.add(
                Contact(
                    company_id=committed.company_id, client_id=client_id, email=f"c{client_id}@cliente.cl"
                )
            )


def _remind(committed: Committed, settings: Settings, folder: Path, day: date) -> reminders.RunSummary:
    settings = reminder_settings(settings)
    transport = FolderTransport(folder)
    return reminders.run(
        committed.factory, settings, day=day, transport=transport, company_id=committed.company_id
    )


def _files(folder: Path) -> int:
    return len(list(folder.glob("*.eml")))


def _sent(committed: Committed, since_id: int = 0) -> list[EmailMessage]:
    with unit_of_work(committed.factory, writes=False) as session:
        return list(
            session.scalars(
                select(EmailMessage)
                .where(
                    EmailMessage.company_id == committed.company_id,
                    EmailMessage.status == "sent",
                    EmailMessage.id > since_id,
                )
                .order_by(EmailMessage.id)
            )
        )


def _issued(committed: Committed, model: type[Document] | type[Note], ids: set[int]) -> dict[int, date]:
    with unit_of_work(committed.factory, writes=False) as session:
        rows = session.execute(select(model.id, model.issue_date).where(model.id.in_(sorted(ids))))
        return {row.id: row.issue_date for row in rows}


_ABOUT_A_DOCUMENT = {ReminderKind.NEW_DOCUMENT, ReminderKind.SOON_TO_EXPIRE, ReminderKind.EXPIRED}


def _reminded_issue_dates(committed: Committed, messages: list[EmailMessage]) -> list[date]:
    """The issue date of what each message (but debt summaries) is about: a document, or a note."""
    kinds = {m.id: ReminderKind(m.kind) for m in messages}
    documents = {m.subject_id for m in messages if kinds[m.id] in _ABOUT_A_DOCUMENT}
    notes = {m.subject_id for m in messages if kinds[m.id] == ReminderKind.CREDIT_DEBIT_NOTE}
    issued = {
        **{("d", i): d for i, d in _issued(committed, Document, documents).items()},
        **{("n", i): d for i, d in _issued(committed, Note, notes).items()},
    }
    return [
        issued["n" if m.kind == ReminderKind.CREDIT_DEBIT_NOTE else "d", m.subject_id]
        for m in messages
        if m.kind != ReminderKind.DEBT_SUMMARY
    ]


def _open_overdue_before(committed: Committed, day: date, issued_before: date) -> int:
    """Open documents synced and issued before ``issued_before`` that are overdue on ``day``."""
    with unit_of_work(committed.factory, writes=False) as session:
        rows = session.scalars(
            select(Document.id).where(
                Document.company_id == committed.company_id,
                Document.state == DocumentState.OPEN,
                Document.due_cents > 0,
                Document.due_date < day,
                Document.issue_date < issued_before,
            )
        )
        return len(list(rows))


def _expected_summaries(committed: Committed, day: date, start: date) -> dict[int, tuple[str, str | None]]:
    """Per client, what its debt summary must say it owes and how much of it is overdue: its open
    documents issued from ``start`` on (every one here came from the sync)."""
    owed: dict[int, int] = defaultdict(int)
    overdue: dict[int, int] = defaultdict(int)
    with unit_of_work(committed.factory, writes=False) as session:
        rows = session.execute(
            select(Document.client_id, Document.due_cents, Document.due_date).where(
                Document.company_id == committed.company_id,
                Document.state == DocumentState.OPEN,
                Document.due_cents > 0,
                Document.issue_date >= start,
            )
        )
        for row in rows:
            owed[row.client_id] += row.due_cents
            if row.due_date < day:
                overdue[row.client_id] += row.due_cents
    return {
        client: (format_money(cents), format_money(overdue[client]) if overdue[client] else None)
        for client, cents in owed.items()
    }


def _check_summaries(committed: Committed, messages: list[EmailMessage], day: date, start: date) -> None:
    expected = _expected_summaries(committed, day, start)
    summaries = {m.client_id: m.text_body or "" for m in messages if m.kind == ReminderKind.DEBT_SUMMARY}
    assert set(summaries) == set(expected)  # a client who owes only history gets none
    for client_id, text in summaries.items():
        owed, overdue = expected[client_id]
        assert f"es de {owed}." in text
        if overdue is None:
            assert "vencidos" not in text
        else:
            assert f"De ese saldo, {overdue} corresponde a documentos vencidos." in text


async def test_history_is_shown_and_never_reminded_and_follows_the_owners_start(
    company: Committed,
    settings: Settings,
    config: SiiConfig,
    people: People,
    sii: Emulator,
    tmp_path: Path,
) -> None:
    headers = {"Authorization": f"Bearer {company.token}"}
    app = create_app(emulated(settings, sii))
    try:
        async with served(app) as http:
            hook = await http.post(
                "/v1/createWebhook",
                json={"url": "http://127.0.0.1:9/hook", "events": ["document.created", "note.created"]},
                headers=headers,
            )
            assert hook.status_code == 200, hook.text

            # July to September, on 20 September (the run makes its own event loop: in a thread of its own)
            run = await asyncio.to_thread(sync, company, config, people.holder)
            assert run.state == "done", run.error_message

            # Shown, each saying whether it is history: in getDocuments, getNotes and its creation webhook.
            documents = await _listed(http, headers, "/v1/getDocuments")
            notes = await _listed(http, headers, "/v1/getNotes")
            for item in (*documents, *notes):
                assert item["source"] == "sii"
                assert item["history"] is (item["issueDate"] < START.isoformat()), item
            assert {d["history"] for d in documents} == {True, False}
            created = _events(company, "document.created") + _events(company, "note.created")
            assert len(created) == len(documents) + len(notes) == run.documents_created
            for data in created:
                assert data["history"] is (data["issueDate"] < START.isoformat())

            # The customer's page, which the debt summary links to, agrees with it: history is left out.
            by_client: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for item in documents:
                by_client[item["clientTaxId"]].append(item)
            mixed = [
                tax for tax, items in by_client.items() if {d["history"] for d in items} == {True, False}
            ]
            assert mixed
            client = await http.get("/v1/getClient", params={"taxId": mixed[0]}, headers=headers)
            page = await http.get(httpx.URL(client.json()["url"]).path)
            assert page.status_code == 200
            for item in by_client[mixed[0]]:
                assert (f"/portal/invoice/{item['id']}/" in page.text) is not item["history"], item

            # Reminders, on the sync's day and on the debt summary's: only what was issued from the start on.
            _give_every_client_a_contact(company)
            first = _remind(company, settings, tmp_path, date(2026, 9, 20))
            october = date(2026, 10, 15)
            second = _remind(company, settings, tmp_path, october)
            sent = _sent(company)
            assert first.sent > 0
            assert second.sent > 0
            assert len(sent) == first.sent + second.sent == _files(tmp_path)
            assert _open_overdue_before(company, october, START) > 0  # history a run would have reminded
            issued = _reminded_issue_dates(company, sent)
            assert issued
            assert min(issued) >= START
            assert {m.kind for m in sent} >= {"newDocument", "expired", "debtSummary"}
            _check_summaries(company, [m for m in sent if m.reminder_day == october], october, START)

            # The owner moves the start to 1 August: August is collected from now on, July stays history.
            august = date(2026, 8, 1)
            body = {"collectionsStartDate": "2026-08-01"}
            moved = await http.post("/v1/updateCompany", json=body, headers=headers)
            assert moved.status_code == 200, moved.text
            assert moved.json()["collectionsStartDate"] == "2026-08-01"
            for item in await _listed(http, headers, "/v1/getDocuments"):
                assert item["history"] is (item["issueDate"] < august.isoformat()), item
            # Nothing is told again: no event for the documents whose history changed.
            assert len(_events(company, "document.created")) == len(documents)

            last = _sent(company)[-1].id
            next_day = october + timedelta(days=1)
            third = _remind(company, settings, tmp_path, next_day)
            assert third.sent > 0
            later = _sent(company, last)
            issued = _reminded_issue_dates(company, later)
            assert min(issued) >= august
            assert min(issued) < START  # August's overdue documents are reminded now
    finally:
        app.state.engine.dispose()
