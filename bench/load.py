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
import asyncio
import base64
import contextvars
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from json import dumps, loads
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httptools
import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.dte_factory import _certificate, build_dte  # noqa: E402

from documents import Tenant, free_port, load, reset_database  # noqa: E402  (bench/documents.py)
from dtehub.db import database_url  # noqa: E402
from dtehub.dte.signing import sign_dte  # noqa: E402
from dtehub.dte.stamping import TestCaf, make_test_caf, stamp_ted  # noqa: E402
from dtehub.kit.secrets import new_api_token  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dtehub_load"
SIGNER_RUT = "13185095-6"
WEIGHTS = {
    "getDocuments": 28,
    "getDocument": 24,
    "createDocument": 8,
    "createDocumentFromXml": 8,
    "creditNoteFromXml": 2,
    "createPayment": 7,
    "portal invoice page": 14,
    "portal client page": 6,
    "portal PDF": 3,
}
BUSINESS_ANSWERS = {(409, "allocation_exceeds_due")}
"""Racing payments of the same document may find it settled: the expected refusal, not an error."""
WARM_UP_SHARE = 0.3


@dataclass
class Company:
    """What the client knows of one seeded company."""

    id: int
    rut: str
    name: str
    token: str
    documents: list[tuple[int, str]]  # (id, portal key) of a sample of the seeded documents
    clients: list[tuple[int, str, str]]  # (id, tax id, portal key)
    tag_ids: tuple[int, ...]


# --- seeding -----------------------------------------------------------------------------------------


def seed(url: str, companies: int, documents: int, clients: int) -> list[Company]:
    seeded: list[Company] = []
    engine = create_engine(database_url(url))
    for n in range(companies):
        tenant = Tenant(company_id=0, token=new_api_token(), documents=documents, clients=clients)
        load(url, tenant, seed=n + 1)
        with engine.connect() as conn:
            rut, name = conn.execute(
                text("SELECT rut, name FROM companies WHERE id = :c"), {"c": tenant.company_id}
            ).one()
            sample = conn.execute(
                text("SELECT id, portal_key FROM documents WHERE company_id = :c ORDER BY id"),
                {"c": tenant.company_id},
            ).all()
            rows = conn.execute(
                text("SELECT id, tax_id, portal_key FROM clients WHERE company_id = :c ORDER BY id"),
                {"c": tenant.company_id},
            ).all()
        seeded.append(
            Company(
                id=tenant.company_id,
                rut=rut,
                name=name,
                token=tenant.token,
                documents=[(row[0], row[1]) for row in sample[:: max(1, len(sample) // 5000)]],
                clients=[(row[0], row[1], row[2]) for row in rows],
                tag_ids=tenant.tag_ids,
            )
        )
    engine.dispose()
    return seeded


# --- the server --------------------------------------------------------------------------------------


def server_environment(url: str, base: str, mail: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    environment.update(
        DTEHUB_DATABASE_URL=url,
        DTEHUB_PUBLIC_URL=base,
        DTEHUB_LOG_LEVEL="warning",
        DTEHUB_MAIL_FOLDER=str(mail),
        DTEHUB_RUN_BACKGROUND_JOBS="true",  # as in production: reminders and webhooks run next to the API
    )
    # One client drives thousands of requests a minute with a handful of tokens and link keys: the
    # limiter (when this tree has it) would answer 429 to most of them. 0 turns it off.
    from dtehub.config import Settings

    for name in ("rate_limit_per_minute", "portal_rate_limit_per_minute"):
        if name in Settings.model_fields:
            environment[f"DTEHUB_{name.upper()}"] = "0"
            print(f"rate limiter off for the load: DTEHUB_{name.upper()}=0", flush=True)
    return environment


def start_server(url: str, port: int, workers: int, mail: Path, log: Path) -> subprocess.Popen[bytes]:
    base = f"http://127.0.0.1:{port}"
    dtehub = shutil.which("dtehub", path=str(Path(sys.executable).parent)) or "dtehub"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [dtehub, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=server_environment(url, base, mail),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 240  # the machine is shared: a busy one starts slowly
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()  # uvicorn's master stops its workers on SIGTERM (SIGKILL would orphan them)
    server.wait(60)
    raise SystemExit(f"the server did not start:\n{log.read_text()}")


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (uvicorn's master, its workers and their helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class RssSampler(threading.Thread):
    def __init__(self, root: int, every: float) -> None:
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.samples: list[tuple[float, int, int]] = []  # (seconds since start, RSS bytes, processes)
        self.stopping = threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        while not self.stopping.is_set():
            pids = process_tree(self.root)
            self.samples.append((time.monotonic() - self.started_at, rss_bytes(pids), len(pids)))
            self.stopping.wait(self.every)


def wrk_health(base: str, seconds: int, connections: int) -> float | None:
    if shutil.which("wrk") is None:
        return None
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"{base}/health"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in output.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None


# --- the client --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # ms, of every answer that was not an error
    errors: int = 0
    business: int = 0


@dataclass
class ClientResult:
    outcomes: dict[str, Outcome]
    error_samples: list[str]
    cpu: float
    xml_made: int
    xml_reused: int


class Dtes:
    """Signed and stamped DTEs of one company, made before the clock starts: invoices to its clients,
    and credit notes for part of an invoice sent before."""

    def __init__(self, company: Company, first_folio: int, count: int) -> None:
        self.company = company
        self.first_folio = first_folio
        issued = date.today() - timedelta(days=20)
        self.issued = issued
        cafs: dict[int, TestCaf] = {
            code: make_test_caf(
                company.rut, company.name, code, first_folio, first_folio + count, authorized_on=issued
            )
            for code in (33, 61)
        }
        moment = datetime.combine(issued, datetime.min.time()) + timedelta(hours=10)
        rng = random.Random(first_folio)
        self.invoices: list[tuple[int, str, int, bytes]] = []  # (folio, receiver RUT, total, XML)
        for folio in range(first_folio, first_folio + count):
            _, tax_id, _ = rng.choice(company.clients)
            total = rng.randrange(100, 5_000) * 119
            self.invoices.append((folio, tax_id, total, self._sign(33, folio, tax_id, total, cafs, moment)))
        self.notes: list[bytes] = []
        for n, (folio, tax_id, total, _) in enumerate(self.invoices[::NOTE_EVERY]):
            credit = total // 10 // 119 * 119
            self.notes.append(
                self._sign(
                    61, first_folio + n, tax_id, credit, cafs, moment, references=[(33, folio, 3, "Corrige")]
                )
            )

    def _sign(
        self,
        code: int,
        folio: int,
        receiver: str,
        total: int,
        cafs: dict[int, TestCaf],
        moment: datetime,
        references: list[tuple[str | int, str | int, int | None, str | None]] | None = None,
    ) -> bytes:
        key, certificate = _certificate(SIGNER_RUT)
        xml = build_dte(
            code,
            folio,
            self.company.rut,
            receiver,
            total,
            issue_date=self.issued,
            issuer_name=self.company.name,
            due_date=self.issued + timedelta(days=30),
            references=references or (),
        )
        xml = stamp_ted(xml, cafs[code], stamped_at=moment)
        return sign_dte(xml, key, certificate, signed_at=moment)


NOTE_EVERY = 4
"""One credit note per four uploaded invoices, naming one of them."""


class Answer:
    """One HTTP answer: what the driver reads of it."""

    __slots__ = ("body", "content_type", "status_code")

    def __init__(self, status_code: int, content_type: str, body: bytes) -> None:
        self.status_code, self.content_type, self.body = status_code, content_type, body

    def json(self) -> Any:
        return loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Connection:
    """One kept-alive HTTP/1.1 connection, one request at a time, answers parsed by httptools (what
    uvicorn parses with): a few tens of microseconds of client CPU a request, where httpx spends ~1 ms
    and would take a visible share of the two cores from the server it measures."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, target: str, headers: dict[str, str] | None, body: bytes | None
    ) -> Answer:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
        for attempt in range(2):  # a kept-alive connection the server closed meanwhile: once more
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            try:
                self.writer.write(data)
                return await self._answer(self.reader)
            except (ConnectionError, asyncio.IncompleteReadError, EOFError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _answer(self, reader: asyncio.StreamReader) -> Answer:
        parts: list[bytes] = []
        state: dict[str, Any] = {"done": False, "type": "", "close": False}

        class Callbacks:
            def on_header(self, name: bytes, value: bytes) -> None:
                lowered = name.lower()
                if lowered == b"content-type":
                    state["type"] = value.decode()
                elif lowered == b"connection" and value.lower() == b"close":
                    state["close"] = True

            def on_body(self, chunk: bytes) -> None:
                parts.append(chunk)

            def on_message_complete(self) -> None:
                state["done"] = True

        parser = httptools.HttpResponseParser(Callbacks())
        while not state["done"]:
            chunk = await reader.read(65536)
            if not chunk:
                raise EOFError("the server closed the connection")
            parser.feed_data(chunk)
        if state["close"]:
            self.close()
        return Answer(parser.get_status_code(), state["type"], b"".join(parts))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Driver:
    def __init__(self, index: int, companies: list[Company], base: str, xml_per_company: int) -> None:
        self.index = index
        self.companies = companies
        self.base = base
        self.rng = random.Random(index)
        self.outcomes = {name: Outcome() for name in WEIGHTS}
        self.error_samples: list[str] = []
        self.counter = 0
        started = time.perf_counter()
        # Folios of each process apart from the others' (and from the seeded documents' numbers).
        self.dtes = [Dtes(company, 5_000_000 + index * 1_000_000, xml_per_company) for company in companies]
        self.made_seconds = time.perf_counter() - started
        self.next_invoice = [0] * len(companies)
        self.next_note = [0] * len(companies)
        self.xml_reused = 0
        self.created: list[list[dict[str, Any]]] = [[] for _ in companies]  # open documents made here
        self.pdfs: list[list[str]] = [[] for _ in companies]
        self.names = list(WEIGHTS)
        self.weights = list(WEIGHTS.values())

    async def run(self, concurrency: int, until: float) -> None:
        host, port = self.base.removeprefix("http://").split(":")
        connections = [Connection(host, int(port)) for _ in range(concurrency)]
        self.current: contextvars.ContextVar[Connection] = contextvars.ContextVar("connection")
        await asyncio.gather(*(self.user(connection, until) for connection in connections))
        for connection in connections:
            connection.close()

    async def user(self, connection: Connection, until: float) -> None:
        """One user: one request at a time on its own connection, back to back (a closed loop)."""
        self.current.set(connection)
        while time.monotonic() < until:
            name = self.rng.choices(self.names, self.weights)[0]
            which = self.rng.randrange(len(self.companies))
            await OPERATIONS[name](self, name, which)

    async def call(
        self,
        name: str,
        method: str,
        path: str,
        which: int | None,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Answer | None:
        headers = {"Authorization": f"Bearer {self.companies[which].token}"} if which is not None else None
        target = path.removeprefix(self.base) + (f"?{urlencode(params)}" if params else "")
        body = None if json is None else dumps(json).encode()
        started = time.perf_counter()
        try:
            response = await asyncio.wait_for(self.current.get().request(method, target, headers, body), 60)
        except (OSError, EOFError, asyncio.IncompleteReadError, TimeoutError) as exc:
            self.current.get().close()
            self._error(name, f"{name}: {type(exc).__name__}: {exc}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        outcome = self.outcomes[name]
        if 200 <= response.status_code < 300:
            outcome.latencies.append(elapsed)
            return response
        code = None
        if response.content_type.startswith("application/json"):
            code = response.json().get("error", {}).get("code")
        if (response.status_code, code) in BUSINESS_ANSWERS:
            outcome.business += 1
            outcome.latencies.append(elapsed)
            return None
        self._error(name, f"{name} {method} {path}: {response.status_code} {response.text[:300]}")
        return None

    def _error(self, name: str, sample: str) -> None:
        self.outcomes[name].errors += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(sample)

    # The operations ---------------------------------------------------------------------------------

    async def get_documents(self, name: str, which: int) -> None:
        company, rng = self.companies[which], self.rng
        today = date.today()
        params: dict[str, Any] = rng.choice(
            [
                {},
                {"status": rng.randint(1, 4)},
                {"clientId": rng.choice(company.clients)[0]},
                {"clientTaxId": rng.choice(company.clients)[1], "expandClient": 1},
                {
                    "since": (today - timedelta(days=rng.randrange(30, 400))).isoformat(),
                    "until": today.isoformat(),
                },
                {"orderBy": rng.randint(1, 5), "order": rng.choice(["asc", "desc"])},
                {"page": rng.randint(2, 40)},
                {"tagId": rng.choice(company.tag_ids), "expandTag": 1},
                {"code": 33, "status": 3, "orderBy": 3},
                {"expandClient": 1, "resultsPerPage": 100},
            ]
        )
        await self.call(name, "GET", "/v1/getDocuments", which, params=params)

    async def get_document(self, name: str, which: int) -> None:
        document_id, _ = self.rng.choice(self.companies[which].documents)
        await self.call(name, "GET", "/v1/getDocument", which, params={"id": document_id, "expandClient": 1})

    async def create_document(self, name: str, which: int) -> None:
        company, rng = self.companies[which], self.rng
        self.counter += 1
        client_id = rng.choice(company.clients)[0]
        total = rng.randrange(100, 10_000) * 119
        body = {
            "clientId": str(client_id),
            "number": str(2_000_000 + self.index * 1_000_000 + self.counter),
            "issueDate": (date.today() - timedelta(days=rng.randrange(0, 60))).isoformat(),
            "total": str(total),
            "taxes": str(total * 19 // 119),
            "tags": [f"carga-{rng.randrange(5)}"] if rng.random() < 0.3 else [],
        }
        response = await self.call(name, "POST", "/v1/createDocument", which, json=body)
        if response is not None:
            created = response.json()
            self.created[which].append({"id": created["id"], "client": client_id, "due": total * 100})

    async def create_from_xml(self, name: str, which: int) -> None:
        dtes, n = self.dtes[which], self.next_invoice[which]
        if n < len(dtes.invoices):
            self.next_invoice[which] += 1
        else:  # the pool is spent: send one again, as a client retrying would (the same answer)
            n = self.rng.randrange(len(dtes.invoices))
            self.xml_reused += 1
        xml = base64.b64encode(dtes.invoices[n][3]).decode()
        response = await self.call(name, "POST", "/v1/createDocumentFromXml", which, json={"xml": xml})
        if response is not None:
            pdf = response.json().get("pdf")
            if pdf:
                self.pdfs[which].append(pdf)

    async def credit_note(self, name: str, which: int) -> None:
        dtes, n = self.dtes[which], self.next_note[which]
        sent_invoices = self.next_invoice[which]
        # A note names invoice n * NOTE_EVERY: send it once that invoice is in (or again, when spent).
        if n >= len(dtes.notes) or n * NOTE_EVERY >= sent_invoices:
            if n == 0 or sent_invoices == 0:
                return await self.create_from_xml("createDocumentFromXml", which)
            n = self.rng.randrange(min(n, len(dtes.notes)))
        else:
            self.next_note[which] += 1
        xml = base64.b64encode(dtes.notes[n]).decode()
        await self.call(name, "POST", "/v1/createDocumentFromXml", which, json={"xml": xml})

    async def create_payment(self, name: str, which: int) -> None:
        open_documents = self.created[which]
        if not open_documents:
            return await self.create_document("createDocument", which)
        document = self.rng.choice(open_documents)
        amount = min(document["due"], max(100, document["due"] // self.rng.choice([1, 2, 3, 4]) // 100 * 100))
        body = {
            "date": date.today().isoformat(),
            "amount": f"{amount // 100}.{amount % 100:02d}",
            "clientId": str(document["client"]),
            "documents": [{"id": document["id"], "amount": f"{amount // 100}.{amount % 100:02d}"}],
        }
        if await self.call(name, "POST", "/v1/createPayment", which, json=body) is not None:
            document["due"] -= amount
            if document["due"] <= 0:
                open_documents.remove(document)

    async def portal_invoice(self, name: str, which: int) -> None:
        document_id, key = self.rng.choice(self.companies[which].documents)
        await self.call(name, "GET", f"/portal/invoice/{document_id}/{key}", None)

    async def portal_client(self, name: str, which: int) -> None:
        client_id, _, key = self.rng.choice(self.companies[which].clients)
        await self.call(name, "GET", f"/portal/client/{client_id}/{key}", None)

    async def portal_pdf(self, name: str, which: int) -> None:
        if not self.pdfs[which]:
            return await self.portal_invoice("portal invoice page", which)
        await self.call(name, "GET", self.rng.choice(self.pdfs[which][-200:]), None)


OPERATIONS: dict[str, Callable[[Driver, str, int], Awaitable[None]]] = {
    "getDocuments": Driver.get_documents,
    "getDocument": Driver.get_document,
    "createDocument": Driver.create_document,
    "createDocumentFromXml": Driver.create_from_xml,
    "creditNoteFromXml": Driver.credit_note,
    "createPayment": Driver.create_payment,
    "portal invoice page": Driver.portal_invoice,
    "portal client page": Driver.portal_client,
    "portal PDF": Driver.portal_pdf,
}


def client_process(
    index: int,
    companies: list[Company],
    base: str,
    concurrency: int,
    xml_per_company: int,
    ready: Any,
    start: Any,
    seconds: float,
    results: Any,
) -> None:
    import uvloop

    driver = Driver(index, companies, base, xml_per_company)
    ready.put(driver.made_seconds)
    start.wait()
    before = resource.getrusage(resource.RUSAGE_SELF)
    until = time.monotonic() + seconds
    uvloop.run(driver.run(concurrency, until))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    results.put(
        ClientResult(
            driver.outcomes,
            driver.error_samples,
            cpu,
            sum(driver.next_invoice) + sum(driver.next_note),
            driver.xml_reused,
        )
    )


# --- the report --------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def memory_verdict(
    samples: list[tuple[float, int, int]], seconds: float, threshold: float
) -> tuple[bool, list[str]]:
    """Growth of the RSS over the steady state: the median of its first minute against its last."""
    lines = []
    warm = seconds * WARM_UP_SHARE
    steady = [(t, rss) for t, rss, _ in samples if warm <= t <= seconds]
    if len(steady) < 4:
        return False, ["too few samples in the steady state for a verdict"]
    window = min(60.0, (steady[-1][0] - steady[0][0]) / 3)
    first = statistics.median(rss for t, rss in steady if t <= steady[0][0] + window)
    last = statistics.median(rss for t, rss in steady if t >= steady[-1][0] - window)
    growth = (last - first) / first * 100
    times = [t for t, _ in steady]
    values = [rss / 2**20 for _, rss in steady]
    slope = statistics.linear_regression(times, values).slope * 60 if len(set(times)) > 1 else 0.0
    start_rss = samples[0][1] / 2**20
    lines.append(
        f"RSS at start {start_rss:.0f} MB; steady state from {warm:.0f} s: first {window:.0f} s median "
        f"{first / 2**20:.1f} MB, last {window:.0f} s median {last / 2**20:.1f} MB: {growth:+.2f}% "
        f"(trend {slope:+.2f} MB/min); threshold {threshold:g}%"
    )
    return growth < threshold, lines


def report(
    args: argparse.Namespace,
    results: list[ClientResult],
    seconds: float,
    health: float | None,
    server_cpu: float,
    machine: float,
    samples: list[tuple[float, int, int]],
    companies: list[Company],
    load_before: tuple[float, float, float],
) -> bool:
    database = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    print(
        f"\n# load: {args.minutes:g} min on {database}, dtehub serve --workers {args.workers}, "
        f"{args.client_processes} client processes x {args.concurrency // args.client_processes} in flight"
    )
    print(
        f"seeded: {len(companies)} companies x {args.documents:,} documents, {args.clients} clients; "
        f"machine: {os.cpu_count()} cores, shared (load average before the mix "
        f"{load_before[0]:.2f}, {load_before[1]:.2f}, {load_before[2]:.2f})"
    )
    merged = {name: Outcome() for name in WEIGHTS}
    for result in results:
        for name, outcome in result.outcomes.items():
            merged[name].latencies += outcome.latencies
            merged[name].errors += outcome.errors
            merged[name].business += outcome.business
    print(
        f"\n{'operation':<24} {'count':>8} {'errors':>6} {'409s':>6} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}"
    )
    total = errors = 0
    for name, outcome in merged.items():
        count = len(outcome.latencies) + outcome.errors
        total += count
        errors += outcome.errors
        print(
            f"{name:<24} {count:>8,} {outcome.errors:>6} {outcome.business:>6} "
            f"{percentile(outcome.latencies, 0.5):>8.1f} {percentile(outcome.latencies, 0.99):>8.1f} "
            f"{count / seconds:>8.1f}"
        )
    every = [value for outcome in merged.values() for value in outcome.latencies]
    print(
        f"{'all':<24} {total:>8,} {errors:>6} {sum(o.business for o in merged.values()):>6} "
        f"{percentile(every, 0.5):>8.1f} {percentile(every, 0.99):>8.1f} {total / seconds:>8.1f}"
    )
    if health:
        print(
            f"\nreference: /health {health:,.0f} req/s (wrk, 16 connections, 10 s, same server); "
            f"the mix runs at {total / seconds / health:.1%} of it"
        )
    client_cpu = sum(r.cpu for r in results)
    print(
        f"CPU over the mix ({seconds:.0f} s): client {client_cpu / seconds:.2f} cores "
        f"({client_cpu / max(total, 1) * 1000:.2f} ms a request), server {server_cpu / seconds:.2f} cores "
        f"({server_cpu / max(total, 1) * 1000:.2f} ms a request), whole machine busy {machine:.0%} "
        f"(PostgreSQL and other users make the rest)"
    )
    made = sum(r.xml_made for r in results)
    reused = sum(r.xml_reused for r in results)
    print(f"DTEs uploaded: {made:,} new, {reused:,} sent again (the pool was spent; answered idempotently)")
    for result in results:
        for sample in result.error_samples:
            print(f"error: {sample}")

    print(f"\nserver RSS (master + workers), every {args.sample_seconds:g} s:")
    print(f"{'t s':>6} {'RSS MB':>8} {'procs':>5}")
    step = max(1, len(samples) // 40)
    for t, rss, procs in samples[::step]:
        mark = "  warm-up" if t < seconds * WARM_UP_SHARE else ""
        print(f"{t:>6.0f} {rss / 2**20:>8.1f} {procs:>5}{mark}")
    flat, lines = memory_verdict(samples, seconds, args.memory_threshold)
    for line in lines:
        print(line)
    print(f"verdict: {'memory flat' if flat else 'MEMORY GROWS'}; errors: {errors}")
    return flat and errors == 0


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
