"""dtehub import's workers import the DTE pipeline and nothing of the web app: each one starts small."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "DTE--76399752-9--33--25568.xml"
HEAVY = ("fastapi", "starlette", "sqlalchemy", "reportlab", "dtehub.models", "dtehub.cli", "dtehub.app")
LOADED = f"sorted(m for m in __import__('sys').modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r})"


def _run(code: str, tmp_path: Path) -> list[str]:
    script = tmp_path / "script.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_the_workers_module_imports_no_web_app_nor_database(tmp_path: Path) -> None:
    loaded = _run(
        f"import json\nimport dtehub.ingest.reading\nprint(json.dumps({LOADED}))\n",
        tmp_path,
    )
    assert loaded == []


def test_a_worker_of_the_dtehub_command_imports_only_its_task(tmp_path: Path) -> None:
    # The installed command goes through the launcher, which imports nothing until it runs ...
    command = (Path(sys.executable).parent / "dtehub").read_text()
    assert "from dtehub.launcher import main" in command
    # ... and a spawned worker runs its parent's main script again (not its main()): this one is the
    # command's, with the import's pool started where the command would start it.
    code = f"""
import json
import sys
from dtehub.launcher import main

if __name__ == "__main__":
    from dtehub.ingest import importer

    with importer.process_pool(1) as pool:
        [source] = [s for s in importer.walk_sources([{str(FIXTURE)!r}]) if isinstance(s, importer.Source)]
        [read] = pool.submit(importer.read_chunk, [source], 5 * 1024 * 1024).result()
        assert isinstance(read, importer.ReadDte), read
        print(json.dumps(pool.submit(eval, {LOADED!r}).result()))
"""
    assert _run(code, tmp_path) == []
