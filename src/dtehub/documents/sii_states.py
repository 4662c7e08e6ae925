"""SII's states of a document or note, from what the SII sync stored of SII's Registro de Ventas
(:class:`dtehub.models.sii_state.SiiStated`): the API's ``sii`` object and the rules the ``siiState``
filter repeats in SQL (``dtehub.documents.repository``). No database here.

The state is computed when it is read, from the stored facts and the day in Santiago, never stored:

- ``claimed``: the customer claimed (a claim date, or the receiver event ``R``); a claim wins over an
  acceptance.
- ``accepted``: the customer gave its acuse de recibo (an acceptance date, or the event ``C``).
- ``tacitly_accepted``: SII says so (event ``A``: not claimed in time), or a factura (33, 34, 43) neither
  accepted nor claimed whose 8 calendar days following its reception at SII are over (Ley 19.983, art. 3:
  received on the 3rd, claimable through the 11th, tacitly accepted from the 12th, Santiago's days).
- ``received``: SII has it, and none of the above is true yet. Notes, exports and facturas de compra
  are never accepted or claimed: they stay ``received``.

Its ``disagreements`` are computed when read too: the register's total and issue date, as the last sync
read them, against the document's own (which SII never overwrites). A document whose amount a person
corrects, or whose register row SII corrects, agrees again at once.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from pydantic import Field

from dtehub.kit.dates import SANTIAGO, format_datetime
from dtehub.kit.money import format_cents, format_money
from dtehub.kit.schema import ApiModel, JsonObject

ACCEPTABLE_CODES = frozenset({33, 34, 43})
"""The documents a customer accepts or claims (and SII accepts tacitly): facturas."""
CLAIM_DAYS = 8
"""Ley 19.983: calendar days after its reception in which a factura can be claimed."""
CLAIMED_EVENT = "R"
ACCEPTED_EVENT = "C"
TACIT_EVENT = "A"


class SiiState(enum.StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    TACITLY_ACCEPTED = "tacitly_accepted"
    CLAIMED = "claimed"


class SiiStateFilter(enum.StrEnum):
    """getDocuments' ``siiState``: a state, or the documents no sync has found in SII's register."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    TACITLY_ACCEPTED = "tacitly_accepted"
    CLAIMED = "claimed"
    NEVER_SYNCED = "never_synced"


class StoredSiiFacts(Protocol):
    """A document or note row, as the ORM or a plain-column read gives it."""

    @property
    def sii_received_at(self) -> datetime | None: ...
    @property
    def sii_accepted_at(self) -> datetime | None: ...
    @property
    def sii_claimed_at(self) -> datetime | None: ...
    @property
    def sii_event_code(self) -> str | None: ...
    @property
    def sii_event_description(self) -> str | None: ...
    @property
    def sii_synced_at(self) -> datetime | None: ...
    @property
    def sii_total_cents(self) -> int | None: ...
    @property
    def sii_issue_date(self) -> date | None: ...


class StoredSiiRecord(StoredSiiFacts, Protocol):
    """A document or note row with its own amounts, which the register's are compared with."""

    @property
    def total_cents(self) -> int: ...
    @property
    def issue_date(self) -> date: ...


@dataclass(frozen=True)
class SiiFacts:
    """SII's facts as a document's or note's ``sii_*`` columns hold them (a :class:`StoredSiiFacts`)."""

    sii_received_at: datetime | None = None
    sii_accepted_at: datetime | None = None
    sii_claimed_at: datetime | None = None
    sii_event_code: str | None = None
    sii_event_description: str | None = None
    sii_synced_at: datetime | None = None
    sii_total_cents: int | None = None
    sii_issue_date: date | None = None

    @classmethod
    def of(cls, row: StoredSiiFacts) -> SiiFacts:
        return cls(**{name: getattr(row, name) for name in SII_COLUMNS})

    def columns(self) -> dict[str, object]:
        """The ``sii_*`` columns of a row written with these facts."""
        return {name: getattr(self, name) for name in SII_COLUMNS}

    def same_as(self, other: SiiFacts) -> bool:
        """The same facts of SII, whenever each was read."""
        return dataclasses.replace(self, sii_synced_at=None) == dataclasses.replace(other, sii_synced_at=None)

    def same_states_as(self, other: SiiFacts) -> bool:
        """The same dates and event (the register's amounts aside), whenever each was read."""
        return dataclasses.replace(
            self, sii_synced_at=None, sii_total_cents=None, sii_issue_date=None
        ) == dataclasses.replace(other, sii_synced_at=None, sii_total_cents=None, sii_issue_date=None)


SII_COLUMNS = tuple(f.name for f in dataclasses.fields(SiiFacts))
NOT_SYNCED = SiiFacts()
"""A row no sync has found in SII's register (every new document or note that does not come from it)."""


def claim_deadline(received_at: datetime) -> date:
    """The last Santiago day on which a factura received at ``received_at`` can be claimed."""
    return received_at.astimezone(SANTIAGO).date() + timedelta(days=CLAIM_DAYS)


def tacit_before(today: date) -> datetime:
    """The instant before which a reception makes an unclaimed factura tacitly accepted on ``today``:
    Santiago's midnight starting the day ``CLAIM_DAYS`` before (a reception that day has its deadline
    today)."""
    return datetime.combine(today - timedelta(days=CLAIM_DAYS), time(), tzinfo=SANTIAGO)


def tacit_acceptance_key(document_id: int) -> str:
    """The dedupe key of the ``document.updated`` that announces a factura tacitly accepted by its days
    (once per document: the sync and the daily sweep both announce it, whichever comes first)."""
    return f"sii-tacit:{document_id}"


def state_of(code: int, facts: StoredSiiFacts, today: date) -> SiiState | None:
    """The state on ``today`` (a Santiago day); None when no sync has found the document at SII."""
    if facts.sii_synced_at is None:
        return None
    event = facts.sii_event_code or ""
    if facts.sii_claimed_at is not None or event == CLAIMED_EVENT:
        return SiiState.CLAIMED
    if facts.sii_accepted_at is not None or event == ACCEPTED_EVENT:
        return SiiState.ACCEPTED
    if event == TACIT_EVENT:
        return SiiState.TACITLY_ACCEPTED
    received = facts.sii_received_at
    if code in ACCEPTABLE_CODES and received is not None and claim_deadline(received) < today:
        return SiiState.TACITLY_ACCEPTED
    return SiiState.RECEIVED


TOTAL_FIELD = "total"
ISSUE_DATE_FIELD = "issueDate"


def disagreements(facts: StoredSiiFacts, total_cents: int, issue_date: date) -> list[JsonObject]:
    """Where SII's register row (as the last sync read it) and the document disagree: the total, the
    issue date; each with both values and the words a person acts on (:class:`SiiDisagreementOut`).
    Empty when they agree or the register's values are unknown (not read since dtehub kept them)."""
    found: list[JsonObject] = []
    theirs = facts.sii_total_cents
    if theirs is not None and theirs != total_cents:
        found.append(
            {
                "field": TOTAL_FIELD,
                "dtehub": format_cents(total_cents),
                "sii": format_cents(theirs),
                "message": f"dtehub has a total of {format_money(total_cents)}, SII's register "
                f"{format_money(theirs)}; dtehub's amount was kept, check which one is right",
            }
        )
    their_day = facts.sii_issue_date
    if their_day is not None and their_day != issue_date:
        found.append(
            {
                "field": ISSUE_DATE_FIELD,
                "dtehub": issue_date.isoformat(),
                "sii": their_day.isoformat(),
                "message": f"dtehub has it issued on {issue_date.isoformat()}, SII's register on "
                f"{their_day.isoformat()}; dtehub's date was kept, check which one is right",
            }
        )
    return found


def _moment(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


def sii_json(code: int, facts: StoredSiiRecord, today: date) -> JsonObject | None:
    """The API's ``sii`` object (:class:`SiiOut`); None when no sync has found the document at SII."""
    state = state_of(code, facts, today)
    if state is None or facts.sii_synced_at is None:
        return None
    event = facts.sii_event_code
    return {
        "receivedAt": _moment(facts.sii_received_at),
        "acceptedAt": _moment(facts.sii_accepted_at),
        "claimedAt": _moment(facts.sii_claimed_at),
        "receiverEvent": (
            {"code": event, "description": facts.sii_event_description or ""} if event else None
        ),
        "state": state.value,
        "syncedAt": format_datetime(facts.sii_synced_at),
        "disagreements": disagreements(facts, facts.total_cents, facts.issue_date),
    }


class ReceiverEventOut(ApiModel):
    code: str = Field(
        description="SII's receiver event (detEventoReceptor): A not claimed in time, C receipt granted by "
        "the customer, P paid in cash, R claimed"
    )
    description: str = Field(description="SII's legend of it")


class SiiDisagreementOut(ApiModel):
    field: str = Field(description="What disagrees: total or issueDate")
    dtehub: str = Field(description="The document's value in dtehub (an amount as total is, or YYYY-MM-DD)")
    sii: str = Field(description="The value in SII's Registro de Ventas")
    message: str = Field(description="The disagreement in words, for a person to act on")


class SiiOut(ApiModel):
    """What SII's Registro de Ventas says of the document, as the last SII sync read it."""

    received_at: str | None = Field(description="When SII received it (YYYY-MM-DD HH:MM:SS, Santiago time)")
    accepted_at: str | None = Field(description="The customer's acuse de recibo; null: none")
    claimed_at: str | None = Field(description="The customer's claim (reclamo); null: none")
    receiver_event: ReceiverEventOut | None = Field(description="SII's receiver event; null: none")
    state: SiiState = Field(
        description="received; accepted (acuse de recibo); tacitly_accepted (SII's event A, or a factura "
        "not claimed within the 8 calendar days following its reception, Ley 19.983, computed on the day "
        "it is read in Santiago); claimed (a claim wins over an acceptance)"
    )
    synced_at: str = Field(description="When a sync last read it in SII's register (Santiago time)")
    disagreements: list[SiiDisagreementOut] = Field(
        description="Where SII's register row, as the last sync read it, disagrees with the document: "
        "its total or its issue date. dtehub never overwrites the document's values with SII's: a person "
        "checks which one is right. Computed when read: empty again once they agree (the document "
        "corrected, or SII's row)"
    )
