"""Random credentials: API tokens (stored only as a hash) and portal link keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "dth_"  # noqa: S105 (a public marker, not a secret)


def new_api_token() -> str:
    """256 random bits, URL-safe, with a prefix so a leaked token is recognisable in a scan."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 is enough for a 256-bit random secret: there is nothing to brute-force."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_link_key() -> str:
    """An unguessable key (128 bits) for portal and download links."""
    return secrets.token_urlsafe(16)


def same_secret(given: str, expected: str) -> bool:
    """Compare secrets in constant time."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
