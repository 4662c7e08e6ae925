"""The real ``dtehub`` command, run as a user would, each test on its own fresh SQLite file."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dtehub import __version__
from tests.servers import free_port, wait_until_up

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"
TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "dtehub-cli.db"


@pytest.fixture
def env(db_file: Path) -> dict[str, str]:
    # Whatever database the suite runs on, the CLI gets its own file; no other DTEHUB_ setting leaks in.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    return {**clean, "DTEHUB_DATABASE_URL": f"sqlite:///{db_file}", "NO_COLOR": "1"}


@pytest.fixture
def dtehub(env: dict[str, str], tmp_path: Path) -> Run:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DTEHUB), *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated by ``dtehub db upgrade``, copied for each test (a CLI run costs a second)."""
    template = tmp_path_factory.mktemp("cli-template") / "migrated.db"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    result = subprocess.run(
        [str(DTEHUB), "db", "upgrade"],
        env={**clean, "DTEHUB_DATABASE_URL": f"sqlite:///{template}"},
        cwd=template.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return template


@pytest.fixture
def migrated(migrated_template: Path, db_file: Path) -> None:
    for suffix in ("", "-wal"):
        source = Path(f"{migrated_template}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{db_file}{suffix}")


def token_rows(db_file: Path) -> list[tuple[int, str, str | None]]:
    with sqlite3.connect(db_file) as connection:
        return connection.execute(
            "SELECT company_id, token_hash, revoked_at FROM api_tokens ORDER BY id"
        ).fetchall()


def create_company(dtehub: Run, rut: str = "76.453.707-6", name: str = "DUEMINT SPA") -> dict[str, str]:
    result = dtehub("companies", "create", "--rut", rut, "--name", name, "--payment-term", "30")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def random_part(token: str) -> str:
    return token.removeprefix("dth_")


def test_db_upgrade_creates_the_schema_and_is_idempotent(dtehub: Run, db_file: Path) -> None:
    first = dtehub("db", "upgrade")
    second = dtehub("db", "upgrade")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert first.stdout == second.stdout == ""
    with sqlite3.connect(db_file) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"companies", "api_tokens", "clients", "documents"} <= tables


@pytest.mark.usefixtures("migrated")
def test_companies_create_prints_one_json_object(dtehub: Run, db_file: Path) -> None:
    result = dtehub(
        "companies", "create", "--rut", "76.453.707-6", "--name", "DUEMINT SPA", "--payment-term", "30"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n")
    assert result.stdout.count("\n") == 1
    created = json.loads(result.stdout)
    assert set(created) == {"id", "rut", "name", "token"}
    assert created["rut"] == "76453707-6"
    assert created["name"] == "DUEMINT SPA"
    assert created["id"] == "1"
    assert token_rows(db_file) == [(1, hashlib.sha256(created["token"].encode()).hexdigest(), None)]
    with sqlite3.connect(db_file) as connection:
        assert connection.execute("SELECT rut, name, payment_term_days FROM companies").fetchall() == [
            ("76453707-6", "DUEMINT SPA", 30)
        ]


@pytest.mark.usefixtures("migrated")
@pytest.mark.parametrize("rut", ["76.453.707-5", "not-a-rut", "0-0"])
def test_companies_create_refuses_a_wrong_rut(dtehub: Run, db_file: Path, rut: str) -> None:
    result = dtehub("companies", "create", "--rut", rut, "--name", "DUEMINT SPA")

    assert result.returncode != 0
    assert result.stdout == ""
    assert rut.lower() in result.stderr.lower()  # the message names what was refused
    assert "Traceback" not in result.stderr
    with sqlite3.connect(db_file) as connection:
        assert connection.execute("SELECT count(*) FROM companies").fetchone() == (0,)
    assert token_rows(db_file) == []


@pytest.mark.usefixtures("migrated")
def test_companies_create_refuses_a_duplicate_rut(dtehub: Run, db_file: Path) -> None:
    create_company(dtehub, rut="76453707-6")

    result = dtehub("companies", "create", "--rut", "76.453.707-6", "--name", "OTRA")

    assert result.returncode != 0
    assert result.stdout == ""
    assert "already exists" in result.stderr
    assert len(token_rows(db_file)) == 1


@pytest.mark.usefixtures("migrated")
@pytest.mark.parametrize(("args"), [("--name", " "), ("--payment-term", "-1")])
def test_companies_create_refuses_bad_details(dtehub: Run, args: tuple[str, str]) -> None:
    options = {"--rut": "76453707-6", "--name": "DUEMINT SPA", "--payment-term": "30"}
    options[args[0]] = args[1]

    result = dtehub("companies", "create", *[part for pair in options.items() for part in pair])

    assert result.returncode != 0
    assert result.stdout == ""


@pytest.mark.usefixtures("migrated")
def test_tokens_create_prints_a_new_token(dtehub: Run, db_file: Path) -> None:
    company = create_company(dtehub)

    result = dtehub("tokens", "create", "--company", "76453707-6")

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    issued = json.loads(result.stdout)
    assert set(issued) == {"token"}
    assert issued["token"] != company["token"]
    hashes = [row[1] for row in token_rows(db_file)]
    assert hashes == [hashlib.sha256(t.encode()).hexdigest() for t in (company["token"], issued["token"])]


@pytest.mark.usefixtures("migrated")
def test_tokens_create_for_an_unknown_company_fails(dtehub: Run) -> None:
    result = dtehub("tokens", "create", "--company", "99999999-9")

    assert result.returncode != 0
    assert result.stdout == ""


@pytest.mark.usefixtures("migrated")
def test_tokens_are_random_long_and_different(dtehub: Run) -> None:
    company = create_company(dtehub)
    tokens = [company["token"]] + [
        json.loads(dtehub("tokens", "create", "--company", "76453707-6").stdout)["token"] for _ in range(3)
    ]

    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        part = random_part(token)
        assert TOKEN_CHARS.match(part)
        assert len(part) * 6 >= 128  # url-safe base64: 6 bits a character
    # No long common prefix beyond the marker: the tokens share no structure.
    parts = [random_part(t) for t in tokens]
    assert len({p[:6] for p in parts}) == len(parts)


@pytest.mark.usefixtures("migrated")
def test_the_database_holds_only_a_hash(dtehub: Run, db_file: Path) -> None:
    company = create_company(dtehub)
    token = company["token"]

    [(_, stored, _)] = token_rows(db_file)

    assert stored == hashlib.sha256(token.encode("utf-8")).hexdigest()
    assert token not in stored
    with sqlite3.connect(db_file) as connection:
        connection.text_factory = bytes
        # Nowhere in the database: not in any table, not in the WAL either.
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for row in connection.execute(f'SELECT * FROM "{table.decode()}"').fetchall():  # noqa: S608
                assert not any(token.encode() in value for value in row if isinstance(value, bytes))
    for path in db_file.parent.glob(db_file.name + "*"):
        assert random_part(token).encode() not in path.read_bytes()


@pytest.mark.usefixtures("migrated")
def test_tokens_revoke(dtehub: Run, db_file: Path) -> None:
    company = create_company(dtehub)

    result = dtehub("tokens", "revoke", company["token"])
    again = dtehub("tokens", "revoke", company["token"])

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    [(_, _, revoked_at)] = token_rows(db_file)
    assert revoked_at is not None
    assert again.returncode != 0
    assert again.stdout == ""


@pytest.mark.usefixtures("migrated")
def test_tokens_revoke_an_unknown_token_fails(dtehub: Run) -> None:
    create_company(dtehub)

    result = dtehub("tokens", "revoke", "dth_never-issued")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_demo_creates_the_demo_company_once(dtehub: Run, db_file: Path) -> None:
    first = dtehub("demo")
    second = dtehub("demo")

    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    tokens = re.findall(r"dth_[A-Za-z0-9_-]+", first.stderr)
    assert tokens
    token = tokens[0]
    assert all(t == token for t in tokens)
    [curl] = [line for line in first.stderr.splitlines() if line.startswith("curl ")]
    assert f"Authorization: Bearer {token}" in curl
    assert "/v1/getDocuments" in curl
    [page] = re.findall(r"http://127\.0\.0\.1:8000/portal/invoice/\d+/[A-Za-z0-9_-]{22}", first.stderr)
    [(company_id, stored, revoked)] = token_rows(db_file)
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert revoked is None
    with sqlite3.connect(db_file) as connection:
        assert connection.execute("SELECT rut FROM companies").fetchall() == [("76453707-6",)]
        assert connection.execute(
            "SELECT count(*) FROM documents WHERE company_id = ?", (company_id,)
        ).fetchone() == (1,)
        [(document_id, key)] = connection.execute("SELECT id, portal_key FROM documents").fetchall()
    assert page.endswith(f"/portal/invoice/{document_id}/{key}")
    [(owner, password)] = re.findall(
        r"The web app: http://127\.0\.0\.1:8000/app/login, e-mail (\S+), password \(shown once\) (\S+)",
        first.stderr,
    )
    assert owner == "demo@dtehub.example"
    assert len(password) >= 16
    with sqlite3.connect(db_file) as connection:
        [(hashed, role)] = connection.execute(
            "SELECT password_hash, role FROM users JOIN memberships ON memberships.user_id = users.id"
        ).fetchall()
    assert hashed.startswith("$argon2id$")
    assert password not in hashed
    assert role == "owner"

    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    assert "dth_" not in second.stderr
    assert len(token_rows(db_file)) == 1
    with sqlite3.connect(db_file) as connection:
        assert connection.execute("SELECT count(*) FROM companies").fetchone() == (1,)
        assert connection.execute("SELECT count(*) FROM documents").fetchone() == (1,)


@pytest.mark.usefixtures("migrated")
def test_demo_creates_nothing_when_a_company_exists(dtehub: Run, db_file: Path) -> None:
    create_company(dtehub, rut="76399752-9", name="OTRA SPA")

    result = dtehub("demo")

    assert result.returncode == 0, result.stderr
    assert "dth_" not in result.stderr
    with sqlite3.connect(db_file) as connection:
        assert connection.execute("SELECT rut FROM companies").fetchall() == [("76399752-9",)]
    # A second make run: how to get back in, the token and the password having been shown once.
    assert result.stderr.splitlines() == [
        "companies exist already; new tokens: dtehub tokens create --company <RUT>; a forgotten web app "
        "password: http://127.0.0.1:8000/app/password-reset (without DTEHUB_SMTP_URL its e-mail lands "
        "in ./dtehub-mail)"
    ]


# End to end: the server as a process


def test_end_to_end_with_the_real_server(dtehub: Run, env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_env = {**env, "DTEHUB_PUBLIC_URL": base, "DTEHUB_LOG_LEVEL": "info"}  # with the access log
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [str(DTEHUB), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=server_env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(base, server, log_path)
        company = create_company(dtehub)
        headers = {"Authorization": f"Bearer {company['token']}"}
        with httpx.Client(base_url=base, timeout=10) as http:
            client = http.post(
                "/v1/createClient", json={"name": "CLIENTE EJEMPLO", "taxId": "99.999.999-9"}, headers=headers
            )
            assert client.status_code == 200, client.text
            assert client.json()["taxId"] == "99999999-9"

            # As curl -d sends it: JSON text, declared as a form.
            body = json.dumps(
                {
                    "clientId": client.json()["id"],
                    "number": "696",
                    "issueDate": "2018-04-06",
                    "total": 96272,
                    "taxes": 15371,
                    "code": 33,
                }
            )
            document = http.post(
                "/v1/createDocument",
                content=body,
                headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
            )
            assert document.status_code == 200, document.text
            assert document.json()["total"] == "96272.00"
            assert document.json()["dueDate"] == "2018-05-06"  # the company's 30 days

            listed = http.get("/v1/getDocuments", params={"expandClient": 1}, headers=headers)
            assert listed.status_code == 200, listed.text
            assert listed.json()["records"]["totalRecords"] == 1
            [item] = listed.json()["items"]
            assert item["id"] == document.json()["id"]
            assert item["client"]["taxId"] == "99999999-9"
            assert item["xml"].startswith(f"{base}/portal/")
            link_key = item["xml"].rsplit("/", 1)[1]
            assert http.get(item["xml"].removeprefix(base)).status_code == 404  # created without XML

            revoked = dtehub("tokens", "revoke", company["token"])
            assert revoked.returncode == 0, revoked.stderr

            refused = http.get("/v1/getDocuments", headers=headers)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
            assert refused.json()["error"]["code"] == "unauthorized"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
    assert server.returncode is not None
    server_log = (tmp_path / "server.log").read_text()
    assert "/portal/downloadInvoiceXml/" in server_log  # the access log was written...
    for secret in (company["token"], link_key):  # ...without a credential in it
        assert secret not in server_log


def test_help_lists_the_commands(dtehub: Run) -> None:
    result = dtehub("--help")

    assert result.returncode == 0, result.stderr
    for command in ("serve", "db", "companies", "tokens", "demo"):
        assert command in result.stdout


def test_version(dtehub: Run) -> None:
    result = dtehub("--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"dtehub {__version__}\n"
