"""The second factor: TOTP codes (RFC 6238, ``pyotp``: 6 digits every 30 s) from an authenticator app.

The secret is sealed (AES-GCM) under a key derived (HKDF-SHA256) from ``DTEHUB_SECRET_KEY``, with the
user's id as associated data: a sealed secret copied to another user's row does not open.
"""

from __future__ import annotations

import os
from datetime import datetime

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dtehub.config import Settings
from dtehub.errors import SecretKeyMissing

ISSUER = "dtehub"
MIN_KEY_CHARS = 32
_NONCE_BYTES = 12


class TotpBox:
    def __init__(self, key_text: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dtehub totp secrets v1").derive(
            key_text.encode("utf-8")
        )
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "TotpBox(***)"

    @staticmethod
    def _associated(user_id: int) -> bytes:
        return f"totp-secret:{user_id}".encode("ascii")

    def seal(self, secret: str, user_id: int) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode("ascii"), self._associated(user_id))

    def open(self, sealed: bytes, user_id: int) -> str | None:
        try:
            plain = self._aead.decrypt(
                sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], self._associated(user_id)
            )
        except InvalidTag:
            return None
        return plain.decode("ascii")


def totp_box(settings: Settings) -> TotpBox:
    key = settings.secret_key.get_secret_value() if settings.secret_key is not None else ""
    if len(key) < MIN_KEY_CHARS:
        raise SecretKeyMissing(
            f"the second factor needs a key to keep its secrets: set DTEHUB_SECRET_KEY (at least "
            f"{MIN_KEY_CHARS} random characters) and restart dtehub"
        )
    return TotpBox(key)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def code_matches(secret: str, code: str, now: datetime) -> bool:
    """The code of now, or of the 30 s step before or after (a clock a little off)."""
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return False
    return pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)
