"""Request-scoped dependencies shared by every domain: settings, the unit of work, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from dtehub.auth.service import AuthContext, authenticate_bearer
from dtehub.config import Settings
from dtehub.db import unit_of_work


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work. Declared with ``scope="function"`` below so that it commits
    before the response is sent: nothing is acknowledged that is not durable."""
    async with unit_of_work(request.app.state.sessionmaker) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_auth(request: Request, session: SessionDep) -> AuthContext:
    return await authenticate_bearer(session, request.headers.get("authorization"))


AuthDep = Annotated[AuthContext, Depends(get_auth)]
