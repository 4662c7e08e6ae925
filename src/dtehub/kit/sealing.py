"""Secrets at rest: the one place dtehub seals what it must keep but never show (webhook signing
secrets, SII certificates).

Sealing is AES-256-GCM (authenticated: a changed byte does not open) under a key derived with
HKDF-SHA256 from ``DTEHUB_SECRET_KEY`` and a label of the purpose, so one kind of sealed value never
opens as another. Every write draws a fresh 96-bit nonce, stored before the ciphertext. The company id
(with the purpose) is the associated data: a sealed value copied into another company's row does not
open there.
"""

from __future__ import annotations

import enum
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from dtehub.errors import SecretKeyMissing

MIN_KEY_CHARS = 32
"""The shortest ``DTEHUB_SECRET_KEY`` dtehub accepts."""
_NONCE_BYTES = 12


class Purpose(enum.Enum):
    """What a sealed value is: its key's HKDF label and its associated data's prefix (never change a
    member's values: what was sealed under them would no longer open)."""

    WEBHOOK_SECRET = ("dtehub webhook secrets v1", "webhook-secret")
    SII_CERTIFICATE = ("dtehub sii certificates v1", "sii-certificate")

    def __init__(self, label: str, associated: str) -> None:
        self.label = label
        self.associated = associated


class Sealer:
    """Seals and opens one purpose's values under the key derived from ``DTEHUB_SECRET_KEY``."""

    def __init__(self, key_text: str, purpose: Purpose) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.label.encode("ascii")
        ).derive(key_text.encode("utf-8"))
        self._aead = AESGCM(key)
        self._purpose = purpose

    def __repr__(self) -> str:
        return f"Sealer({self._purpose.name}, ***)"

    def _associated(self, company_id: int) -> bytes:
        return f"{self._purpose.associated}:{company_id}".encode("ascii")

    def seal(self, plain: bytes, company_id: int) -> bytes:
        """Nonce and ciphertext (with its 16-byte tag), bound to ``company_id``."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, self._associated(company_id))

    def open(self, sealed: bytes, company_id: int) -> bytes | None:
        """The plain bytes, or None when they were sealed under another key, for another company or
        purpose, or changed since."""
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, self._associated(company_id))
        except InvalidTag:
            return None


def sealer(secret_key: SecretStr | None, purpose: Purpose) -> Sealer | None:
    """The sealer of the configured key, or None when ``DTEHUB_SECRET_KEY`` is unset or too short."""
    if secret_key is None:
        return None
    key_text = secret_key.get_secret_value()
    if len(key_text) < MIN_KEY_CHARS:
        return None
    return Sealer(key_text, purpose)


def require_sealer(secret_key: SecretStr | None, purpose: Purpose, *, needed_by: str) -> Sealer:
    """The sealer, or :class:`SecretKeyMissing` (503) saying what to set; ``needed_by`` names what
    needs it (``"webhooks"``, ``"SII certificates"``)."""
    found = sealer(secret_key, purpose)
    if found is None:
        raise SecretKeyMissing(
            f"{needed_by} need a key to keep their secrets: set DTEHUB_SECRET_KEY (at least {MIN_KEY_CHARS} "
            "random characters) and restart dtehub"
        )
    return found
