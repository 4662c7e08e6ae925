"""Web app benchmark: every GET page under /app for a company with 1,000,000 documents.

Loads the documents of bench/documents.py (its loader, imported: one company of 1,000,000 documents and
5,000 clients, three years up to today, ~91% paid), gives the company an owner user with an open session
(made through dtehub's users service, as signing in makes it), starts a real `dtehub serve` on loopback
with the background jobs off, and measures every GET page of /app with that session's cookie.

Measure: sequential requests from one client on loopback, in alternating rounds: each round asks every page
(and /health, the reference: it runs ``SELECT 1``) ``--requests`` times, the pages' order rotated from one
round to the next so that no page always follows the same one. dtehub sends no Server-Timing header, so the
time is the client's wall time from sending the request to the last byte of the answer; what the client
(httpx) adds by itself is in /health's figure, which is why each page is also given as a ratio to /health's
p50 of the same round. Each figure is the median over the rounds of that round's p50 (in brackets the lowest
and highest round); p99 is over every request of the page.

Usage:
    python bench/app.py                                           # SQLite file under bench/results/
    python bench/app.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    python bench/app.py --documents 100000 --rounds 3             # a quick look

Target (issue 20, docs/performance.md): every page p50 < 200 ms at 1,000,000 documents.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from documents import (  # noqa: E402  (bench/documents.py: the loader and the server's helpers)
    Tenant,
    free_port,
    load,
    reset_database,
    start_server,
)
from dtehub import migrate  # noqa: E402
from dtehub.db import create_engine, database_url  # noqa: E402
from dtehub.kit.dates import today_in_santiago  # noqa: E402
from dtehub.kit.secrets import new_api_token  # noqa: E402
from dtehub.models.user import Role  # noqa: E402
from dtehub.users import service as users  # noqa: E402

TARGET_MS = 200.0
OWNER = "owner@bench.example"


def open_session(url: str, company_id: int) -> str:
    """An owner of the company and a session of theirs: the cookie's token."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        user = users.repository.user_by_email(session, OWNER)
        if user is None:
            user = users.create_user(session, OWNER, name="Dueña del banco de pruebas")
            users.grant(session, user, company_id, Role.OWNER)
        token = users.start_session(session, user, now, company_id)
    engine.dispose()
    return token


def first_tag(url: str, company_id: int) -> int:
    """The id of the company's first tag (the loader makes a few; a reused database keeps them)."""
    engine = create_engine(url)
    with Session(engine) as session:
        found = session.execute(
            text("SELECT min(id) FROM tags WHERE company_id = :c"), {"c": company_id}
        ).scalar_one()
    engine.dispose()
    return int(found)


def pages(tenant: Tenant, rng: random.Random) -> list[tuple[str, Callable[[], str]]]:
    """Every GET page of /app worth timing, by name: a fixed path, or one drawn per request."""
    today = today_in_santiago(datetime.now(UTC))
    month_ago = (today - timedelta(days=30)).isoformat()
    week_on = (today + timedelta(days=7)).isoformat()
    first, count = tenant.first_document_id, tenant.documents

    def fixed(path: str) -> Callable[[], str]:
        return lambda: path

    listed = [
        ("dashboard", fixed("/app/")),
        ("documents", fixed("/app/documents")),
        ("documents overdue", fixed("/app/documents?status=overdue")),
        ("documents pending", fixed("/app/documents?status=pending")),
        ("documents due 30 days ago..", fixed(f"/app/documents?dueSince={month_ago}")),
        ("documents due ..in 7 days", fixed(f"/app/documents?status=pending&dueUntil={week_on}")),
        ("documents of a client", fixed(f"/app/documents?clientId={tenant.client_id}")),
        ("documents USD", fixed("/app/documents?currency=USD")),
        ("documents page 100", fixed("/app/documents?page=100")),
        ("documents page 1000", fixed("/app/documents?page=1000")),
        ("documents overdue p. 500", fixed("/app/documents?status=overdue&page=500")),
        # The filter form's listing (getDocuments' own), past the figures' lists:
        ("documents all, by total", fixed("/app/documents?status=all&orderBy=5&order=DESC")),
        ("documents paid, page 200", fixed("/app/documents?status=paid&page=200")),
        ("documents of a tag, type 33", fixed(f"/app/documents?tagId={tenant.tag_ids[0]}&code=33")),
        ("documents search by name", fixed("/app/documents?status=all&q=Cliente+42")),
        ("documents search by folio", lambda: f"/app/documents?status=all&q={1 + rng.randrange(count)}"),
        ("a document (random)", lambda: f"/app/documents/{first + rng.randrange(count)}"),
        ("portfolio", fixed("/app/portfolio")),
        ("settings", fixed("/app/settings")),
        ("sii", fixed("/app/sii")),
        ("payments", fixed("/app/payments")),
        ("payments pending", fixed("/app/payments?status=pending")),
        ("new payment of a client", fixed(f"/app/payments/new?clientId={tenant.client_id}")),
        ("import", fixed("/app/import")),
        ("clients", fixed("/app/clients")),
        ("clients page 50", fixed("/app/clients?page=50")),
        ("clients search", fixed("/app/clients?q=Cliente%2042")),
        ("a client's page", fixed(f"/app/clients/{tenant.client_id}")),
        ("reminders", fixed("/app/reminders")),
    ]
    return listed


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def measure(
    base: str, cookie: str, listed: list[tuple[str, Callable[[], str]]], rounds: int, requests: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per page: each round's p50, and every request's time (ms)."""
    everything = [("/health", lambda: "/health"), *listed]
    round_p50: dict[str, list[float]] = {name: [] for name, _ in everything}
    samples: dict[str, list[float]] = {name: [] for name, _ in everything}
    with httpx.Client(base_url=base, cookies={"dtehub_session": cookie}, timeout=60) as http:
        for name, path in everything:  # warm-up, and every page answers 200 with the session
            response = http.get(path())
            if response.status_code != 200:
                raise SystemExit(f"{name}: {response.status_code} {response.text[:300]}")
        for n in range(rounds):
            shift = n % len(everything)
            for name, path in everything[shift:] + everything[:shift]:
                times = []
                for _ in range(requests):
                    started = time.perf_counter()
                    response = http.get(path())
                    times.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        raise SystemExit(f"{name}: {response.status_code}")
                round_p50[name].append(p50(times))
                samples[name].extend(times)
            print(f"  round {n + 1}/{rounds} done", file=sys.stderr, flush=True)
    return round_p50, samples


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'bench' / 'results' / 'app.db'}")
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=10, help="requests per page per round")
    parser.add_argument("--reuse", action="store_true", help="the database is loaded already (by a run)")
    parser.add_argument("--load-only", action="store_true", help="load, open the session, measure nothing")
    args = parser.parse_args()

    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    backend = database_url(args.database_url).get_backend_name()
    print(
        f"# dtehub web app benchmark on {backend}, {os.cpu_count()} CPUs, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"# load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    state = ROOT / "bench" / "results" / f"app-{backend}.tenant"
    tenant = Tenant(0, new_api_token(), args.documents, args.clients)
    if args.reuse and state.exists():
        migrate.upgrade(args.database_url)  # a newer dtehub may have migrations since the load
        fields = state.read_text().split()
        tenant.company_id, tenant.first_document_id, tenant.client_id = (int(x) for x in fields[:3])
        tenant.documents = int(fields[3])
        cookie = open_session(args.database_url, tenant.company_id)  # the last one may have timed out
        print(f"reusing the loaded database: {tenant.documents:,} documents")
    else:
        reset_database(args.database_url)
        seconds = load(args.database_url, tenant, seed=1)
        print(f"loaded {tenant.documents:,} documents ({tenant.clients:,} clients) in {seconds:.0f} s")
        cookie = open_session(args.database_url, tenant.company_id)
        state.write_text(
            f"{tenant.company_id} {tenant.first_document_id} {tenant.client_id} {tenant.documents} {cookie}\n"
        )
    if args.load_only:
        return
    tenant.tag_ids = (first_tag(args.database_url, tenant.company_id),)

    port = free_port()
    mail_folder = Path(tempfile.mkdtemp(prefix="dtehub-bench-app-mail-"))
    server = start_server(
        args.database_url, port, 1, mail_folder, DTEHUB_PUBLIC_URL=f"http://127.0.0.1:{port}"
    )
    base = f"http://127.0.0.1:{port}"
    listed = pages(tenant, random.Random(7))
    try:
        round_p50, samples = measure(base, cookie, listed, args.rounds, args.requests)
    finally:
        server.terminate()
        server.wait(timeout=30)

    health = round_p50["/health"]
    print(
        f"\n## each page, {args.rounds} alternating rounds of {args.requests} sequential requests "
        "(wall time on loopback, httpx client)"
    )
    print(f"reference: /health p50 {p50(health):.1f} ms [{min(health):.1f}–{max(health):.1f}]\n")
    print(
        f"{'page':<28} {'p50 ms':>8} {'[low–high]':>15} {'p99 ms':>8} {'÷ health':>9}  "
        f"verdict (< {TARGET_MS:.0f} ms)"
    )
    missed = []
    for name, _ in listed:
        rounds = round_p50[name]
        ratio = statistics.median(r / h for r, h in zip(rounds, health, strict=True))
        median = p50(rounds)
        verdict = "met" if median < TARGET_MS else "NOT MET"
        if median >= TARGET_MS:
            missed.append(name)
        spread = f"[{min(rounds):.1f}–{max(rounds):.1f}]"
        print(f"{name:<28} {median:>8.1f} {spread:>15} {p99(samples[name]):>8.1f} {ratio:>9.1f}  {verdict}")
    print("\nevery page met the target" if not missed else f"\ntarget missed by: {', '.join(missed)}")


if __name__ == "__main__":
    main()
