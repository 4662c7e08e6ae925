"""What `dtehub import` costs per DTE, counted in ways that do not depend on the machine's load.

`dtehub import` of a corpus (bench/ingest.py's: signed and stamped DTEs, one credit note in ten) into
an empty database, run in this process with counters around it:
- SQL statements per DTE of the storing process (SQLAlchemy's ``before_cursor_execute`` on every
  engine, commits counted too; PostgreSQL's COPY is one statement that SQLAlchemy does not see);
- CPU per DTE of the storing process (``time.process_time``) and of its workers, which read and check
  the XML (``getrusage(RUSAGE_CHILDREN)`` once they have exited); on PostgreSQL, of the server
  processes that served the import (``/proc/<pid>/stat``, sampled while they run);
- wall time per DTE, for reference only.

Run it from any checkout (its own ``.venv``), so that two commits can be compared in alternating rounds:

    .venv/bin/python bench/per_document.py corpus --documents 2000 --directory /tmp/corpus
    .venv/bin/python bench/per_document.py run --database-url URL --directory /tmp/corpus [--json out]
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

COMPANY_RUT = "76086428-5"  # bench/ingest.py's ISSUER_RUT
COMPANY_NAME = "DTEHUB BENCH SPA"


def checkout() -> Path:
    """The checkout of the dtehub this interpreter imports (its own .venv's editable install)."""
    spec = importlib.util.find_spec("dtehub")
    assert spec
    assert spec.origin
    return Path(spec.origin).resolve().parents[2]


def bench_module(name: str) -> Any:
    bench = checkout() / "bench"
    sys.path.insert(0, str(bench))  # bench/ingest.py imports bench/documents.py as "documents"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", bench / f"{name}.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module
    spec.loader.exec_module(module)
    return module


def corpus(args: argparse.Namespace) -> None:
    bench_module("ingest").make_corpus(Path(args.directory), args.documents)


class _ServerCpu:
    """CPU ticks of the PostgreSQL server processes of one database, sampled every 50 ms (a backend's
    ticks are lost when it exits, so the last sample of each counts)."""

    def __init__(self, url: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.psycopg = psycopg
        self.ticks: dict[int, int] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, conn: Any) -> None:
        query = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for (pid,) in conn.execute(query).fetchall():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            self.ticks[pid] = int(fields[11]) + int(fields[12])

    def _run(self) -> None:
        with self.psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.done.wait(0.05):
                self._sample(conn)

    def start(self) -> None:
        with self.psycopg.connect(self.dsn, autocommit=True) as conn:
            self._sample(conn)
        self.before = dict(self.ticks)
        self.thread.start()

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        ticks = sum(t - self.before.get(pid, 0) for pid, t in self.ticks.items())
        return ticks / os.sysconf("SC_CLK_TCK")


def _callgrind(*actions: str) -> None:
    """Run under ``valgrind --tool=callgrind --instr-atstart=no``: count only what lies between."""
    import subprocess

    for action in actions:
        subprocess.run(["callgrind_control", action, str(os.getpid())], check=True, capture_output=True)


def run(args: argparse.Namespace) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    os.environ["DTEHUB_DATABASE_URL"] = args.database_url
    bench_module("documents").reset_database(args.database_url)
    from dtehub import cli

    def dtehub(*argv: str) -> None:
        sys.argv = ["dtehub", *argv]
        try:
            cli.main()
        except SystemExit as exit:
            if exit.code not in (0, None):
                raise

    dtehub("companies", "create", "--rut", COMPANY_RUT, "--name", COMPANY_NAME)
    statements: collections.Counter[str] = collections.Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[" ".join(statement.split())[:100]] += 1

    def commit(_conn: Any) -> None:
        statements["COMMIT"] += 1

    event.listen(Engine, "before_cursor_execute", count)
    event.listen(Engine, "commit", commit)
    archives = sorted(str(p) for p in Path(args.directory).glob("corpus-*.zip"))
    if args.inline:
        # No worker processes: the XML is read and checked in this process, in the executor's place, so
        # that one process (one callgrind count) holds the whole import.
        from concurrent.futures import Executor, Future

        from dtehub.ingest import importer

        class Inline(Executor):
            def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
                future: Future[Any] = Future()
                future.set_result(fn(*args, **kwargs))
                return future

        importer.process_pool = lambda _jobs: Inline()  # type: ignore[assignment,return-value]
    if args.callgrind:
        # Only the import itself (not the command's start: settings, migrations, the company's lookup).
        from dtehub.ingest import importer

        import_paths = importer.import_paths

        def counted(*args: Any, **kwargs: Any) -> Any:
            _callgrind("--zero", "--instr=on")
            try:
                return import_paths(*args, **kwargs)
            finally:
                _callgrind("--dump=import", "--instr=off")

        importer.import_paths = counted  # type: ignore[assignment]
    server = _ServerCpu(args.database_url) if args.database_url.startswith("postgres") else None
    if server:
        server.start()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu, wall = time.process_time(), time.perf_counter()
    dtehub("import", "--company", COMPANY_RUT, "--jobs", str(args.jobs), *archives)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if args.callgrind:
        # The same files read and checked alone (the workers' part): the storing is the difference.
        from dtehub.ingest import importer

        sources = [s for s in importer.walk_sources(archives) if isinstance(s, importer.Source)]
        _callgrind("--zero", "--instr=on")
        for first in range(0, len(sources), 50):
            importer.read_chunk(sources[first : first + 50], 5 * 1024 * 1024)
        _callgrind("--dump=read", "--instr=off")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    database = server.stop() if server else 0.0
    event.remove(Engine, "before_cursor_execute", count)
    event.remove(Engine, "commit", commit)

    from sqlalchemy import create_engine, text

    engine = create_engine(args.database_url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM notes)")
        ).scalar_one()
    engine.dispose()
    total = sum(statements.values())
    result = {
        "stored": stored,
        "statements_per_dte": total / stored,
        "statements": dict(statements.most_common()),
        "store_cpu_us_per_dte": cpu / stored * 1e6,
        "workers_cpu_us_per_dte": workers / stored * 1e6,
        "db_server_cpu_us_per_dte": database / stored * 1e6,
        "wall_us_per_dte": wall / stored * 1e6,
    }
    print(
        f"{stored} DTEs: {total / stored:.3f} statements, {cpu / stored * 1e6:,.0f} µs CPU storing, "
        f"{workers / stored * 1e6:,.0f} µs CPU in workers, {database / stored * 1e6:,.0f} µs database CPU, "
        f"{wall / stored * 1e6:,.0f} µs wall per DTE",
        file=sys.__stdout__,
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("corpus", "run"))
    parser.add_argument("--database-url")
    parser.add_argument("--directory", required=True)
    parser.add_argument("--documents", type=int, default=2_000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", default=None)
    parser.add_argument("--inline", action="store_true", help="read the XML in this process, no workers")
    parser.add_argument(
        "--callgrind", action="store_true", help="under callgrind (with --inline): dump counts"
    )
    args = parser.parse_args()
    {"corpus": corpus, "run": run}[args.command](args)


if __name__ == "__main__":
    main()
