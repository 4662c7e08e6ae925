"""A real SMTP server on loopback (aiosmtpd, in a thread) and a committed company to remind about."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage as Mime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import random_rut
from tests.servers import free_port

from dtehub.companies.service import create_company
from dtehub.config import Settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.documents import ledger
from dtehub.models import Client, Company, Contact, Document, EmailMessage
from dtehub.models.document import number_sort_key


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Mime


@dataclass
class Recorder:
    """What the server received; ``fail_next`` answers that many DATA commands with 451, ``stall``
    makes the server wait that many seconds after recording a message before answering."""

    received: list[Received] = field(default_factory=list)
    fail_next: int = 0
    stall: float = 0.0
    stall_after: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return "451 4.3.0 try again later"
            content = envelope.original_content or b""
            parsed = email.message_from_bytes(content, policy=email.policy.default)
            assert isinstance(parsed, Mime)
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
            count = len(self.received)
        if self.stall and count > self.stall_after:
            import asyncio

            await asyncio.sleep(self.stall)
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(r.message["Subject"]) for r in self.received]

    def message_ids(self) -> list[str]:
        return [str(r.message["Message-ID"]) for r in self.received]


@dataclass
class SmtpServer:
    url: str
    port: int
    recorder: Recorder


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(url=f"smtp://127.0.0.1:{port}", port=port, recorder=recorder)
    finally:
        controller.stop()


@pytest.fixture
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(settings.database_url, pool_size=4)
    yield create_sessionmaker(engine)
    engine.dispose()


def reminder_settings(settings: Settings, **changes: Any) -> Settings:
    base = {"reminders_retry_seconds": 60.0, "reminders_max_attempts": 3, "smtp_timeout": 5.0}
    return settings.model_copy(update={**base, **changes})


DAY = date(2026, 3, 2)  # a Monday


class World:
    """A committed company with clients, contacts and documents; deleted at the end."""

    def __init__(self, factory: sessionmaker[Session], name: str = "FERRETERÍA O'HIGGINS & CÍA SPA") -> None:
        self.factory = factory
        with unit_of_work(factory) as session:
            created = create_company(session, rut=random_rut(), name=name, payment_term_days=30)
            company = created.company
            company.reply_to = "cobranza@ferreteria.cl"
            company.debt_summary_period = "off"
            self.company_id = company.id
            self.token = created.token

    def update_company(self, **values: Any) -> None:
        with unit_of_work(self.factory) as session:
            company = session.get(Company, self.company_id)
            assert company is not None
            for key, value in values.items():
                setattr(company, key, value)

    def client(self, name: str, *emails: str, **flags: bool) -> int:
        with unit_of_work(self.factory) as session:
            client = Client(company_id=self.company_id, tax_id=random_rut(), name=name, **flags)
            session.add(client)
            session.flush()
            for address in emails:
                session.add(Contact(company_id=self.company_id, client_id=client.id, email=address))
            return client.id

    def document(
        self,
        client_id: int,
        number: str,
        due: date,
        total: int = 11_900_000,
        *,
        paid: int = 0,
        voided: bool = False,
        issued: date | None = None,
        send: bool = False,
        created_on: date | None = None,
        source: str | None = None,
    ) -> int:
        with unit_of_work(self.factory) as session:
            issue = issued or due - dt.timedelta(days=30)
            document = Document(
                company_id=self.company_id,
                client_id=client_id,
                code=33,
                number=number,
                number_sort=number_sort_key(number),
                issue_date=issue,
                due_date=due,
                currency="CLP",
                net_cents=total * 100 // 119,
                taxes_cents=total - total * 100 // 119,
                total_cents=total,
                credit_cents=0,
                debit_cents=0,
                paid_cents=paid,
                voided=voided,
                send_requested=send,
                created_on=created_on or issue,
                source=source,
            )
            ledger.rebalance(document)
            session.add(document)
            session.flush()
            return document.id

    def messages(self) -> list[EmailMessage]:
        with unit_of_work(self.factory) as session:
            return list(
                session.scalars(
                    select(EmailMessage)
                    .where(EmailMessage.company_id == self.company_id)
                    .order_by(EmailMessage.id)
                )
            )

    def delete(self) -> None:
        with unit_of_work(self.factory) as session:
            session.execute(delete(EmailMessage).where(EmailMessage.company_id == self.company_id))
            session.execute(delete(Document).where(Document.company_id == self.company_id))
            session.execute(delete(Company).where(Company.id == self.company_id))


@pytest.fixture
def world(factory: sessionmaker[Session]) -> Iterator[World]:
    made = World(factory)
    yield made
    made.delete()


def wait_for(condition: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
