"""bench/load.py's mix: the operations each simulated user sends, and one client process's run."""

from __future__ import annotations

import asyncio
import base64
import contextvars
import random
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from json import dumps
from typing import Any
from urllib.parse import urlencode

from load_dtes import NOTE_EVERY, Dtes
from load_http import Answer, Connection
from load_seed import Company

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
