"""Request-scoped dependencies shared by every domain: settings, the unit of work, the caller.

Every endpoint that touches the database is a plain function decorated with :func:`transactional`: the
session, the caller's authentication, the endpoint's own work and the commit then run in **one** call to
the thread pool. FastAPI would otherwise run each sync dependency, the endpoint and the commit in a
thread-pool call of their own, and each call is a round trip between the event loop and a thread
(measured here: 0.2–0.4 ms each, more than a whole document read).
"""

from __future__ import annotations

import inspect
import itertools
import math
import random
import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar, overload

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.auth.service import AuthContext, PresentedToken, authenticate, bearer_token
from dtehub.config import Settings
from dtehub.db import write_intent


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _provided_by_transactional() -> Any:
    raise RuntimeError("an endpoint that takes AuthDep or SessionDep must be decorated with @transactional")


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(_provided_by_transactional)]
"""The request's session, made by :func:`transactional` from ``app.state.sessionmaker``."""
AuthDep = Annotated[AuthContext, Depends(_provided_by_transactional)]
"""The caller, from ``Authorization: Bearer`` (the scheme is published by :mod:`dtehub.openapi`): the
header is read first (:func:`get_bearer_token`), the token looked up by :func:`transactional` in the
endpoint's transaction, before the endpoint runs."""

PresentedTokenDep = Annotated[PresentedToken, Depends(_provided_by_transactional)]
"""The caller's token as presented, for an endpoint that checks it in its own first read rather than
in a lookup of its own (getDocument, the hottest read). Its header is read as for ``AuthDep``."""


async def get_bearer_token(request: Request) -> str:
    """The presented token, read before the request's parameters: without a well-formed
    ``Authorization`` header, a ``/v1`` method answers 401 whatever is wrong with them (only a body that
    is not JSON at all, which FastAPI reads first, answers its own 400).
    The token itself is looked up by :func:`transactional`, or by :func:`refuse_unknown_caller` should
    the request's parameters be refused before the endpoint runs."""
    token = bearer_token(request.headers.get("authorization"))
    request.app.state.api_limiter.check(token)  # 429 before the lookup: see dtehub.ratelimit
    request.state.unverified_token = token
    return token


async def refuse_unknown_caller(request: Request) -> None:
    """Raise the 401 of an unknown or revoked token, for a request refused before its endpoint ran
    (invalid parameters): a stranger learns nothing about a request but that it needs a valid token.
    Only that error path pays for the extra thread-pool call."""
    token: str | None = getattr(request.state, "unverified_token", None)
    if token is None:
        return
    factory: sessionmaker[Session] = request.app.state.sessionmaker

    def check() -> None:
        session = factory()
        try:
            authenticate(session, token)
        finally:
            session.rollback()

    await run_in_threadpool(check)


class AfterCommit:
    """An answer made after the unit of work is over, its connection back in the pool: for slow work that
    needs nothing more from the database (printing a PDF from what the endpoint read). It runs in the
    same thread-pool call, and what it raises is answered like any error of the endpoint."""

    def __init__(self, answer: Callable[[], Response]) -> None:
        self.answer = answer


Endpoint = Callable[..., Response | AfterCommit]
AsyncEndpoint = Callable[..., Coroutine[Any, Any, Response]]
T = TypeVar("T")


# SQLITE_BUSY and its extended codes (their low byte): the lock is held by another writer, or this
# transaction read a snapshot another has since changed (SQLITE_BUSY_SNAPSHOT)
_SQLITE_BUSY = 5
_POSTGRESQL_RETRY_STATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected


def _sqlite_busy(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == _SQLITE_BUSY


def _lost_a_race(error: OperationalError) -> bool:
    """The unit of work failed only because a concurrent one held the lock or changed what it read:
    run again, it will see the change (and refuse, or proceed, on fresh data)."""
    return _sqlite_busy(error) or getattr(error.orig, "sqlstate", None) in _POSTGRESQL_RETRY_STATES


def run_unit_of_work(
    factory: Callable[[], Session], work: Callable[[Session], T], *, writes: bool, busy_timeout: float
) -> T:
    """``work`` in one unit of work: committed when it returns, rolled back when it raises.

    ``writes``: whether the work is known to write (on SQLite it then takes the write lock when it
    begins and waits its turn: see :func:`dtehub.db.write_intent`); reads stay deferred and cheap.

    A unit of work that lost a race (SQLite: busy, or it read a snapshot another writer has since
    changed; PostgreSQL: a serialization failure or deadlock) is rolled back and run again from the
    start, so that its checks see the winner's change: the loser then gets its proper answer (often a
    409) rather than a 503. On SQLite a busy unit runs again as a writer (it waits for the lock
    instead of losing again). Waits and new attempts together last at most ``busy_timeout`` seconds
    (``DTEHUB_DB_BUSY_TIMEOUT``), however many attempts that is; then the last error is raised (503).

    The session is not closed (committed or rolled back, it holds no connection), so that the test
    harness can hand every request the test's own session.
    """
    deadline = time.monotonic() + busy_timeout
    lock_wait = math.inf  # the first attempt waits as long as the engine's busy timeout says
    for attempt in itertools.count(1):
        session = factory()
        try:
            with write_intent(writes, lock_wait=lock_wait):
                result = work(session)
                session.commit()
        except OperationalError as error:
            session.rollback()
            left = deadline - time.monotonic()
            if left <= 0 or not _lost_a_race(error):
                raise
            writes = writes or _sqlite_busy(error)
            pause = min(left / 2, random.uniform(0.005, 0.02) * 2 ** min(attempt, 4))  # noqa: S311 (jitter)
            time.sleep(pause)
            lock_wait = left - pause
            continue
        except BaseException:
            session.rollback()
            raise
        return result
    raise AssertionError("unreachable")


async def get_caller(request: Request, token: Annotated[str, Depends(get_bearer_token)]) -> AuthContext:
    """The caller of an ``async`` endpoint, one that waits on something other than the database (SII):
    the token is looked up in a unit of work of its own, in one thread-pool call."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    busy_timeout: float = request.app.state.settings.db_busy_timeout
    return await run_in_threadpool(
        lambda: run_unit_of_work(
            factory, lambda session: authenticate(session, token), writes=False, busy_timeout=busy_timeout
        )
    )


CallerDep = Annotated[AuthContext, Depends(get_caller)]


class UnitsOfWork:
    """Short units of work one after another, each run as a request's is (:func:`run_unit_of_work`: tried
    again after a lost race), for an ``async`` endpoint that waits on something else (SII) between them
    with no transaction open: ``units(work)`` writes, ``units(work, writes=False)`` reads. Work that has
    effects outside the database must stay between the units, never in one."""

    def __init__(self, factory: Callable[[], Session], busy_timeout: float) -> None:
        self.factory = factory
        self.busy_timeout = busy_timeout

    def __call__(self, work: Callable[[Session], T], *, writes: bool = True) -> T:
        return run_unit_of_work(self.factory, work, writes=writes, busy_timeout=self.busy_timeout)


def in_units(*, audit: Action) -> Callable[[AsyncEndpoint], AsyncEndpoint]:
    """Declare the audit action of an ``async`` write that runs its own :class:`UnitsOfWork` (not
    :func:`transactional`): the endpoint records the event itself, in the unit of work of its change."""

    def declare(endpoint: AsyncEndpoint) -> AsyncEndpoint:
        endpoint.audit_action = audit  # type: ignore[attr-defined]
        return endpoint

    return declare


@overload
def transactional(endpoint: Endpoint, /) -> AsyncEndpoint: ...
@overload
def transactional(*, audit: Action) -> Callable[[Endpoint], AsyncEndpoint]: ...
def transactional(
    endpoint: Endpoint | None = None, /, *, audit: Action | None = None
) -> AsyncEndpoint | Callable[[Endpoint], AsyncEndpoint]:
    """Run ``endpoint`` as one unit of work in one thread-pool call: open a session, authenticate the
    caller (when it takes ``AuthDep``), do the work, then commit; roll back if anything raises. The
    answer is sent only after the commit, so nothing is acknowledged that is not durable; an endpoint
    may instead return :class:`AfterCommit` to make its answer once the connection is back in the pool.

    A caller's write (POST, DELETE) records its audit event (:mod:`dtehub.audit`) just before the commit,
    under the action it names: ``@transactional(audit=Action.CREATE_DOCUMENT)``.

    The returned coroutine function shows FastAPI the endpoint's own parameters (validated on the event
    loop as usual), with ``AuthDep`` and ``SessionDep`` replaced by the request and its presented token.
    """
    if endpoint is None:
        return lambda decorated: _transactional(decorated, audit)
    return _transactional(endpoint, audit)


def _transactional(endpoint: Endpoint, action: Action | None) -> AsyncEndpoint:
    signature = inspect.signature(endpoint, eval_str=True)
    parameters = list(signature.parameters.values())
    auth_name = next((p.name for p in parameters if p.annotation in (AuthDep, PresentedTokenDep)), None)
    verify = auth_name is not None and signature.parameters[auth_name].annotation == AuthDep
    session_name = next((p.name for p in parameters if p.annotation == SessionDep), None)
    keyword = inspect.Parameter.KEYWORD_ONLY
    kept = [p.replace(kind=keyword) for p in parameters if p.name not in (auth_name, session_name)]
    added = [inspect.Parameter("unit_of_work_request", keyword, annotation=Request)]
    if auth_name is not None:  # first: its 401 comes before any complaint about the parameters
        token = Annotated[str, Depends(get_bearer_token)]
        added.insert(0, inspect.Parameter("unit_of_work_token", keyword, annotation=token))

    def run(request: Request, token: str | None, arguments: dict[str, Any]) -> Response:
        # Only a caller's write is audited: reads (GET) pay nothing but this one comparison.
        audited = verify and request.method in audit.WRITE_METHODS

        def work(session: Session) -> Response | AfterCommit:
            if auth_name is not None:
                assert token is not None
                arguments[auth_name] = authenticate(session, token) if verify else PresentedToken(token)
            if session_name is not None:
                arguments[session_name] = session
            if audited:
                audit.begin(session)
            response = endpoint(**arguments)
            if isinstance(response, AfterCommit) and not audited:
                return response
            if not isinstance(response, Response):  # serialized after the commit, it could still query
                raise TypeError(f"{endpoint.__name__} must return a Response, not {type(response).__name__}")
            if audited and response.status_code < 400:  # in the same transaction as the change
                if action is None:
                    raise TypeError(f"{endpoint.__name__} is a write: name it, @transactional(audit=Action…)")
                assert auth_name is not None
                audit.record_request(session, arguments[auth_name], action, arguments, response)
            return response

        # A write (POST, PUT, PATCH, DELETE) takes SQLite's write lock when it begins; GET stays a read.
        outcome = run_unit_of_work(
            request.app.state.sessionmaker,
            work,
            writes=request.method in audit.WRITE_METHODS,
            busy_timeout=request.app.state.settings.db_busy_timeout,
        )
        return outcome.answer() if isinstance(outcome, AfterCommit) else outcome

    async def in_unit_of_work(
        *, unit_of_work_request: Request, unit_of_work_token: str | None = None, **arguments: Any
    ) -> Response:
        return await run_in_threadpool(run, unit_of_work_request, unit_of_work_token, arguments)

    # Not functools.wraps: FastAPI follows __wrapped__ and would take the endpoint for a sync function.
    in_unit_of_work.__name__ = endpoint.__name__
    in_unit_of_work.__qualname__ = endpoint.__qualname__
    in_unit_of_work.__doc__ = endpoint.__doc__
    in_unit_of_work.__module__ = endpoint.__module__
    in_unit_of_work.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*added, *kept], return_annotation=Response
    )
    in_unit_of_work.audit_action = action  # type: ignore[attr-defined]
    return in_unit_of_work
