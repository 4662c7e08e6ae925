"""Rows of SII's Registro de Ventas as the RCV client reads them, for tests of the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from dtehub.sii.rcv import ReceiverEvent

RECEIVED = datetime(2026, 2, 10, 15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    type_code: int
    folio: int
    issue_date: date
    net: int
    vat: int
    total: int
    customer_rut: str
    customer_name: str
    exempt: int = 0
    reference: tuple[int, int] | None = None
    received_at: datetime = RECEIVED
    accepted_at: datetime | None = None
    claimed_at: datetime | None = None
    event: ReceiverEvent | None = None


def invoice(
    folio: int, net: int, rut: str = "76086428-5", day: date = date(2026, 2, 10), **more: object
) -> Row:
    vat = round(net * 0.19)
    return Row(33, folio, day, net, vat, net + vat, rut, "CLIENTE UNO SPA", **more)  # type: ignore[arg-type]


def credit_note(folio: int, net: int, refers_to: int, rut: str = "76086428-5") -> Row:
    vat = round(net * 0.19)
    return Row(
        61, folio, date(2026, 2, 20), net, vat, net + vat, rut, "CLIENTE UNO SPA", reference=(33, refers_to)
    )
