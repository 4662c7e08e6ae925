"""``dtehub sii sync`` as a person runs it: a real process, the emulator's RCV over TLS, a .pfx file."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dtehub.config import Settings
from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from tests.sii.rcv.conftest import COMPANY, HOLDER, PASSWORD
from tests.sii_sync.conftest import Committed, company_committed

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"


@pytest.fixture
def company(settings: Settings) -> Iterator[Committed]:
    with company_committed(settings, COMPANY) as committed:
        yield committed


def run_sync(
    settings: Settings, sii: Emulator, pfx: Path | None, *more: str
) -> subprocess.CompletedProcess[str]:
    url = sii.base_url
    environment = {
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
    return subprocess.run(
        [
            *(str(DTEHUB), "sii", "sync", "--company", COMPANY, "--since", "2026-07"),
            *(("--pfx", str(pfx)) if pfx is not None else ()),
            *more,
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


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
