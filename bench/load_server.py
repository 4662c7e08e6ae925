"""bench/load.py's server: `dtehub serve` on loopback, its processes' memory and CPU, /health by wrk."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def server_environment(url: str, base: str, mail: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    environment.update(
        DTEHUB_DATABASE_URL=url,
        DTEHUB_PUBLIC_URL=base,
        DTEHUB_LOG_LEVEL="warning",
        DTEHUB_MAIL_FOLDER=str(mail),
        DTEHUB_RUN_BACKGROUND_JOBS="true",  # as in production: reminders and webhooks run next to the API
    )
    # One client drives thousands of requests a minute with a handful of tokens and link keys: the
    # limiter (when this tree has it) would answer 429 to most of them. 0 turns it off.
    from dtehub.config import Settings

    for name in ("rate_limit_per_minute", "portal_rate_limit_per_minute"):
        if name in Settings.model_fields:
            environment[f"DTEHUB_{name.upper()}"] = "0"
            print(f"rate limiter off for the load: DTEHUB_{name.upper()}=0", flush=True)
    return environment


def start_server(url: str, port: int, workers: int, mail: Path, log: Path) -> subprocess.Popen[bytes]:
    base = f"http://127.0.0.1:{port}"
    dtehub = shutil.which("dtehub", path=str(Path(sys.executable).parent)) or "dtehub"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [dtehub, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=server_environment(url, base, mail),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 240  # the machine is shared: a busy one starts slowly
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()  # uvicorn's master stops its workers on SIGTERM (SIGKILL would orphan them)
    server.wait(60)
    raise SystemExit(f"the server did not start:\n{log.read_text()}")


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (uvicorn's master, its workers and their helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class RssSampler(threading.Thread):
    def __init__(self, root: int, every: float) -> None:
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.samples: list[tuple[float, int, int]] = []  # (seconds since start, RSS bytes, processes)
        self.stopping = threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        while not self.stopping.is_set():
            pids = process_tree(self.root)
            self.samples.append((time.monotonic() - self.started_at, rss_bytes(pids), len(pids)))
            self.stopping.wait(self.every)


def wrk_health(base: str, seconds: int, connections: int) -> float | None:
    if shutil.which("wrk") is None:
        return None
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"{base}/health"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in output.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None
