"""Signed-in browser sessions for tests of the web app (``/app``), over httpx and the ASGI app.

- :class:`Clock`: the app's clock (``app.state.clock``), moved by the test (``clock.advance(minutes=31)``).
- :func:`add_user`: a user with a password and a role in a company, committed in the test's transaction.
- :class:`WebBrowser`: a cookie-keeping client that signs in through the real form (``sign_in``), reads the
  CSRF token of the last page it got, and sends forms with it (``submit``) or without it (``post``).

A test asks for the ``web`` fixture (one browser) or calls ``web_browser()`` for more (two people, or
one person on two devices); ``tenant``/``other_tenant`` give companies with API tokens beside them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
from sqlalchemy.orm import Session

from dtehub.kit.dates import utcnow
from dtehub.models import Role, User
from dtehub.users import service as users

PASSWORD = "una frase de prueba bastante larga"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clock:
    """A clock the test moves; starts at the real time (documents' statuses use the real day)."""

    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def add_user(
    session: Session,
    company_id: int,
    role: Role = Role.OWNER,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    now: datetime | None = None,
) -> User:
    """A user with ``password`` and ``role`` in the company (a member already: the role is added)."""
    address = email or f"persona{company_id}-{role.value}@example.cl"
    found = session.query(User).filter(User.email == address).first()
    user = found or users.create_user(session, address)
    users.grant(session, user, company_id, role)
    if found is None:
        users.set_password(session, user, password, now or datetime.now(UTC))
    session.commit()
    return user


class WebBrowser:
    """A browser's view of the app: its cookies, the last page, the CSRF token on it."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.last: httpx.Response | None = None
        self._token: str | None = None

    @property
    def csrf(self) -> str:
        """The CSRF token of the last page that had a form."""
        assert self._token is not None, "open a page with a form first"
        return self._token

    def _seen(self, response: httpx.Response) -> httpx.Response:
        self.last = response
        found = _CSRF.search(response.text)
        if found is not None:
            self._token = unescape(found.group(1))
        return response

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return self._seen(await self.http.get(path, params=params) if params else await self.http.get(path))

    async def submit(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """Post a form as the page does: with the CSRF token of the last page."""
        return await self.post(path, {"csrf_token": self.csrf, **(data or {})})

    async def post(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """Post exactly ``data`` (no token added)."""
        response = await self.http.post(path, data=data or {})
        return response if response.status_code == 303 else self._seen(response)

    async def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/app/login")
        return await self.submit("/app/login", {"email": email, "password": password})

    async def signed_in(self, email: str, password: str = PASSWORD) -> WebBrowser:
        answer = await self.sign_in(email, password)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/app/"
        page = await self.get("/app/")
        assert page.status_code == 200, page.text
        return self


def text_of(response: httpx.Response) -> str:
    """The page's visible text, roughly: tags dropped, spaces collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.text, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()
