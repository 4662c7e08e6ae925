"""Webhook delivery throughput: one worker draining N events to a local receiver.

Records N events (``reminder.sent``, a small object) for a company with one webhook pointing at an
HTTP receiver on loopback (a threading http.server that answers 200), then times
``dtehub.webhooks.delivery.deliver_due`` draining them: claims in batches, signed POSTs over kept-alive
connections, outcomes recorded. Also times recording them (one unit of work).

Usage:
    python bench/webhooks.py                              # SQLite file in a temporary folder
    python bench/webhooks.py --events 20000
    python bench/webhooks.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import func, select, text

from dtehub import migrate
from dtehub.companies.service import create_company
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.models import DeliveryState, Webhook, WebhookDelivery
from dtehub.webhooks import events
from dtehub.webhooks.delivery import deliver_due
from dtehub.webhooks.signing import new_secret, require_secret_box


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with Handler.lock:
            Handler.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    folder = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(folder.name) / 'bench-webhooks.db'}"
    if args.database_url and url.startswith("postgresql"):
        engine = create_engine(url, pool_size=1)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)
    settings = Settings(
        database_url=url,
        secret_key=secrets.token_urlsafe(32),  # a fresh key: the bench's secrets live only in its database
        webhooks_allow_private=True,
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver_url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    engine = create_engine(url, pool_size=4)
    factory = create_sessionmaker(engine)
    with unit_of_work(factory) as session:
        company = create_company(session, rut="76453707-6", name="BENCH SPA", payment_term_days=30).company
        box = require_secret_box(settings)
        session.add(
            Webhook(
                company_id=company.id,
                url=receiver_url,
                events=["reminder.sent"],
                secret_encrypted=box.seal(new_secret(), company.id),
            )
        )
        company_id = company.id

    started = time.perf_counter()
    with unit_of_work(factory) as session:
        for n in range(args.events):
            events.record_event(
                session,
                company_id,
                "reminder.sent",
                {"id": str(n), "kind": "overdue", "document": {"id": "1"}},
            )
    recorded = time.perf_counter() - started

    started = time.perf_counter()
    summary = deliver_due(factory, settings, concurrency=args.concurrency)
    drained = time.perf_counter() - started

    with unit_of_work(factory) as session:
        delivered = session.execute(
            select(func.count()).where(WebhookDelivery.state == DeliveryState.DELIVERED)
        ).scalar_one()
    engine.dispose()
    server.shutdown()
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"webhooks on {database}: {args.events} events, 1 webhook, local receiver, "
        f"concurrency {args.concurrency}"
    )
    print(f"  record:  {recorded:.2f} s ({args.events / recorded:,.0f} events/s, one transaction)")
    print(f"  deliver: {drained:.2f} s ({summary.delivered / drained:,.0f} deliveries/s)")
    print(f"  delivered {delivered} (worker: {summary.delivered}), receiver got {Handler.received}")
    if delivered != args.events or Handler.received != args.events:
        sys.exit(1)


if __name__ == "__main__":
    main()
