from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from dtehub.companies.service import create_company
from dtehub.companies.sii_certificate import store_certificate
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.models import Company
from dtehub.sii.emulator import TestCertificateAuthority
from tests.conftest import random_rut
from tests.sii.rcv import conftest as rcv
from tests.sii.rcv.conftest import HOLDER, PASSWORD

# The emulator's RCV on loopback, as the RCV client's tests use it.
config, people, rcv_data, rcv_emulator, sii = rcv.config, rcv.people, rcv.rcv_data, rcv.rcv_emulator, rcv.sii

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


def person_pfx(data: Path, holder: str = HOLDER, **options: bool) -> bytes:
    """A person's PKCS#12 from the emulator's test CA (password :data:`PASSWORD`)."""
    ca = TestCertificateAuthority.load_or_create(data / "ca")
    return ca.issue_person_certificate(rut=holder, name="Juana Pérez", password=PASSWORD.encode(), **options)


def store_test_certificate(committed: Committed, settings: Settings, pfx: bytes) -> None:
    with unit_of_work(committed.factory) as session:
        store_certificate(session, committed.company_id, pfx, PASSWORD, settings)
