"""``dtehub users``: the real command on its own SQLite file."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"
RUT = "76453707-6"


@pytest.fixture
def dtehub(tmp_path: Path):  # type: ignore[no-untyped-def]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    env = {
        **clean,
        "DTEHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'users.db'}",
        "DTEHUB_PUBLIC_URL": "https://cobranza.example.cl",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DTEHUB), *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert run("db", "upgrade").returncode == 0
    assert run("companies", "create", "--rut", RUT, "--name", "DUEMINT SPA").returncode == 0
    run.database = tmp_path / "users.db"  # type: ignore[attr-defined]
    return run


def test_users_create_prints_a_one_time_link_without_a_password(dtehub) -> None:  # type: ignore[no-untyped-def]
    done = dtehub("users", "create", "--email", "Ana@Example.cl", "--company", RUT, "--role", "owner")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"id": "1", "email": "ana@example.cl", "company": RUT, "role": "owner"}
    link = re.search(r"https://cobranza\.example\.cl/app/password/[A-Za-z0-9_-]{43}", done.stderr)
    assert link is not None, done.stderr
    with sqlite3.connect(dtehub.database) as db:
        rows = db.execute("SELECT token_hash, purpose FROM user_links").fetchall()
        audit = db.execute(
            "SELECT actor, action, user_id FROM audit_events WHERE action LIKE 'users.%'"
        ).fetchall()
    assert [purpose for _, purpose in rows] == ["password"]
    assert link.group(0).rsplit("/", 1)[1] not in rows[0][0]  # only its hash is kept
    assert audit == [("cli", "users.create", 1)]


def test_users_create_reads_the_password_from_stdin(dtehub) -> None:  # type: ignore[no-untyped-def]
    arguments = ["users", "create", "--email", "b@example.cl", "--company", RUT, "--role", "viewer"]
    done = dtehub(*arguments, "--password-stdin", stdin="una frase larga de verdad\n")

    assert done.returncode == 0, done.stderr
    assert "password" not in done.stderr.lower()
    with sqlite3.connect(dtehub.database) as db:
        (hashed,) = db.execute("SELECT password_hash FROM users").fetchone()
    assert hashed.startswith("$argon2id$")
    assert "una frase" not in hashed


def test_a_short_password_a_bad_role_an_unknown_company_are_refused(dtehub) -> None:  # type: ignore[no-untyped-def]
    short = dtehub(
        "users", "create", "--email", "b@example.cl", "--company", RUT, "--password-stdin", stdin="corta\n"
    )
    role = dtehub("users", "create", "--email", "c@example.cl", "--company", RUT, "--role", "boss")
    company = dtehub("users", "create", "--email", "d@example.cl", "--company", "11111111-1")

    assert [r.returncode for r in (short, role, company)] == [1, 1, 1]
    assert "al menos 12 caracteres" in short.stderr
    assert "owner, collector or viewer" in role.stderr
    assert "no company with RUT" in company.stderr
    assert "Traceback" not in short.stderr + role.stderr + company.stderr
    with sqlite3.connect(dtehub.database) as db:
        assert db.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_add_company_and_disable(dtehub) -> None:  # type: ignore[no-untyped-def]
    other = "76399752-9"
    assert dtehub("companies", "create", "--rut", other, "--name", "OTRA").returncode == 0
    assert dtehub("users", "create", "--email", "ana@example.cl", "--company", RUT).returncode == 0

    added = dtehub(
        "users", "add-company", "--email", "ana@example.cl", "--company", other, "--role", "collector"
    )
    disabled = dtehub("users", "disable", "--email", "ana@example.cl")
    unknown = dtehub("users", "disable", "--email", "nadie@example.cl")

    assert json.loads(added.stdout) == {
        "id": "1",
        "email": "ana@example.cl",
        "company": other,
        "role": "collector",
    }
    assert json.loads(disabled.stdout)["disabled"] == "true"
    assert unknown.returncode == 1
    with sqlite3.connect(dtehub.database) as db:
        roles = db.execute("SELECT company_id, role FROM memberships ORDER BY company_id").fetchall()
        actions = db.execute(
            "SELECT company_id, action FROM audit_events WHERE action LIKE 'users.%'"
        ).fetchall()
        (disabled_at,) = db.execute("SELECT disabled_at FROM users").fetchone()
    assert roles == [(1, "owner"), (2, "collector")]
    assert disabled_at is not None
    assert sorted(actions) == [
        (1, "users.create"),
        (1, "users.disable"),
        (2, "users.add-company"),
        (2, "users.disable"),
    ]
