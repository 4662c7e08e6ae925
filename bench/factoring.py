"""Factoring benchmark: what "can this invoice be financed?" costs against SII's web services, and what an
electronic cession file (AEC) costs to build and to verify beside its DTE alone.

The emulator runs in a process of its own (`dtehub sii-emulator serve`, over TLS on loopback) holding the
seller's invoices, received by SII ten days ago (cedible: code 25). This process is dtehub: a fresh database
(SQLite by default) with the seller, its SII certificate (sealed, as `updateCompanySiiCertificate` stores
it) and its invoices stored through the DTE pipeline.

Measured in alternating rounds (the order of the measures reversed every other round), medians over the
rounds with their min and max:

- references, first: one SII web-service call on its own (`consultarFechaRecepcionSii`, its own TLS
  connection and a warm token), opening the company's stored certificate (`load_company_certificate`,
  as every check does) with the process's opened certificates emptied first (unsealed, its PKCS#12
  read) and as checks find it (in memory: the row read and unsealed, the PKCS#12 not read again), and
  verifying a DTE alone (`read_dte_file`: parse, schema, signature, timbre: what
  `createDocumentFromXml` does with one);
- cedibility checks per second: `check_document` in its units of work, as `getDocumentCedibility` runs it
  (SII's reception, events and cedibility code, the RTC's cession state, the answer stored), the token warm
  (the first check, which fetches it, is shown apart); its time as a multiple of the one call;
- the AEC per document, in CPU time of this process (the machine's other load is not counted), each
  document's AEC measured right beside its DTE alone: building it (`ceded_dte` + `build_aec`: the cession
  and the cover signed, the file read back, checked against SII's XSDs and every signature shown to hold
  where it sits before it leaves) and verifying it as a factoring company receives it (`verify_aec`:
  schema, each signature in its context, the DTE through the pipeline, the chain). Target (issue 19):
  building and verifying an AEC <= 3x verifying its DTE alone, the ratio taken within each round.

Usage:
    .venv/bin/python bench/factoring.py                          # SQLite, 5 rounds
    .venv/bin/python bench/factoring.py --rounds 7 --checks 60 --documents 60
    .venv/bin/python bench/factoring.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    (the PostgreSQL database is emptied)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from dtehub import migrate  # noqa: E402
from dtehub.companies.service import create_company  # noqa: E402
from dtehub.companies.sii_certificate import (  # noqa: E402
    OPENED,
    load_company_certificate,
    store_certificate,
)
from dtehub.config import Settings  # noqa: E402
from dtehub.db import create_engine, create_sessionmaker, unit_of_work  # noqa: E402
from dtehub.dte.aec import Party, Signer, Terms, build_aec, ceded_dte  # noqa: E402
from dtehub.dte.aec_verify import verify_aec  # noqa: E402
from dtehub.dte.factory import build_dte  # noqa: E402
from dtehub.dte.pipeline import CheckedDte, read_dte_file  # noqa: E402
from dtehub.factoring.cedibility import SiiAccess, check_document  # noqa: E402
from dtehub.factoring.units import JobUnits  # noqa: E402
from dtehub.ingest import service as ingest  # noqa: E402
from dtehub.kit.dates import SANTIAGO, today_in_santiago  # noqa: E402
from dtehub.portal.links import Links  # noqa: E402
from dtehub.sii.certificate import PersonCertificate, load_pfx  # noqa: E402
from dtehub.sii.emulator import TestCertificateAuthority  # noqa: E402
from dtehub.sii.ws.auth import TokenCache  # noqa: E402
from dtehub.sii.ws.client import WsClient  # noqa: E402
from dtehub.sii.ws.reclamo import DocumentRef, reception_time  # noqa: E402
from sii_sync import fresh_database, start_emulator  # noqa: E402  (bench/sii_sync.py: the same emulator and database)

DTEHUB = ROOT / ".venv" / "bin" / "dtehub"
SELLER = "76399752-9"
BUYER = "81675600-6"
FACTOR = "77665544-9"
PERSON = "12345678-5"
PASSWORD = "bench-password"  # noqa: S105 (of the bench's own test certificate)
SECRET_KEY = "bench-key-for-sealing-the-certificate-0123456789"  # noqa: S105
FIRST_FOLIO = 5_000
TOTAL = 1_190_000
MAX_BYTES = 1 << 20


def invoices(count: int) -> list[bytes]:
    """The seller's invoices to the buyer, issued ten days ago, signed and stamped."""
    issued = today_in_santiago() - timedelta(days=10)
    return [
        build_dte(
            33,
            FIRST_FOLIO + n,
            SELLER,
            BUYER,
            TOTAL,
            issue_date=issued,
            due_date=issued + timedelta(days=30),
            issuer_name="VENDEDORA SPA",
            receiver_name="COMPRADORA SA",
            signed=True,
        )
        for n in range(count)
    ]


def emulator_data(folder: Path, dtes: list[bytes]) -> bytes:
    """The emulator's data (the seller, the buyer, the seller's person; the invoices, received at noon of
    their issue date), and the person's certificate from its test CA."""
    (folder / "dtes").mkdir(parents=True)
    for n, dte in enumerate(dtes):
        (folder / "dtes" / f"invoice-{n}.xml").write_bytes(dte)
    config = {
        "companies": [{"rut": SELLER, "name": "VENDEDORA SPA"}, {"rut": BUYER, "name": "COMPRADORA SA"}],
        "people": [{"rut": PERSON, "name": "Vera Vendedora", "companies": [SELLER]}],
    }
    (folder / "emulator.json").write_text(json.dumps(config), encoding="utf-8")
    authority = TestCertificateAuthority.load_or_create(folder / "ca")
    return authority.issue_person_certificate(rut=PERSON, name="Vera Vendedora", password=PASSWORD.encode())


def seller(
    factory: sessionmaker[Session], settings: Settings, pfx: bytes, dtes: list[bytes]
) -> tuple[int, list[int]]:
    """The seller with its certificate and its invoices, stored as the API stores them."""
    links = Links(settings.public_url)
    with unit_of_work(factory) as session:
        company_id = create_company(
            session, rut=SELLER, name="VENDEDORA SPA", payment_term_days=30
        ).company.id
        store_certificate(session, company_id, pfx, PASSWORD, settings)
        ids = []
        for dte in dtes:
            [checked] = read_dte_file(dte, max_bytes=MAX_BYTES)
            assert isinstance(checked, CheckedDte), checked
            ids.append(ingest.store(session, company_id, checked, links).id)
    return company_id, ids


def timed(action: Callable[[], object], times: int) -> float:
    """Seconds per call, over ``times`` calls."""
    started = time.perf_counter()
    for _ in range(times):
        action()
    return (time.perf_counter() - started) / times


class Measures:
    """Each measure of a round, by name: seconds per operation."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        access: SiiAccess,
        certificate: PersonCertificate,
        company_id: int,
        document_ids: list[int],
        dtes: list[bytes],
    ) -> None:
        self.factory, self.access, self.certificate = factory, access, certificate
        self.company_id, self.document_ids, self.dtes = company_id, document_ids, dtes
        self.signer = Signer(
            certificate.key, certificate.certificate, certificate.holder_rut, "VERA VENDEDORA"
        )
        self._next = 0

    def _document(self) -> int:
        self._next = (self._next + 1) % len(self.document_ids)
        return self.document_ids[self._next]

    def one_check(self) -> bool:
        verdict = check_document(JobUnits(self.factory), self.company_id, self._document(), self.access)
        assert verdict.cedible, verdict.as_json()["reasons"]
        return verdict.cedible

    def sii_call(self, times: int) -> float:
        ref = DocumentRef(SELLER, 33, FIRST_FOLIO)

        def call() -> None:
            with WsClient(
                self.access.settings.sii_ws_config(), self.certificate, tokens=self.access.tokens
            ) as ws:
                assert reception_time(ws, ref) is not None

        return timed(call, times)

    def certificate_open(self, times: int, *, cold: bool) -> float:
        """``load_company_certificate`` as a check calls it: from this process's memory (``cold``
        False: the row read and its sealed file opened, the PKCS#12 not read again) or with the memory
        emptied first (``cold``: the PKCS#12 read, OpenSSL checking its key)."""

        def open_it() -> None:
            if cold:
                OPENED.clear()
            with unit_of_work(self.factory, writes=False) as session:
                load_company_certificate(session, self.company_id, self.access.settings)

        return timed(open_it, times)

    def checks(self, times: int) -> float:
        return timed(self.one_check, times)

    def files(self, reverse: bool) -> dict[str, float]:
        """CPU seconds per document (this process's, ``time.process_time``: what other processes on the
        machine do is not counted) of verifying each DTE alone, building its AEC and verifying that AEC,
        measured document by document, the DTE first or the AEC first as ``reverse`` says."""
        terms = Terms(
            assignor=Party(SELLER, "VENDEDORA SPA", "Calle Larga 123, Santiago", "cobranza@vendedora.cl"),
            assignee=Party(FACTOR, "FACTORING CAPITAL SPA", "Av. Apoquindo 4000, Las Condes", "ops@fc.cl"),
            amount=TOTAL,
            last_due_date=today_in_santiago() + timedelta(days=20),
            signed_at=datetime.now(SANTIAGO).replace(tzinfo=None, microsecond=0),
        )
        spent = {"dte_s": 0.0, "aec_build_s": 0.0, "aec_verify_s": 0.0}

        def dte_alone(dte: bytes) -> None:
            started = time.process_time()
            [checked] = read_dte_file(dte, max_bytes=MAX_BYTES)
            spent["dte_s"] += time.process_time() - started
            assert isinstance(checked, CheckedDte)
            assert checked.checks.signature.value == checked.checks.ted.value == "valid"

        def aec(dte: bytes) -> None:
            started = time.process_time()
            built = build_aec(ceded_dte(dte), terms, self.signer)
            between = time.process_time()
            verification = verify_aec(built, holder_rut=FACTOR)
            spent["aec_build_s"] += between - started
            spent["aec_verify_s"] += time.process_time() - between
            assert verification.valid, [f.as_json() for f in verification.failed]

        for dte in self.dtes:
            for step in (aec, dte_alone) if reverse else (dte_alone, aec):
                step(dte)
        return {name: total / len(self.dtes) for name, total in spent.items()}


def round_(measures: Measures, checks: int, reverse: bool) -> dict[str, float]:
    found: dict[str, float] = {}

    def sii() -> None:
        found["sii_call_s"] = measures.sii_call(checks)
        found["certificate_cold_s"] = measures.certificate_open(max(1, checks // 4), cold=True)
        found["certificate_s"] = measures.certificate_open(checks, cold=False)
        found["check_s"] = measures.checks(checks)

    def files() -> None:
        found.update(measures.files(reverse))

    for step in (files, sii) if reverse else (sii, files):
        step()
    found["checks_per_s"] = 1 / found["check_s"]
    found["sii_calls_per_s"] = 1 / found["sii_call_s"]
    found["check_over_call"] = found["check_s"] / found["sii_call_s"]
    found["aec_s"] = found["aec_build_s"] + found["aec_verify_s"]
    found["aec_over_dte"] = found["aec_s"] / found["dte_s"]
    found["build_over_dte"] = found["aec_build_s"] / found["dte_s"]
    found["verify_over_dte"] = found["aec_verify_s"] / found["dte_s"]
    return found


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    scaled = [v * scale for v in values]
    low, high = min(scaled), max(scaled)
    return f"{statistics.median(scaled):,.{digits}f} (min {low:,.{digits}f}, max {high:,.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--checks", type=int, default=40, help="cedibility checks (and single SII calls) a round"
    )
    parser.add_argument("--documents", type=int, default=40, help="DTEs and AECs a round")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (emptied!); default SQLite")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dtehub-bench-factoring-"))
    emulator = None
    try:
        dtes = invoices(args.documents)
        pfx = emulator_data(folder / "sii", dtes)
        emulator, base = start_emulator(folder / "sii")
        url = fresh_database(args.database_url, folder)
        migrate.upgrade(url)
        settings = Settings(
            database_url=url, public_url="https://dtehub.bench", secret_key=SECRET_KEY,
            run_background_jobs=False, sii_ws_url=base, sii_reclamo_url=base,
            sii_ca_bundle=str(folder / "sii" / "ca" / "ca.pem"),
        )  # fmt: skip
        engine = create_engine(url, pool_size=2)
        factory = create_sessionmaker(engine)
        company_id, ids = seller(factory, settings, pfx, dtes)
        access = SiiAccess(settings, tokens=TokenCache())
        measures = Measures(factory, access, load_pfx(pfx, PASSWORD), company_id, ids, dtes)
        cold = timed(measures.one_check, 1)  # fetches the token: seed, signed seed, token
        results = []
        for number in range(args.rounds):
            results.append(round_(measures, args.checks, reverse=number % 2 == 1))
            shown = {k: round(v, 5) for k, v in results[-1].items()}
            print(f"round {number + 1}: {shown}", file=sys.stderr)
        engine.dispose()
    finally:
        if emulator is not None:
            emulator.terminate()
            emulator.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)

    def line(label: str, key: str, scale: float = 1.0, digits: int = 2, target: str = "") -> None:
        print(f"  {label:64} {spread([r[key] for r in results], scale, digits):>36}  {target}")

    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"Factoring, {database}, {args.rounds} alternating rounds of {args.checks} checks and "
        f"{args.documents} documents, medians (min, max); cpus={os.cpu_count()}, "
        f"load {os.getloadavg()[0]:.1f}, {date.today()}"
    )
    print("references")
    line("one SII web-service call (warm token, own TLS connection), ms", "sii_call_s", 1000)
    line("one SII web-service call, calls/s", "sii_calls_per_s", 1, 1)
    line("opening the stored certificate, not in memory (unseal, PKCS#12), ms", "certificate_cold_s", 1000)
    line("opening the stored certificate, in memory (row, unseal), ms", "certificate_s", 1000)
    line("verifying a DTE alone (read_dte_file), CPU ms/document", "dte_s", 1000)
    print("cedibility (getDocumentCedibility's check_document, warm token)")
    print(f"  {'first check, fetching the token (one, not a median), ms':64} {cold * 1000:>36,.2f}")
    line("a check, ms", "check_s", 1000)
    line("checks/s", "checks_per_s", 1, 1, "no target (issue 19 sets none)")
    line("a check / one SII call (it makes four, and stores the answer)", "check_over_call")
    print("AEC, per document (CPU time of this process, document by document beside its DTE)")
    line("building it (signed, read back, schema, signatures hold), CPU ms", "aec_build_s", 1000)
    line("verifying it as received (verify_aec), CPU ms", "aec_verify_s", 1000)
    line("building and verifying, CPU ms", "aec_s", 1000)
    line("building / verifying the DTE alone", "build_over_dte")
    line("verifying / verifying the DTE alone", "verify_over_dte")
    ratios = [r["aec_over_dte"] for r in results]
    verdict = "met" if statistics.median(ratios) <= 3 else "NOT met"
    line("building and verifying / verifying the DTE alone", "aec_over_dte", target=f"<= 3: {verdict}")


if __name__ == "__main__":
    main()
