"""The real source of a sync run: SII's Registro de Ventas through :class:`dtehub.sii.rcv.RcvClient`.

One SII session for the whole run (the client logs in when the run's source opens and out when it
closes, on errors and shutdown too), shared with MIPYME retrieval through the server's session pool.
Each period is read whole (the summary, then every electronic type's detail) before anything is stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dtehub.companies.sii_certificate import expiry_warning, load_company_certificate
from dtehub.config import Settings
from dtehub.db import refresh_statistics, unit_of_work
from dtehub.dte.document_types import dte_type_name
from dtehub.dte.pipeline import CheckedDte
from dtehub.kit.dates import utcnow
from dtehub.kit.threads import in_thread
from dtehub.portal.links import Links
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.config import SiiConfig
from dtehub.sii.rcv import Period as RcvPeriodName
from dtehub.sii.rcv import RcvClient, RcvPeriod
from dtehub.sii.sessions import SessionPool
from dtehub.sii_sync import repository
from dtehub.sii_sync.executor import PeriodSource, RunContext, SourceFactory
from dtehub.sii_sync.mipyme import MipymeXml
from dtehub.sii_sync.periods import LastRead, Period, claims_close_on
from dtehub.sii_sync.runs import PeriodOutcome
from dtehub.sii_sync.store import SYNCED_CODES, is_synced, store_period, store_xmls

ANALYZE_EVERY = 5_000
"""Documents created between two refreshes of PostgreSQL's planner statistics."""
ANALYZED = ("documents", "notes", "clients")

CertificateOf = Callable[[RunContext], Awaitable[PersonCertificate]]
"""The certificate a company's runs log in with (the company's stored one)."""


@dataclass(frozen=True)
class Fetched:
    """One period as read from SII: its register, and the signed XMLs MIPYME had for its documents."""

    read: RcvPeriod
    xmls: list[CheckedDte]


class RcvSource:
    """``marks``: when SII last changed each period's register, as the company's last sync saw it; a
    period unchanged since costs SII's summary alone, unless documents came to dtehub since its last
    read (``reads``) that no sync has matched yet. ``mipyme``: the run's MIPYME step (the signed XML of
    the documents created from the register, :mod:`dtehub.sii_sync.mipyme`), which needs ``factory`` to
    know which documents lack their XML."""

    def __init__(
        self,
        rcv: RcvClient,
        context: RunContext,
        links: Links,
        clock: Callable[[], datetime],
        marks: dict[str, datetime] | None = None,
        factory: sessionmaker[Session] | None = None,
        mipyme: MipymeXml | None = None,
        reads: dict[str, LastRead] | None = None,
    ) -> None:
        self.reads = reads or {}
        self.factory = factory
        self.mipyme = mipyme
        self.created_since_analyze = 0
        self.rcv = rcv
        self.context = context
        self.links = links
        self.clock = clock
        self.marks = marks or {}
        self.messages: list[str] = []

    async def fetch(self, period: Period) -> Fetched:
        if self.factory is not None and self.created_since_analyze >= ANALYZE_EVERY:
            # PostgreSQL plans the next period's lookups on what the tables hold now, as dtehub import does.
            await in_thread(refresh_statistics, self.factory, ANALYZED)
            self.created_since_analyze = 0
        unchanged_since = self.marks.get(str(period))
        last_read = self.reads.get(str(period))
        if (
            unchanged_since is not None
            and last_read is not None
            and self.factory is not None
            and await in_thread(self._arrived, self.factory, period, last_read.synced_at)
        ):
            # Documents that came to dtehub since the period's last read are matched with SII's rows (their
            # states, their disagreements) even though SII's register has not changed.
            unchanged_since = None
        read = await self.rcv.period(
            RcvPeriodName(period.year, period.month), unchanged_since=unchanged_since
        )
        if read.skipped:
            kinds = ", ".join(
                f"{count} {dte_type_name(code).lower()} (type {code})"
                for code, count in sorted(read.skipped.items())
            )
            self.messages.append(
                f"{period}: skipped {kinds}: SII's register holds monthly totals of boletas, not documents"
            )
        self.messages += [f"{period}: {problem}" for problem in read.problems]
        xmls: list[CheckedDte] = []
        if self.mipyme is not None and not self.mipyme.stopped and self.factory is not None:
            wanted = await in_thread(self._without_xml, self.factory, period, read)
            xmls = await self.mipyme.fetch(period, wanted)
            self.messages += self.mipyme.messages
            self.mipyme.messages.clear()
        return Fetched(read, xmls)

    def _arrived(self, factory: sessionmaker[Session], period: Period, since: datetime) -> bool:
        with unit_of_work(factory, writes=False) as session:
            return repository.arrived_unmatched(
                session, self.context.company_id, period.first_day, period.last_day, SYNCED_CODES, since
            )

    def _without_xml(
        self, factory: sessionmaker[Session], period: Period, read: RcvPeriod
    ) -> set[tuple[int, str]]:
        """(type, folio) of the period's documents and notes that will have no XML once the register's
        rows are stored: those dtehub lacks, and those created from the register earlier."""
        keys = {(row.type_code, str(row.folio)) for row in read.documents if is_synced(row.type_code)}
        first, last = period.first_day, period.last_day
        with unit_of_work(factory, writes=False) as session:
            missing = keys - repository.keys_of(session, self.context.company_id, keys)
            return missing | repository.register_only_keys(session, self.context.company_id, first, last)

    def apply(self, session: Session, fetched: Any) -> PeriodOutcome:
        period: Fetched = fetched
        read = period.read
        now = self.clock()
        company_id = self.context.company_id
        outcome = PeriodOutcome()
        if not read.unchanged:
            stored = store_period(session, company_id, read.documents, self.links, now)
            self.created_since_analyze += stored.created
            outcome = PeriodOutcome(created=stored.created, updated=stored.updated, messages=stored.messages)
        if period.xmls:
            attached, messages = store_xmls(session, company_id, period.xmls, self.links)
            outcome.xmls += attached
            outcome.messages += [f"{read.period}: {message}" for message in messages]
        # The period read whole (or unchanged since it was): when its claim windows close, as stored now.
        ours = Period(read.period.year, read.period.month)
        first, last = ours.first_day, ours.last_day
        received = repository.last_reception(session, company_id, first, last)
        closes = claims_close_on(ours, received)
        repository.mark_period(session, company_id, str(read.period), read.modified_at, now, closes)
        return outcome


def stored_certificates(factory: sessionmaker[Session], settings: Settings) -> CertificateOf:
    """The company's stored certificate (:func:`~dtehub.companies.sii_certificate.load_company_certificate`),
    opened in a unit of work of its own when the run begins."""

    def load(company_id: int) -> PersonCertificate:
        with unit_of_work(factory, writes=False) as session:
            return load_company_certificate(session, company_id, settings)

    async def certificate_of(context: RunContext) -> PersonCertificate:
        return await in_thread(load, context.company_id)

    return certificate_of


def period_marks(
    factory: sessionmaker[Session], company_id: int
) -> tuple[dict[str, datetime], dict[str, LastRead]]:
    with unit_of_work(factory, writes=False) as session:
        return repository.period_marks(session, company_id), repository.period_reads(session, company_id)


def rcv_sources(
    factory: sessionmaker[Session],
    pool: SessionPool,
    config: SiiConfig,
    certificate_of: CertificateOf,
    links: Links,
    clock: Callable[[], datetime] = utcnow,
) -> SourceFactory:
    """Runs' sources on SII's RCV: each logs in with the company's certificate once, for the whole run."""

    @asynccontextmanager
    async def open_source(context: RunContext) -> AsyncIterator[PeriodSource]:
        certificate = await certificate_of(context)
        marks, reads = await in_thread(period_marks, factory, context.company_id)
        async with RcvClient(pool, certificate, company_rut=context.company_rut, config=config) as rcv:
            mipyme = MipymeXml(rcv, rcv.company)
            source = RcvSource(rcv, context, links, clock, marks, factory, mipyme, reads)
            warning = expiry_warning(certificate.not_after, now=clock())
            if warning is not None:
                source.messages.append(warning.message)
            yield source

    return open_source
