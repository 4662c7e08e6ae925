"""The emulated portal's server-side sessions, its counters, and the faults a test can switch on.

SII keeps the selected company in the session, not in a cookie, caps the sessions a person has open at
once and ends them after a while; :class:`SessionStore` does the same, keyed by the ``TOKEN`` cookie.
"""

from __future__ import annotations

import dataclasses
import enum
import secrets
import string
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Generic, TypeVar, overload

T = TypeVar("T")

DEFAULT_SESSION_TTL_SECONDS = 3600.0
DEFAULT_MAX_SESSIONS_PER_PERSON = 10
_TOKEN_ALPHABET = string.ascii_uppercase + string.digits
_TOKEN_LENGTH = 13  # SII's tokens look like "FVD3ZPNBP1ZXE"


class _Setting(Generic[T]):
    """An attribute of :class:`Faults` read and written under its lock."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = "_" + name

    @overload
    def __get__(self, instance: None, owner: type) -> _Setting[T]: ...
    @overload
    def __get__(self, instance: Faults, owner: type | None = None) -> T: ...
    def __get__(self, instance: Faults | None, owner: type | None = None) -> T | _Setting[T]:
        if instance is None:  # looked up on the class (help(), documentation tools)
            return self
        with instance._lock:
            value: T = getattr(instance, self._slot)
            return value

    def __set__(self, instance: Faults, value: T) -> None:
        with instance._lock:
            setattr(instance, self._slot, value)


class Faults:
    """Misbehaviour on demand, safe to change while the emulator serves (``emulator.faults``)."""

    delay_seconds = _Setting[float]()
    """Every response waits this long before it is sent."""
    unavailable = _Setting[bool]()
    """Every request is answered 503 with an HTML page, as SII does in its maintenance windows."""
    handshake_failures = _Setting[int]()
    """The next N TLS handshakes are aborted by closing the connection (SII's transient failures)."""
    session_ttl_seconds = _Setting[float]()
    """A session ends this long after its login (codes 29, then 28)."""
    max_sessions_per_person = _Setting[int]()
    """A login beyond this many open sessions of the same person is refused with code 27."""
    download_ignores_folio = _Setting[bool]()
    """``download.cgi`` ignores FOLIO/FOLIOHASTA, so a company with many documents of the type hits the
    20-document cap."""
    rcv_server_errors = _Setting[int]()
    """The next N calls of the RCV's facade answer HTTP 500 (a JBoss error page)."""
    rcv_too_many_requests = _Setting[int]()
    """The next N calls of the RCV's facade answer HTTP 429."""
    rcv_session_expires_after = _Setting[int]()
    """After N more answered calls of the RCV's facade, every open session ends (0: never)."""
    rcv_requires_bootstrap = _Setting[bool]()
    """The facade answers HTTP 401 (JBWEB000065) until the session called ``AutTknData.cgi``."""
    rcv_export_limit = _Setting["int | None"]()
    """A direct export of more rows than this answers no line at all ("too large"; None: no limit)."""
    rcv_async_seconds = _Setting[float]()
    """How long an asynchronous export takes to be ``TERMINADO``."""
    rcv_refusal = _Setting["str | None"]()
    """Every facade call that passed the session checks answers ``codRespuesta 1`` with this message."""
    rcv_garbled_answers = _Setting[int]()
    """The next N facade calls answer HTTP 200 with JSON that is not the facade's envelope."""

    # Where the settings above keep their values.
    _delay_seconds: float
    _unavailable: bool
    _handshake_failures: int
    _session_ttl_seconds: float
    _max_sessions_per_person: int
    _download_ignores_folio: bool
    _rcv_server_errors: int
    _rcv_too_many_requests: int
    _rcv_session_expires_after: int
    _rcv_requires_bootstrap: bool
    _rcv_export_limit: int | None
    _rcv_async_seconds: float
    _rcv_refusal: str | None
    _rcv_garbled_answers: int

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to a well-behaved SII."""
        self.delay_seconds = 0.0
        self.unavailable = False
        self.handshake_failures = 0
        self.session_ttl_seconds = DEFAULT_SESSION_TTL_SECONDS
        self.max_sessions_per_person = DEFAULT_MAX_SESSIONS_PER_PERSON
        self.download_ignores_folio = False
        self.rcv_server_errors = 0
        self.rcv_too_many_requests = 0
        self.rcv_session_expires_after = 0
        self.rcv_requires_bootstrap = False
        self.rcv_export_limit = None
        self.rcv_async_seconds = 0.2
        self.rcv_refusal = None
        self.rcv_garbled_answers = 0

    def take(self, name: str) -> bool:
        """For a countdown setting (``handshake_failures``, ``rcv_server_errors``…): True, and one fewer to
        go, when it is above zero."""
        with self._lock:
            left: int = getattr(self, "_" + name)
            if left <= 0:
                return False
            setattr(self, "_" + name, left - 1)
            return True

    def take_handshake_failure(self) -> bool:
        """True (and one fewer to go) when the next handshake must fail."""
        return self.take("handshake_failures")


@dataclasses.dataclass(frozen=True)
class Session:
    token: str
    person_rut: str
    company_rut: str | None
    """The selected company: None until one is selected (preset when the person has exactly one)."""
    created_at: float
    last_used: float


class Lookup(enum.Enum):
    OPEN = "open"
    EXPIRED = "expired"  # the token was good, the session outlived its time (code 29)
    UNKNOWN = "unknown"  # no such token, or logged out (code 28)


class SessionStore:
    """Sessions by token, with per-person caps and counters; every method is thread-safe."""

    def __init__(self, faults: Faults, clock: Callable[[], float] = time.monotonic) -> None:
        self._faults = faults
        self._clock = clock
        self._lock = threading.Lock()
        self._login_done = threading.Condition(self._lock)
        self._sessions: dict[str, Session] = {}
        self._peak: Counter[str] = Counter()
        self._logins: Counter[str] = Counter()
        self._logouts = 0

    def open(self, person_rut: str, company_rut: str | None) -> Session | None:
        """A new session, or None when the person already has the maximum open (code 27)."""
        ttl = self._faults.session_ttl_seconds
        limit = self._faults.max_sessions_per_person
        with self._lock:
            now = self._clock()
            self._forget_old(now, ttl)
            count = self._open_count(person_rut, now, ttl)
            if count >= limit:
                return None
            token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH))
            session = Session(token, person_rut, company_rut, created_at=now, last_used=now)
            self._sessions[token] = session
            self._logins[person_rut] += 1
            self._login_done.notify_all()
            self._peak[person_rut] = max(self._peak[person_rut], count + 1)
            return session

    def find(self, token: str) -> tuple[Lookup, Session | None]:
        """The session of a token, marked as used now."""
        ttl = self._faults.session_ttl_seconds
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return Lookup.UNKNOWN, None
            now = self._clock()
            if now - session.created_at > ttl:
                return Lookup.EXPIRED, session
            session = dataclasses.replace(session, last_used=now)
            self._sessions[token] = session
            return Lookup.OPEN, session

    def select_company(self, token: str, company_rut: str) -> None:
        with self._lock:
            session = self._sessions.get(token)
            if session is not None:
                self._sessions[token] = dataclasses.replace(session, company_rut=company_rut)

    def expire_open(self) -> None:
        """End every session open now, as SII's timeout would: their tokens answer "expired" (29)."""
        ttl = self._faults.session_ttl_seconds
        with self._lock:
            now = self._clock()
            for token, session in list(self._sessions.items()):
                if now - session.created_at <= ttl:
                    self._sessions[token] = dataclasses.replace(session, created_at=now - ttl - 0.001)

    def close(self, token: str) -> bool:
        """Log out; False when the token had no open session."""
        with self._lock:
            session = self._sessions.pop(token, None)
            if session is None:
                return False
            self._logouts += 1
            return True

    @property
    def logins(self) -> int:
        with self._lock:
            return self._logins.total()

    def logins_of(self, person_rut: str) -> int:
        """One person's logins: a test's own count, beside a login SII completes late for another test."""
        with self._lock:
            return self._logins[person_rut]

    def wait_for_logins(self, person_rut: str, count: int, timeout: float) -> bool:
        """Wait until the person has logged in ``count`` times since the start; whether they did."""
        with self._login_done:
            return self._login_done.wait_for(lambda: self._logins[person_rut] >= count, timeout)

    @property
    def logouts(self) -> int:
        with self._lock:
            return self._logouts

    def open_sessions(self, person_rut: str) -> int:
        with self._lock:
            return self._open_count(person_rut, self._clock(), self._faults.session_ttl_seconds)

    def peak_sessions(self, person_rut: str) -> int:
        """The most sessions the person has had open at the same time."""
        with self._lock:
            return self._peak[person_rut]

    def _open_count(self, person_rut: str, now: float, ttl: float) -> int:
        return sum(
            1
            for session in self._sessions.values()
            if session.person_rut == person_rut and now - session.created_at <= ttl
        )

    def _forget_old(self, now: float, ttl: float) -> None:
        # Ended sessions are kept for a while so that their token still gets "expired" (29), not 28.
        stale = [token for token, session in self._sessions.items() if now - session.created_at > 2 * ttl]
        for token in stale:
            del self._sessions[token]
