"""SII's states followed end to end over real TLS: the emulator's Registro de Ventas (the generated company of
tests/sii/rcv, on a fixed clock), runs executed as the server's executor does, the states stored on the
documents and announced by ``document.updated`` webhooks when they change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.documents.sii_states import SiiState, state_of
from dtehub.kit.dates import SANTIAGO, today_in_santiago
from dtehub.models import Document, Note, Webhook, WebhookEvent
from dtehub.sii.config import SiiConfig
from dtehub.sii.emulator import Emulator
from dtehub.sii.emulator.register import Entry, state_at
from dtehub.webhooks.signing import new_secret, require_secret_box
from tests.sii.rcv.conftest import COMPANY, People
from tests.sii_sync import test_e2e as e2e
from tests.sii_sync.conftest import Committed

NOW = e2e.NOW
PERIODS = ("202607", "202608", "202609")
company = e2e.company


@pytest.fixture
def subscribed(company: Committed, settings: Settings) -> Committed:
    """The company with a webhook for ``document.updated``."""
    with unit_of_work(company.factory) as session:
        session.add(
            Webhook(
                company_id=company.company_id,
                url="https://receiver.test/hook",
                events=["document.updated"],
                secret_encrypted=require_secret_box(settings).seal(new_secret(), company.company_id),
            )
        )
    return company


@pytest.fixture
def changed(sii: Emulator) -> Iterator[list[Entry]]:
    """Entries a test accepts or claims, back as they were afterwards (the emulator serves every test)."""
    entries: list[Entry] = []
    yield entries
    for entry in entries:
        sii.register.forget_events(COMPANY, entry.type_code, entry.folio)


def instant(wall_clock: datetime | None) -> datetime | None:
    """The UTC instant of a Santiago wall-clock time of the register (as stored; a time in the hour
    daylight saving time skips compares unequal to any other zone's, so both sides in UTC)."""
    return wall_clock.replace(tzinfo=SANTIAGO).astimezone(UTC) if wall_clock is not None else None


def visible(sii: Emulator, now: datetime) -> list[Entry]:
    return [e for p in PERIODS for e in sii.register.visible(COMPANY, p, now)]


def stored(company: Committed) -> dict[tuple[int, int], Any]:
    """Every document and note of the company by (type, folio), as stored."""
    with unit_of_work(company.factory, writes=False) as session:
        rows = [
            *session.scalars(select(Document).where(Document.company_id == company.company_id)),
            *session.scalars(select(Note).where(Note.company_id == company.company_id)),
        ]
        for row in rows:
            session.expunge(row)
    return {(row.code, int(row.number)): row for row in rows}


def updated_events(company: Committed, after: int = 0) -> list[dict[str, Any]]:
    """The documents of the company's ``document.updated`` events, after the first ``after`` of them."""
    with unit_of_work(company.factory, writes=False) as session:
        texts = session.scalars(
            select(WebhookEvent.data)
            .where(WebhookEvent.company_id == company.company_id, WebhookEvent.type == "document.updated")
            .order_by(WebhookEvent.id)
            .offset(after)
        ).all()
    return [json.loads(text) for text in texts]


def pending_invoices(sii: Emulator, now: datetime) -> list[Entry]:
    """Facturas neither accepted nor claimed, now or later, still within their 8 days."""
    return [
        e
        for e in visible(sii, now)
        if e.type_code == 33
        and e.accepted_at is None
        and e.claimed_at is None
        and state_at(e, now).event is None
    ]


def test_the_first_sync_stores_sii_states_of_every_document_and_note(
    company: Committed, config: SiiConfig, people: People, sii: Emulator
) -> None:
    now = sii.register.now()

    run = e2e.sync(company, config, people.holder)

    assert run.state == "done", run.error_message
    assert run.documents_updated == 0  # all of them new
    rows = stored(company)
    entries = visible(sii, now)
    assert len(rows) == len(entries)
    today = today_in_santiago(NOW)
    states: dict[str, int] = {}
    for entry in entries:
        row = rows[entry.type_code, entry.folio]
        shown = state_at(entry, now)
        assert row.sii_received_at == instant(entry.received_at)
        assert row.sii_accepted_at == instant(shown.accepted_at)
        assert row.sii_claimed_at == instant(shown.claimed_at)
        assert row.sii_event_code == (shown.event[0] if shown.event else None)
        assert row.sii_synced_at == NOW
        state = state_of(row.code, row, today)
        assert state is not None
        states[state] = states.get(state, 0) + 1
    # The generated company has every state: accepted, claimed, tacitly accepted and still pending.
    assert set(states) == set(SiiState), states


def test_a_document_accepted_and_one_claimed_between_runs_are_exactly_what_the_next_sync_updates(
    subscribed: Committed, config: SiiConfig, people: People, sii: Emulator, changed: list[Entry]
) -> None:
    company = subscribed
    first = e2e.sync(company, config, people.holder)
    assert first.state == "done", first.error_message
    before = len(updated_events(company))  # invoices whose notes came in a later period
    now = sii.register.now()
    accepted, claimed = pending_invoices(sii, now)[:2]
    changed += [accepted, claimed]
    # Between the runs the two customers act, a minute later at SII, and nothing else happens there.
    later = now + timedelta(minutes=1)
    assert all(state_at(e, now) == state_at(e, later) for e in visible(sii, later))
    sii.register.advance(later - now)
    sii.register.accept(COMPANY, 33, accepted.folio)
    sii.register.claim(COMPANY, 33, claimed.folio, event="RFP")

    second = e2e.sync(company, config, people.holder, NOW + timedelta(minutes=1))

    assert second.state == "done", second.error_message
    assert second.documents_created == 0
    assert second.documents_updated == 2
    events = {event["number"]: event["sii"] for event in updated_events(company, before)}
    assert set(events) == {str(accepted.folio), str(claimed.folio)}
    assert events[str(accepted.folio)]["state"] == "accepted"
    assert events[str(accepted.folio)]["acceptedAt"] == "2026-09-20 12:01:00"
    assert events[str(accepted.folio)]["receiverEvent"]["code"] == "C"
    assert events[str(claimed.folio)]["state"] == "claimed"
    assert events[str(claimed.folio)]["claimedAt"] == "2026-09-20 12:01:00"
    assert events[str(claimed.folio)]["receiverEvent"] == {
        "code": "R",
        "description": "Reclamado: Reclamo por falta parcial de mercaderías",
    }
    assert events[str(claimed.folio)]["syncedAt"] == "2026-09-20 12:01:00"

    # Nothing changed since: a third sync updates nothing and announces nothing.
    third = e2e.sync(company, config, people.holder, NOW + timedelta(minutes=2))
    assert (third.documents_created, third.documents_updated) == (0, 0)
    assert len(updated_events(company, before)) == 2


def test_invoices_nobody_claimed_within_8_days_are_tacitly_accepted_by_the_next_sync(
    subscribed: Committed, config: SiiConfig, people: People, sii: Emulator
) -> None:
    company = subscribed
    now = sii.register.now()
    e2e.sync(company, config, people.holder)
    before = len(updated_events(company))
    pending = pending_invoices(sii, now)
    assert pending
    later = now + timedelta(days=9)
    expected = {(e.type_code, e.folio) for e in visible(sii, now) if state_at(e, now) != state_at(e, later)}
    sii.register.set_clock(lambda: later)

    run = e2e.sync(company, config, people.holder, NOW + timedelta(days=9))

    assert run.state == "done", run.error_message
    assert run.documents_updated == len(expected)
    rows = stored(company)
    today = today_in_santiago(NOW + timedelta(days=9))
    for entry in pending:
        row = rows[33, entry.folio]
        assert state_of(33, row, today) == SiiState.TACITLY_ACCEPTED
        assert row.sii_event_code == "A"
    announced = {event["number"]: event["sii"]["state"] for event in updated_events(company, before)}
    assert {str(e.folio) for e in pending} <= set(announced)
    assert {announced[str(e.folio)] for e in pending} == {"tacitly_accepted"}
    documents = {folio for code, folio in expected if code not in (56, 61, 111, 112)}
    assert set(announced) == {str(folio) for folio in documents}
