from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from dtehub.companies.service import create_company
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.models import Company
from tests.conftest import random_rut
from tests.sii.rcv.conftest import config, people, rcv_data, rcv_emulator, sii  # noqa: F401 (fixtures)

T0 = datetime(2026, 3, 15, 15, 0, tzinfo=UTC)
"""The tests' moment: 15 March 2026, noon in Santiago (the current period is 2026-03)."""


class FakeClock:
    """A clock the test moves: time stands still unless the test says otherwise."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Committed:
    factory: sessionmaker[Session]
    company_id: int
    rut: str
    token: str


@pytest.fixture
def committed(settings: Settings) -> Iterator[Committed]:
    """A company committed for real (the executor runs its own units of work), deleted afterwards."""
    engine = create_engine(settings.database_url, pool_size=4)
    factory = create_sessionmaker(engine)
    with unit_of_work(factory) as session:
        created = create_company(session, rut=random_rut(), name="SINCRONIZADA SPA", payment_term_days=30)
        company_id, rut, token = created.company.id, created.company.rut, created.token
    yield Committed(factory, company_id, rut, token)
    with unit_of_work(factory) as session:
        session.execute(delete(Company).where(Company.id == company_id))
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@contextmanager
def company_committed(settings: Settings, rut: str) -> Iterator[Committed]:
    """A company of the given RUT committed for real, deleted afterwards with all it holds."""
    engine = create_engine(settings.database_url, pool_size=4)
    factory = create_sessionmaker(engine)
    with unit_of_work(factory) as session:
        session.execute(delete(Company).where(Company.rut == rut))  # left by a test that was killed
        created = create_company(session, rut=rut, name="EMPRESA DE EJEMPLO SPA", payment_term_days=30)
        company_id, token = created.company.id, created.token
    try:
        yield Committed(factory, company_id, rut, token)
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(Company).where(Company.id == company_id))
        engine.dispose()
