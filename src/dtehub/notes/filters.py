"""What a listing of notes (getNotes) can be filtered and ordered by."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from dtehub.documents.filters import DateBy


class NoteType(enum.StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


class NoteOrderBy(enum.IntEnum):
    """getNotes' orderBy (Duemint's numbers)."""

    ISSUE_DATE = 1
    CREATION = 2
    NUMBER = 3
    TOTAL = 4


@dataclass(frozen=True)
class NoteFilters:
    """getNotes' filters, already validated. ``since``/``until`` are Santiago calendar days of the issue
    date or, with ``date_by`` CREATION, of the creation."""

    date_by: DateBy = DateBy.ISSUE
    since: date | None = None
    until: date | None = None
    type: NoteType | None = None
    number: str | None = None
    code: int | None = None
    currency: str | None = None
    document_id: int | None = None
    client_id: int | None = None
    client_tax_id: str | None = None
