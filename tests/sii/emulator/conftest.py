"""One emulator for the whole package, over data built once: the real MIPYME fixtures plus generated DTEs
for paging, the folio-prefix quirk and the 20-document cap. Certificates come from one test CA, each made
on first use (RSA key generation is the slow part)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

from dtehub.sii.emulator import Emulator, Handshake, TestCertificateAuthority
from tests.dte_factory import build_dte
from tests.sii.emulator.browser import Browser

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
INVOICE_FIXTURE = FIXTURES / "DTE--76399752-9--33--25568.xml"
CREDIT_NOTE_FIXTURE = FIXTURES / "DTE--96670340-7--61--110616.xml"

MIPYME = "76399752-9"  # the real MIPYME invoice's issuer
BATA = "96670340-7"  # the real credit note's issuer
NOT_MIPYME = "76192083-9"  # authorized in the selector, but never used the portal
RECEIVER = "81675600-6"

JUANA = "12345678-5"  # three companies: the selector
PEDRO = "11111111-1"  # one company: the launcher
NADIE = "22222222-2"  # no company: an empty selector
CLAVE = "13579246-2"  # password only: code 33
MUCHAS = "15151515-0"  # the session cap
SESIONES = "16161616-8"  # logout and expiry
DESCONOCIDO = "18181818-2"  # not among the people

PASSWORD = b"clave-de-prueba"
PAGING_FOLIOS = range(1000, 1025)  # FOLIO=10 lists 25 documents: three pages
PREFIX_FOLIOS = (5, 50, 55, 501, 6)
EXEMPT_FOLIOS = range(1, 22)  # 21 facturas exentas (34): one more than a download may hold


def _element(dte: bytes) -> bytes:
    return dte[dte.index(b"?>") + 2 :].lstrip()


def write_data(directory: Path) -> None:
    dtes = directory / "dtes"
    dtes.mkdir(parents=True)
    shutil.copy(INVOICE_FIXTURE, dtes)
    shutil.copy(CREDIT_NOTE_FIXTURE, dtes)
    day = date(2026, 9, 8)

    def invoice(issuer: str, code: int, folio: int, total: int, **extra: object) -> bytes:
        return build_dte(code, folio, issuer, RECEIVER, total, issue_date=day, namespace=False, **extra)

    for folio in (*PREFIX_FOLIOS, *PAGING_FOLIOS):
        (dtes / f"a-33-{folio}.xml").write_bytes(invoice(MIPYME, 33, folio, 1190 * folio))
    (dtes / "a-61-5.xml").write_bytes(invoice(MIPYME, 61, 5, 1190, references=[(33, 5, 1, "Anula")]))
    # The 21 exempt invoices travel in one SetDTE, as SII's own downloads do.
    exempt = b"".join(_element(invoice(MIPYME, 34, folio, 1000 + folio)) + b"\n" for folio in EXEMPT_FOLIOS)
    (dtes / "a-34.xml").write_bytes(
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<SetDTE ID="S1">\n' + exempt + b"</SetDTE>\n"
    )
    # The invoice that the real credit note refers to (TpoDocRef 33, FolioRef 115885).
    (dtes / "bata-33-115885.xml").write_bytes(
        invoice(BATA, 33, 115885, 57347078, receiver_name="Comercializadora S.A")
    )
    (dtes / "c-33-1.xml").write_bytes(invoice(NOT_MIPYME, 33, 1, 1190))
    (dtes / "broken.xml").write_bytes(b"<DTE><Documento>")

    config = {
        "companies": [
            {"rut": MIPYME, "name": "EMPRESA MIPYME DE PRUEBA SPA", "mipyme": True},
            {"rut": BATA, "name": "Bata Chile S.A.", "mipyme": True},
            {"rut": NOT_MIPYME, "name": "ACME REPUESTOS SPA", "mipyme": False},
        ],
        "people": [
            {"rut": JUANA, "name": "Juana Pérez", "companies": [MIPYME, BATA, NOT_MIPYME]},
            {"rut": PEDRO, "name": "Pedro Soto", "companies": [MIPYME]},
            {"rut": NADIE, "name": "Nadie Nada", "companies": []},
            {"rut": CLAVE, "name": "Clara Clave", "companies": [MIPYME], "password_only": True},
            {"rut": MUCHAS, "name": "Muchas Sesiones", "companies": [MIPYME]},
            {"rut": SESIONES, "name": "Sesiones Cortas", "companies": [MIPYME]},
        ],
        "states": {f"{MIPYME}/33/55": "Rechazado por el Receptor"},
    }
    (directory / "emulator.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sii-emulator")
    write_data(directory)
    return directory


@pytest.fixture(scope="session")
def authority(data_dir: Path) -> TestCertificateAuthority:
    return TestCertificateAuthority.load_or_create(data_dir / "ca")


class Certificates:
    """Client certificates as PEM files (key, certificate, CA) for ``SSLContext.load_cert_chain``,
    each issued once, on first use."""

    def __init__(self, authority: TestCertificateAuthority, directory: Path) -> None:
        self.authority = authority
        self.directory = directory
        self._made: dict[tuple[object, ...], Path] = {}

    def pem(self, rut: str, **options: object) -> Path:
        key = (rut, *sorted(options.items()))
        if key not in self._made:
            pfx = self.authority.issue_person_certificate(
                rut=rut, name=f"Titular {rut}", password=PASSWORD, **options
            )
            path = self.directory / f"client-{len(self._made)}.pem"
            path.write_bytes(pem_from_pfx(pfx, PASSWORD))
            self._made[key] = path
        return self._made[key]


def pem_from_pfx(pfx: bytes, password: bytes) -> bytes:
    key, certificate, chain = pkcs12.load_key_and_certificates(pfx, password)
    assert key is not None
    assert certificate is not None
    return b"".join(
        [
            key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()),
            certificate.public_bytes(Encoding.PEM),
            *(extra.public_bytes(Encoding.PEM) for extra in chain),
        ]
    )


@pytest.fixture(scope="session")
def certificates(
    authority: TestCertificateAuthority, tmp_path_factory: pytest.TempPathFactory
) -> Certificates:
    return Certificates(authority, tmp_path_factory.mktemp("client-certificates"))


@pytest.fixture(scope="session")
def running_emulator(data_dir: Path, authority: TestCertificateAuthority) -> Iterator[Emulator]:
    with Emulator(data_dir) as emulator:
        yield emulator


@pytest.fixture
def emulator(running_emulator: Emulator) -> Iterator[Emulator]:
    """The shared emulator, its faults and handshake back to a well-behaved SII after each test."""
    yield running_emulator
    running_emulator.faults.reset()
    running_emulator.handshake = Handshake()


@pytest.fixture
def juana(emulator: Emulator, certificates: Certificates) -> Iterator[Browser]:
    """Juana (three companies), logged in."""
    with Browser(emulator, certificates.pem(JUANA)) as browser:
        browser.login()
        yield browser
