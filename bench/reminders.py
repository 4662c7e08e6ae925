"""One `reminders run` over 100,000 open documents of 5,000 clients, on SQLite, with the .eml transport.

Due dates are spread over the 120 days before the run's day and the 30 after it (issue = due − 30,
created on the issue day), so that a realistic share is due on the run's day: soon to fall due (3 days
before), overdue (the day after, then every 7 days), the new documents of the last week, and, the run's
day being the 1st, the monthly debt summary of every client. Target: under 60 s.

    .venv/bin/python bench/reminders.py [--documents 100000] [--clients 5000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.documents import DOCUMENT_COLUMNS, _sqlite_time, reset_database, rut_for  # noqa: E402

from dtehub.config import Settings  # noqa: E402
from dtehub.db import create_engine, create_sessionmaker  # noqa: E402
from dtehub.kit.secrets import new_link_key  # noqa: E402
from dtehub.reminders import service  # noqa: E402

TARGET_SECONDS = 60.0
RUN_DAY = date(2026, 12, 1)


def load(url: str, documents: int, clients: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    engine = create_engine(url, mapped=False)
    with engine.begin() as conn:
        company_id = conn.execute(
            text(
                "INSERT INTO companies (rut, name, payment_term_days, created_at, reply_to) "
                "VALUES (:rut, 'Bench company', 30, :now, 'cobranza@bench.cl') RETURNING id"
            ),
            {"rut": rut_for(76_000_001), "now": now},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO clients (company_id, tax_id, name, activity, country, region, city, comuna, "
                "address, zipcode, phone, fax, remind_new_document, remind_soon_to_expire, remind_expired, "
                "remind_new_payment, remind_debt_summary, portal_key, created_at, updated_at) VALUES "
                "(:c, :tax_id, :name, '', 'Chile', '', '', '', '', '', '', '', true, true, true, true, true, "
                ":key, :now, :now)"
            ),
            [
                {
                    "c": company_id,
                    "tax_id": rut_for(10_000_000 + n),
                    "name": f"Cliente {n}",
                    "key": new_link_key(),
                    "now": now,
                }
                for n in range(clients)
            ],
        )
        client_ids = conn.execute(text("SELECT id FROM clients ORDER BY id")).scalars().all()
        conn.execute(
            text(
                "INSERT INTO contacts (company_id, client_id, name, last_name, email, position, "
                "contact_type_id, created_at) VALUES (:c, :client, 'Pagos', '', :email, '', 1, :now)"
            ),
            [
                {"c": company_id, "client": cid, "email": f"pagos{cid}@cliente.cl", "now": now}
                for cid in client_ids
            ],
        )
        rows = []
        for i in range(documents):
            due = RUN_DAY + timedelta(days=rng.randrange(-120, 31))
            issue = due - timedelta(days=30)
            net = rng.randrange(10_000, 2_000_000) * 100
            total = net + net * 19 // 100
            created = datetime.combine(issue, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
            rows.append(
                (company_id, client_ids[i % len(client_ids)], 33, str(i + 1), i + 1, issue, due, "CLP", net,
                 total - net, total, 0, 0, 0, None, total, False, 0, "", "", "", False, new_link_key(), issue,
                 _sqlite_time(created), _sqlite_time(created))
            )  # fmt: skip
        raw = conn.connection.dbapi_connection
        assert raw is not None
        columns = ", ".join(DOCUMENT_COLUMNS)
        placeholders = ", ".join("?" for _ in DOCUMENT_COLUMNS)
        raw.cursor().executemany(f"INSERT INTO documents ({columns}) VALUES ({placeholders})", rows)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=5_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dtehub-bench-reminders-"))
    try:
        url = f"sqlite:///{workdir / 'bench.db'}"
        reset_database(url)
        started = time.perf_counter()
        load(url, args.documents, args.clients)
        print(f"loaded {args.documents:,} open documents of {args.clients:,} clients in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        folder = workdir / "mail"
        settings = Settings(database_url=url, mail_folder=str(folder), smtp_url=None)
        engine = create_engine(url, pool_size=2)
        factory = create_sessionmaker(engine)
        started = time.perf_counter()
        summary = service.run(factory, settings, day=RUN_DAY)
        seconds = time.perf_counter() - started
        with engine.connect() as conn:
            kinds = Counter(
                dict(conn.execute(text("SELECT kind, count(*) FROM email_messages GROUP BY kind")).all())
            )
        engine.dispose()
        files = sum(1 for _ in folder.iterdir())
        print(f"run for {RUN_DAY}: {summary.line()}")
        print("by kind: " + ", ".join(f"{kind} {n:,}" for kind, n in sorted(kinds.items())))
        print(f"documents: {args.documents:,}")
        print(f"messages sent: {summary.sent:,} ({files:,} .eml files)")
        print(f"seconds: {seconds:.1f}")
        print(f"messages/s: {summary.sent / seconds:,.0f}")
        print(f"ratio to the {TARGET_SECONDS:.0f} s target: {seconds / TARGET_SECONDS:.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
