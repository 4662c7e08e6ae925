"""Documents benchmark: getDocuments and getDocument over HTTP at one million documents.

Loads 1,000,000 documents of one company (5,000 clients) and 100,000 of another, starts a real
`dtehub serve` on loopback, then measures, for each company:
- getDocuments with each filter alone and each orderBy in both orders, page 1 and page 200, each
  answer carrying its totalRecords: p50 and p99 latency over sequential requests;
- throughput of getDocument?id=&expandClient=1 against the same server's /health (which runs
  ``SELECT 1``), both with wrk, and their ratio.

Usage:
    python bench/documents.py                                    # SQLite file under bench/results/
    python bench/documents.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/documents.py --documents 100000 --runs 10       # a quick look

Targets (docs/performance.md): every listed query p50 <= 50 ms and p99 <= 200 ms at 1M, p50 <= 10 ms at
100k; getDocument >= 50% of /health throughput; loading 1M documents in under 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dtehub import migrate  # noqa: E402
from dtehub.db import database_url, is_sqlite  # noqa: E402
from dtehub.kit.dates import SANTIAGO  # noqa: E402
from dtehub.kit.secrets import hash_token, new_api_token, new_link_key  # noqa: E402

DOCUMENT_COLUMNS = (
    "company_id", "client_id", "code", "number", "number_sort", "issue_date", "due_date", "currency",
    "net_cents", "taxes_cents", "total_cents", "credit_cents", "debit_cents", "paid_cents", "paid_date",
    "due_cents", "voided", "state", "purchase_order", "gloss", "notes", "send_requested", "portal_key",
    "created_on", "created_at", "updated_at",
)  # fmt: skip
TAGS_PER_COMPANY = 10
ISSUE_SPAN_DAYS = 3 * 365
FIRST_ISSUE = date.today() - timedelta(days=ISSUE_SPAN_DAYS)  # three years up to today


@dataclass
class Tenant:
    company_id: int
    token: str
    documents: int
    clients: int
    first_document_id: int = 0
    tag_ids: tuple[int, ...] = ()
    client_tax_id: str = ""
    client_id: int = 0


def rut_for(n: int) -> str:
    digits = str(n)
    total, factor = 0, 2
    for ch in reversed(digits):
        total += int(ch) * factor
        factor = 2 if factor == 7 else factor + 1
    dv = 11 - total % 11
    return f"{digits}-{'0' if dv == 11 else 'K' if dv == 10 else dv}"


def reset_database(url: str) -> None:
    database = database_url(url)
    if is_sqlite(database):
        assert database.database
        for suffix in ("", "-wal", "-shm"):
            Path(database.database + suffix).unlink(missing_ok=True)
    else:
        engine = create_engine(database)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)


def _document_rows(tenant: Tenant, client_ids: list[int], rng: random.Random, now: datetime) -> list[tuple]:
    """Realistic receivables: three years of invoices, mostly CLP facturas, most of the old ones paid."""
    rows = []
    today = now.date()
    for i in range(tenant.documents):
        issue = FIRST_ISSUE + timedelta(days=(i * ISSUE_SPAN_DAYS) // tenant.documents)
        due = issue + timedelta(days=rng.choice((0, 15, 30, 30, 30, 45, 60)))
        code = rng.choices((33, 34, 39, 110), weights=(85, 9, 5, 1))[0]
        currency = "USD" if code == 110 or rng.random() < 0.02 else "CLP"
        net = rng.randrange(10_000, 20_000_000) * 100
        taxes = net * 19 // 100 if code == 33 else 0
        total = net + taxes
        age = (today - issue).days
        paid = total if rng.random() < (0.97 if age > 120 else 0.5) else 0
        voided = rng.random() < 0.01
        due_cents = max(0, total - paid)
        state = 4 if voided else (1 if due_cents == 0 else 0)
        created = datetime.combine(issue, datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=12, seconds=i % 3600
        )
        rows.append(
            (
                tenant.company_id,
                client_ids[rng.randrange(len(client_ids))],
                code,
                str(i + 1),
                i + 1,
                issue,
                due,
                currency,
                net,
                taxes,
                total,
                0,
                0,
                paid,
                due if paid else None,
                due_cents,
                voided,
                state,
                "",
                "",
                "",
                False,
                new_link_key(),
                created.astimezone(SANTIAGO).date(),
                created,
                created,
            )
        )
    return rows


def load(url: str, tenant: Tenant, seed: int) -> float:
    """Insert one company's clients, tags and documents; returns the seconds it took."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    engine = create_engine(database_url(url))
    started = time.perf_counter()
    with engine.begin() as conn:
        tenant.company_id = conn.execute(
            text(
                "INSERT INTO companies (rut, name, payment_term_days, created_at) "
                "VALUES (:rut, :name, 30, :now) RETURNING id"
            ),
            {"rut": rut_for(76_000_000 + seed), "name": f"Bench company {seed}", "now": now},
        ).scalar_one()
        conn.execute(
            text("INSERT INTO api_tokens (company_id, token_hash, created_at) VALUES (:c, :h, :now)"),
            {"c": tenant.company_id, "h": hash_token(tenant.token), "now": now},
        )
        client_rows = [
            {
                "company_id": tenant.company_id,
                "tax_id": rut_for(10_000_000 + seed * 100_000 + n),
                "name": f"Cliente {n}",
                "key": new_link_key(),
                "now": now,
            }
            for n in range(tenant.clients)
        ]
        conn.execute(
            text(
                "INSERT INTO clients (company_id, tax_id, name, activity, country, region, city, comuna, "
                "address, zipcode, phone, fax, remind_new_document, remind_soon_to_expire, remind_expired, "
                "remind_new_payment, remind_debt_summary, portal_key, created_at, updated_at) VALUES "
                "(:company_id, :tax_id, :name, '', 'Chile', '', '', '', '', '', '', '', true, true, true, "
                "true, true, :key, :now, :now)"
            ),
            client_rows,
        )
        clients = conn.execute(
            text("SELECT id, tax_id FROM clients WHERE company_id = :c ORDER BY id"), {"c": tenant.company_id}
        ).all()
        client_ids = [row[0] for row in clients]
        tenant.client_id, tenant.client_tax_id = clients[len(clients) // 2]
        conn.execute(
            text("INSERT INTO tags (company_id, name, created_at) VALUES (:c, :name, :now)"),
            [{"c": tenant.company_id, "name": f"etiqueta-{n}", "now": now} for n in range(TAGS_PER_COMPANY)],
        )
        tenant.tag_ids = tuple(
            conn.execute(
                text("SELECT id FROM tags WHERE company_id = :c ORDER BY id"), {"c": tenant.company_id}
            )
            .scalars()
            .all()
        )
        rows = _document_rows(tenant, client_ids, rng, now)
        raw = conn.connection.dbapi_connection
        assert raw is not None
        columns = ", ".join(DOCUMENT_COLUMNS)
        if is_sqlite(database_url(url)):
            placeholders = ", ".join("?" for _ in DOCUMENT_COLUMNS)
            sqlite_rows = [(*row[:-2], _sqlite_time(row[-2]), _sqlite_time(row[-1])) for row in rows]
            cursor = raw.cursor()
            cursor.executemany(f"INSERT INTO documents ({columns}) VALUES ({placeholders})", sqlite_rows)
        else:
            with raw.cursor() as cursor, cursor.copy(f"COPY documents ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        tenant.first_document_id = conn.execute(
            text("SELECT min(id) FROM documents WHERE company_id = :c"), {"c": tenant.company_id}
        ).scalar_one()
        # About a third of the documents carry one tag.
        conn.execute(
            text(
                "INSERT INTO document_tags (document_id, tag_id, issue_date) "
                "SELECT id, :first_tag + (id % :n), issue_date FROM documents "
                "WHERE company_id = :c AND id % 3 = 0"
            ),
            {"first_tag": tenant.tag_ids[0], "n": TAGS_PER_COMPANY, "c": tenant.company_id},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # Fresh statistics for the planner; on PostgreSQL also the visibility map for index-only scans.
        conn.execute(text("ANALYZE" if is_sqlite(database_url(url)) else "VACUUM (ANALYZE)"))
    engine.dispose()
    return time.perf_counter() - started


def _sqlite_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ, DTEHUB_DATABASE_URL=url, DTEHUB_LOG_LEVEL="warning", DTEHUB_RATE_LIMIT_PER_MINUTE="0"
    )
    dtehub = shutil.which("dtehub", path=str(Path(sys.executable).parent)) or "dtehub"
    server = subprocess.Popen(
        [dtehub, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def listed_queries(tenant: Tenant) -> list[tuple[str, dict[str, str]]]:
    mid = FIRST_ISSUE + timedelta(days=ISSUE_SPAN_DAYS // 2)
    filters: list[tuple[str, dict[str, str]]] = [
        ("no filter", {}),
        ("since", {"since": mid.isoformat()}),
        ("until", {"until": mid.isoformat()}),
        ("dateBy=2 since", {"dateBy": "2", "since": mid.isoformat()}),
        ("status=1", {"status": "1"}),
        ("status=2", {"status": "2"}),
        ("status=3", {"status": "3"}),
        ("status=4", {"status": "4"}),
        ("number", {"number": str(tenant.documents // 2)}),
        ("code=33", {"code": "33"}),
        ("code=34", {"code": "34"}),
        ("currency=USD", {"currency": "USD"}),
        ("currency=CLP", {"currency": "CLP"}),
        ("clientId", {"clientId": str(tenant.client_id)}),
        ("clientTaxId", {"clientTaxId": tenant.client_tax_id}),
        ("tagId", {"tagId": str(tenant.tag_ids[3])}),
    ]
    for order_by in range(1, 6):
        for order in ("ASC", "DESC"):
            filters.append((f"orderBy={order_by} {order}", {"orderBy": str(order_by), "order": order}))
    return filters


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(
    url: str, seconds: int, connections: int, script: str | None = None, token: str | None = None
) -> str:
    """Run wrk (C, so the client adds next to nothing to what it times) and return its report."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if script:
            lua.write(script)
            command += ["-s", lua.name]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    Path(lua.name).unlink()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses:\n{output}")
    return output


def _latency_ms(report: str, percent: int) -> float:
    match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)$", report, re.MULTILINE)
    assert match, report
    return float(match.group(1)) * _WRK_UNITS[match.group(2)]


def measure_queries(base: str, tenant: Tenant, seconds: int) -> list[tuple[str, int, float, float, int]]:
    """Each listed query, sequentially (one connection) for ``seconds``: p50, p99 and its totalRecords."""
    results = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tenant.token}"}, timeout=30) as http:
        for name, params in listed_queries(tenant):
            for page in (1, 200):
                query = dict(params, page=str(page))
                response = http.get("/v1/getDocuments", params=query)  # also the warm-up
                response.raise_for_status()
                total = response.json()["records"]["totalRecords"]
                url = str(httpx.URL(f"{base}/v1/getDocuments", params=query))
                report = _wrk(url, seconds, 1, token=tenant.token)
                results.append((name, page, _latency_ms(report, 50), _latency_ms(report, 99), total))
    return results


WRK_SCRIPT = """
local first, count, token = %d, %d, "%s"
request = function()
  local id = first + math.random(0, count - 1)
  local headers = {["Authorization"] = "Bearer " .. token}
  return wrk.format("GET", "/v1/getDocument?expandClient=1&id=" .. id, headers)
end
"""


def wrk_rps(url: str, seconds: int, connections: int, script: str | None = None) -> float:
    match = re.search(r"Requests/sec:\s+([\d.]+)", report := _wrk(url, seconds, connections, script))
    assert match, report
    return float(match.group(1))


def throughput(base: str, tenant: Tenant, seconds: int, connections: int) -> tuple[float, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the throughput part: apt-get install wrk")
    script = WRK_SCRIPT % (tenant.first_document_id, tenant.documents, tenant.token)
    wrk_rps(f"{base}/health", 2, connections)  # warm-up
    health = wrk_rps(f"{base}/health", seconds, connections)
    document = wrk_rps(f"{base}/v1/getDocument", seconds, connections, script)
    return health, document


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'bench' / 'results' / 'bench.db'}")
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=5_000)
    parser.add_argument("--small-documents", type=int, default=100_000)
    parser.add_argument("--query-seconds", type=int, default=3, help="seconds of requests per listed query")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per endpoint")
    parser.add_argument("--connections", default="1,4,16", help="wrk connection counts, comma-separated")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    big = Tenant(0, new_api_token(), args.documents, args.clients)
    small = Tenant(0, new_api_token(), args.small_documents, max(1, args.clients // 10))
    backend = database_url(args.database_url).get_backend_name()
    print(f"# dtehub documents benchmark on {backend}, {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d}")
    reset_database(args.database_url)
    load_seconds = load(args.database_url, big, seed=1)
    print(f"loaded {big.documents:,} documents ({big.clients:,} clients) in {load_seconds:.1f} s")
    small_seconds = load(args.database_url, small, seed=2)
    print(f"loaded {small.documents:,} documents ({small.clients:,} clients) in {small_seconds:.1f} s")

    port = free_port()
    server = start_server(args.database_url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    failures: list[str] = []
    try:
        for tenant, p50_target, p99_target in ((big, 50.0, 200.0), (small, 10.0, None)):
            print(
                f"\n## getDocuments, company with {tenant.documents:,} documents "
                f"(wrk, 1 connection, {args.query_seconds:g} s each)"
            )
            print(f"{'query':<20} {'page':>4} {'p50 ms':>8} {'p99 ms':>8} {'totalRecords':>13}")
            for name, page, p50, p99, total in measure_queries(base, tenant, args.query_seconds):
                mark = ""
                if p50 > p50_target or (p99_target is not None and p99 > p99_target):
                    mark = "  << over target"
                    failures.append(
                        f"{tenant.documents:,} docs {name} page {page}: p50 {p50:.1f} p99 {p99:.1f}"
                    )
                print(f"{name:<20} {page:>4} {p50:>8.1f} {p99:>8.1f} {total:>13,}{mark}")
        print(f"\n## throughput of getDocument?expandClient=1 (wrk, {args.seconds} s, {args.workers} worker)")
        print(f"{'connections':>11} {'/health req/s':>14} {'getDocument req/s':>18} {'ratio':>6}")
        for connections in (int(n) for n in args.connections.split(",")):
            health, document = throughput(base, big, args.seconds, connections)
            ratio = document / health
            print(f"{connections:>11} {health:>14.0f} {document:>18.0f} {ratio:>6.2f}")
            if ratio < 0.5:
                failures.append(f"getDocument/health ratio {ratio:.2f} at {connections} connections")
        if load_seconds > 120:
            failures.append(f"loading took {load_seconds:.0f} s")
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("\nall targets met" if not failures else "\ntargets missed:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
