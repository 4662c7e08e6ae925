"""Bearer tokens: issue (shown once), check, revoke."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session

from dtehub.auth import repository
from dtehub.errors import NotFound, Unauthorized
from dtehub.kit.secrets import hash_token, new_api_token
from dtehub.models import ApiToken


@dataclass(frozen=True)
class AuthContext:
    """Who is calling: the company whose data this request may see, and through which token."""

    company_id: int
    token_id: int


@dataclass(frozen=True)
class PresentedToken:
    """A bearer token as the caller presented it, not yet looked up. An endpoint that takes one (rather
    than an :class:`AuthContext`) reads through a query that checks the token in the same statement,
    and calls :meth:`verify` before saying anything else, so that a bad token is still a 401."""

    value: str = field(repr=False)

    @cached_property
    def hash(self) -> str:
        return hash_token(self.value)

    def verify(self, session: Session) -> AuthContext:
        return authenticate(session, self.value)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; a missing or malformed one is a 401."""
    if not authorization:
        raise Unauthorized("missing Authorization header; send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token


def authenticate(session: Session, token: str) -> AuthContext:
    # The lookup is by hash: the database never compares the secret itself.
    found = repository.active_token(session, hash_token(token))
    if found is None:
        raise Unauthorized("the token is unknown or has been revoked")
    token_id, company_id = found
    return AuthContext(company_id=company_id, token_id=token_id)


def issue_token(session: Session, company_id: int) -> str:
    token = new_api_token()
    repository.add_token(session, company_id, hash_token(token))
    session.flush()
    return token


def revoke_token(session: Session, token: str) -> None:
    if not repository.revoke(session, hash_token(token.strip())):
        raise NotFound("no active token matches")


def company_tokens(session: Session, company_id: int) -> list[ApiToken]:
    return repository.tokens_of(session, company_id)


def issue_company_token(session: Session, company_id: int) -> tuple[int, str]:
    """A new token of the company: its id, and the token (shown once)."""
    token = issue_token(session, company_id)
    return authenticate(session, token).token_id, token


def revoke_company_token(session: Session, company_id: int, token_id: int) -> None:
    """Revoke one of the company's tokens by id; another company's (or a revoked one) is not found."""
    if not repository.revoke_id(session, company_id, token_id):
        raise NotFound("no active token with this id")
