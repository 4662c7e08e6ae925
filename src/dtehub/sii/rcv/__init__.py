"""SII's Registro de Compras y Ventas (RCV), the sales side: what a company issued, when SII received it, and
what its customers did about it (acceptance, claims), read with the certificate of a person who may represent
the company. :class:`RcvClient` is the one way in (``docs/sii.md``); :mod:`.parse` says where cl-sii's RCV
parser is used and where it does not fit."""

from dtehub.sii.rcv.client import RcvClient
from dtehub.sii.rcv.models import (
    BOLETA_TYPES,
    ELECTRONIC_TYPES,
    Period,
    RcvDocument,
    RcvPeriod,
    RcvSummaryRow,
    ReceiverEvent,
)
from dtehub.sii.rcv.pace import Clock, RateLimiter, SystemClock

__all__ = [
    "BOLETA_TYPES",
    "ELECTRONIC_TYPES",
    "Clock",
    "Period",
    "RateLimiter",
    "RcvClient",
    "RcvDocument",
    "RcvPeriod",
    "RcvSummaryRow",
    "ReceiverEvent",
    "SystemClock",
]
