"""in_thread: a cancelled caller waits for its thread's work to end (so a server that stops disposes its
engine only once no thread holds a connection)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dtehub.kit.threads import in_thread


async def test_a_cancelled_caller_waits_for_its_thread_to_end() -> None:
    started, release, ended = threading.Event(), threading.Event(), threading.Event()

    def work() -> str:
        started.set()
        release.wait(30)
        ended.set()
        return "done"

    caller = asyncio.create_task(in_thread(work))
    assert await asyncio.to_thread(started.wait, 30)
    caller.cancel()
    await asyncio.sleep(0)  # let the cancellation reach the caller
    await asyncio.sleep(0)

    assert not caller.done()  # still waiting for the thread
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert ended.is_set()


async def test_it_answers_what_the_function_returns_or_raises() -> None:
    assert await in_thread(lambda a, b: a + b, 2, 3) == 5

    def fails() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await in_thread(fails)
