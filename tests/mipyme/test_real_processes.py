"""The real ``dtehub`` processes against the SII emulator: ``dtehub mipyme get`` and a running server,
configured by their environment as a user would, with every secret kept out of their output."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import httpx

from dtehub.config import Settings
from dtehub.sii.emulator import Emulator
from tests.conftest import FIXTURES
from tests.mipyme.conftest import COMPANY, HOLDER, PASSWORD, Certificates
from tests.servers import free_port, wait_until_up

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"
FACTURA = (FIXTURES / "DTE--76399752-9--33--25568.xml").read_bytes()


def sii_environment(emulator: Emulator, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    return {
        **clean,
        "DTEHUB_SII_AUTH_URL": emulator.base_url,
        "DTEHUB_SII_PORTAL_URL": emulator.base_url,
        "DTEHUB_SII_LOGOUT_URL": emulator.base_url,
        "DTEHUB_SII_CA_BUNDLE": str(emulator.ca_bundle),
        "NO_COLOR": "1",
        **extra,
    }


def test_mipyme_get_writes_the_xml_and_pdf_and_exits_with_the_status(
    tmp_path: Path, certificates: Certificates, sii: Emulator
) -> None:
    pfx = tmp_path / "persona.pfx"
    pfx.write_bytes(certificates.holder)
    out = tmp_path / "out"
    command = [str(DTEHUB), "mipyme", "get", "--pfx", str(pfx), "--company", COMPANY, "--type", "33"]
    environment = sii_environment(sii, DTEHUB_PFX_PASSWORD=PASSWORD)
    done = subprocess.run(
        [*command, "--folio", "25568", "--out", str(out)], env=environment, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == 0
    assert summary["document"]["total_amount"] == 230992
    xml = Path(summary["document"]["xml_file"]).read_bytes()
    assert FACTURA[FACTURA.index(b"<DTE") :].rstrip() in xml
    assert Path(summary["document"]["pdf_file"]).read_bytes().startswith(b"%PDF")
    assert PASSWORD not in done.stdout + done.stderr

    missing = subprocess.run(
        [*command, "--folio", "999"], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert missing.returncode == 5
    assert "no document of type 33 with folio 999" in missing.stderr
    assert missing.stdout == ""

    # Without the variable, the password is asked (here on stdin, as a prompt would read it).
    prompted = {k: v for k, v in environment.items() if k != "DTEHUB_PFX_PASSWORD"}
    wrong = subprocess.run(
        [*command, "--folio", "25568"], env=prompted, input="not-the-password\n", capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "wrong password" in wrong.stderr
    assert "not-the-password" not in wrong.stdout + wrong.stderr

    # An error is one line, whatever its length (SII's CA bundle named relative, from another folder).
    bundle = "sii-data/" + "a-long-folder-name/" * 4 + "ca/ca.pem"
    unreadable = subprocess.run(
        [*command, "--folio", "25568"], env={**environment, "DTEHUB_SII_CA_BUNDLE": bundle},
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert unreadable.returncode == 4
    assert unreadable.stderr.splitlines() == [
        f"error (status 4): DTEHUB_SII_CA_BUNDLE ({bundle}) cannot be read as PEM certificates"
    ]


def test_a_running_server_answers_from_sii_and_logs_no_secret(
    tmp_path: Path,
    settings: Settings,
    committed_company: tuple[int, str],
    certificates: Certificates,
    sii: Emulator,
) -> None:
    _, token = committed_company
    open_before = sii.open_sessions(HOLDER)
    port = free_port()
    log = tmp_path / "server.log"
    environment = sii_environment(sii, DTEHUB_DATABASE_URL=settings.database_url, DTEHUB_LOG_LEVEL="debug")
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(DTEHUB), "serve", "--port", str(port)], env=environment, stdout=output, stderr=output
        )
    pfx = base64.b64encode(certificates.holder).decode()
    body = {
        "certificate_pfx_base64": pfx,
        "certificate_password": PASSWORD,
        "tax_id_code": COMPANY,
        "document_type_taxbureau": 33,
        "document_number": 25568,
    }
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server, log)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            ok = http.post("/V1/mipyme_get_document", json=body)
            wrong = http.post(
                "/V1/mipyme_get_document", json={**body, "certificate_password": "clave-errada"}
            )
            revoked = http.post(
                "/V1/mipyme_get_document",
                json={**body, "certificate_pfx_base64": base64.b64encode(certificates.revoked).decode()},
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (ok.status_code, ok.json()["status"]) == (200, 0)
    assert (wrong.status_code, wrong.json()["status"]) == (422, 2)
    assert (revoked.status_code, revoked.json()["status"]) == (502, 3)
    assert sii.open_sessions(HOLDER) == open_before  # logged out at shutdown

    logged = log.read_text(errors="replace")
    assert "POST /V1/mipyme_get_document" in logged  # the log is there, and says what was done
    for secret in (PASSWORD, "clave-errada", pfx[:40], pfx[-40:], token, "TOKEN="):
        assert secret not in logged
