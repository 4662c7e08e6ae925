"""Changes made with the ``dtehub`` command are in the audit log, attributed to the CLI (no token)."""

from __future__ import annotations

import json
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dtehub import cli, migrate
from dtehub.config import get_settings
from dtehub.db import create_engine, create_sessionmaker
from dtehub.ingest import importer
from tests.conftest import FIXTURES, LINKS

SEED = FIXTURES / "seed-duemint-example-33-696.xml"  # issued by 76453707-6


def test_cli_changes_are_attributed_to_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "audit-cli.db"
    migrate.upgrade(f"sqlite:///{db}")
    for name in [k for k in os.environ if k.startswith("DTEHUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DTEHUB_DATABASE_URL", f"sqlite:///{db}")
    get_settings.cache_clear()  # in-process: a subprocess per command would cost a second each
    runner = CliRunner()

    def dtehub(*args: str) -> dict[str, Any]:
        done = runner.invoke(cli.app, list(args), catch_exceptions=False)
        assert done.exit_code == 0, done.output
        out: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip() else {}
        return out

    created = dtehub("companies", "create", "--rut", "76453707-6", "--name", "DUEMINT SPA")
    second = dtehub("tokens", "create", "--company", "76453707-6")["token"]
    dtehub("tokens", "revoke", second)
    dtehub("companies", "update", "--rut", "76453707-6", "--payment-term", "10")
    # dtehub import's own loop, its XML read in a thread (its spawned reader process costs seconds here).
    engine = create_engine(f"sqlite:///{db}", pool_size=1)
    with ThreadPoolExecutor(1) as threads:
        for _ in range(2):  # the second run finds nothing new: no event
            importer.import_paths(
                create_sessionmaker(engine),
                int(created["id"]),
                [SEED],
                executor=threads,
                max_bytes=1 << 20,
                links=LINKS,
            )
    engine.dispose()

    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT company_id, actor, token_id, action, object_type, object_id, summary"
            " FROM audit_events ORDER BY id"
        ).fetchall()
        tokens = dict(connection.execute("SELECT id, revoked_at IS NOT NULL FROM api_tokens").fetchall())
        document_id = connection.execute("SELECT id FROM documents").fetchone()[0]
    company = int(created["id"])
    first_token, second_token = sorted(tokens)

    assert [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows] == [
        (company, "cli", None, "companies.create", "company", company),
        (company, "cli", None, "tokens.create", "token", second_token),
        (company, "cli", None, "tokens.revoke", "token", second_token),
        (company, "cli", None, "companies.update", "company", company),
        (company, "cli", None, "import", None, None),
    ]
    summaries = [json.loads(r[6]) for r in rows]
    assert summaries[0] == {"rut": "76453707-6", "name": "DUEMINT SPA", "tokenId": first_token}
    assert summaries[3] == {"paymentTermDays": 10}
    assert summaries[4] == {"documents": 1, "notes": 0, "documentIds": [document_id], "noteIds": []}
    text = json.dumps(summaries)
    assert created["token"] not in text
    assert second not in text

    assert dtehub("audit", "prune", "--before", "2000-01-01") == {"deleted": 0}
    assert dtehub("audit", "prune", "--before", "2999-01-01", "--company", "76453707-6") == {"deleted": 5}
    get_settings.cache_clear()
