"""One person's connection to SII's web services: the HTTP client (SII's trust), the certificate, the token.

``with WsClient(config, certificate) as ws: ws.authorized(call)`` runs ``call(token)`` with the cached token,
and once more with a new one if SII refuses it; a second refusal is a
:class:`~dtehub.sii.ws.errors.WsAuthRefused`.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import httpx

from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.errors import SiiUnavailable
from dtehub.sii.ws.auth import DEFAULT_TOKENS, TokenCache
from dtehub.sii.ws.config import WsConfig
from dtehub.sii.ws.errors import WsAuthRefused
from dtehub.sii.ws.soap import TokenRejected

T = TypeVar("T")


def trust(ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying client context trusting ``ca_bundle`` (PEM) or the system's authorities."""
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError):
        raise SiiUnavailable(
            f"DTEHUB_SII_CA_BUNDLE ({ca_bundle}) cannot be read as PEM certificates"
        ) from None


class WsClient:
    def __init__(
        self,
        config: WsConfig,
        certificate: PersonCertificate,
        *,
        tokens: TokenCache = DEFAULT_TOKENS,
    ) -> None:
        self.config = config
        self.certificate = certificate
        self.tokens = tokens
        self.http = httpx.Client(verify=trust(config.ca_bundle), timeout=config.timeout)

    def __enter__(self) -> WsClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def token(self, *, rejected: str | None = None) -> str:
        return self.tokens.token(self.http, self.config, self.certificate, rejected=rejected)

    def authorized(self, call: Callable[[str], T]) -> T:
        token = self.token()
        try:
            return call(token)
        except TokenRejected:
            pass
        token = self.token(rejected=token)
        try:
            return call(token)
        except TokenRejected:
            raise WsAuthRefused(
                f"SII refused a new token of {self.certificate.holder_rut} too: check that DTEHUB_SII_WS_URL "
                "and DTEHUB_SII_RECLAMO_URL are the same environment (production or certification)"
            ) from None
