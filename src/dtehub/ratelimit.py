"""Rate limits: a token bucket per API token and per portal link key, in this process's memory.

Each presented credential (a bearer token, a portal key) fills its own bucket at ``per_minute / 60``
requests a second up to ``burst``; a request that finds the bucket empty answers 429 with
``Retry-After`` (whole seconds until one request is allowed again). The check runs on the event loop
(:func:`dtehub.dependencies.get_bearer_token`, the portal router's dependency), so it needs no lock,
and costs about a microsecond.

The limit is checked *before* a token is looked up: one credential repeated by a flood is refused
without reaching the database, valid or not. An unknown token still gets its 401 (a new credential
starts with a full bucket). Buckets are keyed by a digest of the credential, never the credential
itself, and their number is bounded (``max_keys``): random bogus tokens cannot grow memory.

Processes share nothing: with N processes (``dtehub serve --workers N``) a credential may make up to
N times the limit.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import time
from collections.abc import Callable

from dtehub.errors import TooManyRequests

DEFAULT_MAX_KEYS = 20_000


class RateLimiter:
    """Token buckets keyed by credential digest. ``per_minute`` 0 turns the limiter off."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = per_minute > 0
        self.rate = per_minute / 60.0  # requests a second
        self.burst = float(max(burst, 1))
        self.max_keys = max_keys
        self.clock = clock  # replaceable: tests move time by hand
        # digest -> [tokens left, when they were counted]; a list, updated in place
        self._buckets: dict[bytes, list[float]] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def check(self, credential: str) -> None:
        """Take one request from ``credential``'s bucket, or raise ``TooManyRequests``."""
        if not self.enabled:
            return
        # A digest, not the secret: nothing in memory is usable as a credential. 128 bits: no collisions.
        key = hashlib.blake2b(credential.encode(), digest_size=16).digest()
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            self._buckets[key] = [self.burst - 1.0, now]
            return
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        if tokens < 1.0:
            bucket[0], bucket[1] = tokens, now
            raise TooManyRequests(max(1, math.ceil((1.0 - tokens) / self.rate)))
        bucket[0], bucket[1] = tokens - 1.0, now

    def _prune(self, now: float) -> None:
        """Forget the buckets that have filled up again (forgetting them changes nothing); if that is
        not enough (a flood of distinct credentials), forget the least recently used until half is free,
        so that a flood of new credentials cannot reset a busy one's bucket. A forgotten credential
        starts again with a full bucket: pruning may let a client through, never refuse one."""
        refill_seconds = self.burst / self.rate
        idle = [key for key, (_, seen) in self._buckets.items() if now - seen >= refill_seconds]
        for key in idle:
            del self._buckets[key]
        excess = len(self._buckets) - self.max_keys // 2  # half free again: pruning stays rare
        if excess > 0:
            by_last_use = heapq.nsmallest(excess, self._buckets.items(), key=lambda item: item[1][1])
            for key, _ in by_last_use:
                del self._buckets[key]
