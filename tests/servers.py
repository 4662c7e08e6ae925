"""Helpers for the tests that run ``dtehub serve`` as a real process on loopback."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path, *, seconds: float = 90) -> None:
    """Until the server at ``base`` answers ``/health``; fails with the server's log if it exits or
    does not answer within ``seconds`` (generous: a loaded machine starts a server slowly, and only a
    failing test waits that long)."""
    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            pytest.fail(f"dtehub serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() >= deadline:
            pytest.fail(f"dtehub serve did not answer /health in {seconds} s:\n{log.read_text()}")
        time.sleep(0.1)
