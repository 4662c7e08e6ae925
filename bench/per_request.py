"""What one request costs, counted in ways that do not depend on the machine's load.

For getDocument (``?expandClient=1``, a random document of the company) and getDocuments (each listed
query of bench/documents.py, page 1), served in process (the app over ASGI, no socket), on a company
seeded by bench/documents.py's loader:
- SQL statements per request (SQLAlchemy's ``before_cursor_execute``), and which ones;
- CPU per request of this process (``time.process_time``: every thread, user and system) and, on
  PostgreSQL, of the database's server processes serving it (``/proc/<pid>/stat``);
- wall time per request, for reference only (it does depend on the load).

Run it from any checkout (its own ``.venv``: the dtehub it imports is that checkout's), so that two
commits can be compared side by side in alternating rounds:

    .venv/bin/python bench/per_request.py seed --database-url URL --documents 10000
    .venv/bin/python bench/per_request.py measure --database-url URL --requests 500 [--json out.json]
    .venv/bin/python bench/per_request.py statements --database-url URL     # each statement, once
    .venv/bin/python bench/per_request.py serve --database-url URL --requests 300  # a real server

``--root`` names the checkout whose bench/documents.py seeds (default: that of the dtehub imported).
Under ``valgrind --tool=callgrind`` the instructions of N requests are the difference between a run
of N and one of 0 (``measure --requests 0`` still starts the app and warms up).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]


def checkout() -> Path:
    """The checkout of the dtehub this interpreter imports (its own .venv's editable install)."""
    spec = importlib.util.find_spec("dtehub")
    assert spec
    assert spec.origin
    return Path(spec.origin).resolve().parents[2]


def bench_documents(root: Path) -> Any:
    spec = importlib.util.spec_from_file_location("bench_documents", root / "bench" / "documents.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_documents"] = module
    spec.loader.exec_module(module)
    return module


def seed(args: argparse.Namespace) -> None:
    bench = bench_documents(args.root)
    tenant = bench.Tenant(0, "bench-" + "t" * 40, args.documents, args.clients)
    tenant.token = bench.new_api_token()
    bench.reset_database(args.database_url)
    seconds = bench.load(args.database_url, tenant, seed=2)
    info = {
        "company_id": tenant.company_id,
        "token": tenant.token,
        "documents": tenant.documents,
        "clients": tenant.clients,
        "first_document_id": tenant.first_document_id,
        "tag_ids": list(tenant.tag_ids),
        "client_tax_id": tenant.client_tax_id,
        "client_id": tenant.client_id,
    }
    Path(args.tenant).write_text(json.dumps(info))
    print(f"seeded {tenant.documents:,} documents in {seconds:.1f} s; tenant in {args.tenant}")


def _pg_backend_ticks(url: str) -> int:
    """User + system clock ticks of the PostgreSQL server processes serving this database (the server
    runs on this machine), read over a connection of its own (neither counted nor pooled)."""
    import psycopg
    from sqlalchemy.engine import make_url

    total = 0
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        query = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for (pid,) in conn.execute(query).fetchall():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def _callgrind(*actions: str) -> None:
    """Run under ``valgrind --tool=callgrind --instr-atstart=no``: count only what lies between."""
    import subprocess

    for action in actions:
        subprocess.run(["callgrind_control", action, str(os.getpid())], check=True, capture_output=True)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    os.environ["DTEHUB_DATABASE_URL"] = args.database_url
    os.environ["DTEHUB_RUN_BACKGROUND_JOBS"] = "0"
    os.environ["DTEHUB_RATE_LIMIT_PER_MINUTE"] = "0"
    os.environ["DTEHUB_LOG_LEVEL"] = "warning"
    os.environ.setdefault("DTEHUB_SII_SYNC_INTERVAL", "0")
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from dtehub.app import create_app

    bench = bench_documents(args.root)
    info = json.loads(Path(args.tenant).read_text())
    tenant = bench.Tenant(
        info["company_id"], info["token"], info["documents"], info["clients"], info["first_document_id"],
        tuple(info["tag_ids"]), info["client_tax_id"], info["client_id"],
    )  # fmt: skip
    rng = random.Random(args.seed)
    app = create_app()
    engine = app.state.engine
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    # A commit or rollback is a round trip too (on PostgreSQL; SQLite's are calls into the library).
    @event.listens_for(engine, "commit")
    def _commit(_conn: Any) -> None:
        statements.append("COMMIT")

    @event.listens_for(engine, "rollback")
    def _rollback(_conn: Any) -> None:
        statements.append("ROLLBACK")

    # The garbage collector's runs while measuring: how many, of which generation, and their CPU.
    collections: list[tuple[int, float]] = []
    started: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.process_time()]
        elif started:
            collections.append((info["generation"], time.process_time() - started[0]))

    gc.callbacks.append(on_gc)
    headers = {"Authorization": f"Bearer {tenant.token}"}
    listed = [params for _name, params in bench.listed_queries(tenant)]

    def get_document() -> None:
        document_id = tenant.first_document_id + rng.randrange(tenant.documents)
        answer = client.get(f"/v1/getDocument?expandClient=1&id={document_id}", headers=headers)
        assert answer.status_code == 200, answer.text

    def get_documents() -> None:
        answer = client.get("/v1/getDocuments", params=dict(rng.choice(listed), page="1"), headers=headers)
        assert answer.status_code == 200, answer.text

    kinds = {"getDocument": get_document, "getDocuments": get_documents}
    results: dict[str, Any] = {}
    postgres = engine.dialect.name == "postgresql"
    profiles: list[Any] = []
    if args.profile:
        # Every thread the app serves from (the event loop's, the thread pool's) profiled on its own.
        import cProfile
        import threading

        def start_profile(*_event: Any) -> None:
            profile = cProfile.Profile()
            profiles.append(profile)
            profile.enable()  # replaces this hook for the thread

        threading.setprofile(start_profile)
        start_profile()
    with TestClient(app) as client:
        for kind in args.kinds.split(","):
            call = kinds[kind]
            for _ in range(args.warmup):
                call()
            # What the app's start left for the collector is collected now, not in the measured requests:
            # else the first full collection after the start (about 130 ms in a process of dtehub's size)
            # falls among them in one process and not in another.
            gc.collect()
            statements.clear()
            collections.clear()
            ticks = _pg_backend_ticks(args.database_url) if postgres else 0
            if args.callgrind:
                _callgrind("--zero", "--instr=on")
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(args.requests):
                call()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if args.callgrind:
                _callgrind(f"--dump={kind}", "--instr=off")
            server = (
                (_pg_backend_ticks(args.database_url) - ticks) / os.sysconf("SC_CLK_TCK") if postgres else 0.0
            )
            n = max(args.requests, 1)
            gc_cpu = sum(c[1] for c in collections)
            full = sum(1 for c in collections if c[0] == 2)
            results[kind] = {
                "gc_collections_per_request": len(collections) / n,
                "gc_full_collections": full,
                "gc_cpu_us_per_request": gc_cpu / n * 1e6,
                "requests": args.requests,
                "statements_per_request": len(statements) / n,
                "cpu_us_per_request": cpu / n * 1e6,
                "db_server_cpu_us_per_request": server / n * 1e6,
                "wall_us_per_request": wall / n * 1e6,
                "distinct_statements": sorted({" ".join(s.split())[:160] for s in statements}),
            }
            print(
                f"{kind:<13} {args.requests} requests: {len(statements) / n:.2f} statements, "
                f"{cpu / n * 1e6:,.0f} µs CPU, {server / n * 1e6:,.0f} µs database CPU, "
                f"{wall / n * 1e6:,.0f} µs wall per request; garbage collector: "
                f"{len(collections) / n:.2f} runs ({full} full), {gc_cpu / n * 1e6:,.0f} µs CPU per request"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if profiles:
        import pstats

        threading.setprofile(None)  # type: ignore[arg-type]
        pstats.Stats(*profiles).dump_stats(args.profile)
    return results


def serve(args: argparse.Namespace) -> None:
    """getDocument one request after another (one connection, kept alive) against a real ``dtehub serve``
    of this checkout, its background jobs running: wall time per request (p50, p90) and the server
    process's CPU per request (/proc), /health alongside."""
    import socket
    import subprocess

    import httpx

    info = json.loads(Path(args.tenant).read_text())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(
        os.environ,
        DTEHUB_DATABASE_URL=args.database_url,
        DTEHUB_LOG_LEVEL="warning",
        DTEHUB_RATE_LIMIT_PER_MINUTE="0",
    )
    dtehub = str(Path(sys.executable).parent / "dtehub")
    server = subprocess.Popen(
        [dtehub, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
    )

    def ticks() -> int:
        fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    rng = random.Random(args.seed)

    def path(kind: str) -> str:
        if kind == "/health":
            return kind
        document_id = info["first_document_id"] + rng.randrange(info["documents"])
        return f"/v1/getDocument?expandClient=1&id={document_id}"

    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {info['token']}"}) as http:
            for kind in ("/health", "getDocument"):
                for _ in range(args.warmup):
                    http.get(path(kind))
                latencies = []
                cpu, wall = ticks(), time.perf_counter()
                for _ in range(args.requests):
                    started = time.perf_counter()
                    answer = http.get(path(kind))
                    assert answer.status_code == 200, answer.text
                    latencies.append(time.perf_counter() - started)
                wall = time.perf_counter() - wall
                cpu_seconds = (ticks() - cpu) / os.sysconf("SC_CLK_TCK")
                latencies.sort()
                n = args.requests
                print(
                    f"{kind:<12} {n} requests: wall {wall / n * 1e3:.2f} ms a request, p50 "
                    f"{latencies[n // 2] * 1e3:.2f} ms, p90 {latencies[int(n * 0.9)] * 1e3:.2f} ms, "
                    f"server CPU {cpu_seconds / n * 1e3:.2f} ms a request"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)


def statements_of(args: argparse.Namespace) -> None:
    args.requests, args.warmup = 20, 3
    for kind, result in measure(args).items():
        print(kind, *result["distinct_statements"], sep="\n  ")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("seed", "measure", "statements", "serve"))
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--root", type=Path, default=None, help="whose bench/documents.py (default: dtehub's)"
    )
    parser.add_argument("--tenant", default=None, help="JSON file of the seeded company (default: by URL)")
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--kinds", default="getDocument,getDocuments")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--json", default=None)
    parser.add_argument("--callgrind", action="store_true", help="under callgrind: dump each kind's count")
    parser.add_argument("--profile", default=None, help="cProfile statistics of every thread to this file")
    args = parser.parse_args()
    args.root = args.root or checkout()
    if args.tenant is None:
        name = "".join(c if c.isalnum() else "_" for c in args.database_url)[-60:]
        args.tenant = str(HERE / "bench" / "results" / f"tenant-{name}.json")
        Path(args.tenant).parent.mkdir(exist_ok=True)
    {"seed": seed, "measure": measure, "statements": statements_of, "serve": serve}[args.command](args)


if __name__ == "__main__":
    main()
