"""``dtehub factoring check``: the verdict as JSON on stdout, a summary for people on stderr, the exit status
saying cedible (0) or not (3); SII asked over TLS with the certificate of --pfx."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dtehub import cli, migrate
from dtehub.config import get_settings
from dtehub.db import create_engine, create_sessionmaker
from dtehub.dte.factory import build_dte
from dtehub.ingest import importer
from dtehub.sii.emulator import Emulator, TestCertificateAuthority
from tests.conftest import LINKS
from tests.factoring.conftest import BUYER, SELLER, SELLER_PERSON, next_folio
from tests.sii.ws.conftest import PASSWORD


def test_the_command_checks_a_document_and_says_why_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sii: Emulator, ws_data: Path
) -> None:
    db = tmp_path / "factoring-cli.db"
    migrate.upgrade(f"sqlite:///{db}")
    for name in [k for k in os.environ if k.startswith("DTEHUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DTEHUB_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("DTEHUB_SII_WS_URL", sii.base_url)
    monkeypatch.setenv("DTEHUB_SII_RECLAMO_URL", sii.base_url)
    monkeypatch.setenv("DTEHUB_SII_CA_BUNDLE", str(sii.ca_bundle))
    monkeypatch.setenv("DTEHUB_PFX_PASSWORD", PASSWORD)
    monkeypatch.setenv("DTEHUB_SECRET_KEY", "una-clave-de-prueba-de-32-caracteres-o-mas")
    get_settings.cache_clear()
    pfx = tmp_path / "vera.pfx"
    authority = TestCertificateAuthority.load_or_create(ws_data / "ca")
    pfx.write_bytes(
        authority.issue_person_certificate(rut=SELLER_PERSON, name="V", password=PASSWORD.encode())
    )
    runner = CliRunner()

    created = runner.invoke(cli.app, ["companies", "create", "--rut", SELLER, "--name", "VENDEDORA SPA"])
    assert created.exit_code == 0, created.output
    old, fresh = next_folio(), next_folio()
    for folio in (old, fresh):
        path = tmp_path / f"{folio}.xml"
        path.write_bytes(build_dte(33, folio, SELLER, BUYER, 119_000, issue_date=date.today(), signed=True))
        engine = create_engine(f"sqlite:///{db}", pool_size=1)
        with ThreadPoolExecutor(1) as threads:
            company_id = int(json.loads(created.stdout)["id"])
            importer.import_paths(
                create_sessionmaker(engine),
                company_id,
                [path],
                executor=threads,
                max_bytes=1 << 20,
                links=LINKS,
            )
        engine.dispose()
    sii.acceptances.receive(SELLER, 33, old, BUYER, at=sii.acceptances.now() - timedelta(days=9))
    sii.acceptances.receive(SELLER, 33, fresh, BUYER)

    def check(folio: int, *more: str) -> tuple[int, dict[str, object], str]:
        args = ["factoring", "check", "--company", SELLER, "--type", "33", "--folio", str(folio), *more]
        done = runner.invoke(cli.app, args)
        return done.exit_code, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr

    status, answer, said = check(old, "--pfx", str(pfx))
    assert (status, answer["cedible"]) == (0, True)
    assert "cedible" in said
    assert "rtcCession" not in said  # SII's RTC has no cession of it

    status, answer, said = check(fresh, "--pfx", str(pfx))
    assert (status, answer["cedible"]) == (3, False)
    assert "not cedible" in said
    assert "window (sii)" in said
    assert "what to do:" in said

    status, answer, said = check(old)  # no certificate stored: SII is not asked, and that is said
    assert status == 3
    assert "no SII certificate" in said

    status, _, said = check(999_999_999)
    assert status == 1
    assert "no document of type 33 and folio 999999999" in said
    assert PASSWORD not in said

    status, _, said = check(old, "--pfx", str(tmp_path / "missing.pfx"))  # a file named that does not exist
    assert status == 2
    assert f"error: cannot read {tmp_path / 'missing.pfx'}: No such file or directory" in said

    # Without DTEHUB_SECRET_KEY, a company with no certificate is told it has none, not to set the key.
    monkeypatch.delenv("DTEHUB_SECRET_KEY")
    get_settings.cache_clear()
    status, answer, said = check(old)
    assert status == 3
    assert "no SII certificate" in said
    assert "DTEHUB_SECRET_KEY" not in said
    get_settings.cache_clear()
