"""What a listing of payments (getPayments) can be filtered and ordered by."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from dtehub.models import PaymentStatus


class PaymentDateBy(enum.IntEnum):
    """getPayments' dateBy (Duemint's numbers)."""

    PAYMENT = 1
    CREATION = 2
    RECONCILIATION = 3


class PaymentOrderBy(enum.IntEnum):
    """getPayments' orderBy (Duemint's numbers)."""

    PAYMENT_DATE = 1
    CREATION = 2
    AMOUNT = 3


@dataclass(frozen=True)
class PaymentFilters:
    """getPayments' filters, already validated; ``since``/``until`` are days of ``date_by``'s date."""

    status: PaymentStatus = PaymentStatus.RECONCILED
    date_by: PaymentDateBy = PaymentDateBy.PAYMENT
    since: date | None = None
    until: date | None = None
    currency: str | None = None
    method_id: int | None = None
    document_id: int | None = None
    client_id: int | None = None
    client_tax_id: str | None = None
