"""Helpers of the fault tests: a real ``dtehub serve`` that can be killed and restarted, a company of
its own, and a TCP proxy that can cut, refuse or slow the way to PostgreSQL."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import delete

from dtehub.companies.service import create_company
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.models import Company
from tests.conftest import TEST_SECRET_KEY, random_rut
from tests.servers import free_port, wait_until_up

DTEHUB = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dtehub"


def dtehub_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a ``dtehub`` process: this one's without any DTEHUB_ setting, plus ``settings``
    (``public_url="…"`` becomes ``DTEHUB_PUBLIC_URL``)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")},
        "DTEHUB_DATABASE_URL": database_url,
        **{f"DTEHUB_{name.upper()}": value for name, value in settings.items()},
    }


@dataclass
class Server:
    """A ``dtehub serve`` process on loopback; :meth:`start` again after :meth:`kill` or :meth:`stop`
    starts a new process (on a new port) on the same database."""

    database_url: str
    workdir: Path
    settings: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None
    base: str = ""
    starts: int = 0
    terminated: bool = False

    @property
    def log(self) -> Path:
        return self.workdir / f"server-{self.starts}.log"

    def start(self) -> str:
        self.starts += 1
        self.terminated = False
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        defaults = {
            "public_url": self.base,
            "run_background_jobs": "false",
            "secret_key": TEST_SECRET_KEY,
            "webhooks_allow_private": "true",
            "threads": "8",
            # The tests send as fast as they can with one token: no rate limit in the way.
            "rate_limit_per_minute": "0",
            "portal_rate_limit_per_minute": "0",
        }
        environment = dtehub_environment(self.database_url, **{**defaults, **self.settings})
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(DTEHUB), "serve", "--host", "127.0.0.1", "--port", str(port)]
                + (["--workers", str(self.workers)] if self.workers > 1 else []),
                env=environment,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its worker processes die with it on kill()
            )
        wait_until_up(self.base, self.process, self.log, seconds=60)
        return self.base

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as a power cut or the OOM killer would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM, once: a second one would come while it already shuts down."""
        assert self.process is not None
        if self.process.poll() is None and not self.terminated:
            self.terminated = True
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM (unless sent already), then its exit code."""
        assert self.process is not None
        self.terminate()
        return self.process.wait(timeout=timeout)


@contextmanager
def company(database_url: str) -> Iterator[tuple[int, str, str]]:
    """(id, RUT, token) of a company committed for real, deleted afterwards with all it holds."""
    engine = create_engine(database_url, pool_size=1)
    factory = create_sessionmaker(engine)
    rut = random_rut()
    with unit_of_work(factory) as session:
        created = create_company(session, rut=rut, name="FALLAS SPA", payment_term_days=30)
        company_id, rut, token = created.company.id, created.company.rut, created.token
    try:
        yield company_id, rut, token
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(Company).where(Company.id == company_id))
        engine.dispose()


def answers_within(url: str, seconds: float, headers: dict[str, str] | None = None) -> httpx.Response:
    """The answer to GET ``url``, which must come within ``seconds``."""
    started = time.monotonic()
    response = httpx.get(url, headers=headers, timeout=seconds)
    assert time.monotonic() - started < seconds
    return response


class Proxy:
    """A TCP proxy on loopback in front of ``target``, in threads: :meth:`cut` closes every proxied
    connection and refuses new ones (the database "stops"), :meth:`stall` accepts new ones and then
    stays silent, :meth:`slow` delays every chunk of bytes,
    :meth:`restore` lets traffic through again. Only the proxy's own sockets are touched: the database
    behind it keeps serving everyone else."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.delay = 0.0
        self._down = threading.Event()
        self._stalled = threading.Event()
        self._silent: list[socket.socket] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self._thread = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._stalled.is_set():
                self._silent.append(client)  # accepted, then never a byte either way
                continue
            if self._down.is_set():
                # Refused: reset at once (SO_LINGER 0), as a host with nothing listening would answer.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
            threading.Thread(target=self._pipe, args=(pair,), name="proxy-pipe", daemon=True).start()

    def _pipe(self, pair: tuple[socket.socket, socket.socket]) -> None:
        client, upstream = pair
        peers = {client: upstream, upstream: client}
        try:
            while not self._stopping.is_set() and not self._down.is_set():
                readable, _, _ = select.select(list(peers), [], [], 0.05)
                for source in readable:
                    chunk = source.recv(65536)
                    if not chunk:
                        return
                    if self.delay:
                        time.sleep(self.delay)
                    peers[source].sendall(chunk)
        except OSError:
            return
        finally:
            with self._lock:
                self._pairs.discard(pair)
            for sock in pair:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def cut(self) -> None:
        self._down.set()
        deadline = time.monotonic() + 5
        while self._pairs and time.monotonic() < deadline:
            time.sleep(0.01)

    def stall(self) -> None:
        """New connections are accepted and then hear nothing (a host that hangs)."""
        self._stalled.set()

    def slow(self, delay: float) -> None:
        self.delay = delay

    def restore(self) -> None:
        self.delay = 0.0
        self._stalled.clear()
        for sock in self._silent:
            sock.close()
        self._silent.clear()
        self._down.clear()

    def close(self) -> None:
        self.restore()
        self._stopping.set()
        self._down.set()
        self._listener.close()
        self._thread.join(5)
