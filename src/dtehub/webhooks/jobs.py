"""The webhooks' periodic work: delivering what is due, and the daily "became overdue" sweep."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from dtehub.background import PeriodicJob
from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.kit.dates import today_in_santiago
from dtehub.webhooks import repository
from dtehub.webhooks.delivery import SessionFactory, deliver_due
from dtehub.webhooks.events import record_document_events
from dtehub.webhooks.signing import secret_box

log = logging.getLogger(__name__)

OVERDUE_LOOKBACK_DAYS = 7
"""A sweep also records the days it missed (the server was down): up to a week back."""


def overdue_key(document_id: int, day: date) -> str:
    """Once per document and day it became overdue."""
    return f"overdue:{document_id}:{day.isoformat()}"


def sweep_overdue(session: Session, today: date | None = None) -> int:
    """Record ``document.updated`` for each open document that became overdue on ``today`` (Santiago)
    or on one of the days before it that a sweep may have missed, once per document and day.

    A document is overdue from the day after its due date. Only companies with a webhook for
    ``document.updated`` are read. Returns how many events were recorded.
    """
    today = today or today_in_santiago()
    recorded = 0
    for company_id in repository.companies_subscribed_to(session, "document.updated"):
        documents = repository.open_documents_due_between(
            session, company_id, today - timedelta(days=OVERDUE_LOOKBACK_DAYS), today - timedelta(days=1)
        )
        keys = {overdue_key(doc_id, due + timedelta(days=1)): doc_id for doc_id, due in documents}
        done = repository.recorded_dedupe_keys(session, company_id, keys)
        for key, document_id in keys.items():
            if key not in done:
                record_document_events(
                    session, company_id, [document_id], "document.updated", dedupe_key=key, today=today
                )
                recorded += 1
    return recorded


def run_sweep(factory: SessionFactory, today: date | None = None) -> int:
    with unit_of_work(factory) as session:
        return sweep_overdue(session, today)


SWEEP_INTERVAL = 900.0
"""The overdue sweep is idempotent (once per document and day): every 15 minutes catches the new day
soon after Santiago's midnight."""


def periodic_jobs(settings: Settings, factory: sessionmaker[Session]) -> list[PeriodicJob]:
    """Delivery every ``webhook_interval`` seconds (when ``DTEHUB_SECRET_KEY`` is set: without it
    nothing can be signed) and the overdue sweep."""
    jobs = [PeriodicJob("webhooks-overdue-sweep", SWEEP_INTERVAL, lambda: run_sweep(factory))]
    if secret_box(settings) is not None:
        jobs.append(
            PeriodicJob(
                "webhooks-delivery", settings.webhook_interval, lambda: deliver_due(factory, settings)
            )
        )
    else:
        log.warning("DTEHUB_SECRET_KEY is not set: webhooks are not delivered")
    return jobs
