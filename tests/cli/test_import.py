"""``dtehub import``: the real command on real files, each test on its own fresh SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dtehub.companies.service import create_company
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.ingest.importer import ImportSummary, Outcome, import_sources, walk_sources
from tests.conftest import LINKS
from tests.dte_factory import build_dte

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
INVOICE = FIXTURES / "DTE--76399752-9--33--25568.xml"  # issued by 76399752-9
CREDIT_NOTE = FIXTURES / "DTE--96670340-7--61--110616.xml"  # issued by 96670340-7
ISSUER = "76399752-9"

Run = Callable[..., subprocess.CompletedProcess[str]]


# Harness: the real command against a SQLite file migrated once per module


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = tmp_path_factory.mktemp("import-template") / "migrated.db"
    result = subprocess.run(
        [str(DTEHUB), "db", "upgrade"],
        env={**clean_environment(), "DTEHUB_DATABASE_URL": f"sqlite:///{template}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return template


def clean_environment() -> dict[str, str]:
    # Whatever database the suite runs on, the CLI gets its own file; no other DTEHUB_ setting leaks in.
    return {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}


@pytest.fixture
def db_file(tmp_path: Path, migrated_db: Path) -> Path:
    target = tmp_path / "dtehub.db"
    for suffix in ("", "-wal"):
        if Path(f"{migrated_db}{suffix}").exists():
            shutil.copyfile(f"{migrated_db}{suffix}", f"{target}{suffix}")
    return target


@pytest.fixture
def env(db_file: Path) -> dict[str, str]:
    return {**clean_environment(), "DTEHUB_DATABASE_URL": f"sqlite:///{db_file}", "NO_COLOR": "1"}


@pytest.fixture
def dtehub(env: dict[str, str], tmp_path: Path) -> Run:
    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DTEHUB), *args],
            env={**env, **(extra_env or {})},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run


def create(dtehub: Run, rut: str = ISSUER) -> None:
    result = dtehub("companies", "create", "--rut", rut, "--name", "EMPRESA EMISORA SPA")
    assert result.returncode == 0, result.stderr


def query(db_file: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_file) as connection:
        return connection.execute(sql, params).fetchall()


def stored_folios(db_file: Path) -> set[tuple[int, str]]:
    return {(int(code), str(number)) for code, number in query(db_file, "SELECT code, number FROM documents")}


def read_report(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# Generated DTEs: unsigned, schema-shaped, small


def invoice(folio: int, total: int = 11900, issuer: str = ISSUER) -> bytes:
    return build_dte(33, folio, issuer, "99999999-9", total, issue_date=date(2024, 3, 1))


def envelope(*dtes: bytes) -> bytes:
    """An EnvioDTE holding the DTEs (their own XML declarations dropped)."""
    body = b"".join(dte.split(b"?>", 1)[1].strip() for dte in dtes)
    return (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        b'<EnvioDTE xmlns="http://www.sii.cl/SiiDte" version="1.0"><SetDTE ID="SetDoc">'
        b'<Caratula version="1.0"><RutEmisor>76399752-9</RutEmisor><RutEnvia>11111111-1</RutEnvia>'
        b"<RutReceptor>99999999-9</RutReceptor><FchResol>2014-08-22</FchResol><NroResol>80</NroResol>"
        b"<TmstFirmaEnv>2024-03-01T10:00:00</TmstFirmaEnv></Caratula>" + body + b"</SetDTE></EnvioDTE>"
    )


def write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def write_many(folder: Path, folios: range) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for folio in folios:
        (folder / f"f{folio}.xml").write_bytes(invoice(folio, total=10000 + folio))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """in/: the real invoice, a folder tree, a zip, an envelope and what must be refused or skipped."""
    root = tmp_path / "in"
    shutil.copyfile(INVOICE, write(root / INVOICE.name, b""))
    write_many(root / "2024" / "03", range(1, 6))  # folios 1-5
    write(root / "2024" / "04" / "deep" / "f6.XML", invoice(6))  # the extension in any case
    with zipfile.ZipFile(write(root / "archive.zip", b""), "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("dtes/", b"")  # a directory entry: ignored
        archive.writestr("dtes/f7.xml", invoice(7))
        archive.writestr("dtes/f8.xml", invoice(8))
        archive.writestr("dtes/leeme.txt", b"not a DTE")  # skipped
    write(root / "envio.xml", envelope(invoice(9), invoice(10), invoice(11)))
    write(root / "broken.xml", b"this is not XML at all")  # refused: xml_malformed
    write(root / "notes.txt", b"a file next to the DTEs")  # skipped
    shutil.copyfile(CREDIT_NOTE, write(root / "other" / CREDIT_NOTE.name, b""))  # issuer_mismatch
    write(root / "dup" / "f3-again.xml", invoice(3, total=99999))  # folio 3 with other content
    return root


# Behaviour


def test_import_of_a_tree_of_files_folders_zips_and_envelopes(dtehub: Run, db_file: Path, tree: Path) -> None:
    create(dtehub)

    result = dtehub("import", "--company", "76.399.752-9", "in", "--report", "report.json", "--jobs", "2")

    assert result.returncode == 1, result.stderr  # some were refused; all the rest was imported
    assert "Traceback" not in result.stderr
    lines = read_report(tree.parent / "report.json")
    by_path: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        assert set(line) == {"path", "type", "folio", "outcome", "code", "message"}
        by_path.setdefault(line["path"], []).append(line)

    def only(path: str) -> dict[str, Any]:
        [line] = by_path.pop(path)
        return line

    assert only(f"in/{INVOICE.name}") == {
        "path": f"in/{INVOICE.name}",
        "type": 33,
        "folio": 25568,
        "outcome": "imported",
        "code": None,
        "message": None,
    }
    for folio in (1, 2, 4, 5):
        assert only(f"in/2024/03/f{folio}.xml")["outcome"] == "imported"
    assert only("in/2024/04/deep/f6.XML")["outcome"] == "imported"
    assert only("in/archive.zip!dtes/f7.xml")["folio"] == 7
    assert only("in/archive.zip!dtes/f8.xml")["outcome"] == "imported"
    assert only("in/archive.zip!dtes/leeme.txt")["outcome"] == "skipped"
    assert only("in/notes.txt") == {
        "path": "in/notes.txt",
        "type": None,
        "folio": None,
        "outcome": "skipped",
        "code": "not_xml",
        "message": "not an .xml file; skipped",
    }
    envelope_lines = by_path.pop("in/envio.xml")  # one line per DTE of the envelope
    assert sorted((e["type"], e["folio"], e["outcome"]) for e in envelope_lines) == [
        (33, 9, "imported"),
        (33, 10, "imported"),
        (33, 11, "imported"),
    ]
    broken = only("in/broken.xml")
    assert (broken["outcome"], broken["code"], broken["folio"]) == ("refused", "xml_malformed", None)
    assert broken["message"]
    other = only(f"in/other/{CREDIT_NOTE.name}")
    assert (other["outcome"], other["code"], other["type"], other["folio"]) == (
        "refused",
        "issuer_mismatch",
        61,
        110616,
    )
    assert "96670340-7" in other["message"]
    # Folio 3 twice with different content: whichever came first is imported, the other is a conflict.
    twins = [only("in/2024/03/f3.xml"), only("in/dup/f3-again.xml")]
    assert sorted(twin["outcome"] for twin in twins) == ["imported", "refused"]
    assert by_path == {}
    refused = [line for line in lines if line["outcome"] == "refused"]
    assert Counter(line["code"] for line in refused) == {
        "xml_malformed": 1,
        "issuer_mismatch": 1,
        "already_exists": 1,
    }

    # 1 real invoice + folios 1-11 (3 once only), each stored exactly once.
    assert stored_folios(db_file) == {(33, "25568")} | {(33, str(f)) for f in range(1, 12)}
    assert query(db_file, "SELECT DISTINCT source FROM documents") == [("import",)]
    [(total_cents,)] = query(db_file, "SELECT total_cents FROM documents WHERE number = '3'")
    winner = next(line for line in lines if line["folio"] == 3 and line["outcome"] == "imported")
    assert total_cents == (1000300 if winner["path"] == "in/2024/03/f3.xml" else 9999900)

    assert json.loads(result.stdout) == {
        "imported": 12,
        "documents": 12,
        "notes": 0,
        "alreadyPresent": 0,
        "attached": 0,
        "refused": {"already_exists": 1, "issuer_mismatch": 1, "xml_malformed": 1},
        "skipped": 2,
    }
    assert result.stderr.splitlines()[-7:] == [
        "imported: 12 (12 documents, 0 notes)",
        "already present: 0",
        "refused: 3",
        "  already_exists: 1",
        "  issuer_mismatch: 1",
        "  xml_malformed: 1",
        "skipped (not .xml): 2",
    ]


def test_running_the_same_import_again_imports_nothing_new(
    dtehub: Run, db_file: Path, tmp_path: Path
) -> None:
    create(dtehub)
    write_many(tmp_path / "in", range(1, 31))
    write(tmp_path / "in" / "envio.xml", envelope(invoice(31), invoice(32)))
    shutil.copyfile(INVOICE, tmp_path / "in" / INVOICE.name)

    first = dtehub("import", "--company", ISSUER, "in", "--report", "first.json")
    rows_after_first = query(db_file, "SELECT id, code, number, total_cents FROM documents ORDER BY id")
    second = dtehub("import", "--company", ISSUER, "in", "--report", "second.json")

    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["imported"] == 33
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {
        "imported": 0,
        "documents": 0,
        "notes": 0,
        "alreadyPresent": 33,
        "attached": 0,
        "refused": {},
        "skipped": 0,
    }
    assert "imported: 0 (0 documents, 0 notes)\nalready present: 33\nrefused: 0" in second.stderr
    assert {line["outcome"] for line in read_report(tmp_path / "second.json")} == {"already_present"}
    assert len(read_report(tmp_path / "second.json")) == 33
    assert (
        query(db_file, "SELECT id, code, number, total_cents FROM documents ORDER BY id") == rows_after_first
    )


def test_a_credit_note_is_imported_as_a_note(dtehub: Run, db_file: Path, tmp_path: Path) -> None:
    create(dtehub, "96670340-7")
    shutil.copyfile(CREDIT_NOTE, tmp_path / CREDIT_NOTE.name)

    result = dtehub("import", "--company", "96670340-7", CREDIT_NOTE.name, "--report", "r.json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["notes"] == 1
    assert "imported: 1 (0 documents, 1 notes)" in result.stderr
    assert read_report(tmp_path / "r.json") == [
        {
            "path": CREDIT_NOTE.name,
            "type": 61,
            "folio": 110616,
            "outcome": "imported",
            "code": None,
            "message": None,
        }
    ]
    assert query(db_file, "SELECT code, number, source FROM notes") == [(61, "110616", "import")]
    assert query(db_file, "SELECT count(*) FROM documents") == [(0,)]


def test_a_file_named_explicitly_is_read_as_xml_whatever_its_name(dtehub: Run, tmp_path: Path) -> None:
    create(dtehub)
    write(tmp_path / "factura.txt", invoice(1))
    write(tmp_path / "empty.xml", b"")

    result = dtehub("import", "--company", ISSUER, "factura.txt", "empty.xml", "--report", "r.json")

    assert result.returncode == 1
    outcomes = {line["path"]: (line["outcome"], line["code"]) for line in read_report(tmp_path / "r.json")}
    assert outcomes == {"factura.txt": ("imported", None), "empty.xml": ("refused", "xml_malformed")}


def test_files_over_the_xml_size_limit_are_refused(dtehub: Run, db_file: Path, tmp_path: Path) -> None:
    create(dtehub)
    small, large = invoice(1), invoice(2, total=10) + b" " * 3000  # trailing blanks: still a valid DTE
    limit = len(small) + 100
    write(tmp_path / "in" / "small.xml", small)
    write(tmp_path / "in" / "large.xml", large)
    with zipfile.ZipFile(tmp_path / "in" / "a.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("large-entry.xml", invoice(3) + b" " * 3000)  # compresses far below the limit

    result = dtehub(
        "import",
        "--company",
        ISSUER,
        "in",
        "--report",
        "r.json",
        extra_env={"DTEHUB_MAX_XML_BYTES": str(limit)},
    )

    assert result.returncode == 1
    outcomes = {line["path"]: (line["outcome"], line["code"]) for line in read_report(tmp_path / "r.json")}
    assert outcomes == {
        "in/small.xml": ("imported", None),
        "in/large.xml": ("refused", "xml_too_large"),
        "in/a.zip!large-entry.xml": ("refused", "xml_too_large"),
    }
    assert stored_folios(db_file) == {(33, "1")}
    assert "xml_too_large: 2" in result.stderr


def test_an_unreadable_zip_is_refused_and_the_rest_imported(dtehub: Run, tmp_path: Path) -> None:
    create(dtehub)
    write(tmp_path / "in" / "f1.xml", invoice(1))
    write(tmp_path / "in" / "broken.zip", b"PK\x03\x04 not really a zip")

    result = dtehub("import", "--company", ISSUER, "in", "--report", "r.json")

    assert result.returncode == 1
    outcomes = {line["path"]: (line["outcome"], line["code"]) for line in read_report(tmp_path / "r.json")}
    assert outcomes == {"in/f1.xml": ("imported", None), "in/broken.zip": ("refused", "zip_unreadable")}


def test_an_unknown_company_is_a_usage_error(dtehub: Run, db_file: Path, tmp_path: Path) -> None:
    create(dtehub)
    write_many(tmp_path / "in", range(1, 3))

    unknown = dtehub("import", "--company", "99999999-9", "in", "--report", "r.json")
    bad_rut = dtehub("import", "--company", "76399752-0", "in")
    missing = dtehub("import", "--company", ISSUER, "in", "nowhere")
    no_paths = dtehub("import", "--company", ISSUER)

    assert unknown.returncode == 2
    assert "no company with RUT 99999999-9" in unknown.stderr
    assert bad_rut.returncode == 2
    assert "76399752-0" in bad_rut.stderr
    assert missing.returncode == 2
    assert "no such file or folder: nowhere" in missing.stderr
    assert no_paths.returncode == 2
    for result in (unknown, bad_rut, missing, no_paths):
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.json").exists()
    assert query(db_file, "SELECT count(*) FROM documents") == [(0,)]


def test_a_report_it_cannot_write_is_a_failure_not_a_usage_error(
    dtehub: Run, db_file: Path, tmp_path: Path
) -> None:
    """As the README's table says: a file it cannot write exits 1 (2 is for a wrong command line)."""
    create(dtehub)
    write_many(tmp_path / "in", range(1, 3))

    into_a_folder = dtehub("import", "--company", ISSUER, "in", "--report", str(tmp_path))
    nowhere = dtehub("import", "--company", ISSUER, "in", "--report", str(tmp_path / "nowhere" / "r.json"))

    assert into_a_folder.returncode == 1
    assert into_a_folder.stderr.splitlines() == [f"error: cannot write the report {tmp_path}: Is a directory"]
    assert nowhere.returncode == 1
    assert nowhere.stderr.splitlines() == [
        f"error: cannot write the report {tmp_path / 'nowhere' / 'r.json'}: No such file or directory"
    ]
    assert query(db_file, "SELECT count(*) FROM documents") == [(0,)]


def test_help_lists_import(dtehub: Run) -> None:
    result = dtehub("--help")

    assert result.returncode == 0
    assert "import" in result.stdout


# The engine without the CLI


@pytest.fixture
def factory(db_file: Path) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(f"sqlite:///{db_file}", pool_size=1)
    yield create_sessionmaker(engine)
    engine.dispose()


def test_a_refused_dte_does_not_sink_its_batch(
    factory: sessionmaker[Session], db_file: Path, tmp_path: Path
) -> None:
    with unit_of_work(factory) as session:
        company_id = create_company(session, rut=ISSUER, name="EMPRESA", payment_term_days=30).company.id
    write_many(tmp_path / "in", range(1, 4))
    write(tmp_path / "in" / "clash.xml", invoice(2, total=5))  # folio 2 again, other content
    write(tmp_path / "in" / "foreign.xml", invoice(9, issuer="96670340-7"))
    report = (tmp_path / "report.json").open("w")
    summary = ImportSummary()

    with ThreadPoolExecutor(2) as pool:
        import_sources(
            factory,
            company_id,
            walk_sources([tmp_path / "in"]),
            executor=pool,
            max_bytes=1 << 20,
            links=LINKS,
            report=report,
            summary=summary,
            batch_size=100,  # all five DTEs in one transaction
            chunk_files=1,
        )
    report.close()

    assert (summary.documents, summary.already_present, summary.refused) == (
        3,
        0,
        {"already_exists": 1, "issuer_mismatch": 1},
    )
    assert stored_folios(db_file) == {(33, "1"), (33, "2"), (33, "3")}
    assert Counter(line["outcome"] for line in read_report(tmp_path / "report.json")) == {
        "imported": 3,
        "refused": 2,
    }


def test_the_walk_is_lazy_and_results_are_written_batch_by_batch(
    factory: sessionmaker[Session], db_file: Path, tmp_path: Path
) -> None:
    """The report holds a batch's lines as soon as it committed, while the walk is still going."""
    with unit_of_work(factory) as session:
        company_id = create_company(session, rut=ISSUER, name="EMPRESA", payment_term_days=30).company.id
    write_many(tmp_path / "in", range(1, 41))
    report_path = tmp_path / "report.json"
    report = report_path.open("w")
    seen: list[tuple[int, int]] = []  # (sources walked, lines in the report) at each step of the walk

    def watched() -> Iterator[Any]:
        for walked, source in enumerate(walk_sources([tmp_path / "in"]), 1):
            seen.append((walked, len(report_path.read_text().splitlines())))
            yield source

    with ThreadPoolExecutor(2) as pool:
        summary = import_sources(
            factory,
            company_id,
            watched(),
            executor=pool,
            max_bytes=1 << 20,
            links=LINKS,
            report=report,
            batch_size=5,
            max_in_flight=2,
            chunk_files=2,
        )
    report.close()

    assert summary.documents == 40
    # With 2 chunks of 2 files in flight, the walk is never more than a few files ahead of the report.
    assert all(walked - lines <= 2 * 2 + 5 + 2 for walked, lines in seen)
    assert len(read_report(report_path)) == 40


def test_the_summary_counts_outcomes() -> None:
    summary = ImportSummary()
    assert summary.exit_code == 0
    summary.refused["issuer_mismatch"] += 1
    assert summary.exit_code == 1
    assert Outcome.SKIPPED.value == "skipped"


# Interruptions


def worker_pids(parent: int) -> list[int]:
    """The live processes whose parent is ``parent`` (zombies are dead enough)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(parent) and not fields.get("State", "").startswith("Z"):
            found.append(int(status.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = next(
            line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:")
        )
    except (OSError, StopIteration):
        return False
    return "Z" not in state.split(":", 1)[1].split()[0]


def wait_for_report_lines(report: Path, process: subprocess.Popen[bytes], count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the import ended before it could be interrupted"
        if report.exists() and len(report.read_bytes().splitlines()) >= count:
            return
        time.sleep(0.05)
    pytest.fail("the report never got its first lines")


@pytest.mark.slow
def test_a_killed_import_loses_nothing_it_reported_and_a_rerun_completes(
    dtehub: Run, env: dict[str, str], db_file: Path, tmp_path: Path
) -> None:
    create(dtehub)
    total = 2000
    for part in range(4):  # several folders, as an archive of years and months would be
        write_many(tmp_path / "in" / f"part{part}", range(part * 500 + 1, part * 500 + 501))
    process = subprocess.Popen(
        [str(DTEHUB), "import", "--company", ISSUER, "in", "--report", "killed.json", "--jobs", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_report_lines(tmp_path / "killed.json", process, 1)
        time.sleep(0.5)  # let it get into the middle of another batch
        workers = worker_pids(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert workers  # the reading was done by worker processes...
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)  # ...that leave when the importer is killed
    reported = read_report(tmp_path / "killed.json")  # whole lines only: each batch is written at once
    imported = {("33", str(line["folio"])) for line in reported if line["outcome"] == "imported"}
    assert imported
    assert len(imported) < total
    in_database = {(str(code), number) for code, number in stored_folios(db_file)}
    assert imported <= in_database  # every DTE reported as imported was committed

    rerun = dtehub("import", "--company", ISSUER, "in", "--report", "rerun.json", "--jobs", "2")

    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["imported"] + summary["alreadyPresent"] == total
    assert summary["alreadyPresent"] == len(in_database) >= len(imported)
    assert query(db_file, "SELECT count(*), count(DISTINCT number) FROM documents") == [(total, total)]
    rerun_lines = read_report(tmp_path / "rerun.json")
    assert len(rerun_lines) == total
    again = {str(line["folio"]) for line in rerun_lines if line["outcome"] == "already_present"}
    assert {number for _, number in imported} <= again


@pytest.mark.slow
def test_sigterm_stops_cleanly_with_a_summary(env: dict[str, str], dtehub: Run, tmp_path: Path) -> None:
    create(dtehub)
    write_many(tmp_path / "in", range(1, 1201))
    process = subprocess.Popen(
        [str(DTEHUB), "import", "--company", ISSUER, "in", "--report", "r.json", "--jobs", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_report_lines(tmp_path / "r.json", process, 1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):  # a process killed here leaves them open
            if pipe is not None:
                pipe.close()

    assert process.returncode == 130, stderr
    assert stdout == b""
    text = stderr.decode()
    assert "interrupted" in text
    assert "Traceback" not in text
    reported = read_report(tmp_path / "r.json")
    imported_line = next(line for line in text.splitlines() if line.startswith("imported: "))
    assert imported_line == f"imported: {len(reported)} ({len(reported)} documents, 0 notes)"
