"""CPU of the parts of one getDocuments page, in process, on a company seeded by bench/per_request.py:
reading the page (``repository.list_page``), building its views (``service.present``) and its JSON
(``respond_json``), each repeated on the same page; with ``--requests``, whole requests per ordering
(the app over ASGI, no socket), page 1 and 200. Run it from each checkout's .venv in alternating rounds
(or with ``PYTHONPATH=<other checkout>/src``) to compare two commits:

    .venv/bin/python bench/page_parts.py --database-url URL [--repeat 60] [--requests 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def parts(url: str, repeat: int) -> None:
    from dtehub.db import create_engine, create_sessionmaker
    from dtehub.documents import repository, service
    from dtehub.documents.filters import DocumentFilters, OrderBy
    from dtehub.kit.dates import today_in_santiago
    from dtehub.kit.pagination import PageRequest, page_json
    from dtehub.kit.schema import respond_json
    from dtehub.portal.links import Links

    factory = create_sessionmaker(create_engine(url))
    today, links, expand = today_in_santiago(), Links("http://127.0.0.1:8000"), service.Expand()
    cases = [("no filter", OrderBy.ISSUE_DATE, True, 0)]
    cases += [(f"orderBy={o} {d}", OrderBy(o), d == "DESC", 0) for o in (4, 5) for d in ("ASC", "DESC")]
    cases.append(("orderBy=4 DESC p. 200", OrderBy.NUMBER, True, 9950))
    request = PageRequest(page=1, per_page=50)
    for name, order_by, descending, offset in cases:
        with factory() as session:
            read, present, answer = 0.0, 0.0, 0.0
            for round_ in range(repeat + 3):
                started = time.process_time()
                rows, total = repository.list_page(
                    session, 1, DocumentFilters(), order_by=order_by, descending=descending,
                    offset=offset, limit=50, today=today, with_client=False,
                )  # fmt: skip
                built = time.process_time()
                items = service.present(session, 1, rows, expand, links, today)
                presented = time.process_time()
                respond_json(page_json(items, total, request))
                if round_ >= 3:  # the first three warm up
                    read += built - started
                    present += presented - built
                    answer += time.process_time() - presented
            session.rollback()
        print(
            f"{name:22} list_page {read / repeat * 1e3:5.2f} ms  present {present / repeat * 1e3:5.2f} ms  "
            f"json {answer / repeat * 1e3:5.2f} ms  (CPU per page)"
        )


def requests(url: str, tenant_file: str, count: int) -> None:
    os.environ.update(
        DTEHUB_DATABASE_URL=url, DTEHUB_RUN_BACKGROUND_JOBS="0", DTEHUB_RATE_LIMIT_PER_MINUTE="0",
        DTEHUB_LOG_LEVEL="warning", DTEHUB_SII_SYNC_INTERVAL="0",
    )  # fmt: skip
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    from dtehub.app import create_app

    headers = {"Authorization": f"Bearer {json.loads(Path(tenant_file).read_text())['token']}"}
    orders = [(str(o), d) for o in range(1, 6) for d in ("ASC", "DESC")]
    with TestClient(create_app()) as client:
        for order_by, order in orders:
            for page in ("1", "200"):
                params = {"orderBy": order_by, "order": order, "page": page}
                for _ in range(5):
                    client.get("/v1/getDocuments", params=params, headers=headers)
                cpu = []
                for _ in range(count):
                    started = time.process_time()
                    answer = client.get("/v1/getDocuments", params=params, headers=headers)
                    cpu.append(time.process_time() - started)
                    assert answer.status_code == 200, answer.text
                median = statistics.median(cpu) * 1e3
                print(f"orderBy={order_by} {order:<4} p. {page:<3} {median:5.2f} ms CPU per request")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--requests", type=int, default=0, help="whole requests per ordering (median CPU)")
    parser.add_argument("--tenant", default=None, help="bench/per_request.py's JSON of the seeded company")
    args = parser.parse_args()
    parts(args.database_url, args.repeat)
    if args.requests:
        name = "".join(c if c.isalnum() else "_" for c in args.database_url)[-60:]
        tenant = args.tenant or str(HERE / "bench" / "results" / f"tenant-{name}.json")
        requests(args.database_url, tenant, args.requests)


if __name__ == "__main__":
    main()
