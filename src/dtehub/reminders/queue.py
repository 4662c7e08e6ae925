"""Reminders that a change asks for at once, queued in the change's own transaction.

The time-driven kinds (soon to fall due, overdue, debt summary) are found by ``dtehub reminders run``
for its day; the kinds below follow a change, so the service making the change queues them here, and
the next run (or the server's periodic job) sends them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session


def new_document(session: Session, company_id: int, document_id: int, *, requested: bool) -> None:
    """A document was created: queue its new-document reminder when ``requested`` (``send: 1``) or
    when its client's ``newDocument`` flag is on."""


def payment_received(session: Session, company_id: int, payment_id: int) -> None:
    """A payment became reconciled: queue its payment-received reminder (client flag ``newPayment``)."""


def note_issued(session: Session, company_id: int, note_id: int) -> None:
    """A credit or debit note was stored for a document in dtehub: queue its reminder."""
