"""Fixtures of the web app's tests: the app's clock, browsers (see :mod:`tests.webapp.helpers`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy.orm import Session

from dtehub.users import passwords
from tests.conftest import PUBLIC_URL
from tests.webapp.helpers import Clock, WebBrowser


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id still, at a test's cost (8 MiB, one pass): these tests check sessions, not the hash's
    strength, and sign in dozens of times (tests/e2e/ runs the real parameters)."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    passwords._decoy.cache_clear()


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    clock = Clock()
    before = app.state.clock
    app.state.clock = clock
    yield clock
    app.state.clock = before


@pytest.fixture
async def web_browser(
    app: FastAPI, session: Session, client: httpx.AsyncClient, clock: Clock
) -> AsyncIterator[Callable[[], WebBrowser]]:
    """Makes browsers on the app (the ``client`` fixture shares the test's session with each request).
    They reach it as the public URL (https: the session cookie is Secure)."""
    async with AsyncExitStack() as stack:

        def make() -> WebBrowser:
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL)
            stack.push_async_callback(http.aclose)
            return WebBrowser(http)

        yield make


@pytest.fixture
def web(web_browser: Callable[[], WebBrowser]) -> WebBrowser:
    return web_browser()
