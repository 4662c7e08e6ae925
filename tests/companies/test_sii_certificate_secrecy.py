"""A full run with a certificate, by real processes (``dtehub serve``, the CLI), and then a search of
everything it left (the server's debug log, the commands' output, the database's files) for the
certificate's password, its file, its private key, the ``DTEHUB_SECRET_KEY`` and the keys derived
from it: none of them may be there in clear."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

from dtehub.kit.sealing import Purpose
from dtehub.sii.emulator import TestCertificateAuthority
from tests.servers import free_port, wait_until_up

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"
PASSWORD = "pfx-clave-Zq81-secreta"
WRONG_PASSWORD = "pfx-clave-errada-77Lm"
SECRET_KEY = "run-secret-key-for-the-grep-test-0123456789"
RUT = "76453707-6"


def _derived(purpose: Purpose) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.label.encode("ascii"))
    return hkdf.derive(SECRET_KEY.encode())


def test_a_full_run_leaves_no_password_file_or_key_in_logs_output_or_database(tmp_path: Path) -> None:
    ca = TestCertificateAuthority.load_or_create(tmp_path / "ca")
    pfx = ca.issue_person_certificate(rut="12345678-5", name="Juana Pérez", password=PASSWORD.encode())
    expiring = ca.issue_person_certificate(
        rut="12345678-5",
        name="Juana Pérez",
        password=PASSWORD.encode(),
        valid_until=datetime.now(UTC) + timedelta(days=5),
    )
    pfx_file = tmp_path / "persona.pfx"
    pfx_file.write_bytes(pfx)
    key, _, _ = pkcs12.load_key_and_certificates(pfx, PASSWORD.encode())
    assert key is not None
    key_der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())

    database = tmp_path / "run.db"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    environment.update(
        DTEHUB_DATABASE_URL=f"sqlite:///{database}",
        DTEHUB_SECRET_KEY=SECRET_KEY,
        DTEHUB_LOG_LEVEL="debug",
        NO_COLOR="1",
    )
    outputs: list[str] = []

    def cli(
        *args: str, password: str | None = None, typed: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = dict(environment)
        if password is not None:
            env["DTEHUB_PFX_PASSWORD"] = password
        done = subprocess.run(
            [str(DTEHUB), *args],
            env=env,
            input=typed,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        outputs.extend((done.stdout, done.stderr))
        return done

    assert cli("db", "upgrade").returncode == 0
    created = cli("companies", "create", "--rut", RUT, "--name", "DUEMINT SPA")
    token = json.loads(created.stdout)["token"]

    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(DTEHUB), "serve", "--port", str(port)], env=environment, stdout=output, stderr=output
        )
    encoded = base64.b64encode(pfx).decode()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server, log)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            added = http.post(
                "/v1/updateCompanySiiCertificate",
                json={"certificate_pfx_base64": encoded, "certificate_password": PASSWORD},
            )
            wrong = http.post(
                "/v1/updateCompanySiiCertificate",
                json={"certificate_pfx_base64": encoded, "certificate_password": WRONG_PASSWORD},
            )
            soon = http.post(
                "/v1/updateCompanySiiCertificate",
                json={
                    "certificate_pfx_base64": base64.b64encode(expiring).decode(),
                    "certificate_password": PASSWORD,
                },
            )
            company = http.get("/v1/getCompany")
            audit_log = http.get("/v1/getAuditLog")
            deleted = http.request("DELETE", "/v1/deleteCompanySiiCertificate")
    finally:
        server.terminate()
        server.wait(timeout=30)
    answers = [added, wrong, soon, company, audit_log, deleted]
    assert [a.status_code for a in answers] == [200, 422, 200, 200, 200, 200]
    assert "expires in 4 days" in company.json()["siiCertificate"]["warning"]

    by_variable = cli("companies", "certificate", "--rut", RUT, "--pfx", str(pfx_file), password=PASSWORD)
    prompted = cli(
        "companies", "certificate", "--rut", RUT, "--pfx", str(pfx_file), typed=WRONG_PASSWORD + "\n"
    )

    assert by_variable.returncode == 0, by_variable.stderr
    assert json.loads(by_variable.stdout)["siiCertificate"]["holderRut"] == "12345678-5"
    assert prompted.returncode == 1
    assert "wrong password" in prompted.stderr
    assert "Traceback" not in prompted.stderr

    logged = log.read_bytes()
    assert b"POST /v1/updateCompanySiiCertificate" in logged  # the log is there and says what was done
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("run.db*"))
    assert b"12345678-5" in stored  # the holder is kept in clear: it is no secret
    assert b"companies.certificate" in stored  # and the CLI's change is in the audit log
    assert "updateCompanySiiCertificate" in audit_log.text
    every_trace = {
        "the server's log": logged,
        "the commands' output": "\n".join(outputs).encode(),
        "the answers": b"\n".join(a.content for a in answers),
        "the database": stored,
    }
    secrets = {
        "the password": PASSWORD.encode(),
        "the wrong password": WRONG_PASSWORD.encode(),
        "the file (base64)": encoded[100:160].encode(),
        "the file": pfx[200:264],
        "the private key": key_der[100:164],
        "DTEHUB_SECRET_KEY": SECRET_KEY.encode(),
        "the certificates' key": _derived(Purpose.SII_CERTIFICATE),
        "the webhooks' key": _derived(Purpose.WEBHOOK_SECRET),
    }
    found = [
        f"{name} in {where}"
        for where, data in every_trace.items()
        for name, s in secrets.items()
        if s in data
    ]
    assert found == []
