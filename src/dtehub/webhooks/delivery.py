"""The delivery worker: claims due deliveries from the outbox, posts them, records the outcome.

At-least-once: a delivery is settled only after its POST was answered, so a worker that dies
half-way leaves its claims to be retried when their lease ends; receivers de-duplicate by event id.
A 2xx answer delivers; anything else (another status, a refused or timed-out connection, an
address the guard refuses) is retried with exponential backoff and jitter, for a day after the event,
then the delivery is marked failed.
"""

from __future__ import annotations

import logging
import random
import secrets
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpcore
from sqlalchemy.orm import Session, sessionmaker

from dtehub import __version__
from dtehub.config import Settings
from dtehub.db import unit_of_work
from dtehub.kit.dates import format_datetime, utcnow
from dtehub.models import DeliveryState
from dtehub.webhooks import guard, repository, signing
from dtehub.webhooks.guard import AddressRefused, GuardedBackend, parse_url
from dtehub.webhooks.repository import Claimed

log = logging.getLogger(__name__)

FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
RETRY_FOR = timedelta(days=1)
JITTER = 0.25
"""Each delay is drawn uniformly within ±25% of its nominal value."""
BATCH = 64
LEASE_MARGIN = timedelta(minutes=1)
MAX_RESPONSE_BYTES = 64 * 1024
MAX_ERROR_CHARS = 255

SessionFactory = sessionmaker[Session]


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 30 s, 1, 2, 4 … minutes, then
    hourly, each within ±25%."""
    nominal = min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    delay: timedelta = nominal * spread
    return delay


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def body_of(claimed: Claimed) -> bytes:
    """``{"id", "type", "createdAt", "data"}``; ``data`` is the stored JSON text, sent as it is."""
    head = (
        f'{{"id":"{claimed.event_public_id}","type":"{claimed.event_type}",'
        f'"createdAt":"{format_datetime(claimed.event_created_at)}","data":'
    )
    return head.encode("utf-8") + claimed.data.encode("utf-8") + b"}"


class Poster:
    """Posts signed deliveries through a connection pool that only reaches vetted addresses."""

    def __init__(self, settings: Settings) -> None:
        self._timeout = settings.webhook_timeout
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=32,
            network_backend=GuardedBackend(allow_private=settings.webhooks_allow_private),
        )

    def close(self) -> None:
        self._pool.close()

    def post(self, claimed: Claimed, secret: str, now: datetime) -> Attempt:
        try:
            target = parse_url(claimed.url)
        except AddressRefused as refused:
            return Attempt(None, str(refused))
        body = body_of(claimed)
        timestamp = int(now.timestamp())
        headers = [
            (b"Host", _host_header(target.host, target.port, target.scheme).encode("ascii")),
            (b"Content-Type", b"application/json"),
            (b"User-Agent", f"dtehub-webhooks/{__version__}".encode("ascii")),
            (signing.EVENT_ID_HEADER.encode(), claimed.event_public_id.encode("ascii")),
            (b"Dtehub-Event-Type", claimed.event_type.encode("ascii")),
            (signing.TIMESTAMP_HEADER.encode(), str(timestamp).encode("ascii")),
            (signing.SIGNATURE_HEADER.encode(), signing.signature(secret, timestamp, body).encode("ascii")),
        ]
        url = httpcore.URL(
            scheme=target.scheme.encode("ascii"),
            host=target.host.encode("ascii"),
            port=target.port,
            target=target.target.encode("ascii", errors="strict"),
        )
        timeout = self._timeout
        extensions: dict[str, Any] = {
            "timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        }
        try:
            with (
                guard.deadline(self._timeout),
                self._pool.stream(
                    "POST", url, headers=headers, content=body, extensions=extensions
                ) as answer,
            ):
                read = 0
                for chunk in answer.iter_stream():  # read a little, so the connection can be reused
                    read += len(chunk)
                    if read > MAX_RESPONSE_BYTES:
                        break
                return Attempt(answer.status, None if 200 <= answer.status < 300 else f"HTTP {answer.status}")
        except httpcore.TimeoutException:
            return Attempt(None, "timed out")
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            return Attempt(None, _error_text(exc))
        except (UnicodeError, ValueError) as exc:
            return Attempt(None, _error_text(exc))


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return shown if port == default else f"{shown}:{port}"


def _error_text(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:MAX_ERROR_CHARS]


def outcome(
    claimed: Claimed, attempt: Attempt, now: datetime, rng: random.Random | None = None
) -> dict[str, Any]:
    """The row values that record ``attempt`` (see :func:`repository.settle`)."""
    values: dict[str, Any] = {
        "d_id": claimed.id,
        "d_token": claimed.lease_token,
        "d_status": attempt.status_code,
        "d_error": None if attempt.error is None else attempt.error[:MAX_ERROR_CHARS],
        "d_delivered": None,
    }
    if attempt.delivered:
        return values | {"d_state": DeliveryState.DELIVERED, "d_next": None, "d_delivered": now}
    if now - claimed.created_at >= RETRY_FOR:
        return values | {"d_state": DeliveryState.FAILED, "d_next": None}
    return values | {"d_state": DeliveryState.PENDING, "d_next": now + retry_delay(claimed.attempts, rng)}


@dataclass
class RunSummary:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def deliver_due(
    factory: SessionFactory,
    settings: Settings,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
    max_batches: int | None = None,
    concurrency: int = 8,
    poster: Poster | None = None,
) -> RunSummary:
    """Deliver what is due, batch after batch, until nothing is due (or ``max_batches`` ran).

    ``now`` fixes the clock (tests drive retries with it); by default each batch reads the time.
    Without a usable ``DTEHUB_SECRET_KEY`` nothing can be signed: nothing is claimed.
    """
    summary = RunSummary()
    # A claim outlives the slowest batch (every POST of it taking its whole timeout), so no other worker
    # takes over a delivery this one is still posting.
    rounds = -(-batch // concurrency)
    lease = timedelta(seconds=rounds * settings.webhook_timeout) + LEASE_MARGIN
    box = signing.secret_box(settings)
    if box is None:
        return summary
    own_poster = poster is None
    poster = poster or Poster(settings)
    try:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dtehub-webhook") as pool:
            batches = 0
            while max_batches is None or batches < max_batches:
                batches += 1
                moment = now or utcnow()
                token = secrets.token_hex(16)
                with unit_of_work(factory) as session:
                    claimed = repository.claim_due(
                        session, now=moment, lease_until=moment + lease, token=token, limit=batch
                    )
                if not claimed:
                    break

                def attempt(item: Claimed, moment: datetime = moment) -> Attempt:
                    secret = box.open(item.secret_encrypted, item.company_id)
                    if secret is None:
                        return Attempt(None, "the webhook's secret does not open with DTEHUB_SECRET_KEY")
                    return poster.post(item, secret, moment)

                attempts = list(pool.map(attempt, claimed))
                settled_at = now or utcnow()
                outcomes = [
                    outcome(item, result, settled_at) for item, result in zip(claimed, attempts, strict=True)
                ]
                with unit_of_work(factory) as session:
                    repository.settle(session, outcomes)
                for values in outcomes:
                    summary.attempted += 1
                    if values["d_state"] == DeliveryState.DELIVERED:
                        summary.delivered += 1
                    elif values["d_state"] == DeliveryState.FAILED:
                        summary.failed += 1
                    else:
                        summary.retrying += 1
    finally:
        if own_poster:
            poster.close()
    if summary.failed:
        log.warning("webhook deliveries failed for good after a day of retries: %d", summary.failed)
    return summary
