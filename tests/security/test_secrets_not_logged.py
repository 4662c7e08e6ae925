"""No secret in any log: a real ``dtehub serve`` at DEBUG, driven through a whole scenario (company and
tokens by the CLI, documents from XML, files, webhooks with their secret and a delivery, payments,
portal links, SMTP with a password, a MIPYME retrieval with a certificate and its password), then every
byte the server and the CLI wrote is searched for every secret the scenario used.

A token appears once, on purpose, in the stdout of ``companies create``, the command that issued it:
that is how it is handed over. Nothing else may show it (``tokens revoke`` takes it as its argument).

The scenario runs on a SQLite database of its own, whatever the test database: the PostgreSQL run skips
it, as it would repeat the same run (and the CLI's company would collide with the tests' RUTs).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from dtehub.sii.emulator import Emulator
from tests.conftest import FIXTURES
from tests.mipyme.conftest import COMPANY, PASSWORD, Certificates, certificates, emulator, sii, sii_data
from tests.servers import free_port, wait_until_up
from tests.webhooks.receiver import Receiver, receiver

__all__ = ["certificates", "emulator", "sii", "sii_data"]  # the MIPYME tests' fixtures, used here

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"
FACTURA = (FIXTURES / "DTE--76399752-9--33--25568.xml").read_bytes()  # issued by COMPANY
SECRET_KEY = "secret-key-for-webhook-secrets-kept-out-of-logs-0001"
SMTP_PASSWORD = "smtp-Pa55word-never-logged"
WRONG_PFX_PASSWORD = "Clave-Errada-never-logged"
BOGUS_TOKEN = "dth_bogus-token-never-logged-0123456789abcdefghijkl"


class Nothing:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


@pytest.fixture
def smtp_port() -> Iterator[int]:
    """A plain SMTP server: dtehub refuses to send its password there (no STARTTLS), and logs that."""
    port = free_port()
    controller = Controller(Nothing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


class Outputs:
    """Everything the processes wrote, and the secrets the scenario used."""

    def __init__(self) -> None:
        self.texts: dict[str, bytes] = {}
        self.secrets: dict[str, str] = {}
        self.handed_over: dict[str, str] = {}  # secret -> the one output that may show it

    def secret(self, name: str, value: str) -> str:
        assert len(value) >= 8, name
        self.secrets[name] = value
        return value


def run_cli(outputs: Outputs, name: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(DTEHUB), *args], env=env, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    outputs.texts[f"{name} (stdout)"] = done.stdout
    outputs.texts[f"{name} (stderr)"] = done.stderr
    return done.stdout.decode()


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.skipif(
    bool(os.environ.get("DTEHUB_TEST_DATABASE_URL")), reason="runs on SQLite only: its own database"
)
def test_a_full_run_logs_no_secret(
    tmp_path: Path, certificates: Certificates, sii: Emulator, smtp_port: int, hook: Receiver
) -> None:
    outputs = Outputs()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    smtp_url = f"smtp://dtehub:{outputs.secret('SMTP password', SMTP_PASSWORD)}@127.0.0.1:{smtp_port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")},
        "DTEHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'dtehub.db'}",
        "DTEHUB_PUBLIC_URL": base,
        "DTEHUB_LOG_LEVEL": "debug",
        "DTEHUB_SECRET_KEY": outputs.secret("DTEHUB_SECRET_KEY", SECRET_KEY),
        "DTEHUB_SMTP_URL": smtp_url,
        "DTEHUB_REMINDERS_INTERVAL": "1",
        "DTEHUB_WEBHOOK_INTERVAL": "0.5",
        "DTEHUB_WEBHOOKS_ALLOW_PRIVATE": "true",
        "DTEHUB_SII_AUTH_URL": sii.base_url,
        "DTEHUB_SII_PORTAL_URL": sii.base_url,
        "DTEHUB_SII_LOGOUT_URL": sii.base_url,
        "DTEHUB_SII_CA_BUNDLE": str(sii.ca_bundle),
        "NO_COLOR": "1",
    }
    outputs.secret("SMTP URL", smtp_url)

    log = tmp_path / "server.log"
    with log.open("wb") as output:  # the server migrates the new database before it answers
        server = subprocess.Popen(
            [str(DTEHUB), "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=output, stderr=output
        )
    try:
        wait_until_up(base, server, log)
        created = json.loads(
            run_cli(
                outputs, "companies create", env, "companies", "create", "--rut", COMPANY, "--name", "EMPRESA"
            )
        )
        token = outputs.secret("token", created["token"])
        outputs.handed_over[token] = "companies create (stdout)"
        drive(base, token, outputs, certificates, hook)
        run_cli(outputs, "tokens revoke", env, "tokens", "revoke", token)
        with httpx.Client(base_url=base, timeout=30) as http:
            revoked = http.get("/v1/getTags", headers={"Authorization": f"Bearer {token}"})
            assert revoked.status_code == 401
        wait_for(lambda: len(hook.received) >= 2, 30)  # the webhook job signed and delivered with its secret
        wait_for(lambda: b"STARTTLS" in log.read_bytes(), 30)  # a reminders run refused to send the password
    finally:
        server.terminate()
        server.wait(timeout=30)
    outputs.texts["dtehub serve"] = log.read_bytes()

    served = outputs.texts["dtehub serve"].decode(errors="replace")
    assert "POST /v1/createWebhook" in served  # the log is there and says what was done
    assert "/portal/invoice/" in served

    leaks = [
        f"{name} in {where}"
        for name, value in outputs.secrets.items()
        for where, text in outputs.texts.items()
        if value.encode() in text and outputs.handed_over.get(value) != where
    ]
    raw_pfx = certificates.holder
    leaks += [
        f"certificate bytes in {where}" for where, text in outputs.texts.items() if raw_pfx[-64:] in text
    ]
    assert leaks == []


def drive(base: str, token: str, outputs: Outputs, certificates: Certificates, hook: Receiver) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:

        def ok(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            response = http.request(method, path, json=body)
            assert response.status_code == 200, (path, response.text)
            answer: dict[str, Any] = response.json()
            return answer

        def keys_of(item: dict[str, Any], name: str) -> None:
            for field in ("url", "xml", "pdf"):
                link = item.get(field)
                if isinstance(link, str) and "/portal/" in link:
                    outputs.secret(f"{name} {field} key", link.split("?")[0].rsplit("/", 1)[1])

        webhook = ok(
            "POST", "/v1/createWebhook", {"url": hook.url, "events": ["document.created", "payment.created"]}
        )
        outputs.secret("webhook secret", webhook["secret"])

        document = ok(
            "POST", "/v1/createDocumentFromXml", {"xml": base64.b64encode(FACTURA).decode(), "send": True}
        )
        keys_of(document, "document")
        client = ok("GET", f"/v1/getClient?id={document['client']['id']}")
        keys_of(client, "client")
        ok("POST", "/v1/createContact", {"clientId": client["id"], "name": "Ana", "email": "ana@example.cl"})
        created = ok(
            "POST",
            "/v1/createDocument",
            {
                "clientId": client["id"],
                "number": "9001",
                "issueDate": "2024-03-01",
                "total": "1190",
                "taxes": "190",
                "code": 33,
                "send": True,
            },
        )
        keys_of(created, "created document")
        file = ok(
            "POST",
            "/v1/createFile",
            {
                "documentId": created["id"],
                "name": "oc.pdf",
                "content": base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode(),
            },
        )
        keys_of(file, "file")
        ok(
            "POST",
            "/v1/createPayment",
            {
                "date": "2024-03-02",
                "amount": "100",
                "clientId": client["id"],
                "documents": [{"id": created["id"], "amount": "100"}],
            },
        )
        renewed = ok("POST", "/v1/renewDocumentKey", {"id": created["id"]})
        keys_of(renewed, "renewed document")

        for item in (document, created, renewed, file, client):
            for field in ("url", "xml", "pdf"):
                if isinstance(item.get(field), str) and "/portal/" in item[field]:
                    assert http.get(item[field]).status_code in {200, 404}
        # the links of the renewed key's predecessor now fail: logged as a 404 (without the key)
        assert http.get(created["url"]).status_code == 404

        assert (
            http.get(
                "/v1/getTags",
                headers={"Authorization": f"Bearer {outputs.secret('bogus token', BOGUS_TOKEN)}"},
            ).status_code
            == 401
        )

        pfx = base64.b64encode(certificates.holder).decode()
        outputs.secret("certificate (base64)", pfx)
        outputs.secret("certificate (base64, start)", pfx[:40])
        outputs.secret("certificate (base64, end)", pfx[-40:])
        body = {
            "certificate_pfx_base64": pfx,
            "certificate_password": outputs.secret("certificate password", PASSWORD),
            "tax_id_code": COMPANY,
            "document_type_taxbureau": 33,
            "document_number": 25568,
        }
        assert http.post("/V1/mipyme_get_document", json=body).status_code == 200
        wrong = {
            **body,
            "certificate_password": outputs.secret("wrong certificate password", WRONG_PFX_PASSWORD),
        }
        assert http.post("/V1/mipyme_get_document", json=wrong).status_code == 422
