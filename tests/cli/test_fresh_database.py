"""Every command on a database it has never seen: a fresh one (migrated first, as ``dtehub serve`` does,
and by one process only when two start together), one a newer dtehub wrote (refused), one it cannot
reach, open, write or lock (one line, never a traceback). On the kind of database the suite runs on:
a new SQLite file, or a new PostgreSQL database with ``DTEHUB_TEST_DATABASE_URL``.

The real command runs where processes matter (two started together, the README's first step, serve);
the matrices of commands run in this process (a ``dtehub`` process costs seconds on a busy machine),
through the same entry point and the same error mapping.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, make_url, text
from typer.testing import CliRunner

from dtehub import cli
from dtehub.config import get_settings
from dtehub.db import create_engine as dtehub_engine
from dtehub.db import write_intent
from dtehub.migrate import MIGRATION_LOCK, alembic_config
from tests.servers import free_port

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"
SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed-duemint-example-33-696.xml"
RUT = "76453707-6"

Run = Callable[..., subprocess.CompletedProcess[str]]


def environment(database_url: str, **settings: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    return {
        **clean,
        "DTEHUB_DATABASE_URL": database_url,
        "DTEHUB_SECRET_KEY": "k" * 40,
        "DTEHUB_DB_BUSY_TIMEOUT": "60",  # a loaded machine migrates slowly; the other process waits
        **settings,
        "NO_COLOR": "1",
    }


def runner(database_url: str, cwd: Path, **settings: str) -> Run:
    """The real ``dtehub`` command, in its own process."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DTEHUB), *args],
            env=environment(database_url, **settings),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


@pytest.fixture
def dtehub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., Run]]:
    """``dtehub(url, **settings)(*args)``: the command run in this process, with only those settings."""
    monkeypatch.chdir(tmp_path)

    def on(database_url: str, **settings: str) -> Run:
        def run(*args: str) -> subprocess.CompletedProcess[str]:
            for name in [k for k in os.environ if k.startswith("DTEHUB_")]:
                monkeypatch.delenv(name)
            for name, value in environment(database_url, **settings).items():
                if name.startswith("DTEHUB_"):
                    monkeypatch.setenv(name, value)
            get_settings.cache_clear()
            done = CliRunner().invoke(cli.app, list(args), catch_exceptions=False)
            return subprocess.CompletedProcess(list(args), done.exit_code, done.stdout, done.stderr)

        return run

    yield on
    get_settings.cache_clear()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def revisions(url: str) -> list[str]:
    engine = create_engine(make_url(url))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()


def the_error(result: subprocess.CompletedProcess[str], status: int) -> str:
    """The one line a failed command says, after checking it said nothing else."""
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    said = [line for line in result.stderr.splitlines() if not line.startswith("database migrated")]
    assert len(said) == 1, result.stderr
    assert said[0].startswith("error: ")
    assert result.stdout == ""
    return said[0]


# Each command that touches the database, on a fresh one: what it answers once the schema is there.
COMMANDS: list[tuple[tuple[str, ...], int, str]] = [
    (("companies", "create", "--rut", RUT, "--name", "DUEMINT SPA"), 0, '"rut": "76453707-6"'),
    (("companies", "update", "--rut", RUT, "--name", "OTRA"), 1, f"error: no company with RUT {RUT}"),
    (("companies", "logo", "--rut", RUT, "--remove"), 1, f"error: no company with RUT {RUT}"),
    (("companies", "certificate", "--rut", RUT, "--remove"), 1, f"error: no company with RUT {RUT}"),
    (("tokens", "create", "--company", RUT), 1, f"error: no company with RUT {RUT}"),
    (("tokens", "revoke", "dth_unknown"), 1, "error: "),
    (("import", "--company", RUT, str(SEED)), 2, f"error: no company with RUT {RUT}"),
    (("sii", "sync", "--company", RUT), 2, f"error: no company with RUT {RUT}"),
    (
        ("factoring", "check", "--company", RUT, "--type", "33", "--folio", "1"),
        1,
        "error: no company with RUT",
    ),
    (
        ("users", "create", "--email", "ana@example.cl", "--company", RUT),
        1,
        f"error: no company with RUT {RUT}",
    ),
    (("users", "disable", "--email", "ana@example.cl"), 1, "error: "),
    (("reminders", "run", "--date", "2026-11-23"), 0, "reminders for 2026-11-23: 0 queued"),
    (("webhooks", "deliver"), 0, '"delivered"'),
    (("webhooks", "sweep", "--date", "2026-11-23"), 0, '{"recorded": 0}'),
    (("audit", "prune", "--before", "2020-01-01"), 0, '{"deleted": 0}'),
    (("demo",), 0, "Demo company 76453707-6 created"),
    (("db", "upgrade"), 0, "database is up to date"),
    (("db", "check"), 0, "the models and the migrations agree"),
]


@pytest.mark.parametrize(
    ("args", "status", "says"), COMMANDS, ids=lambda v: " ".join(v[:2]) if isinstance(v, tuple) else None
)
def test_each_command_migrates_a_fresh_database_first(
    dtehub: Callable[..., Run], scratch_url: str, args: tuple[str, ...], status: int, says: str
) -> None:
    result = dtehub(scratch_url)(*args)

    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert says in result.stdout + result.stderr
    assert "database migrated from an empty database to" in result.stderr
    assert revisions(scratch_url) == [head_revision()]


@contextmanager
def migration_lock(url: str) -> Iterator[Connection]:
    """The lock a migrating dtehub takes, held by the test (SQLite: the write lock of an empty file)."""
    engine = dtehub_engine(url, pool_size=1)
    try:
        with engine.connect() as connection, write_intent(True), connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": MIGRATION_LOCK}
                )
            yield connection
    finally:
        engine.dispose()


def waiting_for_the_lock(url: str, watcher: Connection, processes: list[subprocess.Popen[str]]) -> bool:
    """Whether both processes wait for the migration lock (PostgreSQL shows it; on SQLite both have
    opened the database file), or one of them ended already."""
    if any(process.poll() is not None for process in processes):
        return True
    if watcher.dialect.name == "postgresql":
        waiting = watcher.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        ).scalar_one()
        return bool(waiting >= len(processes))
    path = str(Path(make_url(url).database or "").resolve())
    return all(
        any(os.path.realpath(fd) == path for fd in Path(f"/proc/{process.pid}/fd").iterdir())
        for process in processes
    )


@pytest.mark.parametrize(
    "commands",
    [
        [("db", "upgrade"), ("db", "upgrade")],
        [
            ("companies", "create", "--rut", RUT, "--name", "UNA"),
            ("companies", "create", "--rut", "76399752-9", "--name", "OTRA"),
        ],
    ],
    ids=["db upgrade", "companies create"],
)
def test_two_commands_started_together_migrate_once(
    scratch_url: str, tmp_path: Path, commands: list[tuple[str, ...]]
) -> None:
    with migration_lock(scratch_url):
        processes = [
            subprocess.Popen(
                [str(DTEHUB), *args],
                env=environment(scratch_url),
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in commands
        ]
        deadline = time.monotonic() + 120
        watching = dtehub_engine(scratch_url, pool_size=1)
        with watching.connect() as watcher:
            while not waiting_for_the_lock(scratch_url, watcher, processes):
                assert time.monotonic() < deadline, "the processes never reached the database"
                watcher.rollback()
                time.sleep(0.05)  # polls the condition
        watching.dispose()
    # The lock released: both go for it, one migrates, the other finds the database current.
    outcomes = [process.communicate(timeout=120) for process in processes]

    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
    migrated = [stderr for _, stderr in outcomes if "database migrated from an empty database" in stderr]
    assert len(migrated) == 1, [stderr for _, stderr in outcomes]
    assert revisions(scratch_url) == [head_revision()]


FUTURE = "9999_from_a_newer_dtehub"


@pytest.mark.parametrize(
    "args",
    [
        ("serve", "--port", "0"),
        ("db", "upgrade"),
        ("db", "check"),
        ("demo",),
        ("companies", "create", "--rut", RUT, "--name", "DUEMINT SPA"),
        ("tokens", "create", "--company", RUT),
        ("import", "--company", RUT, str(SEED)),
        ("sii", "sync", "--company", RUT),
        ("factoring", "check", "--company", RUT, "--type", "33", "--folio", "1"),
        ("users", "disable", "--email", "ana@example.cl"),
        ("reminders", "run"),
        ("webhooks", "sweep"),
        ("audit", "prune", "--before", "2020-01-01"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_database_of_a_newer_dtehub_is_refused(
    dtehub: Callable[..., Run], scratch_url: str, args: tuple[str, ...]
) -> None:
    run = dtehub(scratch_url)
    assert run("db", "upgrade").returncode == 0
    engine = create_engine(make_url(scratch_url))
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :future"), {"future": FUTURE})
    engine.dispose()

    said = the_error(run(*args), 1)

    assert said == (
        f"error: the database was written by a newer dtehub (schema {FUTURE}; this dtehub knows up to "
        f"{head_revision()}): run that newer dtehub, or install it here"
    )
    assert revisions(scratch_url) == [FUTURE]


# Commands on a database they cannot use: one line and status 1, whatever the command.
ON_A_DATABASE = [
    ("serve", "--port", "0"),
    ("db", "upgrade"),
    ("db", "check"),
    ("demo",),
    ("companies", "create", "--rut", RUT, "--name", "DUEMINT SPA"),
    ("tokens", "revoke", "dth_x"),
    ("import", "--company", RUT, str(SEED)),
    ("sii", "sync", "--company", RUT),
    ("factoring", "check", "--company", RUT, "--type", "33", "--folio", "1"),
    ("users", "disable", "--email", "ana@example.cl"),
    ("reminders", "run"),
    ("webhooks", "deliver"),
    ("audit", "prune", "--before", "2020-01-01"),
]
IDS = [" ".join(args[:2]) for args in ON_A_DATABASE]


@pytest.mark.parametrize("args", ON_A_DATABASE, ids=IDS)
def test_an_unreachable_database_is_one_line(dtehub: Callable[..., Run], args: tuple[str, ...]) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/dtehub"

    said = the_error(dtehub(url)(*args), 1)

    assert said.startswith("error: cannot reach the database: connection failed:")
    assert "Connection refused" in said


@pytest.mark.parametrize("args", ON_A_DATABASE, ids=IDS)
def test_a_database_file_in_a_missing_folder_is_one_line(
    dtehub: Callable[..., Run], tmp_path: Path, args: tuple[str, ...]
) -> None:
    path = tmp_path / "no-such-folder" / "dtehub.db"

    said = the_error(dtehub(f"sqlite:///{path}")(*args), 1)

    assert said == f"error: cannot open the database file {path}: its folder must exist and be writable"


def test_a_read_only_database_is_one_line(dtehub: Callable[..., Run], tmp_path: Path) -> None:
    path = tmp_path / "dtehub.db"
    assert dtehub(f"sqlite:///{path}")("db", "upgrade").returncode == 0
    read_only = dtehub(f"sqlite:///file:{path}?mode=ro&uri=true")

    said = the_error(read_only("companies", "create", "--rut", RUT, "--name", "DUEMINT SPA"), 1)

    assert said.startswith("error: the database file ")
    assert said.endswith(" is read-only: dtehub needs to write it (and its folder)")


def test_a_database_locked_beyond_the_busy_timeout_is_one_line(
    dtehub: Callable[..., Run], tmp_path: Path
) -> None:
    path = tmp_path / "dtehub.db"
    url = f"sqlite:///{path}"
    assert dtehub(url)("db", "upgrade").returncode == 0
    impatient = dtehub(url, DTEHUB_DB_BUSY_TIMEOUT="0.2")

    with migration_lock(url):  # another process writing
        said = the_error(impatient("companies", "create", "--rut", RUT, "--name", "DUEMINT SPA"), 1)

    assert said == (
        f"error: the database {path} stayed locked by another process for DTEHUB_DB_BUSY_TIMEOUT; "
        "try again when it is done"
    )


def test_a_setting_it_cannot_use_is_one_line(dtehub: Callable[..., Run], tmp_path: Path) -> None:
    run = dtehub(f"sqlite:///{tmp_path / 'dtehub.db'}", DTEHUB_DB_BUSY_TIMEOUT="soon")

    said = the_error(run("companies", "create", "--rut", RUT, "--name", "DUEMINT SPA"), 1)

    assert said.startswith("error: a setting cannot be used: DTEHUB_DB_BUSY_TIMEOUT: Input should be")


def test_an_unsupported_database_is_one_line(dtehub: Callable[..., Run]) -> None:
    said = the_error(dtehub("mysql://localhost/dtehub")("db", "upgrade"), 1)

    assert said == "error: DTEHUB_DATABASE_URL: unsupported database 'mysql': use sqlite:/// or postgresql://"


def test_a_folder_it_cannot_create_is_one_line(dtehub: Callable[..., Run], tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")

    said = the_error(dtehub("sqlite://")("sii-emulator", "init", "--data", str(blocked / "data")), 1)

    assert said == f"error: {blocked / 'data'}: Not a directory"


def test_the_first_step_of_the_readme_on_a_fresh_database(scratch_url: str, tmp_path: Path) -> None:
    result = runner(scratch_url, tmp_path)("companies", "create", "--rut", RUT, "--name", "DUEMINT SPA")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rut"] == RUT
    assert result.stderr == f"database migrated from an empty database to {head_revision()}\n"


def test_serve_on_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/dtehub"

    said = the_error(runner(url, tmp_path)("serve", "--port", str(free_port())), 1)

    assert said.startswith("error: cannot reach the database: connection failed:")


def test_serve_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    """A second ``dtehub serve`` on the port of the first: one line, status 1, and it never says it is
    serving (nor starts the background jobs of a server that cannot listen)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        said = the_error(
            runner(f"sqlite:///{tmp_path / 'dtehub.db'}", tmp_path)("serve", "--port", str(port)), 1
        )

    assert said == (
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(another dtehub serve?); stop it or choose another --port"
    )


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_serve_refuses_a_port_that_cannot_exist(tmp_path: Path, port: str) -> None:
    result = runner(f"sqlite:///{tmp_path / 'dtehub.db'}", tmp_path)("serve", "--port", port)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "serving" not in result.stderr
    assert "--port" in result.stderr


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_an_in_memory_sqlite_database_is_one_line(dtehub: Callable[..., Run], url: str) -> None:
    said = the_error(dtehub(url)("companies", "create", "--rut", RUT, "--name", "DUEMINT SPA"), 1)

    assert said == (
        "error: DTEHUB_DATABASE_URL: an in-memory SQLite database is gone when its connection closes: "
        "name a file, e.g. sqlite:///./dtehub.db"
    )
