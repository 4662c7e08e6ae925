"""Factoring end to end: a real ``dtehub serve`` process (its background jobs on: the cession follow-up,
webhook deliveries, reminders) against a real ``dtehub sii-emulator serve`` process over TLS, everything
through HTTP.

The emulator's state is its data directory, written before it starts: each invoice's DTE in ``dtes/`` (the
same bytes the seller posts to dtehub), its reception time and events in ``acceptance.json``, a cancelling
credit note beside one. The in-process tests (test_cedibility, test_cession, test_holding) cover each rule
against the emulator's Python handle; these prove the whole path in the processes a deployment runs: the
server asks SII itself, follows its cessions in the background to SII's verdict, delivers the webhook and
mails the debtor; a second company holds the invoice it bought, is paid and reminds the debtor. No secret
reaches either process's log.
"""

from __future__ import annotations

import base64
import email
import itertools
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage as MailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from dtehub.companies.service import create_company
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.kit.dates import SANTIAGO, today_in_santiago
from dtehub.models import Company, DocumentCession
from dtehub.sii.emulator import TestCertificateAuthority
from tests.conftest import TEST_SECRET_KEY, error_of, random_rut
from tests.dte_factory import build_dte
from tests.servers import free_port, wait_until_up
from tests.webhooks import verify
from tests.webhooks.receiver import Receiver, receiver

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"
PASSWORD = "Clave-Del-Certificado-e2e-7"
SELLER, BUYER, FACTOR, OTHER_BUYER = (random_rut() for _ in range(4))
SELLER_PERSON, BUYER_PERSON = random_rut(), random_rut()
TOTAL = 1_190_000
_folios = itertools.count(61_000)
T = TypeVar("T")

ASSIGNOR = {"email": "cobranza@vendedora.cl"}
SELLER_DEBTOR_MAIL = "pagos@compradora.cl"
FACTOR_DEBTOR_MAIL = "tesoreria@compradora.cl"


def assignee() -> dict[str, str]:
    return {
        "rut": FACTOR,
        "name": "FACTORING CAPITAL SPA",
        "address": "Av. Apoquindo 4000",
        "email": "ops@fc.cl",
    }


@dataclass(frozen=True)
class Invoice:
    """An invoice of the seller to the buyer: its DTE, in the emulator's dtes/ and posted to dtehub."""

    folio: int
    xml: bytes


@dataclass(frozen=True)
class Invoices:
    cedible: Invoice  # SII received it ten days ago, no claim: code 25
    claimed: Invoice  # the buyer claimed it (RFT) the day after SII received it
    too_early: Invoice  # SII received it an hour ago: inside the 8 days
    cancelled: Invoice  # a cancelling credit note (CodRef 1) reached SII the next day
    sold: Invoice  # cedible, due yesterday: ceded to the factoring company, who holds and collects it
    mismatched: Invoice  # SII's record names another receiver: the RTC rejects its cession (RDC)
    to_refuse: Invoice  # cedible: createCesion refuses an amount over its total
    for_logs: Invoice  # cedible: ceded by the secrets test


@dataclass
class World:
    base: str
    server_log: Path
    emulator_log: Path
    mail: Path
    hooks: Receiver
    invoices: Invoices
    tokens: dict[str, str]  # company RUT -> bearer token
    documents: dict[int, str]  # the seller's folio -> dtehub document id
    factory: sessionmaker[Session]

    def http(self, rut: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {self.tokens[rut]}"}, timeout=60
        )


def invoice(days_ago: int, *, receiver: str = BUYER, due: date | None = None) -> Invoice:
    folio = next(_folios)
    xml = build_dte(
        33, folio, SELLER, receiver, TOTAL,
        issue_date=today_in_santiago() - timedelta(days=days_ago), due_date=due,
        issuer_name="VENDEDORA SPA", receiver_name="COMPRADORA DEUDORA SA", signed=True,
    )  # fmt: skip
    return Invoice(folio, xml)


def key(folio: int, code: int = 33) -> str:
    return f"{SELLER}/{code}/{folio}"


def santiago(moment: datetime) -> str:
    return moment.astimezone(SANTIAGO).replace(tzinfo=None).isoformat(timespec="seconds")


def emulator_data(directory: Path) -> Invoices:
    """The emulator's data: companies, people, each invoice's DTE and what SII knows of it."""
    today = today_in_santiago()
    invoices = Invoices(
        cedible=invoice(10),
        claimed=invoice(10),
        too_early=invoice(0),
        cancelled=invoice(10),
        sold=invoice(10, due=today - timedelta(days=1)),
        mismatched=invoice(10),
        to_refuse=invoice(10),
        for_logs=invoice(10),
    )
    dtes = directory / "dtes"
    dtes.mkdir(parents=True)
    for name, one in vars(invoices).items():
        content = one.xml
        if name == "mismatched":  # SII holds this folio with another receiver than the DTE dtehub has
            content = build_dte(
                33, one.folio, SELLER, OTHER_BUYER, TOTAL,
                issue_date=today - timedelta(days=10), signed=True,
            )  # fmt: skip
        (dtes / f"{name}.xml").write_bytes(content)
    note = build_dte(
        61, next(_folios), SELLER, BUYER, TOTAL, issue_date=today - timedelta(days=9),
        references=[(33, invoices.cancelled.folio, 1, "Anula")], signed=True,
    )  # fmt: skip
    (dtes / "note.xml").write_bytes(note)
    now = datetime.now(SANTIAGO)
    ten_days_ago = datetime.combine(today - timedelta(days=10), datetime.min.time()).replace(hour=12)
    acceptance = {
        "received": {key(invoices.too_early.folio): santiago(now - timedelta(hours=1))},
        "events": {
            key(invoices.claimed.folio): [
                {"code": "RFT", "rut": BUYER_PERSON, "at": (ten_days_ago + timedelta(days=1)).isoformat()}
            ]
        },
    }
    (directory / "acceptance.json").write_text(json.dumps(acceptance), encoding="utf-8")
    config = {
        "companies": [
            {"rut": SELLER, "name": "VENDEDORA SPA"},
            {"rut": BUYER, "name": "COMPRADORA DEUDORA SA"},
            {"rut": FACTOR, "name": "FACTORING CAPITAL SPA"},
        ],
        "people": [
            {"rut": SELLER_PERSON, "name": "Vera Vendedora", "companies": [SELLER]},
            {"rut": BUYER_PERSON, "name": "Carlos Comprador", "companies": [BUYER]},
        ],
    }
    (directory / "emulator.json").write_text(json.dumps(config), encoding="utf-8")
    return invoices


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path, Invoices]]:
    """``dtehub sii-emulator serve`` in a process of its own; the settings it prints, its log."""
    directory = tmp_path_factory.mktemp("factoring-e2e-sii")
    invoices = emulator_data(directory)
    log = directory / "emulator.log"
    with log.open("wb") as errors:
        process = subprocess.Popen(
            [str(DTEHUB), "sii-emulator", "serve", "--data", str(directory), "--port", "0"],
            stdout=subprocess.PIPE, stderr=errors, text=True,
        )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(7)]
        if process.poll() is not None or not all("=" in line for line in lines):
            pytest.fail(f"the emulator did not start: {lines}\n{log.read_text()}")
        yield dict(line.split("=", 1) for line in lines), log, invoices  # type: ignore[misc]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def committed_companies(factory: sessionmaker[Session]) -> tuple[dict[str, str], list[int]]:
    tokens: dict[str, str] = {}
    ids: list[int] = []
    with unit_of_work(factory) as session:
        for rut, name in (
            (SELLER, "VENDEDORA SPA"),
            (FACTOR, "FACTORING CAPITAL SPA"),
            (OTHER_BUYER, "SIN CERTIFICADO SPA"),  # a company with no SII certificate stored
        ):
            created = create_company(session, rut=rut, name=name, payment_term_days=30)
            tokens[rut] = created.token
            ids.append(created.company.id)
    return tokens, ids


@pytest.fixture(scope="module")
def world(
    settings: Settings,
    emulator: tuple[dict[str, str], Path, Invoices],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    """One ``dtehub serve`` for the module, its jobs on and quick; the seller's certificate stored and its
    invoices posted through the API; the buyer's collections contact at the seller."""
    sii, emulator_log, invoices = emulator
    directory = tmp_path_factory.mktemp("factoring-e2e-server")
    engine = create_engine(settings.database_url, pool_size=2)
    factory = create_sessionmaker(engine)
    tokens, ids = committed_companies(factory)
    stack = ExitStack()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")},
        "DTEHUB_DATABASE_URL": settings.database_url,
        "DTEHUB_SECRET_KEY": TEST_SECRET_KEY,
        "DTEHUB_PUBLIC_URL": base,
        "DTEHUB_RUN_BACKGROUND_JOBS": "true",
        "DTEHUB_CESSION_FOLLOW_INTERVAL": "0.5",
        "DTEHUB_REMINDERS_INTERVAL": "0.5",
        "DTEHUB_WEBHOOK_INTERVAL": "0.5",
        "DTEHUB_WEBHOOKS_ALLOW_PRIVATE": "true",  # the test's receiver listens on loopback
        "DTEHUB_MAIL_FOLDER": str(directory / "mail"),
        "DTEHUB_SII_WS_URL": sii["DTEHUB_SII_WS_URL"],
        "DTEHUB_SII_RECLAMO_URL": sii["DTEHUB_SII_RECLAMO_URL"],
        "DTEHUB_SII_CA_BUNDLE": sii["DTEHUB_SII_CA_BUNDLE"],
        "DTEHUB_RATE_LIMIT_PER_MINUTE": "0",
        "DTEHUB_LOG_LEVEL": "debug",
    }
    log = directory / "server.log"
    hooks = stack.enter_context(receiver())
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(DTEHUB), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment, cwd=directory, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_up(base, server, log, seconds=120)
        world = World(base, log, emulator_log, directory / "mail", hooks, invoices, tokens, {}, factory)
        with world.http(SELLER) as http:
            ca = TestCertificateAuthority.load_or_create(Path(sii["DTEHUB_SII_CA_BUNDLE"]).parent)
            pfx = ca.issue_person_certificate(
                rut=SELLER_PERSON, name="Vera Vendedora", password=PASSWORD.encode()
            )
            stored = http.post(
                "/v1/updateCompanySiiCertificate",
                json={
                    "certificate_pfx_base64": base64.b64encode(pfx).decode(),
                    "certificate_password": PASSWORD,
                },
            )
            assert stored.status_code == 200, stored.text
            for one in vars(invoices).values():
                posted = http.post(
                    "/v1/createDocumentFromXml", json={"xml": base64.b64encode(one.xml).decode()}
                )
                assert posted.status_code in (200, 201), posted.text
                world.documents[one.folio] = str(posted.json()["id"])
            contact = http.post("/v1/createContact", json={"clientTaxId": BUYER, "email": SELLER_DEBTOR_MAIL})
            assert contact.status_code == 200, contact.text
        yield world
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        with unit_of_work(factory) as session:
            session.execute(delete(Company).where(Company.id.in_(ids)))
        engine.dispose()
        stack.close()


def until(condition: Callable[[], T | None], what: str, seconds: float = 30) -> T:
    """Polls ``condition`` (a query of the server's state, no sleep standing in for it) until it answers."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() >= deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(0.1)


def cedibility(http: httpx.Client, document_id: str) -> dict[str, Any]:
    answer = http.get("/v1/getDocumentCedibility", params={"id": document_id})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def reasons(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {reason["check"]: reason for reason in answer["reasons"]}


def mails_to(folder: Path, address: str) -> list[MailMessage]:
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(message, MailMessage)
        if address in str(message["To"]):
            found.append(message)
    return found


def test_the_server_asks_sii_and_says_which_invoices_can_be_financed(world: World) -> None:
    invoices, ids = world.invoices, world.documents
    with world.http(SELLER) as http:
        cedible = cedibility(http, ids[invoices.cedible.folio])
        claimed = cedibility(http, ids[invoices.claimed.folio])
        too_early = cedibility(http, ids[invoices.too_early.folio])
        cancelled = cedibility(http, ids[invoices.cancelled.folio])

    assert cedible["cedible"] is True, cedible["reasons"]
    assert cedible["reasons"] == []
    checks = cedible["checks"]
    assert (checks["siiCedibility"]["code"], checks["window"]["status"]) == (25, "passed")
    assert (checks["rtcCession"]["status"], checks["rtcCession"]["source"]) == ("passed", "rtc")

    assert claimed["cedible"] is False
    claim = reasons(claimed)["claims"]
    assert (claim["status"], claim["source"]) == ("failed", "sii")
    assert "RFT" in claim["message"]
    assert "agree with the receiver" in claim["action"]
    assert claimed["checks"]["siiCedibility"]["code"] == 24

    assert too_early["cedible"] is False
    window = reasons(too_early)["window"]
    assert (window["status"], window["source"]) == ("pending", "sii")
    assert "may still claim until" in window["message"]
    assert too_early["checks"]["siiCedibility"]["code"] == 22

    assert cancelled["cedible"] is False
    notes = reasons(cancelled)["creditNotes"]
    assert (notes["status"], notes["source"]) == ("failed", "sii")
    assert "cancels this document" in notes["message"]
    assert cancelled["checks"]["siiCedibility"]["code"] == 21


def test_a_cession_is_followed_to_sii_s_acceptance_and_the_buyer_holds_pays_and_is_reminded(
    world: World,
) -> None:
    document_id = world.documents[world.invoices.sold.folio]
    with world.http(SELLER) as seller:
        hook = seller.post("/v1/createWebhook", json={"url": world.hooks.url, "events": ["document.ceded"]})
        assert hook.status_code == 200, hook.text
        made = seller.post(
            "/v1/createCesion", json={"documentId": document_id, "assignee": assignee(), "assignor": ASSIGNOR}
        )
        assert made.status_code == 200, made.text
        assert made.json()["cession"]["siiState"] == "pending"
        assert made.json()["isCeded"] is False

        # The server's own follow-up job asks SII's RTC for the track id's verdict.
        def ceded() -> dict[str, Any] | None:
            shown: dict[str, Any] = seller.get("/v1/getDocument", params={"id": document_id}).json()
            return shown if shown["cession"]["siiState"] != "pending" else None

        shown = until(ceded, "the follow-up job records SII's verdict")
        assert shown["isCeded"] is True
        assert (shown["cession"]["siiState"], shown["cession"]["siiCode"]) == ("accepted", "EOK")
        assert "registered the cession" in shown["cession"]["siiMessage"]
        listed = seller.get("/v1/getDocuments", params={"isCeded": 1}).json()["items"]
        assert document_id in [d["id"] for d in listed]

        # Already ceded: not cedible any more, and a second cession is refused.
        again = cedibility(seller, document_id)
        assert again["cedible"] is False
        assert reasons(again)["rtcCession"]["status"] == "failed"
        second = seller.post("/v1/createCesion", json={"documentId": document_id, "assignee": assignee()})
        assert second.status_code == 409
        assert error_of(second)["code"] == "document_already_ceded"

    # The webhook delivery job posts document.ceded, signed with the webhook's secret.
    def delivered() -> list[dict[str, Any]]:
        with world.hooks.lock:
            received = list(world.hooks.received)
        events = [verify(hook.json()["secret"], one) for one in received]
        return [e for e in events if e["data"]["id"] == document_id]

    [event] = until(delivered, "the webhook job delivers document.ceded")
    assert event["type"] == "document.ceded"
    assert event["data"]["isCeded"] is True

    # The debtor is told, once, that the invoice now belongs to the factoring company (the reminders job).
    [notice] = until(
        lambda: [
            m for m in mails_to(world.mail, SELLER_DEBTOR_MAIL) if "aviso de cesión" in str(m["Subject"])
        ],
        "the cession notice is mailed to the debtor",
    )
    assert str(notice["Subject"]).startswith("VENDEDORA SPA: aviso de cesión")
    assert "FACTORING CAPITAL SPA" in notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # The seller hands the AEC it uploaded to the factoring company, which holds the invoice.
    with unit_of_work(world.factory, writes=False) as session:
        aec = session.scalars(
            select(DocumentCession.aec).where(DocumentCession.document_id == int(document_id))
        ).one()
    with world.http(FACTOR) as factor:
        # The debtor is already a client with a collections contact (else the reminders would be skipped).
        client = factor.post("/v1/createClient", json={"name": "COMPRADORA DEUDORA SA", "taxId": BUYER})
        assert client.status_code == 200, client.text
        contact = factor.post("/v1/createContact", json={"clientTaxId": BUYER, "email": FACTOR_DEBTOR_MAIL})
        assert contact.status_code == 200, contact.text
        # A changed amount is refused, each broken signature reported, and nothing is held.
        tampered = aec.replace(b"<MontoCesion>1190000</MontoCesion>", b"<MontoCesion>1100000</MontoCesion>")
        assert tampered != aec
        refused = factor.post("/v1/createCesionFromXml", json={"xml": base64.b64encode(tampered).decode()})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "aec_invalid"
        failed = {(c["check"], c.get("part")) for c in refused.json()["error"]["details"]}
        assert ("signature", "DocumentoCesion 1") in failed
        assert factor.get("/v1/getDocuments", params={"held": 1}).json()["items"] == []
        held = factor.post("/v1/createCesionFromXml", json={"xml": base64.b64encode(aec).decode()})
        assert held.status_code == 200, held.text
        answer = held.json()
        document = answer["document"]
        assert document["held"] is True
        assert document["issuer"]["taxId"] == SELLER
        assert document["clientTaxId"] == BUYER
        assert document["number"] == str(world.invoices.sold.folio)
        verdicts = {(c["check"], c.get("part")): c["status"] for c in answer["checks"]}
        for part in ("DocumentoDTECedido", "DocumentoCesion 1", "DocumentoAEC"):
            assert verdicts[("signature", part)] == "passed"
        assert verdicts[("chain", "holder")] == "passed"
        listed = factor.get("/v1/getDocuments", params={"held": 1}).json()["items"]
        assert [d["id"] for d in listed] == [document["id"]]

        assert document["client"]["id"] == str(client.json()["id"])
        paid = factor.post(
            "/v1/createPayment",
            json={
                "date": today_in_santiago().isoformat(),
                "amount": 190_000,
                "clientId": document["client"]["id"],
                "documents": [{"id": document["id"], "amount": 190_000}],
            },
        )
        assert paid.status_code == 200, paid.text
        now = factor.get("/v1/getDocument", params={"id": document["id"]}).json()
        assert (now["paidAmount"], now["amountDue"]) == ("190000.00", "1000000.00")

    # The reminders job writes to the debtor in the holder's name: the payment received, the invoice overdue.
    def reminded() -> list[str] | None:
        subjects = sorted(str(m["Subject"]) for m in mails_to(world.mail, FACTOR_DEBTOR_MAIL))
        return subjects if len(subjects) >= 2 else None

    subjects = until(reminded, "the held invoice's reminders are mailed to the debtor")
    assert subjects == [
        "FACTORING CAPITAL SPA: recibimos su pago de $ 190.000",
        f"FACTORING CAPITAL SPA: su factura electrónica n° {world.invoices.sold.folio} está vencida",
    ]


def test_sii_s_rejection_is_followed_and_told_in_words(world: World) -> None:
    document_id = world.documents[world.invoices.mismatched.folio]
    with world.http(SELLER) as seller:
        made = seller.post(
            "/v1/createCesion", json={"documentId": document_id, "assignee": assignee(), "assignor": ASSIGNOR}
        )
        assert made.status_code == 200, made.text

        def decided() -> dict[str, Any] | None:
            cession: dict[str, Any] = seller.get("/v1/getDocument", params={"id": document_id}).json()[
                "cession"
            ]
            return cession if cession["siiState"] != "pending" else None

        cession = until(decided, "the follow-up job records SII's verdict")
        assert (cession["siiState"], cession["siiCode"]) == ("rejected", "RDC")
        assert "ceded document is not valid" in cession["siiMessage"]
        assert "el receptor del DTE no es el registrado en el SII" in cession["siiMessage"]
        shown = seller.get("/v1/getDocument", params={"id": document_id}).json()
        assert shown["isCeded"] is False


def refusal(http: httpx.Client, document_id: str, **changes: Any) -> dict[str, Any]:
    """createCesion's refusal, having checked that the document is unchanged."""
    before = http.get("/v1/getDocument", params={"id": document_id}).json()
    body = {"documentId": document_id, "assignee": assignee(), "assignor": ASSIGNOR, **changes}
    response = http.post("/v1/createCesion", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert http.get("/v1/getDocument", params={"id": document_id}).json() == before
    return {"status": response.status_code, **error_of(response)}


def test_every_refusal_changes_nothing_and_reaches_no_rtc(world: World) -> None:
    invoices, ids = world.invoices, world.documents
    with world.http(SELLER) as seller:
        early = refusal(seller, ids[invoices.too_early.folio])
        assert (early["status"], early["code"]) == (422, "document_not_cedible")
        assert "window" in early["message"]

        claimed = refusal(seller, ids[invoices.claimed.folio])
        assert (claimed["status"], claimed["code"]) == (422, "document_not_cedible")
        assert "claims" in claimed["message"]

        over = refusal(seller, ids[invoices.to_refuse.folio], amount=TOTAL + 1)
        assert (over["status"], over["code"], over["field"]) == (422, "cession_amount_invalid", "amount")
        assert "over the document's total (1190000.00)" in over["message"]
        # Nothing reached SII's RTC: it still has no cession of the invoice, which stays cedible.
        still = cedibility(seller, ids[invoices.to_refuse.folio])
        assert still["cedible"] is True
        assert (still["checks"]["rtcCession"]["status"], still["checks"]["rtcCession"]["source"]) == (
            "passed",
            "rtc",
        )

    with world.http(OTHER_BUYER) as uncertified:
        xml = build_dte(
            33, next(_folios), OTHER_BUYER, BUYER, TOTAL, issue_date=today_in_santiago(), signed=True
        )
        posted = uncertified.post("/v1/createDocumentFromXml", json={"xml": base64.b64encode(xml).decode()})
        assert posted.status_code in (200, 201), posted.text
        missing = refusal(uncertified, str(posted.json()["id"]))
        assert (missing["status"], missing["code"]) == (404, "sii_certificate_missing")


def test_no_secret_reaches_the_server_s_or_the_emulator_s_log(world: World) -> None:
    with world.http(SELLER) as seller:
        # What handles secrets: a certificate refused for its password, a check and a cession (tokens).
        wrong = seller.post(
            "/v1/updateCompanySiiCertificate",
            json={
                "certificate_pfx_base64": base64.b64encode(b"not a pfx").decode(),
                "certificate_password": PASSWORD,
            },
        )
        assert wrong.status_code == 422, wrong.text
        document_id = world.documents[world.invoices.for_logs.folio]
        assert cedibility(seller, document_id)["cedible"] is True
        made = seller.post(
            "/v1/createCesion", json={"documentId": document_id, "assignee": assignee(), "assignor": ASSIGNOR}
        )
        assert made.status_code == 200, made.text
        until(
            lambda: seller.get("/v1/getDocument", params={"id": document_id}).json()["isCeded"],
            "the follow-up job records SII's acceptance",
        )

    server_log = world.server_log.read_text(errors="replace")
    emulator_log = world.emulator_log.read_text(errors="replace")
    assert "createCesion" in server_log  # the logs are the processes', with what they did
    assert "SII emulator on https://127.0.0.1:" in emulator_log
    for secret in (PASSWORD, TEST_SECRET_KEY, world.tokens[SELLER], world.tokens[FACTOR]):
        assert secret not in server_log
        assert secret not in emulator_log
