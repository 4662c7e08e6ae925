"""Fixtures of the web app's tests: the app's clock, browsers (see :mod:`tests.webapp.helpers`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from tests.conftest import PUBLIC_URL
from tests.webapp.helpers import Clock, WebBrowser


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
