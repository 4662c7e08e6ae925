"""``dtehub sii-emulator``: init, make-cert (the password from stdin, never shown) and serve."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from typer.testing import CliRunner

from dtehub.sii.emulator import holder_rut
from dtehub.sii.emulator.cli import emulator_app
from tests.sii.emulator.browser import LISTING, Browser, login_code

runner = CliRunner()


@dataclass(frozen=True)
class Served:
    """An emulator running in another process."""

    base_url: str
    ca_bundle: Path


SECRET = "una-clave-secreta"


@pytest.fixture
def initialized(tmp_path: Path) -> Path:
    result = runner.invoke(emulator_app, ["init", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path


def test_init_makes_a_data_directory_to_start_from(initialized: Path) -> None:
    config = json.loads((initialized / "emulator.json").read_text())

    assert config["people"][0]["rut"] == "12345678-5"
    assert (initialized / "dtes").is_dir()
    assert (initialized / "ca" / "ca.pem").exists()
    assert (initialized / "ca" / "ca-key.pem").stat().st_mode & 0o077 == 0


def test_make_cert_reads_the_password_from_stdin_and_never_shows_it(initialized: Path) -> None:
    out = initialized / "juana.pfx"

    result = runner.invoke(
        emulator_app,
        ["make-cert", "--data", str(initialized), "--rut", "12.345.678-5", "--name", "Juana Pérez",
         "--out", str(out), "--legacy-rc2"],
        input=f"{SECRET}\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "12345678-5" in result.output
    _, certificate, _ = pkcs12.load_key_and_certificates(out.read_bytes(), SECRET.encode())
    assert certificate is not None
    assert holder_rut(certificate) == "12345678-5"
    assert out.stat().st_mode & 0o077 == 0


def test_make_cert_says_when_the_person_cannot_log_in(initialized: Path) -> None:
    result = runner.invoke(
        emulator_app,
        ["make-cert", "--data", str(initialized), "--rut", "11111111-1", "--name", "Pedro",
         "--out", str(initialized / "pedro.pfx"), "--rut-in", "serial", "--expired"],
        input=f"{SECRET}\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "not among the people" in result.output


def test_make_cert_needs_a_password_and_keeps_existing_files(initialized: Path) -> None:
    out = initialized / "juana.pfx"
    arguments = [
        "make-cert",
        "--data",
        str(initialized),
        "--rut",
        "12345678-5",
        "--name",
        "J",
        "--out",
        str(out),
    ]

    assert runner.invoke(emulator_app, arguments, input="").exit_code == 2
    assert not out.exists()
    out.write_bytes(b"mine")
    assert runner.invoke(emulator_app, arguments, input=f"{SECRET}\n").exit_code == 1
    assert out.read_bytes() == b"mine"


@pytest.mark.slow
def test_serve_prints_the_settings_and_stops_on_ctrl_c(initialized: Path) -> None:
    command = [
        sys.executable, "-c", "from dtehub.sii.emulator.cli import emulator_app; emulator_app()",
        "serve", "--data", str(initialized), "--port", "0",
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        try:
            lines = dict(process.stdout.readline().strip().split("=", 1) for _ in range(4))
            base_url = lines["DTEHUB_SII_AUTH_URL"]
            assert lines["DTEHUB_SII_PORTAL_URL"] == lines["DTEHUB_SII_LOGOUT_URL"] == base_url
            assert lines["DTEHUB_SII_CA_BUNDLE"] == str(initialized / "ca" / "ca.pem")

            with Browser(Served(base_url, Path(lines["DTEHUB_SII_CA_BUNDLE"]))) as browser:
                assert login_code(browser.client.get(LISTING)) == "28"
        finally:
            process.send_signal(signal.SIGINT)
            _, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors
    assert "stopped" in errors
