"""SQLite writers beside `dtehub import`: how long a write waits for the write lock.

A real `dtehub import` of envelopes of 2,000 DTEs (the case where its batches follow one another at
once: an envelope's DTEs arrive together) runs on a SQLite file while threads write as the server does
(dtehub's engine, a transaction that writes, one row each), one after another with short pauses. The
same writers alone, before and after, are the reference. Printed: the waits (from the start of the
transaction to its commit) as p50, p90, p99 and max, how many took over 1 s and 3 s, how many failed
(503 in the server: the lock not had within DTEHUB_DB_BUSY_TIMEOUT), and the import's duration.

Usage:
    python bench/writers_beside_import.py                          # 5 envelopes, 8 writers
    python bench/writers_beside_import.py --envelopes 3 --writers 3 --rounds 2

Target (docs/reliability.md): no write fails (none waits as long as DTEHUB_DB_BUSY_TIMEOUT, 10 s).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.dte_factory import build_dte  # noqa: E402

from dtehub import migrate  # noqa: E402
from dtehub.companies.service import create_company  # noqa: E402
from dtehub.db import create_engine, create_sessionmaker, unit_of_work  # noqa: E402

ISSUER = "76399752-9"
PER_ENVELOPE = 2000
DTEHUB = ROOT / ".venv" / "bin" / "dtehub"


def envelope(dtes: list[bytes]) -> bytes:
    body = b"".join(dte.split(b"?>", 1)[1].strip() for dte in dtes)
    return (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        b'<EnvioDTE xmlns="http://www.sii.cl/SiiDte" version="1.0"><SetDTE ID="SetDoc">'
        b'<Caratula version="1.0"><RutEmisor>' + ISSUER.encode() + b"</RutEmisor><RutEnvia>11111111-1"
        b"</RutEnvia><RutReceptor>99999999-9</RutReceptor><FchResol>2014-08-22</FchResol>"
        b"<NroResol>80</NroResol><TmstFirmaEnv>2024-03-01T10:00:00</TmstFirmaEnv></Caratula>"
        + body
        + b"</SetDTE></EnvioDTE>"
    )


class Writers:
    """Threads that write one row per transaction, as the server's writes do, until stopped."""

    def __init__(self, url: str, count: int) -> None:
        self.engine = create_engine(url, pool_size=count)
        self.factory = create_sessionmaker(self.engine)
        self.count = count
        self.waits: list[float] = []
        self.failed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def _run(self) -> None:
        rng = random.Random()
        while not self._stop.is_set():
            self._stop.wait(rng.uniform(0, 0.05))
            started = time.monotonic()
            try:
                with unit_of_work(self.factory) as session:
                    session.execute(text("INSERT INTO bench_probe (at) VALUES (:at)"), {"at": started})
            except OperationalError:
                with self._lock:
                    self.failed += 1
                continue
            with self._lock:
                self.waits.append(time.monotonic() - started)

    def run_while(self, condition: threading.Event | subprocess.Popen[bytes], seconds: float = 0) -> None:
        threads = [threading.Thread(target=self._run) for _ in range(self.count)]
        self._stop.clear()
        for thread in threads:
            thread.start()
        if isinstance(condition, subprocess.Popen):
            condition.wait()
        else:
            condition.wait(seconds)
        self._stop.set()
        for thread in threads:
            thread.join()

    def line(self, label: str) -> str:
        waits = sorted(self.waits)
        if not waits:
            return f"{label}: no writes"

        def q(p: float) -> float:
            return waits[min(len(waits) - 1, int(p * len(waits)))] * 1000

        return (
            f"{label}: {len(waits)} writes, {self.failed} failed; "
            f"wait p50 {q(0.5):.0f} ms, p90 {q(0.9):.0f}, p99 {q(0.99):.0f}, max {waits[-1] * 1000:.0f}; "
            f"over 1 s {sum(w > 1 for w in waits)}, over 3 s {sum(w > 3 for w in waits)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--envelopes", type=int, default=5, help="envelopes of 2,000 DTEs imported")
    parser.add_argument("--writers", type=int, default=8, help="threads writing beside the import")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="the importer's --jobs")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of: writers alone, writers beside")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dtehub-writers-") as tmp:
        work = Path(tmp)
        folder = work / "envelopes"
        folder.mkdir()
        for e in range(args.envelopes):
            dtes = [
                build_dte(
                    33, 1 + e * PER_ENVELOPE + i, ISSUER, "99999999-9", 5950, issue_date=date(2024, 3, 1)
                )
                for i in range(PER_ENVELOPE)
            ]
            (folder / f"envelope-{e}.xml").write_bytes(envelope(dtes))
        for round_ in range(1, args.rounds + 1):
            url = f"sqlite:///{work / f'round-{round_}.db'}"
            migrate.upgrade(url)
            writers = Writers(url, args.writers)
            with writers.engine.begin() as connection:
                connection.execute(text("CREATE TABLE bench_probe (at FLOAT)"))
            with unit_of_work(writers.factory) as session:
                create_company(session, rut=ISSUER, name="BENCH SPA", payment_term_days=30)
            alone = threading.Event()
            writers.run_while(alone, 10)
            print(writers.line(f"round {round_}, writers alone for 10 s"), flush=True)
            writers.waits, writers.failed = [], 0
            started = time.monotonic()
            importer = subprocess.Popen(
                [str(DTEHUB), "import", str(folder), "--company", ISSUER, "--jobs", str(args.jobs)],
                env={**os.environ, "DTEHUB_DATABASE_URL": url},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            writers.run_while(importer)
            took = time.monotonic() - started
            print(
                writers.line(
                    f"round {round_}, beside the import of {args.envelopes * PER_ENVELOPE} DTEs "
                    f"({took:.1f} s, exit {importer.returncode})"
                ),
                flush=True,
            )
            writers.engine.dispose()


if __name__ == "__main__":
    main()
