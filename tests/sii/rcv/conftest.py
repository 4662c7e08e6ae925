"""SII's RCV on loopback: the emulator over real TLS with a generated company's register on a fixed clock,
people with certificates from its test CA, and a session pool of each test's own."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import pytest
from cl_sii.rut import Rut

from dtehub.sii.certificate import PersonCertificate, load_pfx
from dtehub.sii.config import SiiConfig
from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from dtehub.sii.emulator.generate import generate_entries
from dtehub.sii.emulator.register import write_register
from dtehub.sii.sessions import SessionPool

PASSWORD = "Clave-De-Prueba-9"
NOW = datetime(2026, 9, 20, 12, 0)
"""The emulated SII's clock in every test: Santiago, 20 September 2026 at noon."""
DOCUMENTS = 900
MONTHS = 3


def rut(number: int) -> str:
    return f"{number}-{Rut.calc_dv(str(number))}"


COMPANY = "76399752-9"
OTHER = rut(76192083)
HOLDER = rut(12345678)  # may represent COMPANY
STRANGER = rut(13131313)  # may represent OTHER only


@dataclass
class FakeClock:
    """A clock whose sleeps take no time: it only moves forward by what was slept, and remembers it."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture(scope="session")
def rcv_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("sii-rcv")
    entries, boletas = generate_entries(COMPANY, DOCUMENTS, MONTHS, now=NOW, seed=7)
    write_register(data / "rcv", COMPANY, entries, boletas)
    config = {
        "companies": [{"rut": COMPANY, "name": "EMPRESA DE EJEMPLO SPA"}, {"rut": OTHER, "name": "OTRA SPA"}],
        "people": [
            {"rut": HOLDER, "name": "Juana Pérez", "companies": [COMPANY]},
            {"rut": STRANGER, "name": "Otra Persona", "companies": [OTHER]},
        ],
    }
    (data / "emulator.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return data


@dataclass(frozen=True)
class People:
    holder: PersonCertificate
    stranger: PersonCertificate
    expired: PersonCertificate


@pytest.fixture(scope="session")
def people(rcv_data: Path) -> People:
    ca = TestCertificateAuthority.load_or_create(rcv_data / "ca")

    def issue(holder: str, **options: bool) -> PersonCertificate:
        pfx = ca.issue_person_certificate(rut=holder, name="Persona", password=PASSWORD.encode(), **options)
        return load_pfx(pfx, PASSWORD)

    return People(issue(HOLDER), issue(STRANGER), issue(HOLDER, expired=True))


@pytest.fixture(scope="session")
def rcv_emulator(rcv_data: Path, people: People) -> Iterator[Emulator]:
    with Emulator(rcv_data) as emulator:
        yield emulator


@pytest.fixture
def sii(rcv_emulator: Emulator) -> Iterator[Emulator]:
    """The emulator on its fixed clock, with no fault; its register and faults restored after the test."""
    rcv_emulator.register.set_clock(lambda: NOW)
    yield rcv_emulator
    rcv_emulator.faults.reset()
    rcv_emulator.register.set_clock(lambda: NOW)


@pytest.fixture
def config(sii: Emulator) -> SiiConfig:
    url = sii.base_url
    return SiiConfig(
        auth_url=url, portal_url=url, logout_url=url, rcv_url=url, ca_bundle=str(sii.ca_bundle),
        timeout=10.0, requests_per_second=100.0,
    )  # fmt: skip


@pytest.fixture
async def pool(config: SiiConfig) -> AsyncIterator[SessionPool]:
    pool = SessionPool(config)
    yield pool
    await pool.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def with_rate(config: SiiConfig, per_second: float) -> SiiConfig:
    return replace(config, requests_per_second=per_second)
