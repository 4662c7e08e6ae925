"""An SII emulator over real TLS on loopback with a seller, a buyer and their people; certificates from its
test CA, loaded as dtehub loads a company's certificate; a :class:`WsClient` pointed at it."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from dtehub.sii.certificate import PersonCertificate, load_pfx
from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from dtehub.sii.ws.auth import TokenCache
from dtehub.sii.ws.client import WsClient
from dtehub.sii.ws.config import WsConfig
from dtehub.sii.ws.reclamo import DocumentRef
from tests.dte_factory import build_dte

SELLER = "76399752-9"
BUYER = "81675600-6"
SELLER_PERSON = "12345678-5"
BUYER_PERSON = "11111111-1"
OUTSIDER = "22222222-2"  # a person SII knows, for no company of these documents
FACTOR = "77665544-9"  # a factoring company SII knows, to which the seller cedes
FACTOR_PERSON = "15555555-6"
UNREGISTERED = "13131313-6"  # not a person SII lets authenticate by certificate
PASSWORD = "Clave-De-Prueba-9"
LOADED_INVOICE = 7001  # in dtes/, with a credit note that cancels it
LOADED_NOTE = 9001
_folios = itertools.count(20_000)


def next_folio() -> int:
    """A folio no other test uses: the emulator is shared."""
    return next(_folios)


@dataclass(frozen=True)
class People:
    seller: PersonCertificate
    buyer: PersonCertificate
    outsider: PersonCertificate
    unregistered: PersonCertificate


@pytest.fixture(scope="session")
def ws_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("sii-ws-emulator")
    dtes = data / "dtes"
    dtes.mkdir()
    day = date(2026, 9, 1)
    (dtes / "invoice.xml").write_bytes(build_dte(33, LOADED_INVOICE, SELLER, BUYER, 119_000, issue_date=day))
    (dtes / "note.xml").write_bytes(
        build_dte(
            61,
            LOADED_NOTE,
            SELLER,
            BUYER,
            119_000,
            issue_date=day,
            references=[(33, LOADED_INVOICE, 1, "Anula")],
        )
    )
    config = {
        "companies": [
            {"rut": SELLER, "name": "VENDEDORA SPA"},
            {"rut": BUYER, "name": "COMPRADORA SA"},
            {"rut": FACTOR, "name": "FACTORING CAPITAL SPA"},
        ],
        "people": [
            {"rut": SELLER_PERSON, "name": "Vera Vendedora", "companies": [SELLER]},
            {"rut": BUYER_PERSON, "name": "Carlos Comprador", "companies": [BUYER]},
            {"rut": OUTSIDER, "name": "Otra Persona", "companies": []},
            {"rut": FACTOR_PERSON, "name": "Fernanda Factoring", "companies": [FACTOR]},
        ],
    }
    (data / "emulator.json").write_text(json.dumps(config), encoding="utf-8")
    return data


@pytest.fixture(scope="session")
def people(ws_data: Path) -> People:
    authority = TestCertificateAuthority.load_or_create(ws_data / "ca")

    def issue(rut: str) -> PersonCertificate:
        pfx = authority.issue_person_certificate(rut=rut, name=f"Persona {rut}", password=PASSWORD.encode())
        return load_pfx(pfx, PASSWORD)

    return People(issue(SELLER_PERSON), issue(BUYER_PERSON), issue(OUTSIDER), issue(UNREGISTERED))


@pytest.fixture(scope="session")
def running_ws_emulator(ws_data: Path, people: People) -> Iterator[Emulator]:
    with Emulator(ws_data) as emulator:
        yield emulator


@pytest.fixture
def sii(running_ws_emulator: Emulator) -> Iterator[Emulator]:
    """The shared emulator, well-behaved again and on the real time after each test."""
    yield running_ws_emulator
    running_ws_emulator.faults.reset()
    running_ws_emulator.ws.faults.reset()
    running_ws_emulator.acceptances.reset_clock()
    running_ws_emulator.rtc.processing_queries = 0
    running_ws_emulator.rtc.upload_status = None
    running_ws_emulator.rtc.upload_drops = 0
    if running_ws_emulator.rtc.upload_gate is not None:
        running_ws_emulator.rtc.upload_gate.set()  # a request still waiting ends
    running_ws_emulator.rtc.upload_gate = None
    running_ws_emulator.rtc.upload_arrived.clear()


@pytest.fixture
def ws_config(sii: Emulator) -> WsConfig:
    return WsConfig(ws_url=sii.base_url, reclamo_url=sii.base_url, ca_bundle=str(sii.ca_bundle), timeout=10)


@pytest.fixture
def tokens() -> TokenCache:
    """A cache of the test's own: no token of another test."""
    return TokenCache()


@pytest.fixture
def seller_ws(ws_config: WsConfig, people: People, tokens: TokenCache) -> Iterator[WsClient]:
    with WsClient(ws_config, people.seller, tokens=tokens) as client:
        yield client


@pytest.fixture
def buyer_ws(ws_config: WsConfig, people: People, tokens: TokenCache) -> Iterator[WsClient]:
    with WsClient(ws_config, people.buyer, tokens=tokens) as client:
        yield client


def received_invoice(sii: Emulator, type_code: int = 33, **at: object) -> DocumentRef:
    """A new invoice of the seller to the buyer, received by SII now (or ``at=``)."""
    folio = next_folio()
    sii.acceptances.receive(SELLER, type_code, folio, BUYER, **at)  # type: ignore[arg-type]
    return DocumentRef(SELLER, type_code, folio)
