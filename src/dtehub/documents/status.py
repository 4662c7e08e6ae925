"""Document status, Duemint's four values, always computed from the amounts and the date.

4 Anulada when voided; else 1 Pagada when nothing is due; else 3 Vencida when the due date is
before today in Santiago; else 2 Por vencer. Filters use the same rule (see the repository).
"""

from __future__ import annotations

import enum
from datetime import date

from dtehub.models import DocumentState


class DocumentStatus(enum.IntEnum):
    PAID = 1
    PENDING = 2
    OVERDUE = 3
    VOIDED = 4


STATUS_NAMES = {
    DocumentStatus.PAID: "Pagada",
    DocumentStatus.PENDING: "Por vencer",
    DocumentStatus.OVERDUE: "Vencida",
    DocumentStatus.VOIDED: "Anulada",
}


def status_of(state: DocumentState, due_date: date, today: date) -> DocumentStatus:
    if state == DocumentState.VOIDED:
        return DocumentStatus.VOIDED
    if state == DocumentState.SETTLED:
        return DocumentStatus.PAID
    return DocumentStatus.OVERDUE if due_date < today else DocumentStatus.PENDING
