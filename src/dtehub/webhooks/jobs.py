"""The webhooks' periodic work: the daily sweep of documents that became overdue or tacitly accepted at SII
(delivering what is due is :func:`dtehub.webhooks.delivery.deliver_due`); :mod:`dtehub.background` runs
both in ``dtehub serve``."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from dtehub.db import unit_of_work
from dtehub.documents import repository as documents_repository
from dtehub.documents import service as documents_service
from dtehub.documents.sii_states import tacit_acceptance_key
from dtehub.kit.dates import today_in_santiago
from dtehub.portal.links import Links
from dtehub.webhooks import repository
from dtehub.webhooks.delivery import SessionFactory
from dtehub.webhooks.events import Subscriptions

OVERDUE_LOOKBACK_DAYS = 7
"""A sweep also records the days it missed (the server was down): up to a week back."""

SWEEP_INTERVAL = 900.0
"""The overdue sweep is idempotent (once per document and day): every 15 minutes catches the new day
soon after Santiago's midnight."""


def overdue_key(document_id: int, day: date) -> str:
    """Once per document and day it became overdue."""
    return f"overdue:{document_id}:{day.isoformat()}"


def sweep_overdue(session: Session, links: Links, today: date | None = None) -> int:
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
        recorded += _record_once(session, company_id, keys, links, today)
    return recorded


def sweep_tacit_acceptances(session: Session, links: Links, today: date | None = None) -> int:
    """Record ``document.updated`` for each factura that became tacitly accepted at SII on ``today``
    (Santiago) or on one of the days before it a sweep may have missed: its 8 days after SII received it
    ran out with no acceptance or claim (docs/sii-sync.md). Once per document, shared with the SII sync
    that may see it first (:func:`~dtehub.documents.sii_states.tacit_acceptance_key`). A state SII
    itself changed (its event A) is the sync's to announce. Returns how many events were recorded."""
    today = today or today_in_santiago()
    recorded = 0
    for company_id in repository.companies_subscribed_to(session, "document.updated"):
        documents = documents_repository.tacitly_accepted_between(
            session, company_id, today - timedelta(days=OVERDUE_LOOKBACK_DAYS), today
        )
        keys = {tacit_acceptance_key(document_id): document_id for document_id, _ in documents}
        recorded += _record_once(session, company_id, keys, links, today)
    return recorded


def _record_once(session: Session, company_id: int, keys: dict[str, int], links: Links, today: date) -> int:
    """Record ``document.updated`` for each document of ``keys`` (dedupe key → document id) whose key
    no event of the company carries yet; how many were recorded."""
    done = repository.recorded_dedupe_keys(session, company_id, keys)
    new = {key: document_id for key, document_id in keys.items() if key not in done}
    documents_service.record_events(
        session,
        Subscriptions(session, company_id),
        "document.updated",
        list(new.values()),
        links,
        today=today,
        dedupe_keys=list(new),
    )
    return len(new)


def run_sweep(factory: SessionFactory, links: Links, today: date | None = None) -> int:
    """Both daily sweeps, in one unit of work; how many events they recorded."""
    with unit_of_work(factory) as session:
        return sweep_overdue(session, links, today) + sweep_tacit_acceptances(session, links, today)
