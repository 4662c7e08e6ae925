"""Webhook secrets and signatures.

A webhook's signing secret is generated here, shown once and stored only sealed with AES-GCM under a
key derived (HKDF-SHA256) from the ``DTEHUB_SECRET_KEY`` setting; the company id is the associated
data, so a sealed secret copied to another company's row does not open. Each delivery is signed with
HMAC-SHA256 over ``timestamp + "." + body``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dtehub.config import Settings
from dtehub.errors import SecretKeyMissing

SECRET_PREFIX = "whsec_"  # noqa: S105 (a public marker, not a secret)
MIN_KEY_CHARS = 32
_NONCE_BYTES = 12

EVENT_ID_HEADER = "Dtehub-Event-Id"
TIMESTAMP_HEADER = "Dtehub-Timestamp"
SIGNATURE_HEADER = "Dtehub-Signature"
SIGNATURE_VERSION = "v1"


def new_secret() -> str:
    """256 random bits, URL-safe, recognisable by its prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class SecretBox:
    """Seals and opens webhook secrets with the key derived from ``DTEHUB_SECRET_KEY``."""

    def __init__(self, key_text: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dtehub webhook secrets v1").derive(
            key_text.encode("utf-8")
        )
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "SecretBox(***)"

    @staticmethod
    def _associated(company_id: int) -> bytes:
        return f"webhook-secret:{company_id}".encode("ascii")

    def seal(self, secret: str, company_id: int) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode("utf-8"), self._associated(company_id))

    def open(self, sealed: bytes, company_id: int) -> str | None:
        """The secret, or None when it was sealed under another key (or for another company)."""
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, self._associated(company_id)).decode("utf-8")
        except InvalidTag:
            return None


def secret_box(settings: Settings) -> SecretBox | None:
    """The box of the configured key, or None when ``DTEHUB_SECRET_KEY`` is unset or too short."""
    if settings.secret_key is None:
        return None
    key_text = settings.secret_key.get_secret_value()
    if len(key_text) < MIN_KEY_CHARS:
        return None
    return SecretBox(key_text)


def require_secret_box(settings: Settings) -> SecretBox:
    box = secret_box(settings)
    if box is None:
        raise SecretKeyMissing(
            f"webhooks need a key to keep their secrets: set DTEHUB_SECRET_KEY (at least {MIN_KEY_CHARS} "
            "random characters) and restart dtehub"
        )
    return box


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``timestamp.body`` under ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"
