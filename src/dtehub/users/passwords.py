"""Passwords: argon2id hashes (``argon2-cffi``, its RFC 9106 low-memory profile), and the rules a new
password must meet."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dtehub.errors import PasswordRefused

MIN_LENGTH = 12
MAX_LENGTH = 256

_hasher = PasswordHasher()  # argon2id, 64 MiB, 3 passes, 4 lanes


def check_new(password: str) -> None:
    """Length is what counts (NIST SP 800-63B): at least 12 characters, at most 256."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"la contraseña debe tener al menos {MIN_LENGTH} caracteres", field="password")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"la contraseña puede tener a lo más {MAX_LENGTH} caracteres", field="password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _decoy() -> str:
    return _hasher.hash("dtehub: no such user")


def verify(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; without a hash (unknown user, no password yet) a decoy hash is
    checked all the same, so that the answer takes as long either way."""
    try:
        return _hasher.verify(password_hash or _decoy(), password[:MAX_LENGTH]) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
