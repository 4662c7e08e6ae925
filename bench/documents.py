"""Documents benchmark: getDocuments and getDocument over HTTP at one million documents.

Loads 1,000,000 documents of one company (5,000 clients) and 100,000 of another, starts a real
`dtehub serve` on loopback that runs nothing but the requests it is sent (no background job: no
reminders, webhook deliveries, SII sync schedule or cession follow-up), then measures:
- the machine's reference first: the same server's /health (which runs ``SELECT 1``), its p50 over
  sequential requests and its throughput;
- for each company, getDocuments with each filter alone and each orderBy in both orders, on page 1
  and on the deepest FULL page up to 200 (computed from the query's totalRecords): p50 and p99 latency
  over sequential requests, each against /health's p50 sampled just before and just after it (the
  machine's load moves); a query whose result is empty is reported apart (an empty page is cheap);
- throughput of getDocument?id=&expandClient=1 against /health at 1, 4 and 16 connections, the two
  alternated for several rounds: the median ratio and its spread (min-max).

Every target is a ratio to the /health reference measured in the same run (machine speed cancels):
- getDocuments p50 <= 6x /health p50 for a company of up to 100k documents, <= 12x at 1M;
  p99 <= 40x /health p50;
- getDocument throughput >= 0.6x /health throughput (median of the rounds) at each connection count.
After the run, the benchmark checks that the server wrote no e-mail, webhook or SII sync row.

Usage:
    python bench/documents.py                                    # SQLite file under bench/results/
    python bench/documents.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/documents.py --documents 100000 --small-documents 10000   # a quicker run
    ... --output docs/bench/documents-sqlite.txt                # also writes the report there
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
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
from dtehub.kit.pagination import DEFAULT_PER_PAGE  # noqa: E402
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


# The server under test runs only what is measured: every periodic job of `dtehub serve` off (reminders,
# webhook deliveries and their overdue sweep, the SII sync schedule, the cession follow-up; see
# dtehub.config.Settings and dtehub.background.server_jobs), no key to open SII certificates or sign webhooks,
# no SMTP server, and the mail folder a fresh empty directory checked after the run.
QUIET_SERVER = {
    "DTEHUB_RUN_BACKGROUND_JOBS": "false",
    "DTEHUB_REMINDERS_INTERVAL": "0",
    "DTEHUB_CESSION_FOLLOW_INTERVAL": "0",
    "DTEHUB_SII_SYNC_INTERVAL": "0",
    "DTEHUB_RATE_LIMIT_PER_MINUTE": "0",
    "DTEHUB_LOG_LEVEL": "warning",
}
UNSET_FOR_SERVER = ("DTEHUB_SECRET_KEY", "DTEHUB_SMTP_URL")
# Tables the background jobs (or a request they would answer) write to: all must stay empty.
SIDE_EFFECT_TABLES = (
    "email_messages",
    "webhook_events",
    "webhook_deliveries",
    "sii_sync_runs",
    "audit_events",
)


def side_effect_rows(url: str) -> dict[str, int]:
    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        counts = {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in SIDE_EFFECT_TABLES
        }
    engine.dispose()
    return counts


def start_server(
    url: str, port: int, workers: int, mail_folder: Path, **extra_env: str
) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if key not in UNSET_FOR_SERVER}
    env.update(QUIET_SERVER, DTEHUB_DATABASE_URL=url, DTEHUB_MAIL_FOLDER=str(mail_folder), **extra_env)
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


@dataclass
class QueryResult:
    name: str
    page: int
    p50: float
    p99: float
    total: int
    health_p50: float = 0.0  # /health p50 sampled just before and just after this query (their mean)

    @property
    def p50_ratio(self) -> float:
        return self.p50 / self.health_p50

    @property
    def p99_ratio(self) -> float:
        return self.p99 / self.health_p50


def deepest_full_page(total: int, per_page: int = DEFAULT_PER_PAGE, limit: int = 200) -> int:
    """The deepest page up to ``limit`` that holds ``per_page`` results; 0 when no page is full."""
    return min(limit, total // per_page)


def measure_queries(base: str, tenant: Tenant, seconds: int, health_seconds: int) -> list[QueryResult]:
    """Each listed query, sequentially (one connection) for ``seconds``, on page 1 and on its deepest full
    page up to 200: p50, p99 and totalRecords. A query with fewer results than a page is measured on page 1
    only (a partial page); one with none is measured too, and reported apart by the caller.

    /health's p50 is sampled (``health_seconds``) between every two queries, and each query is compared with
    the mean of the samples on either side of it: on a shared machine whose load moves from one minute to the
    next, the reference is taken under the same load as what it measures."""
    results = []
    health_before = health_latency(base, health_seconds)[0]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tenant.token}"}, timeout=30) as http:
        for name, params in listed_queries(tenant):
            first = http.get("/v1/getDocuments", params=dict(params, page="1"))  # also the warm-up
            first.raise_for_status()
            total = first.json()["records"]["totalRecords"]
            pages = sorted({1, max(1, deepest_full_page(total))})
            for page in pages:
                query = dict(params, page=str(page))
                answer = http.get("/v1/getDocuments", params=query)
                answer.raise_for_status()
                shown = len(answer.json()["items"])
                assert shown == min(DEFAULT_PER_PAGE, total), (name, page, shown, total)
                url = str(httpx.URL(f"{base}/v1/getDocuments", params=query))
                report = _wrk(url, seconds, 1, token=tenant.token)
                p50, p99 = _latency_ms(report, 50), _latency_ms(report, 99)
                health_after = health_latency(base, health_seconds)[0]
                reference = (health_before + health_after) / 2
                results.append(QueryResult(name, page, p50, p99, total, reference))
                health_before = health_after
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


def alternating_throughput(
    base: str, tenant: Tenant, seconds: int, connections: int, rounds: int
) -> list[tuple[float, float]]:
    """``rounds`` pairs of (/health req/s, getDocument req/s), the two alternated, the order flipped every
    round so that neither always runs first."""
    script = WRK_SCRIPT % (tenant.first_document_id, tenant.documents, tenant.token)
    wrk_rps(f"{base}/health", 2, connections)  # warm-up
    wrk_rps(f"{base}/v1/getDocument", 2, connections, script)
    pairs = []
    for n in range(rounds):
        if n % 2 == 0:
            health = wrk_rps(f"{base}/health", seconds, connections)
            document = wrk_rps(f"{base}/v1/getDocument", seconds, connections, script)
        else:
            document = wrk_rps(f"{base}/v1/getDocument", seconds, connections, script)
            health = wrk_rps(f"{base}/health", seconds, connections)
        pairs.append((health, document))
    return pairs


def health_latency(base: str, seconds: int) -> tuple[float, float]:
    report = _wrk(f"{base}/health", seconds, 1)
    return _latency_ms(report, 50), _latency_ms(report, 99)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


class Report:
    """Prints each line and keeps it, to write the raw output under docs/bench/."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


def p50_factor(documents: int) -> float:
    """The getDocuments p50 target, in /health p50s: 6x up to 100k documents, 12x beyond (1M)."""
    return 6.0 if documents <= 100_000 else 12.0


P99_FACTOR = 40.0
THROUGHPUT_FACTOR = 0.6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'bench' / 'results' / 'bench.db'}")
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=5_000)
    parser.add_argument("--small-documents", type=int, default=100_000)
    parser.add_argument("--query-seconds", type=int, default=3, help="seconds of requests per listed query")
    parser.add_argument(
        "--health-seconds", type=int, default=1, help="seconds of each /health sample between two queries"
    )
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration of each throughput sample")
    parser.add_argument("--rounds", type=int, default=5, help="alternating /health-getDocument rounds")
    parser.add_argument("--connections", default="1,4,16", help="wrk connection counts, comma-separated")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--output", type=Path, help="also write the report to this file (docs/bench/...)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    if args.rounds < 5:
        raise SystemExit("--rounds: at least 5 alternating rounds")

    out = Report()
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    big = Tenant(0, new_api_token(), args.documents, args.clients)
    small = Tenant(0, new_api_token(), args.small_documents, max(1, args.clients // 10))
    backend = database_url(args.database_url).get_backend_name()
    now = datetime.now(UTC)
    out(f"# dtehub documents benchmark on {backend}, {os.cpu_count()} CPUs, {now:%Y-%m-%d %H:%M} UTC")
    out(
        f"command: python bench/documents.py --documents {args.documents} --small-documents "
        f"{args.small_documents} --query-seconds {args.query_seconds} --seconds {args.seconds} "
        f"--health-seconds {args.health_seconds} --rounds {args.rounds} --workers {args.workers} ({backend})"
    )
    out(f"load average before loading: {load_average()}")
    reset_database(args.database_url)
    load_seconds = load(args.database_url, big, seed=1)
    out(f"loaded {big.documents:,} documents ({big.clients:,} clients) in {load_seconds:.1f} s")
    small_seconds = load(args.database_url, small, seed=2)
    out(f"loaded {small.documents:,} documents ({small.clients:,} clients) in {small_seconds:.1f} s")
    before = side_effect_rows(args.database_url)

    port = free_port()
    mail_folder = Path(tempfile.mkdtemp(prefix="dtehub-bench-mail-"))
    server = start_server(args.database_url, port, args.workers, mail_folder)
    base = f"http://127.0.0.1:{port}"
    verdicts: list[tuple[str, str, bool]] = []  # (target, measured as a ratio, met)
    connection_counts = [int(n) for n in args.connections.split(",")]
    try:
        # The reference first: /health on the same server, now (load average printed beside it).
        wrk_rps(f"{base}/health", 2, 1)  # warm-up
        references = [health_latency(base, args.query_seconds) for _ in range(3)]
        health_p50 = statistics.median(p50 for p50, _ in references)
        health_p99 = statistics.median(p99 for _, p99 in references)
        health_rps = {c: wrk_rps(f"{base}/health", args.seconds, c) for c in connection_counts}
        out(f"\n## reference: this machine, this server's /health (load average {load_average()})")
        out(
            f"/health p50 {health_p50:.2f} ms, p99 {health_p99:.2f} ms (wrk, 1 connection, median of 3 x "
            f"{args.query_seconds} s: p50s {', '.join(f'{p:.2f}' for p, _ in references)})"
        )
        out("/health throughput: " + ", ".join(f"{c} conn {r:,.0f} req/s" for c, r in health_rps.items()))

        for tenant in (big, small):
            factor = p50_factor(tenant.documents)
            out(
                f"\n## getDocuments, company with {tenant.documents:,} documents "
                f"(wrk, 1 connection, {args.query_seconds:g} s each; targets p50 <= {factor:g}x, "
                f"p99 <= {P99_FACTOR:g}x /health p50)"
            )
            out(f"load average {load_average()}")
            out(
                f"{'query':<20} {'page':>4} {'p50 ms':>8} {'p99 ms':>8} {'/health p50':>11} {'p50 x':>6} "
                f"{'p99 x':>6} {'totalRecords':>13}"
            )
            measured = measure_queries(base, tenant, args.query_seconds, args.health_seconds)
            counted = [r for r in measured if r.total > 0]
            empty = [r for r in measured if r.total == 0]
            for r in counted:
                note = "" if r.total >= DEFAULT_PER_PAGE else "  (partial page: fewer results than a page)"
                if r.p50_ratio > factor or r.p99_ratio > P99_FACTOR:
                    note += "  << over target"
                out(
                    f"{r.name:<20} {r.page:>4} {r.p50:>8.2f} {r.p99:>8.2f} {r.health_p50:>11.2f} "
                    f"{r.p50_ratio:>6.1f} {r.p99_ratio:>6.1f} {r.total:>13,}{note}"
                )
            if empty:
                out("empty results (not counted in the verdicts: an empty page costs next to nothing):")
                for r in empty:
                    out(f"  {r.name:<18} {r.page:>4} {r.p50:>8.2f} {r.p99:>8.2f}")
            worst_p50 = max(counted, key=lambda r: r.p50_ratio)
            worst_p99 = max(counted, key=lambda r: r.p99_ratio)
            median_ratio = statistics.median(r.p50_ratio for r in counted)
            over = sum(1 for r in counted if r.p50_ratio > factor)
            out(
                f"{len(counted)} measured queries with results, {len(empty)} empty; median p50 ratio "
                f"{median_ratio:.1f}x; {over} over {factor:g}x"
            )
            verdicts.append(
                (
                    f"getDocuments p50 <= {factor:g}x /health p50 at {tenant.documents:,} (worst query)",
                    f"{worst_p50.p50_ratio:.1f}x ({worst_p50.name} page {worst_p50.page}; "
                    f"median {median_ratio:.1f}x, {over} of {len(counted)} over)",
                    worst_p50.p50_ratio <= factor,
                )
            )
            verdicts.append(
                (
                    f"getDocuments p99 <= {P99_FACTOR:g}x /health p50 at {tenant.documents:,} (worst query)",
                    f"{worst_p99.p99_ratio:.1f}x ({worst_p99.name} page {worst_p99.page})",
                    worst_p99.p99_ratio <= P99_FACTOR,
                )
            )

        out(
            f"\n## throughput of getDocument?expandClient=1 against /health (wrk, {args.rounds} alternating "
            f"rounds of {args.seconds} s each, {args.workers} worker, company of {big.documents:,})"
        )
        out(
            f"{'connections':>11} {'/health req/s':>14} {'getDocument req/s':>18} {'ratio median':>13} "
            f"{'min-max':>11}  rounds"
        )
        for connections in connection_counts:
            pairs = alternating_throughput(base, big, args.seconds, connections, args.rounds)
            ratios = [document / health for health, document in pairs]
            ratio = statistics.median(ratios)
            health = statistics.median(h for h, _ in pairs)
            document = statistics.median(d for _, d in pairs)
            out(
                f"{connections:>11} {health:>14,.0f} {document:>18,.0f} {ratio:>13.2f} "
                f"{min(ratios):>5.2f}-{max(ratios):<5.2f}  {' '.join(f'{r:.2f}' for r in ratios)}"
            )
            verdicts.append(
                (
                    f"getDocument throughput >= {THROUGHPUT_FACTOR:g}x /health at {connections} connections",
                    f"{ratio:.2f}x (median; {min(ratios):.2f}-{max(ratios):.2f})",
                    ratio >= THROUGHPUT_FACTOR,
                )
            )
        out(f"load average after: {load_average()}")
    finally:
        server.terminate()
        server.wait(timeout=30)

    after = side_effect_rows(args.database_url)
    mail_files = list(mail_folder.rglob("*"))
    out(f"\nrows written by the server meanwhile: {after} (before: {before}); mail files: {len(mail_files)}")
    if after != before or any(after.values()) or mail_files:
        raise SystemExit("the server under test wrote e-mail, webhook, SII sync or audit rows: unclean run")
    shutil.rmtree(mail_folder, ignore_errors=True)

    out("\n## targets (ratios to this server's /health in this run)")
    for target, ratio, met in verdicts:
        out(f"{'met   ' if met else 'MISSED'}  {target}: {ratio}")
    out("\nall targets met" if all(met for *_, met in verdicts) else "\nsome targets missed")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(out.lines) + "\n")


if __name__ == "__main__":
    main()
