"""Logged-in SII sessions, reused and bounded.

SII lets one person hold at most 10 open sessions and frees a session only 30–60 minutes after its login
unless it is logged out. The pool therefore:

- reuses a session for later requests with the same certificate for ``session_reuse_seconds`` after its
  login, then logs it out (at its next release, or by :meth:`SessionPool.reap`);
- lets at most ``max_sessions_per_holder`` sessions of one person be open at once from this process; a
  request beyond that waits for one to be released, within its deadline;
- hands a session to one request at a time, so that select-then-query never interleaves;
- logs out a session that failed in a way that may have left it broken, and every session on close;
- keeps each certificate it opened for as long as its sessions may be reused
  (:meth:`SessionPool.certificate`): opening a PKCS#12 costs tens of milliseconds of key derivation, more
  than a whole request on a reused session. The key is in memory for that long anyway, in the session's
  TLS context.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from dtehub.sii.certificate import PersonCertificate, load_pfx
from dtehub.sii.config import Deadline, SiiConfig
from dtehub.sii.errors import CertificateError, DocumentNotFound, SiiBusy, SiiUnavailable
from dtehub.sii.portal import PortalSession
from dtehub.sii.tls import client_context

HEALTHY_AFTER = (DocumentNotFound, CertificateError)
"""Answers about the request, not the session: it stays good for the next one."""

SessionFactory = Callable[[PersonCertificate, SiiConfig], PortalSession]


def new_session(certificate: PersonCertificate, config: SiiConfig) -> PortalSession:
    return PortalSession(certificate, config, client_context(certificate, ca_bundle=config.ca_bundle))


class SessionPool:
    def __init__(self, config: SiiConfig, *, factory: SessionFactory = new_session) -> None:
        self.config = config
        self._factory = factory
        self._idle: dict[str, list[PortalSession]] = defaultdict(list)  # by certificate fingerprint
        self._open: dict[str, int] = defaultdict(int)  # by holder RUT, logging in and checked out included
        self._changed = asyncio.Condition()
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False
        self.logins = 0
        """Sessions opened since the pool was made (for benchmarks and tests)."""
        self._opened: dict[bytes, tuple[float, PersonCertificate]] = {}
        self._opened_key = secrets.token_bytes(32)

    async def certificate(self, pfx: bytes, password: str) -> PersonCertificate:
        """The certificate in ``pfx``, opened with ``password`` (in a thread: it is CPU work), or the one
        opened from the very same file and password within the reuse time.

        Entries are found by an HMAC of file and password under a key of this process alone, so an entry
        is only ever found by someone who sent both.
        """
        digest = hmac.new(self._opened_key, digestmod=hashlib.sha256)
        for part in (pfx, password.encode()):
            digest.update(len(part).to_bytes(8, "big") + part)
        found = self._opened.get(key := digest.digest())
        now = time.monotonic()
        if found is not None and now - found[0] < self.config.session_reuse_seconds:
            return found[1]
        certificate = await asyncio.to_thread(load_pfx, pfx, password)
        self._forget_certificates_opened_before(now)
        self._opened[key] = (now, certificate)
        return certificate

    def _forget_certificates_opened_before(self, now: float) -> None:
        reuse = self.config.session_reuse_seconds
        self._opened = {key: entry for key, entry in self._opened.items() if now - entry[0] < reuse}

    @asynccontextmanager
    async def session(
        self, certificate: PersonCertificate, deadline: Deadline, *, fresh: bool = False, keep: bool = True
    ) -> AsyncIterator[PortalSession]:
        """A logged-in session of ``certificate`` for this request alone (a new login when ``fresh``);
        released when the block ends: kept for later requests, or (``keep=False``, or broken) logged out,
        and then the block ends only once the logout is over."""
        session = await self._acquire(certificate, deadline, fresh=fresh)
        session.uses += 1
        healthy = False
        try:
            yield session
            healthy = True
        except HEALTHY_AFTER:
            healthy = True
            raise
        finally:
            if keep:
                await self._release(session, healthy=healthy)
            else:
                await self._log_out_now(session)

    async def _log_out_now(self, session: PortalSession) -> None:
        """Log ``session`` out and wait for it; tracked like a background logout, so that a cancelled
        wait (a shutdown) still lets the logout finish and :meth:`aclose` wait for it."""
        task = asyncio.get_running_loop().create_task(self._close(session))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        await asyncio.shield(task)

    async def _acquire(
        self, certificate: PersonCertificate, deadline: Deadline, *, fresh: bool
    ) -> PortalSession:
        holder = certificate.holder_rut
        async with self._changed:
            while True:
                if self._closed:
                    raise SiiUnavailable("dtehub is shutting down; retry later")
                reusable = None if fresh else self._take_idle(certificate.fingerprint)
                if reusable is not None:
                    return reusable
                if self._open[holder] < self.config.max_sessions_per_holder:
                    self._open[holder] += 1
                    break
                # Another certificate of the same person may sit idle: its slot serves this one better.
                other = next((s for ss in self._idle.values() for s in ss if s.holder == holder), None)
                if other is not None:
                    self._idle[other.certificate.fingerprint].remove(other)
                    self._close_later(other)
                    continue
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline.remaining())
                except TimeoutError:
                    raise SiiBusy(
                        f"all {self.config.max_sessions_per_holder} SII sessions of {holder} stayed busy for "
                        f"{deadline.seconds:g} s; retry later"
                    ) from None
        session = None
        try:
            session = self._factory(certificate, self.config)
            await session.login(deadline)
        except BaseException:
            if session is not None:
                self._close_later(session)  # its connections; there is no session at SII to end
            else:
                async with self._changed:
                    self._open[holder] -= 1
                    self._changed.notify_all()
            raise
        self.logins += 1
        return session

    def _take_idle(self, fingerprint: str) -> PortalSession | None:
        idle = self._idle.get(fingerprint)
        while idle:
            session = idle.pop()
            if self._fresh(session):
                return session
            self._close_later(session)
        return None

    def _fresh(self, session: PortalSession) -> bool:
        logged_in_at = session.logged_in_at or 0.0
        return time.monotonic() - logged_in_at < self.config.session_reuse_seconds

    async def _release(self, session: PortalSession, *, healthy: bool) -> None:
        async with self._changed:
            if healthy and not self._closed and self._fresh(session):
                self._idle[session.certificate.fingerprint].append(session)
                self._changed.notify_all()
                return
        # In the background, tracked: a request cancelled (a client gone, a shutdown) still logs out.
        self._close_later(session)

    def _close_later(self, session: PortalSession) -> None:
        """Log ``session`` out in a background task that :meth:`aclose` waits for."""
        task = asyncio.get_running_loop().create_task(self._close(session))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, session: PortalSession) -> None:
        try:
            await session.logout()
        finally:
            async with self._changed:
                self._open[session.holder] -= 1
                self._changed.notify_all()

    def open_sessions(self, holder: str) -> int:
        return self._open[holder]

    async def reap(self) -> None:
        """Log out the idle sessions past their reuse time, and forget the certificates opened before it."""
        self._forget_certificates_opened_before(time.monotonic())
        async with self._changed:
            for idle in self._idle.values():
                for session in [s for s in idle if not self._fresh(s)]:
                    idle.remove(session)
                    self._close_later(session)

    async def run_reaper(self, every_seconds: float = 5.0) -> None:
        """Reap forever (a background task of the server)."""
        while True:
            await asyncio.sleep(every_seconds)
            await self.reap()

    async def aclose(self) -> None:
        """Log out every idle session and wait for the logouts under way; later requests are refused."""
        self._opened.clear()
        async with self._changed:
            self._closed = True
            self._changed.notify_all()  # whoever waits for a session hears of the shutdown at once
            for idle in self._idle.values():
                while idle:
                    self._close_later(idle.pop())
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
