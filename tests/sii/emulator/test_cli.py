"""``dtehub sii-emulator``: init, make-cert (the password from stdin, never shown) and serve."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from typer.testing import CliRunner

from dtehub.sii.emulator import TestCertificateAuthority, holder_rut
from dtehub.sii.emulator.cli import emulator_app
from tests.sii.emulator.browser import LISTING, Browser, login_code
from tests.sii.emulator.conftest import JUANA, PASSWORD, pem_from_pfx
from tests.sii.emulator.test_handshake import refusal

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


@contextlib.contextmanager
def serving(data: Path, *options: str) -> Iterator[Served]:
    """``dtehub sii-emulator serve`` in another process, stopped by Ctrl-C (SIGINT) at the end."""
    command = [
        sys.executable, "-c", "from dtehub.sii.emulator.cli import emulator_app; emulator_app()",
        "serve", "--data", str(data), "--port", "0", *options,
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        try:
            lines = dict(process.stdout.readline().strip().split("=", 1) for _ in range(7))
            base_url = lines["DTEHUB_SII_AUTH_URL"]
            assert lines["DTEHUB_SII_PORTAL_URL"] == lines["DTEHUB_SII_LOGOUT_URL"] == base_url
            assert lines["DTEHUB_SII_RCV_URL"] == base_url
            assert lines["DTEHUB_SII_CA_BUNDLE"] == str(data / "ca" / "ca.pem")
            assert lines["DTEHUB_SII_WS_URL"] == lines["DTEHUB_SII_RECLAMO_URL"] == base_url
            yield Served(base_url, Path(lines["DTEHUB_SII_CA_BUNDLE"]))
        finally:
            process.send_signal(signal.SIGINT)
            _, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors
    assert "stopped" in errors


@pytest.mark.slow
def test_serve_prints_the_settings_and_stops_on_ctrl_c(initialized: Path) -> None:
    with serving(initialized) as served, Browser(served) as browser:
        assert login_code(browser.client.get(LISTING)) == "28"


def test_ctrl_c_right_after_the_settings_stops_it_cleanly(initialized: Path) -> None:
    # The settings are the signal that it is up: Ctrl-C at once must stop it as cleanly as later.
    with serving(initialized):
        pass


@pytest.mark.slow
def test_serve_refuses_certificates_in_the_handshake_as_told(initialized: Path) -> None:
    authority = TestCertificateAuthority.load_or_create(initialized / "ca")
    expired = initialized / "expired.pem"
    expired.write_bytes(
        pem_from_pfx(
            authority.issue_person_certificate(rut=JUANA, name="J", password=PASSWORD, expired=True), PASSWORD
        )
    )
    options = ["--tls-version", "1.3", "--refuse-expired", "--require-certificate"]

    with serving(initialized, *options) as served:
        assert refusal(served, expired) == "SSLV3_ALERT_CERTIFICATE_EXPIRED"
        assert refusal(served, None) == "TLSV13_ALERT_CERTIFICATE_REQUIRED"


def test_serve_says_which_handshake_it_cannot_serve(initialized: Path) -> None:
    unknown = runner.invoke(emulator_app, ["serve", "--data", str(initialized), "--refuse-all-with", "nope"])
    assert unknown.exit_code == 2
    assert "'nope' is no TLS alert; one of:" in unknown.output
    assert "access_denied" in unknown.output

    not_pem = initialized / "not-a-ca.pem"
    not_pem.write_text("not a certificate")
    unreadable = runner.invoke(
        emulator_app, ["serve", "--data", str(initialized), "--trust-ca", str(not_pem)]
    )
    assert unreadable.exit_code == 1
    assert f"{not_pem} cannot be read as PEM CA certificates" in " ".join(unreadable.output.split())


def test_serve_prints_settings_that_hold_from_any_folder(tmp_path: Path) -> None:
    """``--data`` given relative: the printed CA bundle is absolute, so the settings work when pasted
    into the environment of a dtehub run from another folder."""
    data = tmp_path / "sii-data"
    assert runner.invoke(emulator_app, ["init", "--data", str(data)]).exit_code == 0
    command = [
        sys.executable, "-c", "from dtehub.sii.emulator.cli import emulator_app; emulator_app()",
        "serve", "--data", "sii-data", "--port", "0",
    ]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    ) as process:
        assert process.stdout is not None
        try:
            lines = dict(process.stdout.readline().strip().split("=", 1) for _ in range(7))
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=10)

    assert lines["DTEHUB_SII_CA_BUNDLE"] == str(data / "ca" / "ca.pem")


def test_what_init_prints_keeps_each_command_on_one_line(tmp_path: Path) -> None:
    data = tmp_path / ("a-long-folder-name-" * 4) / "sii-data"

    result = runner.invoke(emulator_app, ["init", "--data", str(data)])

    assert result.exit_code == 0, result.output
    assert (
        f"Next: dtehub sii-emulator make-cert --data {data} --rut 12345678-5 --name '...' --out cert.pfx"
        in result.stderr.splitlines()
    )
