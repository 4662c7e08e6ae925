"""Load test: a realistic mix of reads and writes against `dtehub serve --workers N` for minutes on end.

Empties the database, seeds a few companies (clients, tags, documents: bench/documents.py's loader),
starts a real `dtehub serve` on loopback with its background jobs on and the rate limiter off, then
drives a mix of requests for ``--minutes``:

    getDocuments (filters, orders, pages, expands)   getDocument (expandClient)
    createDocument                                    createDocumentFromXml (invoices, signed and stamped)
    credit notes by createDocumentFromXml             createPayment (part of a document created here)
    portal invoice and client pages                   the PDF of an uploaded DTE

Every answer must be 2xx, or the one business answer a mix like this can meet (409
``allocation_exceeds_due``, counted apart); anything else is an error, and the bench exits 1 on any.
It prints, per operation, count, errors, p50/p99 latency and throughput; the total throughput and its
ratio to /health's (measured by wrk on the same server just before the mix); the CPU the client and
the server used; and the server's RSS (master + workers) sampled every ``--sample-seconds``, with the
verdict "memory flat" when the steady state (after the warm-up, the first 30% of the run) grows less
than ``--memory-threshold`` percent from its first minute to its last.

The client: asyncio (uvloop) in ``--client-processes`` processes, each with ``--concurrency / processes``
users, each one request at a time on its own kept-alive connection (a closed loop), answers parsed by
httptools: a few tens of microseconds of client CPU a request (httpx spends about 1 ms). Not wrk:
wrk's Lua gets no latency per request, so a mix could only be timed as a whole, and the writes need
answers the client reads (ids, amounts due, PDF links). The DTEs are made (timbre with a test CAF,
XML signature with a test certificate, tests/dte_factory.py's builder) before the clock starts. The
machine has 2 cores shared by client, server and PostgreSQL: the client's CPU is measured and printed
so its share is visible.

Usage:
    python bench/load.py                                      # PostgreSQL dtehub_load, 2 workers, 10 min
    python bench/load.py --minutes 1 --documents 5000         # a smoke run
    python bench/load.py --database-url sqlite:///bench/results/load.db --workers 1
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from documents import free_port, reset_database  # noqa: E402  (bench/documents.py)
from load_driver import client_process  # noqa: E402
from load_report import report  # noqa: E402
from load_seed import seed  # noqa: E402
from load_server import (  # noqa: E402
    RssSampler,
    cpu_seconds,
    machine_busy,
    process_tree,
    start_server,
    wrk_health,
)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dtehub_load"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--companies", type=int, default=3)
    parser.add_argument("--documents", type=int, default=20_000, help="seeded documents per company")
    parser.add_argument("--clients", type=int, default=200, help="seeded clients per company")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight, all processes")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--xml", type=int, default=3000, help="new DTEs per company and client process")
    parser.add_argument("--sample-seconds", type=float, default=5)
    parser.add_argument("--memory-threshold", type=float, default=5.0, help="percent")
    args = parser.parse_args()

    started = time.perf_counter()
    reset_database(args.database_url)
    companies = seed(args.database_url, args.companies, args.documents, args.clients)
    print(f"seeded {args.companies} companies in {time.perf_counter() - started:.0f} s", flush=True)

    folder = Path(tempfile.mkdtemp(prefix="dtehub-load-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(args.database_url, port, args.workers, folder / "mail", folder / "server.log")
    seconds = args.minutes * 60
    try:
        context = multiprocessing.get_context("fork")
        ready, results_queue, start = context.Queue(), context.Queue(), context.Event()
        per_process = max(1, args.concurrency // args.client_processes)
        clients = [
            context.Process(
                target=client_process,
                args=(i, companies, base, per_process, args.xml, ready, start, seconds, results_queue),
            )
            for i in range(args.client_processes)
        ]
        for process in clients:
            process.start()
        made = [ready.get(timeout=600) for _ in clients]
        print(f"client processes made their DTEs in {max(made):.0f} s", flush=True)

        health = wrk_health(base, 10, 16)
        load_before = os.getloadavg()
        sampler = RssSampler(server.pid, args.sample_seconds)
        pids = process_tree(server.pid)
        cpu_before, busy_before = cpu_seconds(pids), machine_busy()
        sampler.start()
        start.set()
        began = time.monotonic()
        print(f"driving the mix for {args.minutes:g} min …", flush=True)
        results = [results_queue.get(timeout=seconds + 600) for _ in clients]
        elapsed = time.monotonic() - began
        server_cpu = cpu_seconds(process_tree(server.pid)) - cpu_before
        busy_after = machine_busy()
        machine = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
        sampler.stopping.set()
        sampler.join()
        for process in clients:
            process.join(30)
        ok = report(
            args, results, elapsed, health, server_cpu, machine, sampler.samples, companies, load_before
        )
    finally:
        server.terminate()
        server.wait(60)
        shutil.rmtree(folder, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
