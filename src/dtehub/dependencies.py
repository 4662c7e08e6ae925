"""Request-scoped dependencies shared by every domain: settings, the unit of work, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from dtehub.auth.service import AuthContext, authenticate_bearer
from dtehub.config import Settings
from dtehub.db import end_unit_of_work


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work. Declared with ``scope="function"`` below so that it commits
    before the response is sent: nothing is acknowledged that is not durable.

    Opening a session does no I/O (the connection is taken at the first statement), so only its end
    goes to the thread pool: one hop per request instead of two.
    """
    session = request.app.state.sessionmaker()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(end_unit_of_work, session, commit=False)
        raise
    await run_in_threadpool(end_unit_of_work, session, commit=True)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

# Declared for OpenAPI (the "Authorize" button in /docs); dtehub checks the header itself so that every
# failure answers the same JSON 401.
_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer dth_…`")


def get_auth(
    request: Request,
    session: SessionDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> AuthContext:
    return authenticate_bearer(session, request.headers.get("authorization"))


AuthDep = Annotated[AuthContext, Depends(get_auth)]
