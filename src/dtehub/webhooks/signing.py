"""Webhook secrets and signatures.

A webhook's signing secret is generated here, shown once and stored only sealed
(:mod:`dtehub.kit.sealing`: AES-GCM under a key derived from ``DTEHUB_SECRET_KEY``, the company id bound
as associated data, so a sealed secret copied to another company's row does not open). Each delivery is
signed with HMAC-SHA256 over ``timestamp + "." + body``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from dtehub.config import Settings
from dtehub.kit.sealing import MIN_KEY_CHARS, Purpose, Sealer, require_sealer, sealer

__all__ = ["MIN_KEY_CHARS", "SecretBox", "new_secret", "require_secret_box", "secret_box", "signature"]

SECRET_PREFIX = "whsec_"  # noqa: S105 (a public marker, not a secret)

EVENT_ID_HEADER = "Dtehub-Event-Id"
TIMESTAMP_HEADER = "Dtehub-Timestamp"
SIGNATURE_HEADER = "Dtehub-Signature"
SIGNATURE_VERSION = "v1"


def new_secret() -> str:
    """256 random bits, URL-safe, recognisable by its prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class SecretBox:
    """Seals and opens webhook secrets (text) with the webhook purpose's :class:`Sealer`."""

    def __init__(self, sealer: Sealer) -> None:
        self._sealer = sealer

    def __repr__(self) -> str:
        return "SecretBox(***)"

    def seal(self, secret: str, company_id: int) -> bytes:
        return self._sealer.seal(secret.encode("utf-8"), company_id)

    def open(self, sealed: bytes, company_id: int) -> str | None:
        """The secret, or None when it was sealed under another key (or for another company)."""
        plain = self._sealer.open(sealed, company_id)
        return None if plain is None else plain.decode("utf-8")


def secret_box(settings: Settings) -> SecretBox | None:
    """The box of the configured key, or None when ``DTEHUB_SECRET_KEY`` is unset or too short."""
    found = sealer(settings.secret_key, Purpose.WEBHOOK_SECRET)
    return None if found is None else SecretBox(found)


def require_secret_box(settings: Settings) -> SecretBox:
    return SecretBox(require_sealer(settings.secret_key, Purpose.WEBHOOK_SECRET, needed_by="webhooks"))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``timestamp.body`` under ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"
