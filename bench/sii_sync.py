"""SII sync benchmark: one company of 60,000 documents over 12 months in the emulator's Registro de Ventas,
synced end to end into a fresh database, then synced again with nothing new.

The emulator runs in a process of its own (`dtehub sii-emulator serve`, over TLS on loopback), so this
process is the sync alone: its peak resident memory is the sync's. Requests are paced at
``DTEHUB_SII_REQUESTS_PER_SECOND`` (``--rate``, default 2 as in production): the pacing is part of the
time, as SII's own would be.

Measured, per round (each round a fresh database): the first sync (documents/s, SII requests and requests
per 100 documents, MIPYME portal requests, peak memory of this process) and a second sync right after
(its time as a share of the first's: the reference measured in the same round; and the part of it the
pacing alone takes: its requests, one every 1/rate seconds). Both name no range, as the schedule's runs:
the second reads the current and the previous month, the older ones being settled (read minutes ago,
after their claim windows closed; docs/sii-sync.md).

The runs' sources are built as ``rcv_sources`` builds them, the MIPYME step included: the generated company
does not issue in MIPYME (no ``--xml``), so each run asks SII's MIPYME backup once and stops the step, as
in production for such a company.

Targets (issue 18): first sync >= 500 documents/s on SQLite and PostgreSQL; at most one RCV request per
100 documents; peak memory < 300 MB; a second sync under 10 % of the first's time.

Usage:
    python bench/sii_sync.py                       # SQLite, 60,000 documents, 12 months, 1 round
    python bench/sii_sync.py --rounds 3
    python bench/sii_sync.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/dtehub_bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from dtehub import migrate  # noqa: E402
from dtehub.companies.service import create_company  # noqa: E402
from dtehub.db import (  # noqa: E402
    BULK_STATEMENT_CACHE,
    create_engine,
    create_sessionmaker,
    unit_of_work,
)
from dtehub.kit.dates import utcnow  # noqa: E402
from dtehub.portal.links import Links  # noqa: E402
from dtehub.sii.certificate import PersonCertificate, load_pfx  # noqa: E402
from dtehub.sii.config import SiiConfig  # noqa: E402
from dtehub.sii.rcv import RcvClient  # noqa: E402
from dtehub.sii.sessions import SessionPool  # noqa: E402
from dtehub.sii_sync.executor import PeriodSource, RunContext, SyncExecutor  # noqa: E402
from dtehub.sii_sync.mipyme import MipymeXml  # noqa: E402
from dtehub.sii_sync.runs import Trigger  # noqa: E402
from dtehub.sii_sync.source import RcvSource, period_marks  # noqa: E402

DTEHUB = ROOT / ".venv" / "bin" / "dtehub"
COMPANY = "76399752-9"
HOLDER = "12345678-5"
PASSWORD = "bench-password"  # noqa: S105 (of the bench's own test certificate)


def emulator_data(folder: Path, documents: int, months: int) -> bytes:
    subprocess.run(
        [str(DTEHUB), "sii-emulator", "init", "--data", str(folder), "--generate", str(documents),
         "--months", str(months), "--company", COMPANY],
        check=True, capture_output=True,
    )  # fmt: skip
    pfx = folder / "holder.pfx"
    subprocess.run(
        [str(DTEHUB), "sii-emulator", "make-cert", "--data", str(folder), "--rut", HOLDER,
         "--name", "Juana Pérez", "--out", str(pfx)],
        input=PASSWORD.encode(), check=True, capture_output=True,
    )  # fmt: skip
    return pfx.read_bytes()


def start_emulator(folder: Path) -> tuple[subprocess.Popen[str], str]:
    emulator = subprocess.Popen(
        [str(DTEHUB), "sii-emulator", "serve", "--data", str(folder), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert emulator.stdout is not None
    for line in emulator.stdout:
        found = re.search(r"(https://[0-9.]+:\d+)", line)
        if found:
            return emulator, found.group(1)
    raise SystemExit(f"the emulator did not start (exit {emulator.wait()})")


def fresh_database(url: str | None, folder: Path) -> str:
    if url is None:
        return f"sqlite:///{folder / 'bench.db'}"
    engine = create_engine(url, pool_size=1)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


class Counted:
    """The runs' sources as ``rcv_sources`` builds them (the MIPYME step included: this company does not
    issue in MIPYME, so each run asks SII once and stops the step), remembering the SII requests each run
    made: the RCV's and the MIPYME portal's apart."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        pool: SessionPool,
        config: SiiConfig,
        certificate: PersonCertificate,
    ) -> None:
        self.factory, self.pool, self.config, self.certificate = factory, pool, config, certificate
        self.requests = 0
        self.portal_requests = 0

    @asynccontextmanager
    async def __call__(self, context: RunContext) -> AsyncIterator[PeriodSource]:
        async with RcvClient(
            self.pool, self.certificate, company_rut=context.company_rut, config=self.config
        ) as rcv:
            try:
                marks, reads = await asyncio.to_thread(period_marks, self.factory, context.company_id)
                mipyme = MipymeXml(rcv, rcv.company)
                links = Links("https://dtehub.bench")
                yield RcvSource(rcv, context, links, utcnow, marks, self.factory, mipyme, reads)
            finally:
                self.requests, self.portal_requests = rcv.requests_made, rcv.portal_requests


async def one_sync(
    executor: SyncExecutor, factory: sessionmaker[Session], company_id: int
) -> tuple[float, int, str]:
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        run = executor.request(session, company_id, since=None, until=None, trigger=Trigger.CLI)
    done = await executor.run(company_id, run.id)
    return time.perf_counter() - started, done.documents_created, done.state


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def round_(url: str, base: str, ca: str, pfx: bytes, rate: float) -> dict[str, float]:
    migrate.upgrade(url)
    engine = create_engine(  # as dtehub sii sync
        url, pool_size=2, mapped=False, statement_cache=BULK_STATEMENT_CACHE
    )
    factory = create_sessionmaker(engine)
    with unit_of_work(factory) as session:
        company_id = create_company(
            session, rut=COMPANY, name="EMPRESA DE EJEMPLO SPA", payment_term_days=30
        ).company.id
    config = SiiConfig(auth_url=base, portal_url=base, logout_url=base, rcv_url=base, ca_bundle=ca,
                       timeout=120.0, requests_per_second=rate)  # fmt: skip
    pool = SessionPool(config)
    sources = Counted(factory, pool, config, load_pfx(pfx, PASSWORD))
    executor = SyncExecutor(factory, sources)
    try:
        before = peak_mb()
        first, created, state = await one_sync(executor, factory, company_id)
        assert state == "done", state
        first_requests, first_portal, peak = sources.requests, sources.portal_requests, peak_mb()
        second, again, state = await one_sync(executor, factory, company_id)
        assert state == "done", state
        assert again == 0, again
    finally:
        await pool.aclose()
        engine.dispose()
    return {
        "documents": created, "first_s": first, "docs_per_s": created / first, "requests": first_requests,
        "requests_per_100": 100 * first_requests / created, "portal_requests": first_portal,
        "peak_mb": peak, "baseline_mb": before,
        "second_s": second, "second_share": second / first, "second_requests": sources.requests,
        "second_portal_requests": sources.portal_requests,
        "second_paced_s": (sources.requests + sources.portal_requests - 1) / rate,
    }  # fmt: skip


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.2f} (min {min(values):,.2f}, max {max(values):,.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=60_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--rate", type=float, default=2.0, help="SII requests a second (production: 2)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (emptied!); default SQLite")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dtehub-bench-sii-sync-"))
    emulator = None
    try:
        pfx = emulator_data(folder / "sii", args.documents, args.months)
        emulator, base = start_emulator(folder / "sii")
        results = []
        for number in range(args.rounds):
            db_folder = folder / f"round-{number}"
            db_folder.mkdir()
            url = fresh_database(args.database_url, db_folder)
            results.append(
                asyncio.run(round_(url, base, str(folder / "sii" / "ca" / "ca.pem"), pfx, args.rate))
            )
            print(f"round {number + 1}: {results[-1]}", file=sys.stderr)
    finally:
        if emulator is not None:
            emulator.terminate()
            emulator.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"SII sync, {database}, {args.documents:,} documents over {args.months} months, {args.rate:g} SII "
        f"requests/s, {args.rounds} round(s), medians (min, max); cpus={os.cpu_count()}"
    )
    for label, key, target in (
        ("first sync, s", "first_s", ""),
        ("first sync, documents/s", "docs_per_s", ">= 500"),
        ("SII requests (first sync)", "requests", ""),
        ("SII requests per 100 documents", "requests_per_100", "<= 1"),
        ("MIPYME portal requests (first sync)", "portal_requests", ""),
        ("peak memory, MB (process, after imports: baseline_mb)", "peak_mb", "< 300"),
        ("second sync, s", "second_s", ""),
        ("second sync, SII requests (RCV)", "second_requests", ""),
        ("second sync, MIPYME portal requests", "second_portal_requests", ""),
        ("second sync, of which the pacing alone, s", "second_paced_s", ""),
        ("second sync / first sync", "second_share", "< 0.10"),
    ):
        print(f"  {label:55} {spread([r[key] for r in results]):>40}  {target}")


if __name__ == "__main__":
    main()
