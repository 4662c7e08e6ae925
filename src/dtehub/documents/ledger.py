"""The documents' ledger: the one place that locks documents and recomputes what they owe.

A document's derived columns always follow from their sources, never from increments:

- ``credit_cents``, ``debit_cents`` and ``voided``: its linked credit and debit notes (a text
  correction, CodRef 2, moves no money; a credit note that voids, CodRef 1, voids the document);
- ``paid_cents`` and ``paid_date``: the allocations of its reconciled payments, ``paid_date`` being
  the day of the payment that brought what it owes to zero;
- ``due_cents`` (amountDue) and ``state``: all of the above, through :func:`balance`.

Notes and payments (and, when they come, SII states and cessions) change their own rows, then call
:func:`recompute` for the documents they touch, naming the :class:`Source` that changed; it answers
which documents changed, for their ``document.updated`` events. Nothing else writes these columns: a
new document starts from :func:`opening_balance`.

Writers that change the same document take turns, so that nothing is recomputed or checked from a
stale read (PostgreSQL):

- a document that may not exist yet (a DTE arriving, a note naming one) by an advisory lock on its
  company, code and number (:func:`lock_arrivals`), before it is looked up;
- existing documents by their rows, ``SELECT … FOR UPDATE`` in id order (:func:`lock`), before what
  they owe is read: in id order, so that two writers never deadlock.

SQLite needs neither: it lets one transaction write at a time, and one that read a snapshot another
has since changed fails and is run again from the start by its unit of work.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from datetime import date

from sqlalchemy.orm import Session

from dtehub.db import lock_for_transaction
from dtehub.documents import repository as documents_repository
from dtehub.models import Document, DocumentState
from dtehub.notes import repository as notes_repository
from dtehub.payments import repository as payments_repository


class Source(enum.Flag):
    """What feeds a document's derived columns; a caller names those it changed."""

    NOTES = enum.auto()
    """Its linked credit and debit notes: ``credit_cents``, ``debit_cents``, ``voided``."""
    PAYMENTS = enum.auto()
    """The allocations of its reconciled payments: ``paid_cents``, ``paid_date``."""


# --- the rule -------------------------------------------------------------------------------------


def balance(*, total: int, debit: int, credit: int, paid: int, voided: bool) -> tuple[int, DocumentState]:
    """(amount due, state): due = total + debit − credit − paid, never negative. Voided by a credit note
    that says so (CodRef 1) or by credits that reach the total; settled when nothing is due."""
    due = max(0, total + debit - credit - paid)
    if voided or (credit > 0 and credit >= total + debit):
        return due, DocumentState.VOIDED
    return due, DocumentState.SETTLED if due == 0 else DocumentState.OPEN


def opening_balance(total: int) -> tuple[int, DocumentState]:
    """A new document's amount due and state: nothing credited, debited or paid yet."""
    return balance(total=total, debit=0, credit=0, paid=0, voided=False)


def rebalance(document: Document) -> None:
    """``due_cents`` and ``state`` from the document's other amounts, as they stand."""
    document.due_cents, document.state = balance(
        total=document.total_cents,
        debit=document.debit_cents,
        credit=document.credit_cents,
        paid=document.paid_cents,
        voided=document.voided,
    )


def _owed(document: Document, *, paid: int) -> int:
    due, _ = balance(
        total=document.total_cents,
        debit=document.debit_cents,
        credit=document.credit_cents,
        paid=paid,
        voided=False,
    )
    return due


def _settled_on(document: Document, payments: Sequence[tuple[date, int, int]]) -> date | None:
    """The day of the payment that brought what the document owes to zero (None while it owes)."""
    if document.state != DocumentState.SETTLED or not payments:
        return None
    owed = _owed(document, paid=0)
    running = 0
    settled_on = None
    for paid_on, _, amount in payments:  # in the order they were paid
        running += amount
        settled_on = paid_on
        if running >= owed:
            break
    return settled_on


def _derived(document: Document) -> tuple[object, ...]:
    return (
        document.credit_cents,
        document.debit_cents,
        document.voided,
        document.paid_cents,
        document.paid_date,
        document.due_cents,
        document.state,
    )


# --- locks ----------------------------------------------------------------------------------------


def arrival_key(company_id: int, code: str | int, number: str) -> str:
    """The advisory lock key of a document by its natural key, whether it exists yet or not."""
    return f"document:{company_id}:{code}:{number}"


def lock_arrivals(session: Session, company_id: int, references: Iterable[tuple[str | int, str]]) -> None:
    """Serialize, until commit, the writers that create or name these (code, number) documents: a
    document's arrival with its notes', so that a note never misses the document it names."""
    lock_for_transaction(session, *(arrival_key(company_id, code, number) for code, number in references))


def lock(session: Session, company_id: int, document_ids: Collection[int]) -> list[Document]:
    """The company's documents among ``document_ids``, in id order, locked until commit: what they owe
    may be checked and recomputed from them. Another company's ids are left out."""
    if any(isinstance(pending, Document) for pending in (*session.new, *session.dirty)):
        session.flush()  # the lock reads the rows afresh: a change not yet written would be lost
    return documents_repository.lock_in_id_order(session, company_id, document_ids)


# --- recomputing ----------------------------------------------------------------------------------


def recompute(session: Session, company_id: int, documents: Sequence[Document], changed: Source) -> list[int]:
    """Recompute the derived columns of ``documents`` (locked by :func:`lock`) after their ``changed``
    sources changed; the other sources are taken as they stand. Returns the ids of the documents
    whose columns changed, in id order: those that get a ``document.updated`` event.

    The same few queries whatever the number of documents (an import batch recomputes hundreds).
    """
    if not documents:
        return []
    session.flush()  # the sources' new rows are read back
    before = {document.id: _derived(document) for document in documents}
    if Source.NOTES in changed:
        totals = notes_repository.note_totals_by_document(session, company_id, list(before))
        for document in documents:
            document.credit_cents, document.debit_cents, document.voided = totals.get(
                document.id, (0, 0, False)
            )
            rebalance(document)
    if Source.PAYMENTS in changed:
        repaid = list(documents)
    else:
        # A note can settle a partly paid document or make a settled one owe again: its paidDate follows.
        repaid = [d for d in documents if d.paid_cents and _derived(d) != before[d.id]]
    if repaid:
        paid_by = payments_repository.reconciled_allocations(session, company_id, [d.id for d in repaid])
        for document in repaid:
            payments = paid_by.get(document.id, [])
            document.paid_cents = sum(amount for _, _, amount in payments)
            rebalance(document)
            document.paid_date = _settled_on(document, payments)
    session.flush()
    return sorted(document.id for document in documents if _derived(document) != before[document.id])


def lock_and_recompute(
    session: Session, company_id: int, document_ids: Collection[int], changed: Source
) -> list[int]:
    """:func:`lock` the documents, then :func:`recompute` them."""
    if not document_ids:
        return []
    session.flush()  # the sources' new rows (a note's link) are written before the documents wait
    return recompute(session, company_id, lock(session, company_id, document_ids), changed)


def owed_without(
    session: Session, company_id: int, documents: Sequence[Document], payment_id: int
) -> dict[int, int]:
    """What each of ``documents`` (locked) owes counting the reconciled payments other than
    ``payment_id`` (0 for a new payment): the most that payment may allocate to it."""
    paid_by = payments_repository.reconciled_allocations(session, company_id, [d.id for d in documents])
    return {
        document.id: _owed(
            document, paid=sum(amount for _, pid, amount in paid_by.get(document.id, []) if pid != payment_id)
        )
        for document in documents
    }
