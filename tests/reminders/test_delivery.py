"""At most once (overlapping runs, a run killed half-way), retries with backoff, TLS, the .eml folder."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from sqlalchemy import select
from tests.reminders.conftest import DAY, Recorder, SmtpServer, World, reminder_settings, wait_for
from tests.servers import free_port

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.mail.message import OutgoingMessage
from dtehub.mail.transport import FolderTransport, SmtpTransport
from dtehub.models import Company
from dtehub.reminders import service

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"


def _overdue_documents(world: World, count: int) -> None:
    client = world.client("Constructora Andes", "pagos@andes.cl")
    for n in range(count):
        world.document(client, str(1000 + n), DAY - timedelta(days=1))


def _start_run(settings: Settings, rut: str, output: IO[bytes], **env: str) -> subprocess.Popen[bytes]:
    """``dtehub reminders run`` for the day as a real process (leases of 1 s), its output to ``output``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    return subprocess.Popen(
        [str(DTEHUB), "reminders", "run", "--date", DAY.isoformat(), "--company", rut],
        env={
            **clean,
            "DTEHUB_DATABASE_URL": settings.database_url,
            "DTEHUB_REMINDERS_LEASE_SECONDS": "1",
            **env,
        },
        stdout=output,
        stderr=output,
    )


def test_two_overlapping_runs_send_each_reminder_once(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    _overdue_documents(world, 30)
    smtp_server.recorder.stall = 0.02  # each send takes a moment, so the runs overlap
    config = reminder_settings(settings)
    summaries: list[service.RunSummary] = []
    errors: list[BaseException] = []

    def one_run() -> None:
        transport = SmtpTransport(smtp_server.url, timeout=5)
        try:
            summaries.append(
                service.run(
                    world.factory, config, day=DAY, transport=transport, company_id=world.company_id, batch=5
                )
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            transport.close()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    ids = smtp_server.recorder.message_ids()
    assert len(ids) == 30
    assert Counter(ids).most_common(1)[0][1] == 1
    assert sum(s.sent for s in summaries) == 30
    assert {m.status for m in world.messages()} == {"sent"}


def test_a_run_killed_while_sending_never_sends_twice_and_the_next_run_sends_the_rest(
    world: World, settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    _overdue_documents(world, 8)
    with world.factory() as session:
        company = session.get(Company, world.company_id)
        assert company is not None
        rut = company.rut
    recorder = smtp_server.recorder
    recorder.stall, recorder.stall_after = 60.0, 3  # the 4th message is received, then the server stalls
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        process = _start_run(settings, rut, output, DTEHUB_SMTP_URL=smtp_server.url)
        try:
            wait_for(lambda: len(recorder.received) >= 4 or process.poll() is not None, 60)
            assert process.poll() is None, log.read_text()
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(10)
    assert len(recorder.received) == 4
    statuses = Counter(m.status for m in world.messages())
    assert statuses == {"sent": 3, "sending": 1, "claimed": 4}

    recorder.stall = 0
    # The next run, at the moment the dead run's leases are over: the first at which it may take its
    # rows, and the one at which a second send would happen if the dead run's sending row were resent.
    leases = [m.lease_expires_at for m in world.messages() if m.lease_expires_at is not None]
    assert len(leases) == 5  # its sending row and its claimed batch
    leases_over = max(leases) + timedelta(microseconds=1)
    transport = SmtpTransport(smtp_server.url, timeout=5)
    try:
        summary = service.run(
            world.factory,
            reminder_settings(settings, reminders_lease_seconds=1.0),
            day=DAY,
            transport=transport,
            company_id=world.company_id,
            clock=lambda: leases_over,
        )
    finally:
        transport.close()

    ids = recorder.message_ids()
    assert len(ids) == 8
    assert len(set(ids)) == 8
    assert (summary.unknown, summary.sent) == (1, 4)
    messages = world.messages()
    assert Counter(m.status for m in messages) == {"sent": 7, "unknown": 1}
    [unknown] = [m for m in messages if m.status == "unknown"]
    assert unknown.last_error
    assert "not sent again" in unknown.last_error


def test_a_refused_send_is_retried_with_backoff_then_sent(
    world: World, settings: Settings, smtp_server: SmtpServer
) -> None:
    _overdue_documents(world, 1)
    smtp_server.recorder.fail_next = 2
    config = reminder_settings(settings, reminders_retry_seconds=60.0, reminders_max_attempts=5)
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    transport = SmtpTransport(smtp_server.url, timeout=5)

    def run_at(moment: datetime) -> service.RunSummary:
        return service.run(
            world.factory,
            config,
            day=DAY,
            transport=transport,
            company_id=world.company_id,
            clock=lambda: moment,
        )

    try:
        first = run_at(start)
        [message] = world.messages()
        assert (first.retrying, message.status, message.attempts) == (1, "pending", 1)
        assert message.last_error is not None
        assert message.last_error.startswith("SMTP 451")
        assert message.next_attempt_at == start + timedelta(seconds=60)
        assert run_at(start + timedelta(seconds=59)).sent == 0  # not before its time
        second = run_at(start + timedelta(seconds=60))
        [message] = world.messages()
        assert (second.retrying, message.attempts) == (1, 2)
        assert message.next_attempt_at == start + timedelta(seconds=60 + 120)  # twice as long
        third = run_at(start + timedelta(seconds=180))
    finally:
        transport.close()
    [message] = world.messages()
    assert (third.sent, message.status, message.attempts) == (1, "sent", 3)
    assert len(smtp_server.recorder.received) == 1


def test_a_server_that_refuses_connections_ends_in_failed_after_the_attempts(
    world: World, settings: Settings
) -> None:
    _overdue_documents(world, 1)
    config = reminder_settings(settings, reminders_retry_seconds=1.0, reminders_max_attempts=3)
    transport = SmtpTransport(f"smtp://127.0.0.1:{free_port()}", timeout=2)  # nobody listens
    moment = datetime(2026, 3, 2, 12, tzinfo=UTC)
    results = []
    for _ in range(4):
        results.append(
            service.run(
                world.factory, config, day=DAY, transport=transport, company_id=world.company_id,
                clock=lambda m=moment: m,
            )
        )  # fmt: skip
        moment += timedelta(seconds=10)
    assert [(r.retrying, r.failed) for r in results] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    [message] = world.messages()
    assert (message.status, message.attempts) == ("failed", 3)
    assert message.last_error
    assert "Connection refused" in message.last_error


def _server_that_drops_after_the_message(port: int, received: list[bytes]) -> threading.Thread:
    """A minimal SMTP server that takes the whole message, then closes the connection instead of
    answering the final dot: the client cannot know whether the message was accepted."""
    import socket

    listener = socket.create_server(("127.0.0.1", port))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection, listener:
            stream = connection.makefile("rb")
            connection.sendall(b"220 test ESMTP\r\n")
            while line := stream.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    connection.sendall(b"250 test\r\n")
                elif verb == b"DATA":
                    connection.sendall(b"354 go ahead\r\n")
                    content = b""
                    while (chunk := stream.readline()) and chunk != b".\r\n":
                        content += chunk
                    received.append(content)
                    return  # the message is in; the answer never comes
                else:
                    connection.sendall(b"250 OK\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_a_connection_lost_after_the_message_was_handed_over_is_unknown_and_never_resent(
    world: World, settings: Settings
) -> None:
    _overdue_documents(world, 1)
    port = free_port()
    received: list[bytes] = []
    server = _server_that_drops_after_the_message(port, received)
    transport = SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5)
    config = reminder_settings(settings, reminders_retry_seconds=1.0)
    moment = datetime(2026, 3, 2, 12, tzinfo=UTC)

    first = service.run(
        world.factory, config, day=DAY, transport=transport, company_id=world.company_id, clock=lambda: moment
    )
    server.join(5)
    later = moment + timedelta(hours=1)
    second = service.run(
        world.factory, config, day=DAY, transport=transport, company_id=world.company_id, clock=lambda: later
    )

    assert len(received) == 1
    assert (first.sent, first.retrying, first.unknown) == (0, 0, 1)
    assert (second.sent, second.retrying) == (0, 0)
    [message] = world.messages()
    assert (message.status, message.attempts) == ("unknown", 1)


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


class _Authenticator:
    def __call__(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"cobranza",
            b"s3cr3t:/@",
        )
        return AuthResult(success=ok)


@pytest.fixture
def starttls_server(tls_files: tuple[Path, Path]) -> Iterator[tuple[int, Recorder]]:
    import ssl

    cert_file, key_file = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    recorder = Recorder()
    port = free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        authenticator=_Authenticator(),
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield port, recorder
    finally:
        controller.stop()


def test_starttls_with_a_login_and_the_company_ca(
    world: World, settings: Settings, starttls_server: tuple[int, Recorder], tls_files: tuple[Path, Path]
) -> None:
    port, recorder = starttls_server
    _overdue_documents(world, 2)
    config = reminder_settings(
        settings,
        smtp_url=SecretStr(f"smtp://cobranza:s3cr3t%3A%2F%40@localhost:{port}"),
        smtp_ca_bundle=str(tls_files[0]),
    )

    summary = service.run(world.factory, config, day=DAY, company_id=world.company_id)

    assert summary.sent == 2
    assert len(recorder.received) == 2
    transport = service.make_transport(config)
    assert "s3cr3t" not in repr(transport)
    assert "s3cr3t" not in repr(config)


def test_without_an_smtp_url_messages_are_eml_files_named_by_id(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    _overdue_documents(world, 2)
    folder = tmp_path / "mail"
    config = reminder_settings(settings, smtp_url=None, mail_folder=str(folder))

    summary = service.run(world.factory, config, day=DAY, company_id=world.company_id)

    assert summary.sent == 2
    ids = sorted(m.id for m in world.messages())
    assert sorted(p.name for p in folder.iterdir()) == [f"{i:08d}.eml" for i in ids]
    parsed = email.message_from_bytes(
        (folder / f"{ids[0]:08d}.eml").read_bytes(), policy=email.policy.default
    )
    assert parsed["To"] == "pagos@andes.cl"
    assert "está vencida" in str(parsed["Subject"])

    # A retry of the same message rewrites the same file, atomically (no temporary file stays).
    transport = FolderTransport(folder)
    written = (folder / f"{ids[0]:08d}.eml").read_bytes()
    transport.send(
        OutgoingMessage("recordatorios@dtehub.test", ("pagos@andes.cl",), written), f"{ids[0]:08d}"
    )
    assert len(list(folder.iterdir())) == 2
    assert (folder / f"{ids[0]:08d}.eml").read_bytes() == written


# --- the .eml folder: a batch is marked sending at once, then written --------------------------------


class _Died(BaseException):
    """The process stopping dead: nothing after it commits (no ``except Exception`` catches it)."""


class _FolderThatDies(FolderTransport):
    """Writes ``writes`` files, then the run "dies" while handing over the next one."""

    def __init__(self, folder: Path, writes: int) -> None:
        super().__init__(folder)
        self.writes = writes

    def send(self, message: OutgoingMessage, name: str) -> None:
        if self.writes == 0:
            raise _Died
        self.writes -= 1
        super().send(message, name)


def _subscribe_to_sent_reminders(world: World, settings: Settings) -> None:
    from dtehub.models import Webhook
    from dtehub.webhooks.signing import new_secret, require_secret_box

    with unit_of_work(world.factory) as session:
        session.add(
            Webhook(
                company_id=world.company_id,
                url="https://receiver.test/hook",
                events=["reminder.sent"],
                secret_encrypted=require_secret_box(settings).seal(new_secret(), world.company_id),
            )
        )


def _sent_events(world: World) -> list[int]:
    """The outbox ids of the company's ``reminder.sent`` events."""
    from dtehub.models import WebhookEvent

    with unit_of_work(world.factory) as session:
        rows = session.scalars(
            select(WebhookEvent.data).where(
                WebhookEvent.company_id == world.company_id, WebhookEvent.type == "reminder.sent"
            )
        )
        return sorted(int(json.loads(data)["id"]) for data in rows)


def _files(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Each .eml file's inode (a rewrite renames a new file into place) and content."""
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in folder.glob("*.eml")}


def _message_id(content: bytes) -> str:
    return str(email.message_from_bytes(content, policy=email.policy.default)["Message-ID"])


def test_a_folder_run_that_dies_mid_batch_never_writes_a_message_twice(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    _overdue_documents(world, 15)
    _subscribe_to_sent_reminders(world, settings)
    folder = tmp_path / "mail"
    config = reminder_settings(settings, smtp_url=None, mail_folder=str(folder))
    moment = datetime(2026, 3, 2, 12, tzinfo=UTC)

    # The first batch (10) is committed "sending" at once; the run dies after writing 3 of its files.
    with pytest.raises(_Died):
        service.run(
            world.factory, config, day=DAY, transport=_FolderThatDies(folder, 3),
            company_id=world.company_id, clock=lambda: moment, batch=10,
        )  # fmt: skip
    assert Counter(m.status for m in world.messages()) == {"sending": 10, "pending": 5}
    before = _files(folder)
    assert len(before) == 3
    assert _sent_events(world) == []

    # After the dead run's lease: its 3 files are there whole, so those 3 are sent and not written again;
    # the other 7 of its batch have no file, so they were never handed over: written now, once.
    later = moment + timedelta(minutes=10)
    summary = service.run(
        world.factory, config, day=DAY, transport=FolderTransport(folder),
        company_id=world.company_id, clock=lambda: later, batch=10,
    )  # fmt: skip

    assert (summary.sent, summary.unknown) == (12, 0)
    messages = world.messages()
    assert Counter(m.status for m in messages) == {"sent": 15}
    after = _files(folder)
    assert {name: after[name] for name in before} == before  # the same files: never rewritten
    assert sorted(after) == sorted(f"{m.id:08d}.eml" for m in messages)
    for message in messages:
        assert _message_id(after[f"{message.id:08d}.eml"][1]) == message.message_id
        assert message.last_error is None
    recovered = [m for m in messages if f"{m.id:08d}.eml" in before]
    assert {m.sent_at for m in recovered} == {moment}  # when the dead run handed them over
    assert {m.attempts for m in recovered} == {1}
    assert _sent_events(world) == [m.id for m in messages]  # one event each, the recovered included

    # Nothing is left to do, and nothing is written again.
    again = service.run(
        world.factory, config, day=DAY, transport=FolderTransport(folder),
        company_id=world.company_id, clock=lambda: later + timedelta(minutes=10),
    )  # fmt: skip
    assert (again.sent, again.unknown) == (0, 0)
    assert _files(folder) == after


def test_a_folder_file_of_another_message_leaves_the_row_unknown(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    """A file under the row's name that is not its message (left by another database, say) tells
    nothing: the row is unknown and the file stays as it is."""
    _overdue_documents(world, 2)
    folder = tmp_path / "mail"
    config = reminder_settings(settings, smtp_url=None, mail_folder=str(folder))
    moment = datetime(2026, 3, 2, 12, tzinfo=UTC)
    with pytest.raises(_Died):
        service.run(
            world.factory, config, day=DAY, transport=_FolderThatDies(folder, 0),
            company_id=world.company_id, clock=lambda: moment,
        )  # fmt: skip
    first, second = world.messages()
    folder.mkdir()
    stranger = b"Message-ID: <another@example.test>\r\nSubject: hola\r\n\r\nhola\r\n"
    (folder / f"{first.id:08d}.eml").write_bytes(stranger)

    summary = service.run(
        world.factory, config, day=DAY, transport=FolderTransport(folder),
        company_id=world.company_id, clock=lambda: moment + timedelta(minutes=10),
    )  # fmt: skip

    assert (summary.sent, summary.unknown) == (1, 1)
    assert [m.status for m in world.messages()] == ["unknown", "sent"]
    assert (folder / f"{first.id:08d}.eml").read_bytes() == stranger
    assert _message_id((folder / f"{second.id:08d}.eml").read_bytes()) == second.message_id


def test_only_the_folder_a_dead_run_wrote_to_can_say_it_never_wrote(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    """Rows a dead run left sending are asked of the destination its claim names: another folder
    (another host, another working directory) holds none of its files, and cannot tell."""
    _overdue_documents(world, 2)
    first_folder, other_folder = tmp_path / "mail", tmp_path / "elsewhere"
    config = reminder_settings(settings, smtp_url=None, mail_folder=str(other_folder))
    moment = datetime(2026, 3, 2, 12, tzinfo=UTC)
    with pytest.raises(_Died):
        service.run(
            world.factory, config, day=DAY, transport=_FolderThatDies(first_folder, 0),
            company_id=world.company_id, clock=lambda: moment,
        )  # fmt: skip
    other_folder.mkdir()

    summary = service.run(
        world.factory, config, day=DAY, transport=FolderTransport(other_folder),
        company_id=world.company_id, clock=lambda: moment + timedelta(minutes=10),
    )  # fmt: skip

    assert (summary.sent, summary.unknown) == (0, 2)
    assert [m.status for m in world.messages()] == ["unknown", "unknown"]
    assert _files(other_folder) == {}


def test_a_folder_run_killed_half_way_never_writes_a_message_twice(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    _overdue_documents(world, 250)  # three batches
    with world.factory() as session:
        company = session.get(Company, world.company_id)
        assert company is not None
        rut = company.rut
    folder = tmp_path / "mail"
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        process = _start_run(settings, rut, output, DTEHUB_MAIL_FOLDER=str(folder))
        try:
            deadline = time.monotonic() + 60
            while not (folder.is_dir() and any(folder.glob("*.eml"))) and process.poll() is None:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.002)
            process.send_signal(signal.SIGKILL)  # while it writes its first batch
        finally:
            process.wait(10)
    assert process.returncode == -signal.SIGKILL, log.read_text()
    at_kill = {m.id: m.status for m in world.messages()}
    assert Counter(at_kill.values())["sent"] < 250
    before = _files(folder)

    summary = service.run(
        world.factory,
        reminder_settings(settings, smtp_url=None, mail_folder=str(folder)),
        day=DAY,
        transport=FolderTransport(folder),
        company_id=world.company_id,
        clock=lambda: datetime.now(UTC) + timedelta(minutes=10),  # the dead run's leases are over
    )

    messages = world.messages()
    assert Counter(m.status for m in messages) == {"sent": 250}
    assert summary.unknown == 0
    after = _files(folder)
    assert {name: after[name] for name in before} == before  # no file written twice
    assert sorted(after) == sorted(f"{m.id:08d}.eml" for m in messages)
    for message in messages:
        assert _message_id(after[f"{message.id:08d}.eml"][1]) == message.message_id
    # The dead run's files are recorded sent; those of its batch it had not written went out now.
    assert summary.sent == 250 - len(before) - Counter(at_kill.values())["sent"]
