"""SII's states written by storing a period: on a document dtehub already had (matched by type and folio),
counted as updated only when its ``sii`` object changes, including when its 8 days run out with no event
from SII (dtehub counts the days itself, on the sync's clock); and the daily sweep that announces such a
tacit acceptance on its day when no sync reads the document then, once, whichever comes first."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dtehub.config import Settings
from dtehub.models import Webhook, WebhookEvent
from dtehub.sii.rcv import ReceiverEvent
from dtehub.sii_sync.store import store_period
from dtehub.webhooks.jobs import sweep_tacit_acceptances
from dtehub.webhooks.signing import new_secret, require_secret_box
from tests.conftest import LINKS, Tenant
from tests.documents.listing import new_client, new_document
from tests.sii_sync.rows import invoice

# rows.RECEIVED: 10 February 2026 at noon in Santiago; claimable through the 18th, tacitly accepted the 19th.
NEXT_DAY = datetime(2026, 2, 11, 15, 0, tzinfo=UTC)
THE_18TH, THE_19TH = date(2026, 2, 18), date(2026, 2, 19)
LAST_DAY = datetime(2026, 2, 18, 23, 0, tzinfo=UTC)  # 20:00 in Santiago, still the 18th
DAY_AFTER = datetime(2026, 2, 19, 3, 30, tzinfo=UTC)  # 00:30 on the 19th in Santiago


def subscribe(session: Session, settings: Settings, company_id: int) -> None:
    secret = require_secret_box(settings).seal(new_secret(), company_id)
    session.add(
        Webhook(company_id=company_id, url="https://receiver.test/h", events=["document.updated"],
                secret_encrypted=secret)
    )  # fmt: skip
    session.flush()


def announced(session: Session, company_id: int) -> list[dict[str, object]]:
    texts = session.scalars(
        select(WebhookEvent.data)
        .where(WebhookEvent.company_id == company_id, WebhookEvent.type == "document.updated")
        .order_by(WebhookEvent.id)
    ).all()
    return [json.loads(text)["sii"] for text in texts]


async def test_a_document_dtehub_had_gets_sii_states_and_is_updated_only_when_they_change(
    tenant: Tenant, session: Session, settings: Settings
) -> None:
    client = await new_client(tenant, "76086428-5")
    mine = await new_document(tenant, client["id"], "101", total="119000", taxes="19000", code=33)
    assert mine["sii"] is None
    subscribe(session, settings, tenant.company_id)
    rows = [invoice(101, 100_000)]

    first = store_period(session, tenant.company_id, rows, LINKS, NEXT_DAY)
    again = store_period(session, tenant.company_id, rows, LINKS, LAST_DAY)
    shown_on_the_last_day = announced(session, tenant.company_id)
    tacit = store_period(session, tenant.company_id, rows, LINKS, DAY_AFTER)
    session.commit()

    assert (first.created, first.updated) == (0, 1)  # never synced, now received
    assert again.updated == 0
    assert tacit.updated == 1  # no news from SII, but its 8 days are over
    assert [sii["state"] for sii in shown_on_the_last_day] == ["received"]
    assert [sii["state"] for sii in announced(session, tenant.company_id)] == ["received", "tacitly_accepted"]
    document = (await tenant.get("/v1/getDocument", id=mine["id"])).json()
    assert document["total"] == "119000.00"  # its amounts stay dtehub's
    assert document["sii"] == {
        "receivedAt": "2026-02-10 12:00:00",
        "acceptedAt": None,
        "claimedAt": None,
        "receiverEvent": None,
        "state": "tacitly_accepted",
        "syncedAt": "2026-02-19 00:30:00",
        # created with another issue date than the register's: said on the document, dtehub's kept
        "disagreements": [
            {
                "field": "issueDate",
                "dtehub": "2024-01-10",
                "sii": "2026-02-10",
                "message": "dtehub has it issued on 2024-01-10, SII's register on 2026-02-10; dtehub's "
                "date was kept, check which one is right",
            }
        ],
    }


async def test_a_claim_sii_reports_later_changes_the_state_once(tenant: Tenant, session: Session) -> None:
    store_period(session, tenant.company_id, [invoice(7, 10_000)], LINKS, NEXT_DAY)
    claimed = invoice(7, 10_000, claimed_at=NEXT_DAY, event=ReceiverEvent("R", "Reclamado"))

    first = store_period(session, tenant.company_id, [claimed], LINKS, NEXT_DAY + timedelta(hours=1))
    second = store_period(session, tenant.company_id, [claimed], LINKS, DAY_AFTER)
    session.commit()

    assert (first.updated, second.updated) == (1, 0)
    listed = (await tenant.get("/v1/getDocuments", siiState="claimed")).json()["items"]
    assert [(d["number"], d["sii"]["receiverEvent"]) for d in listed] == [
        ("7", {"code": "R", "description": "Reclamado"})
    ]


async def test_the_daily_sweep_announces_a_tacit_acceptance_on_its_day_once(
    tenant: Tenant, session: Session, settings: Settings
) -> None:
    subscribe(session, settings, tenant.company_id)
    sii_says = ReceiverEvent("A", "No reclamado en plazo")
    rows = [
        invoice(1, 10_000),  # received on the 10th, nothing since: tacitly accepted on the 19th
        invoice(2, 10_000, accepted_at=NEXT_DAY),
        invoice(3, 10_000, claimed_at=NEXT_DAY),
        invoice(4, 10_000, event=sii_says),  # SII's own word: the sync that read it announced it
        invoice(5, 10_000, day=date(2026, 2, 11), received_at=NEXT_DAY),  # one day later: the 20th
    ]
    store_period(session, tenant.company_id, rows, LINKS, NEXT_DAY)

    on_the_18th = sweep_tacit_acceptances(session, LINKS, THE_18TH)
    on_the_19th = sweep_tacit_acceptances(session, LINKS, THE_19TH)
    again = sweep_tacit_acceptances(session, LINKS, THE_19TH)
    # The sync reads the period after midnight: the state moved on since it last read it, it counts it,
    # but the sweep announced it already.
    later = store_period(session, tenant.company_id, rows, LINKS, DAY_AFTER)
    missed_days = sweep_tacit_acceptances(session, LINKS, date(2026, 2, 25))  # 20th missed: caught up
    session.commit()

    assert (on_the_18th, on_the_19th, again) == (0, 1, 0)
    assert later.updated == 1
    assert missed_days == 1
    assert [(sii["receivedAt"], sii["state"]) for sii in announced(session, tenant.company_id)] == [
        ("2026-02-10 12:00:00", "tacitly_accepted"),
        ("2026-02-11 12:00:00", "tacitly_accepted"),
    ]


async def test_a_sync_that_sees_it_first_announces_it_and_the_sweep_does_not_again(
    tenant: Tenant, session: Session, settings: Settings
) -> None:
    subscribe(session, settings, tenant.company_id)
    rows = [invoice(1, 10_000)]
    store_period(session, tenant.company_id, rows, LINKS, NEXT_DAY)

    synced = store_period(session, tenant.company_id, rows, LINKS, DAY_AFTER)
    swept = sweep_tacit_acceptances(session, LINKS, THE_19TH)
    session.commit()

    assert (synced.updated, swept) == (1, 0)
    assert [sii["state"] for sii in announced(session, tenant.company_id)] == ["tacitly_accepted"]
