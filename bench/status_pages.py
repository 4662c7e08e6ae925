"""getDocuments?status=2/3 pages, in process: ``repository.list_page`` on page 1 and on the deepest full page
up to 200, for each orderBy (DESC), on a company seeded by bench/per_request.py; wall time and this
process's CPU per page (median, min-max of ``--repeat``) and, on PostgreSQL, the CPU of the server process
serving it (``/proc/<pid>/stat``, in 10 ms ticks: an average over the repeats). ``--plans`` prints the plan
of each page's statements instead (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN ANALYZE).

    .venv/bin/python bench/per_request.py seed --database-url URL --documents 100000 --tenant t.json
    .venv/bin/python bench/status_pages.py --database-url URL --tenant t.json [--orders 1] [--plans]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from dtehub.db import create_engine, create_sessionmaker
from dtehub.documents import repository
from dtehub.documents.filters import DocumentFilters, OrderBy
from dtehub.documents.status import DocumentStatus
from dtehub.kit.dates import today_in_santiago


def _ticks(pid: int | None) -> int:
    if pid is None:
        return 0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tenant", required=True, help="JSON file written by bench/per_request.py seed")
    parser.add_argument("--statuses", default="3,2")
    parser.add_argument("--orders", default="1,2,3,4,5")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--plans", action="store_true")
    args = parser.parse_args()
    company_id = json.loads(Path(args.tenant).read_text())["company_id"]
    postgresql = args.database_url.startswith("postgresql")
    engine = create_engine(args.database_url)
    factory = create_sessionmaker(engine)
    today = today_in_santiago()
    seen: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, s, p, _x, _m: seen.append((s, p)))

    def page(status: int, order_by: int, offset: int, explain: bool = False) -> tuple[int, float, float, int]:
        with factory() as session:
            connection = session.connection()
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() if postgresql else None
            seen.clear()
            ticks, wall, cpu = _ticks(pid), time.perf_counter(), time.process_time()
            _rows, total = repository.list_page(
                session,
                company_id,
                DocumentFilters(status=DocumentStatus(status)),
                order_by=OrderBy(order_by),
                descending=True,
                offset=offset,
                limit=50,
                today=today,
                with_client=False,
            )
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            ticks = _ticks(pid) - ticks
            if explain:
                cursor = connection.connection.dbapi_connection.cursor()
                for statement, parameters in list(seen):
                    if "LIMIT" not in statement and "count(" not in statement:
                        continue  # the page's rows by their ids: by primary key
                    prefix = "EXPLAIN (ANALYZE, COSTS OFF) " if postgresql else "EXPLAIN QUERY PLAN "
                    cursor.execute(prefix + statement, parameters)
                    for row in cursor.fetchall():
                        print("    " + str(row[0] if postgresql else row[3]))
            return total, wall * 1000, cpu * 1000, ticks

    for status in (int(s) for s in args.statuses.split(",")):
        for order_by in (int(o) for o in args.orders.split(",")):
            total = page(status, order_by, 0)[0]
            for offset in sorted({0, max(0, min(9950, (total // 50 - 1) * 50))}):
                name = f"status={status} orderBy={order_by} DESC page {offset // 50 + 1} of {total:,}"
                if args.plans:
                    print(name)
                    page(status, order_by, offset, explain=True)
                    continue
                page(status, order_by, offset)
                runs = [page(status, order_by, offset) for _ in range(args.repeat)]
                walls, cpus = [r[1] for r in runs], [r[2] for r in runs]
                server = sum(r[3] for r in runs) * 10 / args.repeat
                print(
                    f"{name}: wall {statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f}) ms, "
                    f"CPU {statistics.median(cpus):.2f} ({min(cpus):.2f}-{max(cpus):.2f}) ms"
                    + (f", server CPU {server:.2f} ms" if postgresql else ""),
                    flush=True,
                )


if __name__ == "__main__":
    main()
