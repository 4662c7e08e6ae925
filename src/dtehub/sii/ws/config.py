"""Where SII's web services are and how long to trust a token: the client's view of ``DTEHUB_SII_WS_*``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WsConfig:
    ws_url: str = "https://palena.sii.cl"
    """Seed and token (``/DTEWS/CrSeed.jws``, ``/DTEWS/GetTokenFromSeed.jws``), and the RTC."""
    reclamo_url: str = "https://ws1.sii.cl"
    """The acceptance/claim service (``/WSREGISTRORECLAMODTE/registroreclamodteservice``)."""
    ca_bundle: str | None = None
    """PEM file of the authorities trusted for SII's server certificates; None: the system's."""
    timeout: float = 30.0
    """Seconds one call may take (connect, send, read)."""
    token_lifetime: float = 600.0
    """How long a token is used before a new one is asked for. SII does not publish a token's lifetime;
    a token SII refuses earlier is renewed at once and the call made again."""
