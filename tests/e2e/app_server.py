"""A dtehub server for the web app's browser tests: the real app (real argon2id, real SQLite file) served
by uvicorn in a thread of the test process, so that the test holds the app's clock (``app.state.clock``)
and moves it (a session's expiry without waiting 30 minutes)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from dtehub import migrate
from dtehub.app import create_app
from dtehub.config import Settings
from tests.servers import free_port
from tests.webapp.helpers import Clock


@dataclass
class AppServer:
    base: str
    app: FastAPI
    clock: Clock
    settings: Settings

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@contextmanager
def app_server(directory: Path) -> Iterator[AppServer]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite:///{directory / 'dtehub.db'}",
        public_url=base,
        run_background_jobs=False,
        secret_key="browser-tests-key-0123456789abcdef0123",
        mail_folder=str(directory / "mail"),
        rate_limit_per_minute=0,
        portal_rate_limit_per_minute=0,
    )
    migrate.upgrade(settings.database_url)
    app = create_app(settings)
    clock = Clock()
    app.state.clock = clock
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="dtehub-app-server", daemon=True)
    thread.start()
    try:
        started = threading.Event()
        while not started.wait(0.05):  # until uvicorn says it listens (or gave up)
            if server.started:
                started.set()
            elif not thread.is_alive():
                raise RuntimeError("the app server did not start")
        yield AppServer(base, app, clock, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
