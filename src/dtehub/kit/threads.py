"""Blocking work (database units of work) run from the event loop in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``func`` in a worker thread, as :func:`asyncio.to_thread`, except that a caller cancelled while it
    runs waits for it to end before the cancellation goes on. A thread cannot be stopped: cancelled
    without waiting, it would go on holding a database connection after the server disposed its
    engine (the connection is then never closed, only collected)."""
    running = asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        await asyncio.wait([running])
        raise
