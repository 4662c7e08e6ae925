"""The direction of dtehub's dependencies, read from its source: no import cycle between its modules,
and the few boundaries DEVELOPERS.md draws (recording an event is a leaf, the reminders queue does not
pull in rendering and sending, repositories do not know the API's shapes). And no module so long that it
holds more than one thing: at most 700 lines in src/, tests/ and bench/ (migrations aside).

Every import counts, wherever it is written: one inside a function, or under ``TYPE_CHECKING``, is a
dependency all the same (it only hides a cycle from the interpreter).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).parent.parent / "src"
PACKAGE = "dtehub"
MAX_MODULE_LINES = 700


@dataclass(frozen=True)
class Import:
    target: str
    line: int


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package is its ``__init__``)."""
    modules = {}
    for path in sorted((SOURCE / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imports(module: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    """The package's modules that ``module`` imports: ``from a import b`` imports the module ``a.b``
    when there is one, else ``a``; ``a.b.Name`` is the module ``a.b``."""

    def nearest(name: str) -> str:
        while name not in modules and "." in name:
            name = name.rpartition(".")[0]
        return name

    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(nearest(alias.name), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .x import y
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield Import(submodule if submodule in modules else nearest(base), node.lineno)


def import_graph() -> dict[str, dict[str, Import]]:
    """For each module, the package's modules it imports (and the first line that does)."""
    modules = _modules()
    graph: dict[str, dict[str, Import]] = {name: {} for name in modules}
    for module, path in modules.items():
        for found in _imports(module, path, modules):
            if found.target in modules and found.target != module:
                graph[module].setdefault(found.target, found)
    return graph


def strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def a_cycle(graph: dict[str, dict[str, Import]], group: list[str]) -> list[str]:
    """One shortest cycle through the group's first module, as the modules it passes."""
    members = set(group)
    start = group[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        next_frontier = []
        for node in frontier:
            for target in sorted(graph[node]):
                if target == start:
                    return [*paths[node], start]
                if target in members and target not in paths:
                    paths[target] = [*paths[node], target]
                    next_frontier.append(target)
        frontier = next_frontier
    raise AssertionError(f"{group} is not a cycle")


def describe(graph: dict[str, dict[str, Import]], cycle: list[str]) -> str:
    modules = _modules()
    steps = [
        f"  {a} imports {b} ({modules[a].relative_to(SOURCE.parent)}:{graph[a][b].line})"
        for a, b in itertools.pairwise(cycle)
    ]
    return " -> ".join(cycle) + "\n" + "\n".join(steps)


def reachable(graph: dict[str, dict[str, Import]], module: str) -> set[str]:
    seen = {module}
    frontier = [module]
    while frontier:
        for target in graph[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen - {module}


@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, Import]]:
    return import_graph()


def test_no_module_of_dtehub_imports_itself_through_others(graph: dict[str, dict[str, Import]]) -> None:
    cycles = [
        f"{', '.join(group)} import each other; one loop:\n{describe(graph, a_cycle(graph, group))}"
        for group in strongly_connected(graph)
    ]
    assert not cycles, "import cycles (make the lower module not know the higher one):\n" + "\n".join(cycles)


def test_the_cycle_check_finds_a_cycle_and_names_its_imports() -> None:
    made_up = {
        "a": {"b": Import("b", 3)},
        "b": {"c": Import("c", 5)},
        "c": {"a": Import("a", 7), "d": Import("d", 1)},
        "d": {},
    }
    [group] = strongly_connected(made_up)
    assert group == ["a", "b", "c"]
    assert a_cycle(made_up, group) == ["a", "b", "c", "a"]


def test_the_graph_counts_imports_inside_functions(graph: dict[str, dict[str, Import]]) -> None:
    # cli.py imports the importer inside its command, so that `dtehub --help` stays fast.
    assert "dtehub.ingest.importer" in graph["dtehub.cli"]


def test_recording_a_webhook_event_is_a_leaf(graph: dict[str, dict[str, Import]]) -> None:
    """Callers hand webhooks.events the views they built: it reaches no domain that has views."""
    allowed = ("dtehub.kit.", "dtehub.models", "dtehub.webhooks.repository")
    reached = reachable(graph, "dtehub.webhooks.events")
    assert sorted(m for m in reached if not m.startswith(allowed)) == []


def test_the_ledger_sits_below_the_services_that_call_it(graph: dict[str, dict[str, Import]]) -> None:
    """Notes, payments and ingest call documents.ledger; it reads their tables through repositories."""
    reached = reachable(graph, "dtehub.documents.ledger")
    upward = (".service", ".endpoints", ".schemas", ".views", ".events")
    assert sorted(m for m in reached if m.endswith(upward)) == []


def test_the_reminders_queue_does_not_pull_in_rendering_or_sending(
    graph: dict[str, dict[str, Import]],
) -> None:
    reached = reachable(graph, "dtehub.reminders.queue")
    heavy = ("dtehub.mail", "dtehub.dte.pdf", "dtehub.reminders.service", "dtehub.reminders.rendering")
    assert sorted(m for m in reached if m.startswith(heavy)) == []


def test_repositories_do_not_import_api_shapes_or_services(graph: dict[str, dict[str, Import]]) -> None:
    upward = (".schemas", ".service", ".endpoints", ".views")
    found = sorted(
        f"{module} imports {target}"
        for module in graph
        if module.endswith(".repository")
        for target in graph[module]
        if target.endswith(upward)
    )
    assert found == []


def long_modules(root: Path, limit: int = MAX_MODULE_LINES) -> list[str]:
    """The Python modules under src/, tests/ and bench/ (not migrations) with more than ``limit`` lines."""
    found = []
    for folder in ("src", "tests", "bench"):
        for path in sorted((root / folder).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts:
                continue
            lines = len(path.read_bytes().splitlines())
            if lines > limit:
                found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def test_no_module_is_over_700_lines() -> None:
    long = long_modules(SOURCE.parent)
    assert long == [], "split these by what they hold (one purpose a module):\n" + "\n".join(long)


def test_the_length_check_counts_lines_and_leaves_migrations_out(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "long.py").write_text("x = 1\n" * 701)
    (tmp_path / "src" / "pkg" / "short.py").write_text("x = 1\n" * 700)
    (tmp_path / "src" / "pkg" / "migrations").mkdir()
    (tmp_path / "src" / "pkg" / "migrations" / "0001_big.py").write_text("x = 1\n" * 5000)
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "long.py").write_text("x = 1\n" * 800)

    assert long_modules(tmp_path) == ["src/pkg/long.py: 701 lines", "bench/long.py: 800 lines"]
