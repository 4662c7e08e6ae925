"""Crash safety: a real ``dtehub serve`` (and a ``dtehub import`` beside it) killed with SIGKILL at
random moments of a stream of writes, restarted, and checked.

Every write the client saw acknowledged (a 2xx) must be there and complete; a write whose answer never
came must be wholly there or wholly absent; and nothing half-written may be visible: a DTE without its
XML, a payment without its allocation, a document whose paid amount disagrees with its payments, counts
in ``document_counts``/``document_totals`` that differ from the documents, or a change without its
webhook event. Runs on whichever database the tests use (SQLite: the harness's file in tmp).

By default a few kill rounds (about half a minute); ``DTEHUB_CRASH_ROUNDS=200`` runs many.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, text

from dtehub.config import Settings
from dtehub.db import create_engine
from tests.dte_factory import build_dte
from tests.faults.helpers import DTEHUB, Server, company, dtehub_environment

ROUNDS = int(os.environ.get("DTEHUB_CRASH_ROUNDS", "3"))
WRITERS = 3
CLIENT_RUT = "99999999-9"
ISSUED = date(2024, 3, 1)
DUE = date(2099, 12, 31)
IMPORTED_FILES = 1000
IMPORT_FOLIOS = 700_000


@dataclass
class Write:
    kind: str  # document, invoice, note, payment
    key: str  # the natural key it is found by: number, folio, transaction code
    body: dict[str, Any]
    xml: bytes | None = None
    status: int | None = None  # None: no answer came (the server died)
    answer: dict[str, Any] | None = None
    target: str | None = None  # the document a note or payment names


class Stream:
    """The writes of the run, and the acknowledged objects later writes build on."""

    def __init__(self, company_id: int, token: str, client_id: str, rut: str) -> None:
        self.company_id = company_id
        self.headers = {"Authorization": f"Bearer {token}"}
        self.client_id = client_id
        self.rut = rut
        self.writes: list[Write] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._serial = 0
        self.documents: list[str] = []  # acknowledged createDocument ids
        self.invoices: list[tuple[str, int]] = []  # acknowledged (id, folio) of XML invoices

    def _next(self) -> int:
        with self._lock:
            self._serial += 1
            return self._serial

    def _pick(self, rng: random.Random) -> Write:
        n = self._next()
        with self._lock:
            documents, invoices = list(self.documents), list(self.invoices)
        choice = rng.random()
        if choice < 0.2 and documents:
            target = rng.choice(documents)
            body = {
                "date": "2024-03-05",
                "amount": 10,
                "clientId": self.client_id,
                "transactionCode": f"T{n}",
                "documents": [{"id": target, "amount": 10}],
            }
            return Write("payment", f"T{n}", body, target=target)
        if choice < 0.35 and invoices:
            target, folio = rng.choice(invoices)
            xml = build_dte(
                61,
                n,
                self.rut,
                CLIENT_RUT,
                100,
                issue_date=ISSUED,
                references=[(33, folio, 3, "Corrige montos")],
            )
            return Write("note", str(n), {"xml": base64.b64encode(xml).decode()}, xml=xml, target=target)
        if choice < 0.65:
            xml = build_dte(33, n, self.rut, CLIENT_RUT, 11900, issue_date=ISSUED, due_date=DUE)
            return Write("invoice", str(n), {"xml": base64.b64encode(xml).decode()}, xml=xml)
        body = {
            "clientId": self.client_id,
            "number": f"D{n}",
            "issueDate": "2024-03-01",
            "dueDate": "2099-12-31",
            "total": 100000,
            "taxes": 0,
        }
        return Write("document", f"D{n}", body)

    def write_until_down(self, base: str, seed: int) -> None:
        """Send writes one after another until the server stops answering."""
        rng = random.Random(seed)
        paths = {
            "payment": "/v1/createPayment",
            "note": "/v1/createDocumentFromXml",
            "invoice": "/v1/createDocumentFromXml",
            "document": "/v1/createDocument",
        }
        with httpx.Client(base_url=base, headers=self.headers, timeout=20) as http:
            while True:
                write = self._pick(rng)
                with self._lock:
                    self.writes.append(write)
                try:
                    response = http.post(paths[write.kind], json=write.body)
                except httpx.TransportError:
                    return
                write.status = response.status_code
                write.answer = response.json()
                if response.status_code >= 500:  # alive, the server never fails a write
                    self.failures.append(f"{write.kind} {write.key}: {response.status_code} {response.text}")
                if response.status_code != 200:
                    continue
                with self._lock:
                    if write.kind == "document":
                        self.documents.append(write.answer["id"])
                    elif write.kind == "invoice":
                        self.invoices.append((write.answer["id"], int(write.key)))


def _import_folder(folder: Path, rut: str) -> None:
    folder.mkdir()
    for i in range(IMPORTED_FILES):
        folio = IMPORT_FOLIOS + i
        content = build_dte(33, folio, rut, CLIENT_RUT, 5950, issue_date=ISSUED, due_date=DUE)
        (folder / f"dte-{folio}.xml").write_bytes(content)


def _acknowledged_imports(report: Path) -> set[str]:
    """Folios the importer reported stored; a line cut short by the kill claims nothing."""
    folios: set[str] = set()
    if not report.exists():  # killed before it opened it
        return folios
    for line in report.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            result = json.loads(line)
        except json.JSONDecodeError:
            continue
        if result["outcome"] in ("imported", "already_present"):
            folios.add(str(result["folio"]))
    return folios


class ImportLoop:
    """``dtehub import`` of one folder, again and again, each run SIGKILLed at a random moment (or let
    finish), beside the server and independently of its kills, until :meth:`stop`."""

    def __init__(self, folder: Path, rut: str, database_url: str, workdir: Path, seed: int) -> None:
        self.folder, self.rut, self.database_url, self.workdir = folder, rut, database_url, workdir
        self.rng = random.Random(seed)
        self.imported: set[str] = set()
        self.kills = 0
        self.runs = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="import-loop")

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.is_set() and len(self.imported) < IMPORTED_FILES:
            self.runs += 1
            report = self.workdir / f"import-{self.runs}.jsonl"
            importer = subprocess.Popen(
                [
                    str(DTEHUB),
                    "import",
                    str(self.folder),
                    "--company",
                    self.rut,
                    "--jobs",
                    "1",
                    "--report",
                    str(report),
                ],
                env=dtehub_environment(self.database_url),
                cwd=self.workdir,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            # Killed at a random moment of its writing: its worker loads the XML schemas first, and the
            # first batch (200 DTEs) commits 6 s after the start on a busy machine, 30 s on a crowded
            # one; the next ones every second or so. So: after its first batch, or one run in four
            # while that first batch may still be on its way.
            if self.rng.random() < 0.25:
                self._stopping.wait(self.rng.uniform(2.0, 8.0))
            else:
                self._wait_for_first_batch(importer, report)
                self._stopping.wait(self.rng.uniform(0.0, 3.0))
            if importer.poll() is None:
                os.killpg(importer.pid, signal.SIGKILL)
                self.kills += 1
            importer.wait(timeout=30)
            self.imported |= _acknowledged_imports(report)

    def _wait_for_first_batch(self, importer: subprocess.Popen[bytes], report: Path) -> None:
        """Until the import reported its first batch (committed), ended, or the loop is stopped."""
        while not self._stopping.is_set() and importer.poll() is None:
            if report.exists() and report.read_bytes().count(b"\n") > 0:
                return
            self._stopping.wait(0.05)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive()


def _check_acknowledged(base: str, stream: Stream, database_url: str, imported: set[str]) -> None:
    """Every acknowledged write is there and complete, as the API shows it."""
    engine = create_engine(database_url, pool_size=1)
    try:
        with engine.connect() as db, httpx.Client(base_url=base, headers=stream.headers, timeout=20) as http:
            for write in stream.writes:
                if write.status != 200:
                    continue
                assert write.answer is not None
                object_id = write.answer["id"]
                if write.kind in ("document", "invoice"):
                    seen = http.get("/v1/getDocument", params={"id": object_id})
                    assert seen.status_code == 200, (write.kind, write.key, seen.text)
                    shown = seen.json()
                    assert shown["number"] == write.key
                    assert shown["total"] == ("100000.00" if write.kind == "document" else "11900.00")
                    if write.kind == "invoice":
                        xml = http.get(shown["xml"])
                        assert xml.status_code == 200
                        assert xml.content == write.xml
                elif write.kind == "note":
                    seen = http.get("/v1/getNote", params={"id": object_id})
                    assert seen.status_code == 200, (write.key, seen.text)
                    assert seen.json()["document"]["id"] == write.target
                    source = db.execute(
                        text("SELECT content FROM note_sources WHERE note_id = :id"), {"id": int(object_id)}
                    ).scalar_one()
                    assert bytes(source) == write.xml
                else:
                    seen = http.get("/v1/getPayment", params={"id": object_id})
                    assert seen.status_code == 200, (write.key, seen.text)
                    shown = seen.json()
                    assert shown["amount"] == "10.00"
                    assert [(a["document"]["id"], a["amount"]) for a in shown["documents"]] == [
                        (write.target, "10.00")
                    ]
            numbers = set(
                db.execute(
                    text("SELECT number FROM documents WHERE company_id = :c AND code = 33"),
                    {"c": stream.company_id},
                ).scalars()
            )
            assert imported <= numbers, sorted(imported - numbers)[:5]
    finally:
        engine.dispose()


def _snapshot(engine: Engine) -> Connection:
    """A connection whose reads all see one snapshot, while the importer keeps writing (SQLite's
    transactions always do)."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    return connection


def _check_whole(database_url: str, stream: Stream) -> None:
    """Nothing half-written: what the database holds is whole and consistent, whoever wrote it."""
    engine = create_engine(database_url, pool_size=1)
    c = {"c": stream.company_id}
    try:
        with _snapshot(engine) as db:

            def rows(sql: str) -> list[Any]:
                return list(db.execute(text(sql), c))

            # A DTE is never there without its XML.
            assert (
                rows(
                    "SELECT d.id FROM documents d LEFT JOIN document_sources s ON s.document_id = d.id "
                    "WHERE d.company_id = :c AND d.code <> 0 AND s.document_id IS NULL"
                )
                == []
            )
            assert (
                rows(
                    "SELECT n.id FROM notes n LEFT JOIN note_sources s ON s.note_id = n.id "
                    "WHERE n.company_id = :c AND s.note_id IS NULL"
                )
                == []
            )
            # Each payment the stream made has exactly its one allocation of 10.00.
            assert (
                rows(
                    "SELECT p.id, count(a.payment_id), sum(a.amount_cents) FROM payments p "
                    "LEFT JOIN payment_allocations a ON a.payment_id = p.id WHERE p.company_id = :c "
                    "GROUP BY p.id HAVING count(a.payment_id) <> 1 OR sum(a.amount_cents) <> 1000"
                )
                == []
            )
            # Each note the stream made is linked to the invoice it names.
            assert rows("SELECT id FROM notes WHERE company_id = :c AND document_id IS NULL") == []
            # Amounts agree with the payments and notes that make them.
            for row in rows(
                "SELECT d.id, d.total_cents, d.credit_cents, d.debit_cents, d.paid_cents, d.due_cents, "
                "(SELECT coalesce(sum(a.amount_cents), 0) FROM payment_allocations a "
                " JOIN payments p ON p.id = a.payment_id WHERE a.document_id = d.id AND p.status = 1), "
                "(SELECT coalesce(sum(n.total_cents), 0) FROM notes n WHERE n.document_id = d.id) "
                "FROM documents d WHERE d.company_id = :c"
            ):
                _, total, credit, debit, paid, due, allocated, noted = row
                assert (paid, credit) == (allocated, noted), row
                assert due == max(0, total + debit - credit - paid), row
            # The trigger-kept counts equal the real counts.
            real = Counter(
                {
                    (code, currency, state): n
                    for code, currency, state, n in rows(
                        "SELECT code, currency, state, count(*) FROM documents WHERE company_id = :c "
                        "GROUP BY code, currency, state"
                    )
                }
            )
            by_day = Counter(
                {
                    (code, currency, state): n
                    for code, currency, state, n in rows(
                        "SELECT code, currency, state, sum(documents) FROM document_counts "
                        "WHERE company_id = :c GROUP BY code, currency, state HAVING sum(documents) <> 0"
                    )
                }
            )
            totals = Counter(
                {
                    (code, currency, state): n
                    for code, currency, state, n in rows(
                        "SELECT code, currency, state, documents FROM document_totals "
                        "WHERE company_id = :c AND documents <> 0"
                    )
                }
            )
            assert by_day == real
            assert totals == real
            # Every committed change has its webhook event (and a delivery for the company's webhook).
            events: dict[str, set[str]] = {}
            for kind, data in rows("SELECT type, data FROM webhook_events WHERE company_id = :c"):
                events.setdefault(kind, set()).add(str(json.loads(data)["id"]))
            for table, kind in (
                ("documents", "document.created"),
                ("notes", "note.created"),
                ("payments", "payment.created"),
            ):
                ids = {str(i) for (i,) in rows(f"SELECT id FROM {table} WHERE company_id = :c")}  # noqa: S608
                assert ids == events.get(kind, set()), kind
            assert (
                rows(
                    "SELECT e.id FROM webhook_events e LEFT JOIN webhook_deliveries w ON w.event_id = e.id "
                    "WHERE e.company_id = :c AND w.event_id IS NULL"
                )
                == []
            )
    finally:
        engine.dispose()


def _check_unanswered(database_url: str, stream: Stream) -> int:
    """A write whose answer never came is wholly there or wholly absent (wholeness is checked above);
    the number of those that made it."""
    engine = create_engine(database_url, pool_size=1)
    present = 0
    try:
        with engine.connect() as db:
            for write in stream.writes:
                if write.status is not None:
                    continue
                if write.kind == "payment":
                    sql = "SELECT count(*) FROM payments WHERE company_id = :c AND transaction_code = :k"
                elif write.kind == "note":
                    sql = "SELECT count(*) FROM notes WHERE company_id = :c AND number = :k"
                else:
                    sql = "SELECT count(*) FROM documents WHERE company_id = :c AND number = :k"
                found = db.execute(text(sql), {"c": stream.company_id, "k": write.key}).scalar_one()
                assert found in (0, 1), write
                present += found
    finally:
        engine.dispose()
    return present


def test_writes_survive_sigkill(settings: Settings, tmp_path: Path) -> None:
    database_url = settings.database_url
    folder = tmp_path / "import"
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    figures: Counter[str] = Counter()
    with company(database_url) as (company_id, rut, token):
        server = Server(database_url, tmp_path)
        base = server.start()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=20) as http:
            client = http.post("/v1/createClient", json={"name": "CLIENTE", "taxId": CLIENT_RUT})
            assert client.status_code == 200, client.text
            hook = http.post(
                "/v1/createWebhook",
                json={
                    "url": "http://127.0.0.1:9/hook",
                    "events": ["document.created", "note.created", "payment.created"],
                },
            )
            assert hook.status_code == 200, hook.text
        stream = Stream(company_id, token, client.json()["id"], rut)
        _import_folder(folder, rut)
        imported: set[str] = set()
        imports = ImportLoop(folder, rut, database_url, tmp_path, rng.randrange(1 << 30))
        imports.start()
        try:
            for _ in range(ROUNDS):
                writers = [
                    threading.Thread(target=stream.write_until_down, args=(base, rng.randrange(1 << 30)))
                    for _ in range(WRITERS)
                ]
                for writer in writers:
                    writer.start()
                time.sleep(rng.uniform(0.3, 2.5))
                server.kill()
                figures["server kills"] += 1
                for writer in writers:
                    writer.join(timeout=60)
                    assert not writer.is_alive()
                assert stream.failures == []
                base = server.start()
                imported = set(imports.imported)
                _check_acknowledged(base, stream, database_url, imported)
                _check_whole(database_url, stream)
            imports.stop()
            imported = set(imports.imported)
            _check_acknowledged(base, stream, database_url, imported)
            _check_whole(database_url, stream)
            assert server.stop() == 0
            figures["unanswered present"] = _check_unanswered(database_url, stream)
        finally:
            imports.stop()
            server.kill()
        figures["importer runs"] = imports.runs
        figures["importer kills"] = imports.kills
        figures["rounds"] = ROUNDS
        figures["writes"] = len(stream.writes)
        figures["acknowledged"] = sum(1 for w in stream.writes if w.status == 200)
        figures["unanswered"] = sum(1 for w in stream.writes if w.status is None)
        figures["imports acknowledged"] = len(imported)
        print(f"crash safety (seed {seed}): {dict(figures)}")
        assert figures["acknowledged"] > 0
