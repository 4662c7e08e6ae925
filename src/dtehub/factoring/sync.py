"""The cessions made to a company that SII's RTC registered, brought in from its period listing
(``dtehub factoring sync-cessions``).

A factoring company usually receives the AEC of each invoice it buys (``createCesionFromXml``). The RTC's
"Consulta de Cesiones en Período" lists every cession made to it, month by month
(:func:`dtehub.sii.ws.rtc.period_cessions`); a cession dtehub has no held document for becomes one, marked
**known from SII, no AEC yet**: ``held``, ``source`` ``rtc``, no XML, its amounts and dates the listing's
(the total; the due date is the cession's last due date), its debtor a client (named once its DTE arrives),
its ``document_holdings`` row the cession's facts without a file. It is collected like any other document.
When its AEC arrives through ``createCesionFromXml`` the document is completed, not duplicated
(:mod:`.holding`). A run again adds nothing it added before.

SII is asked with no transaction open: one reading unit for the company and its certificate, the listing of
each month, then one write unit that stores what is new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from dtehub.clients import service as clients_service
from dtehub.clients.schemas import ClientFields
from dtehub.documents import ledger
from dtehub.documents import service as documents_service
from dtehub.documents.schemas import RECEIVABLE_CODES
from dtehub.errors import NotFound
from dtehub.factoring import repository
from dtehub.factoring.cedibility import SiiAccess
from dtehub.factoring.units import Units
from dtehub.kit.dates import SANTIAGO, today_in_santiago, utcnow
from dtehub.models import Company, DocumentHolding, Origin
from dtehub.portal.links import Links
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.ws import rtc
from dtehub.sii.ws.client import WsClient
from dtehub.webhooks import events as webhook_events


@dataclass
class SyncSummary:
    months: list[str] = field(default_factory=list)
    listed: int = 0
    """Cessions to the company the listings named."""
    added: list[int] = field(default_factory=list)
    """The held documents made now (known from SII, no AEC yet)."""
    known: int = 0
    """Cessions of documents the company already holds (with their AEC, or from an earlier run)."""
    skipped: list[str] = field(default_factory=list)
    """Rows not taken, each with why."""


def months_since(first: date, today: date) -> list[tuple[date, date]]:
    """Each month from ``first``'s to ``today``'s: (its first day, its last day or today)."""
    start = first.replace(day=1)
    spans = []
    while start <= today:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        spans.append((start, min(today, date.fromordinal(following.toordinal() - 1))))
        start = following
    return spans


def sync_cessions(
    units: Units,
    company_rut: str,
    since: date,
    sii: SiiAccess,
    links: Links,
    *,
    now: datetime | None = None,
) -> SyncSummary:
    """Bring in the cessions made to the company since ``since``'s month that it holds no document for."""
    moment = now or utcnow()
    company, certificate = units(lambda session: _company(session, company_rut, sii, moment), writes=False)
    today = today_in_santiago(moment)
    summary = SyncSummary()
    found: list[rtc.PeriodCession] = []
    with WsClient(sii.settings.sii_ws_config(), certificate, tokens=sii.tokens) as ws:
        for first, last in months_since(since, today):
            listing = rtc.period_cessions(ws, company.rut, first, last)
            summary.months.append(f"{first:%Y-%m}")
            summary.skipped += [f"{first:%Y-%m}, {why}" for why in listing.unreadable]
            found += [c for c in listing.cessions if c.assignee_rut == company.rut]
    summary.listed = len(found)
    units(lambda session: _store(session, company.id, found, links, summary, moment))
    return summary


def _company(session: Session, rut: str, sii: SiiAccess, now: datetime) -> tuple[Company, PersonCertificate]:
    company = repository.company_by_rut(session, rut)
    if company is None:
        raise NotFound(f"no company with RUT {rut} in dtehub", field="company")
    certificate = sii.load_certificate(session, company.id, sii.settings)
    certificate.require_valid(now)
    return company, certificate


def _store(
    session: Session,
    company_id: int,
    found: list[rtc.PeriodCession],
    links: Links,
    summary: SyncSummary,
    now: datetime,
) -> None:
    summary.added.clear()
    summary.known = 0
    company = repository.company(session, company_id)
    assert company is not None  # read just before
    latest: dict[tuple[str, int, int], rtc.PeriodCession] = {}
    for cession in found:  # a document ceded to the company twice (bought back): its last cession
        latest[(cession.issuer_rut, cession.type_code, cession.folio)] = cession
    keys = sorted(latest)
    ledger.lock_arrivals(
        session, company_id, [(f"{issuer}/{code}", str(folio)) for issuer, code, folio in keys]
    )
    for key in keys:
        cession = latest[key]
        issuer, code, folio = key
        if code not in RECEIVABLE_CODES:
            summary.skipped.append(f"{issuer} type {code} folio {folio}: not a receivable")
            continue
        if repository.held_document(session, company_id, issuer, code, str(folio)) is not None:
            summary.known += 1
            continue
        summary.added.append(_add(session, company, cession, now))
    if summary.added:
        subscriptions = webhook_events.Subscriptions(session, company_id)
        documents_service.record_events(session, subscriptions, "document.created", summary.added, links)


def _add(session: Session, company: Company, cession: rtc.PeriodCession, now: datetime) -> int:
    clients = clients_service.upsert_receivers(
        session, company.id, [(cession.receiver_rut, ClientFields(), False)]
    )
    total = cession.total * 100
    row = documents_service.new_document_row(
        company.id,
        clients[cession.receiver_rut].id,
        code=cession.type_code,
        number=str(cession.folio),
        issue_date=cession.issue_date,
        due_date=max(cession.last_due_date, cession.issue_date),
        currency="CLP",
        total_cents=total,
        taxes_cents=0,
        net_cents=0,
        now=now,
        source=Origin.RTC,
    )
    issuer_name = cession.assignor_name if cession.assignor_rut == cession.issuer_rut else ""
    row.update(held=True, issuer_rut=cession.issuer_rut, issuer_name=issuer_name[:100])
    document_id = repository.insert_held_document(session, company.id, row)
    repository.add_holding(
        session,
        DocumentHolding(
            document_id=document_id,
            company_id=company.id,
            sequence=0,
            assignor_rut=cession.assignor_rut,
            assignor_name=cession.assignor_name[:100],
            amount_cents=cession.amount * 100,
            last_due_date=cession.last_due_date,
            ceded_at=cession.ceded_at.replace(tzinfo=SANTIAGO),
            debtor_email=cession.debtor_email[:80],
            aec=b"",
            aec_sha256="",
            checks=[],
            created_at=now,
        ),
    )
    return document_id
