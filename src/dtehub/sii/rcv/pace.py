"""Time for the RCV client: a clock that can be replaced in tests, and the limiter that spaces requests."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """What the client reads time from and waits with."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class RateLimiter:
    """At most ``per_second`` requests a second: each waits until ``1 / per_second`` after the previous one
    was let through (no burst), in the order they asked."""

    def __init__(self, per_second: float, clock: Clock) -> None:
        if per_second <= 0:
            raise ValueError("the request rate must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._lock = asyncio.Lock()
        self._next: float | None = None

    async def wait(self) -> None:
        async with self._lock:
            now = self._clock.monotonic()
            if self._next is not None and now < self._next:
                await self._clock.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval
