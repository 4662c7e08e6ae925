"""An SII emulator over real TLS on loopback, its people and their certificates, and the API pointed at it."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from cl_sii.rut import Rut
from fastapi import FastAPI
from sqlalchemy.orm import Session

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.sii.emulator import Emulator, Handshake, TestCertificateAuthority
from dtehub.sii.sessions import SessionPool
from tests.conftest import FIXTURES, Tenant, make_tenant
from tests.dte_factory import build_dte

PASSWORD = "Clave-De-Prueba-9"


def rut(number: int) -> str:
    return f"{number}-{Rut.calc_dv(str(number))}"


COMPANY = "76399752-9"  # issued DTE--76399752-9--33--25568.xml in MIPYME
NOTE_ISSUER = "96670340-7"  # issued the credit note DTE--96670340-7--61--110616.xml
OTHER_COMPANY = rut(76192083)
CAPPED_COMPANY = rut(77100200)  # 21 facturas: a download that ignores the folio hits SII's cap of 20
NEVER_MIPYME = rut(77300400)
HOLDER = rut(12345678)  # authorized for all of the above
SOLO = rut(11111111)  # authorized for COMPANY only: the launcher page
SOLO_OTHER = rut(13131313)  # authorized for OTHER_COMPANY only
NOBODY = rut(14141414)  # authorized for no company
PASSWORD_ONLY = rut(15151515)
UNKNOWN = rut(16161616)  # not a person the emulator knows
CROWD = [rut(20000000 + n) for n in range(4)]  # holders for the concurrency tests


@dataclass(frozen=True)
class Certificates:
    holder: bytes
    holder_legacy: bytes
    holder_serial_only: bytes
    no_rut: bytes
    expired: bytes
    not_yet_valid: bytes
    revoked: bytes
    foreign: bytes
    solo: bytes
    solo_other: bytes
    nobody: bytes
    password_only: bytes
    unknown: bytes
    crowd: tuple[bytes, ...]


@pytest.fixture(scope="session")
def sii_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("sii-emulator")
    dtes = data / "dtes"
    dtes.mkdir()
    for name in ("DTE--76399752-9--33--25568.xml", "DTE--96670340-7--61--110616.xml"):
        shutil.copyfile(FIXTURES / name, dtes / name)
    for folio in range(1, 22):
        (dtes / f"capped-{folio}.xml").write_bytes(
            build_dte(33, folio, CAPPED_COMPANY, OTHER_COMPANY, 1190, issue_date=date(2026, 9, 1))
        )
    companies = [
        {"rut": COMPANY, "name": "COMERCIALIZADORA INNOVA MOBEL SPA"},
        {"rut": NOTE_ISSUER, "name": "EMISORA DE NOTAS SA"},
        {"rut": OTHER_COMPANY, "name": "ACME REPUESTOS SPA"},
        {"rut": CAPPED_COMPANY, "name": "MUCHAS FACTURAS SPA"},
        {"rut": NEVER_MIPYME, "name": "SISTEMA PROPIO SPA", "mipyme": False},
    ]
    everywhere = [c["rut"] for c in companies]
    people = [
        {"rut": HOLDER, "name": "Juana Pérez", "companies": everywhere},
        {"rut": SOLO, "name": "Solo Uno", "companies": [COMPANY]},
        {"rut": SOLO_OTHER, "name": "Solo Otro", "companies": [OTHER_COMPANY]},
        {"rut": NOBODY, "name": "Nadie", "companies": []},
        {"rut": PASSWORD_ONLY, "name": "Con Clave", "companies": [COMPANY], "password_only": True},
        *({"rut": r, "name": f"Persona {r}", "companies": [COMPANY]} for r in CROWD),
    ]
    (data / "emulator.json").write_text(json.dumps({"companies": companies, "people": people}))
    return data


@pytest.fixture(scope="session")
def certificates(sii_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    ca = TestCertificateAuthority.load_or_create(sii_data / "ca")
    foreign_ca = TestCertificateAuthority.load_or_create(tmp_path_factory.mktemp("foreign-ca"))
    secret = PASSWORD.encode()

    def issue(holder: str, authority: TestCertificateAuthority = ca, **options: object) -> bytes:
        return authority.issue_person_certificate(rut=holder, name="Persona", password=secret, **options)  # type: ignore[arg-type]

    return Certificates(
        holder=issue(HOLDER),
        holder_legacy=issue(HOLDER, legacy_rc2=True),
        holder_serial_only=issue(HOLDER, rut_in="serial"),
        no_rut=issue(HOLDER, rut_in="none"),
        expired=issue(HOLDER, expired=True),
        not_yet_valid=issue(HOLDER, not_yet_valid=True),
        revoked=issue(HOLDER, revoked=True),
        foreign=issue(HOLDER, foreign_ca),
        solo=issue(SOLO),
        solo_other=issue(SOLO_OTHER),
        nobody=issue(NOBODY),
        password_only=issue(PASSWORD_ONLY),
        unknown=issue(UNKNOWN),
        crowd=tuple(issue(r) for r in CROWD),
    )


@pytest.fixture(scope="session")
def emulator(sii_data: Path, certificates: Certificates) -> Iterator[Emulator]:
    with Emulator(sii_data, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
def sii(emulator: Emulator) -> Iterator[Emulator]:
    """The emulator with no fault and its lenient handshake, restored after the test."""
    yield emulator
    emulator.faults.reset()
    emulator.handshake = Handshake()


@pytest.fixture(scope="session")
def sii_settings(settings: Settings, emulator: Emulator) -> Settings:
    return settings.model_copy(
        update={
            "sii_auth_url": emulator.base_url,
            "sii_portal_url": emulator.base_url,
            "sii_logout_url": emulator.base_url,
            "sii_ca_bundle": str(emulator.ca_bundle),
            "sii_timeout": 10.0,
        }
    )


@pytest.fixture(scope="session")
def sii_app(sii_settings: Settings) -> Iterator[FastAPI]:
    app = create_app(sii_settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
async def sii_pool(sii_app: FastAPI, sii_settings: Settings) -> AsyncIterator[SessionPool]:
    """A pool of the test's own (no session reused across tests); every session logged out after it."""
    pool = SessionPool(sii_settings.sii_config())
    sii_app.state.sii_pool = pool
    yield pool
    await pool.aclose()


@pytest.fixture
async def sii_client(
    sii_app: FastAPI, session: Session, sii_pool: SessionPool, sii: Emulator
) -> AsyncIterator[httpx.AsyncClient]:
    factory = sii_app.state.sessionmaker
    sii_app.state.sessionmaker = lambda: session
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sii_app), base_url="http://t") as http:
            yield http
    finally:
        sii_app.state.sessionmaker = factory


@pytest.fixture
def company(session: Session, sii_client: httpx.AsyncClient) -> Tenant:
    """The MIPYME company of the real factura, as a dtehub tenant."""
    return make_tenant(session, sii_client, COMPANY, "COMERCIALIZADORA INNOVA MOBEL SPA")
