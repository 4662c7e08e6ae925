"""``dtehub sii sync`` as a person runs it: a real process, the emulator's RCV over TLS, a .pfx file."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.models import AuditEvent, Document, Note, SiiSyncLease, SiiSyncRun
from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from dtehub.sii_sync.executor import SyncExecutor
from dtehub.sii_sync.runs import Trigger
from tests.servers import free_port
from tests.sii.rcv.conftest import COMPANY, HOLDER, PASSWORD
from tests.sii_sync.conftest import Committed, company_committed
from tests.sii_sync.sources import clients_source

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"


@pytest.fixture
def company(settings: Settings) -> Iterator[Committed]:
    with company_committed(settings, COMPANY) as committed:
        yield committed


def environment(settings: Settings, sii: Emulator, url: str | None = None) -> dict[str, str]:
    """The command's environment: the test's database, SII at the emulator (or at ``url``)."""
    url = url or sii.base_url
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")},
        "DTEHUB_DATABASE_URL": settings.database_url,
        "DTEHUB_SII_AUTH_URL": url,
        "DTEHUB_SII_PORTAL_URL": url,
        "DTEHUB_SII_LOGOUT_URL": url,
        "DTEHUB_SII_RCV_URL": url,
        "DTEHUB_SII_CA_BUNDLE": str(sii.ca_bundle),
        "DTEHUB_SII_REQUESTS_PER_SECOND": "100",
        "DTEHUB_PFX_PASSWORD": PASSWORD,
        "COLUMNS": "40",  # a narrow terminal must not break an error's line
    }


def command(pfx: Path | None, *more: str) -> list[str]:
    return [
        *(str(DTEHUB), "sii", "sync", "--company", COMPANY, "--since", "2026-07"),
        *(("--pfx", str(pfx)) if pfx is not None else ()),
        *more,
    ]


def run_sync(
    settings: Settings, sii: Emulator, pfx: Path | None, *more: str, url: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(pfx, *more),
        env=environment(settings, sii, url),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def person(rcv_data: Path, tmp_path: Path) -> Path:
    ca = TestCertificateAuthority.load_or_create(rcv_data / "ca")
    pfx = tmp_path / "persona.pfx"
    pfx.write_bytes(ca.issue_person_certificate(rut=HOLDER, name="Juana Pérez", password=PASSWORD.encode()))
    return pfx


def test_the_command_syncs_and_shows_the_run_then_finds_nothing_new(
    settings: Settings, company: Committed, sii: Emulator, rcv_data: Path, tmp_path: Path
) -> None:
    ca = TestCertificateAuthority.load_or_create(rcv_data / "ca")
    pfx = tmp_path / "persona.pfx"
    pfx.write_bytes(ca.issue_person_certificate(rut=HOLDER, name="Juana Pérez", password=PASSWORD.encode()))

    first = run_sync(settings, sii, pfx)

    assert first.returncode == 0, first.stderr
    run = json.loads(first.stdout)
    assert run["state"] == "done"
    assert run["trigger"] == "cli"
    assert run["documentsCreated"] > 0
    assert f"run {run['id']}: done" in first.stderr
    assert "documents created:" in first.stderr
    assert PASSWORD not in first.stdout + first.stderr

    second = run_sync(settings, sii, pfx)

    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["documentsCreated"] == 0


def test_a_certificate_or_a_period_it_cannot_use_is_a_clear_error(
    settings: Settings, company: Committed, sii: Emulator, rcv_data: Path, tmp_path: Path
) -> None:
    missing = run_sync(settings, sii, tmp_path / "missing.pfx")
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr

    ca = TestCertificateAuthority.load_or_create(rcv_data / "ca")
    pfx = tmp_path / "persona.pfx"
    pfx.write_bytes(ca.issue_person_certificate(rut=HOLDER, name="Juana Pérez", password=PASSWORD.encode()))
    too_early = run_sync(settings, sii, pfx, "--since", "2016-01")
    assert too_early.returncode == 2
    assert "before August 2017" in too_early.stderr
    for answer in (missing, too_early):
        assert "Traceback" not in answer.stderr


def test_a_refusal_exits_1_on_one_line(
    settings: Settings, company: Committed, sii: Emulator, rcv_data: Path, tmp_path: Path
) -> None:
    no_certificate = run_sync(settings, sii, None)
    damaged = tmp_path / "damaged.pfx"
    damaged.write_bytes(b"not a PKCS#12 file")
    unreadable = run_sync(settings, sii, damaged)

    assert no_certificate.returncode == 1
    assert no_certificate.stderr.splitlines()[-1] == (
        "error: the company has no SII certificate to sync with: add one with updateCompanySiiCertificate "
        "(or dtehub companies certificate)"
    )
    assert unreadable.returncode == 1
    assert unreadable.stderr == "error: the certificate is not a PKCS#12 (.pfx or .p12) file\n"
    for answer in (no_certificate, unreadable):
        assert "Traceback" not in answer.stderr


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def run_on_a_terminal(settings: Settings, sii: Emulator, pfx: Path) -> tuple[int, str, str]:
    """The command with its stderr on a pseudo-terminal (as a person at a shell sees it) and its stdout
    piped: (exit status, what the terminal showed without its control sequences, stdout)."""
    master, slave = pty.openpty()
    shown: list[bytes] = []

    def drain() -> None:  # a pseudo-terminal's buffer is small: read it while the command writes
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command closed its side
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain)
    try:
        process = subprocess.Popen(
            command(pfx),
            env={**environment(settings, sii), "TERM": "xterm", "COLUMNS": "150"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
        )
        os.close(slave)
        slave = -1
        reader.start()
        stdout, _ = process.communicate(timeout=300)
        reader.join(timeout=60)
    finally:
        if slave != -1:
            os.close(slave)
        os.close(master)
    text = ANSI.sub("", b"".join(shown).decode("utf-8", "replace")).replace("\r\n", "\n")
    return process.returncode, text, stdout.decode()


def test_on_a_terminal_a_progress_bar_then_the_summary(
    settings: Settings, company: Committed, sii: Emulator, rcv_data: Path, tmp_path: Path
) -> None:
    status, shown, stdout = run_on_a_terminal(settings, sii, person(rcv_data, tmp_path))

    assert status == 0, shown
    run = json.loads(stdout)
    assert run["state"] == "done"
    created = run["documentsCreated"]
    assert created > 0
    total = run["periodsTotal"]  # July to the current month: the command runs on today's clock
    bar = "[━╸╺]+"
    # The bar as it started: no period done, nothing yet to estimate from.
    assert re.search(rf"syncing 2026-07 {bar} 0/{total} periods · 0 documents - documents/s -:--:--", shown)
    # Under way: the period being read, the periods done of the total, the documents so far, their rate
    # and the time left.
    under_way = rf"syncing 2026-\d\d {bar} [1-9]\d*/{total} periods · [\d,]+ documents [\d,]+ documents/s"
    assert re.search(rf"{under_way} \d+:\d\d:\d\d", shown), shown
    # And as it ended: every period, the documents, their rate, no time left.
    ended = rf"syncing  {bar} {total}/{total} periods · {created:,} documents ([\d,]+) documents/s 0:00:00"
    finished = list(re.finditer(ended, shown))
    assert finished, shown
    assert int(finished[-1].group(1).replace(",", "")) > 0
    # Then the summary, under the bar.
    summary = shown[finished[-1].end() :].strip().splitlines()
    assert summary[:2] == [
        f"run {run['id']}: done, {total} of {total} periods (2026-07 to {run['until']})",
        f"documents created: {created}, updated: 0, XMLs fetched: {run['xmlsFetched']}",
    ]
    assert "Traceback" not in shown


def test_another_run_of_the_company_under_way_exits_3_and_changes_nothing(
    settings: Settings, company: Committed, sii: Emulator, rcv_data: Path, tmp_path: Path
) -> None:
    # A server's run of the company holds its lease (queued, its process alive: the lease is current).
    server = SyncExecutor(company.factory, clients_source(1))
    with unit_of_work(company.factory) as session:
        held = server.request(session, company.company_id, since=None, until=None, trigger=Trigger.API)
        held_id = held.id

    busy = run_sync(settings, sii, person(rcv_data, tmp_path))

    assert busy.returncode == 3  # docs/sii-sync.md: another run of the company is under way
    assert busy.stdout == ""
    assert busy.stderr == (
        f"a sync of this company is already running (run {held_id}); "
        f"follow it with getSiiSyncRun?id={held_id}\n"
    )
    with unit_of_work(company.factory, writes=False) as session:
        runs = session.scalars(select(SiiSyncRun).where(SiiSyncRun.company_id == company.company_id)).all()
        assert [(r.id, r.state, r.periods_done) for r in runs] == [(held_id, "queued", [])]
        lease = session.get(SiiSyncLease, company.company_id)
        assert lease is not None
        assert (lease.run_id, lease.holder) == (held_id, server.holder)
        assert session.scalar(select(func.count()).where(Document.company_id == company.company_id)) == 0
        audited = select(func.count()).where(
            AuditEvent.company_id == company.company_id, AuditEvent.action == "sii.sync"
        )
        assert session.scalar(audited) == 0


def test_sii_down_fails_the_run_saying_what_to_do_with_nothing_written(
    settings: Settings, company: Committed, sii: Emulator, rcv_data: Path, tmp_path: Path
) -> None:
    down = f"https://127.0.0.1:{free_port()}"  # nothing listens there: SII's hosts unreachable

    answer = run_sync(settings, sii, person(rcv_data, tmp_path), url=down)

    assert answer.returncode == 1
    run = json.loads(answer.stdout)
    assert run["state"] == "failed"
    assert run["error"]["code"] == "sii_unavailable"
    assert "could not reach SII" in run["error"]["message"]
    assert run["error"]["message"].endswith("retry later")
    assert (run["periodsDone"], run["documentsCreated"]) == (0, 0)
    assert answer.stderr.splitlines()[-1] == f"error (sii_unavailable): {run['error']['message']}"
    assert "Traceback" not in answer.stderr
    with unit_of_work(company.factory, writes=False) as session:
        assert session.scalar(select(func.count()).where(Document.company_id == company.company_id)) == 0
        assert session.scalar(select(func.count()).where(Note.company_id == company.company_id)) == 0
        assert session.get(SiiSyncLease, company.company_id) is None  # given back: a retry may start now

    # SII back: the same command syncs at once.
    again = run_sync(settings, sii, person(rcv_data, tmp_path))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["documentsCreated"] > 0
