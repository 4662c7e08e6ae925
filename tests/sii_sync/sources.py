"""A period source for the tests of the run machinery: SII's side is played by the test, the database is
real. Each period stores one client per document the test says the period has (its tax id names the
period), so what a run committed can be counted in the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from cl_sii.rut import Rut
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.models import Client
from dtehub.sii_sync.executor import PeriodSource, RunContext, SourceFactory
from dtehub.sii_sync.periods import Period
from dtehub.sii_sync.runs import PeriodOutcome


def client_rut(period: Period, index: int) -> str:
    digits = f"{period.year % 100:02d}{period.month:02d}{index:04d}"
    return f"{digits}-{Rut.calc_dv(digits)}"


class ClientsSource:
    """``documents`` per period; ``gate``, when given, is awaited before each period's fetch (the test
    decides when SII answers); ``fail_at`` raises that error when the period comes."""

    def __init__(
        self,
        context: RunContext,
        documents: int,
        gate: Callable[[Period], Any] | None = None,
        fail_at: tuple[Period, Exception] | None = None,
    ) -> None:
        self.context = context
        self.documents = documents
        self.gate = gate
        self.fail_at = fail_at
        self.messages: list[str] = ["boletas are monthly totals in SII's register: skipped"]

    async def fetch(self, period: Period) -> Any:
        if self.gate is not None:
            waited = self.gate(period)
            if asyncio.iscoroutine(waited):
                await waited
        if self.fail_at is not None and self.fail_at[0] == period:
            raise self.fail_at[1]
        return period

    def apply(self, session: Session, fetched: Any) -> PeriodOutcome:
        period: Period = fetched
        for index in range(self.documents):
            session.add(
                Client(company_id=self.context.company_id, tax_id=client_rut(period, index), name=str(period))
            )
        return PeriodOutcome(
            created=self.documents, updated=1, messages=[f"{period}: {self.documents} documents"]
        )


def clients_source(documents: int, **options: Any) -> SourceFactory:
    @asynccontextmanager
    async def factory(context: RunContext) -> AsyncIterator[PeriodSource]:
        yield ClientsSource(context, documents, **options)

    return factory


def clients_of(session: Session, company_id: int) -> dict[str, int]:
    """How many clients each period stored, by period."""
    rows = session.execute(
        select(Client.name, func.count()).where(Client.company_id == company_id).group_by(Client.name)
    ).all()
    return {row[0]: row[1] for row in rows}
