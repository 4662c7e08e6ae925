"""Request-scoped dependencies shared by every domain: settings, the unit of work, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from dtehub.auth.service import AuthContext, authenticate_bearer
from dtehub.config import Settings
from dtehub.db import unit_of_work


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work. Declared with ``scope="function"`` below so that it commits
    before the response is sent: nothing is acknowledged that is not durable."""
    with unit_of_work(request.app.state.sessionmaker) as session:
        yield session


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
