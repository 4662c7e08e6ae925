"""SII's states, as a period of the Registro de Ventas tells them, written on the company's documents and
notes (in the caller's unit of work).

Every row the register lists carries the date SII received the document, the customer's acuse de recibo
and claim dates and the receiver's event. A document or note created from a row is written with them
(:func:`facts_of`); one dtehub already had, matched by (type, folio), gets them here
(:func:`update_states`), and counts as **updated** when its ``sii`` object changed: a fact SII changed,
a disagreement with the register's total or issue date that appeared, changed or cleared, or a state
that moved on since the last sync read it (a factura's 8 days over: tacitly accepted). A row read with
nothing new only has its ``sii_synced_at`` renewed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from dtehub.documents.sii_states import SiiFacts, SiiState, disagreements, state_of
from dtehub.kit.dates import today_in_santiago
from dtehub.sii_sync import repository


class ReceiverEvent(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def description(self) -> str | None: ...


class StatedRow(Protocol):
    """What the register says of a document's states (:class:`dtehub.sii.rcv.RcvDocument`)."""

    @property
    def received_at(self) -> datetime: ...
    @property
    def accepted_at(self) -> datetime | None: ...
    @property
    def claimed_at(self) -> datetime | None: ...
    @property
    def event(self) -> ReceiverEvent | None: ...
    @property
    def total(self) -> int: ...
    @property
    def issue_date(self) -> date: ...


@dataclass
class Changes:
    """The documents or notes whose ``sii`` object changed, in the order they were given; ``by_days``:
    those whose facts are as they were, tacitly accepted since by their days alone (the daily sweep
    announces them too: :func:`dtehub.documents.sii_states.tacit_acceptance_key`)."""

    ids: list[int] = field(default_factory=list)
    by_days: set[int] = field(default_factory=set)


def _utc(moment: datetime | None) -> datetime | None:
    # As stored. Santiago's wall-clock times in the hour daylight saving time skips compare unequal to
    # every other zone's (PEP 495), so the facts are compared in UTC.
    return moment.astimezone(UTC) if moment is not None else None


def facts_of(row: StatedRow, now: datetime) -> SiiFacts:
    """The ``sii_*`` columns of a document the register lists as ``row``, read at ``now``."""
    event = row.event
    code = event.code.strip()[:3] if event is not None else ""
    return SiiFacts(
        sii_received_at=_utc(row.received_at),
        sii_accepted_at=_utc(row.accepted_at),
        sii_claimed_at=_utc(row.claimed_at),
        sii_event_code=code or None,
        sii_event_description=(event.description or "").strip()[:120] if event is not None and code else None,
        sii_synced_at=now,
        sii_total_cents=row.total * 100,
        sii_issue_date=row.issue_date,
    )


def _state_when_read(code: int, facts: SiiFacts) -> SiiState | None:
    """The state the last sync saw (on the day it read the row); None: never read."""
    if facts.sii_synced_at is None:
        return None
    return state_of(code, facts, today_in_santiago(facts.sii_synced_at))


def update_states(
    session: Session,
    kind: str,
    company_id: int,
    rows: Mapping[tuple[int, str], StatedRow],
    have: Mapping[tuple[int, str], int],
    now: datetime,
) -> Changes:
    """Write what ``rows`` say on the documents (``kind`` "documents") or notes dtehub had (``have``: their
    ids by (type, folio)); those whose ``sii`` object changed."""
    changes = Changes()
    if not have:
        return changes
    stored = repository.sii_facts_of(session, kind, company_id, list(have.values()))
    today = today_in_santiago(now)
    writes: list[dict[str, object]] = []
    unchanged: list[int] = []
    for key, record_id in have.items():
        ours = stored[record_id]
        code = ours.code
        old = SiiFacts(**ours.columns)
        new = facts_of(rows[key], now)
        moved_by_days = _state_when_read(code, old) != state_of(code, new, today)
        if old.same_as(new):
            unchanged.append(record_id)
            if moved_by_days:
                changes.ids.append(record_id)
                changes.by_days.add(record_id)
            continue
        writes.append({"id": record_id, **new.columns()})
        if old.same_states_as(new) and disagreements(old, ours.total_cents, ours.issue_date) == disagreements(
            new, ours.total_cents, ours.issue_date
        ):
            # Only the register's amounts were kept for the first time (read before dtehub kept them),
            # and they agree: nothing a person sees changed but the time it was read.
            if moved_by_days:
                changes.ids.append(record_id)
                changes.by_days.add(record_id)
            continue
        changes.ids.append(record_id)
    repository.write_sii_facts(session, kind, company_id, writes)
    repository.mark_sii_synced(session, kind, company_id, unchanged, now)
    return changes
