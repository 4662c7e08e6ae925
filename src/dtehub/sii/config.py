"""Where SII is and how long to wait for it: the client's own view of the ``DTEHUB_SII_*`` settings."""

from __future__ import annotations

import time
from dataclasses import dataclass

from dtehub.sii.errors import SiiTimeout


@dataclass(frozen=True)
class SiiConfig:
    auth_url: str = "https://herculesr.sii.cl"
    """Certificate login (``/cgi_AUT2000/CAutInicio.cgi``)."""
    portal_url: str = "https://www1.sii.cl"
    """The MIPYME portal (``/cgi-bin/Portal001/…``)."""
    logout_url: str = "https://zeusr.sii.cl"
    """Logout (``/cgi_AUT2000/autTermino.cgi``), and the session check the RCV may want
    (``/cgi_AUT2000/AutTknData.cgi``)."""
    rcv_url: str = "https://www4.sii.cl"
    """The Registro de Compras y Ventas (``/consdcvinternetui/…``)."""
    requests_per_second: float = 2.0
    """Requests a run of the RCV client makes per second at most."""
    ca_bundle: str | None = None
    """PEM file of the authorities trusted for SII's server certificate; None: the system's."""
    timeout: float = 60.0
    """Seconds one retrieval may take in all, waiting for a session included."""
    session_reuse_seconds: float = 300.0
    """How long a logged-in session serves later requests of the same certificate before logout."""
    max_sessions_per_holder: int = 3
    """Sessions one person may have open at once from this process (SII allows 10 in all)."""


class Deadline:
    """The moment by which a retrieval must be over; every wait and every request is bounded by it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; past the deadline, the retrieval is over: :class:`~dtehub.sii.errors.SiiTimeout`."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise SiiTimeout(f"SII did not answer within {self.seconds:g} s; retry later")
        return left
