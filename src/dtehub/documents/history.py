"""History: what SII's sync brought in from before the company started collecting with dtehub.

A document or note is **history** when it came from the SII sync (``source`` ``sii``) and was issued
before its company's ``collections_start_date``. History is shown like any other document, but never
reminded, never in a debt summary (so never counted as overdue there), and its ``document.created``
event says ``"history": true``.

It is **derived, never stored**: the rule below is read at the moment it matters (a reminder chosen,
a message about to go out, a document shown), from the document's source and issue date and the
company's date as they are then. An owner who moves ``collectionsStartDate`` therefore moves the line
for every synced document at once, in both directions, as the setting's name says; what already
happened stays as it was (an event recorded, an e-mail sent). docs/reminders.md says what a user sees.

A document that came any other way (the API, an import, MIPYME, the demo) is never history: someone
gave it to dtehub to collect. One the sync found already in dtehub keeps its own source.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, or_, true

from dtehub.models import Origin


def is_history(source: str | None, issue_date: date, collections_start: date | None) -> bool:
    """Whether a document (or note) of this source and issue date is history for this start."""
    return source == Origin.SII and collections_start is not None and issue_date < collections_start


def collected(source: Any, issue_date: Any, collections_start: Any) -> ColumnElement[bool]:
    """SQL: the row is not history (reminders and debt summaries take it). ``source`` and ``issue_date``
    are the table's columns; ``collections_start`` the company's column or its value (None: no start,
    nothing is history). Null-safe: true for a row without a source."""
    if collections_start is None:
        return true()
    unset = [] if isinstance(collections_start, date) else [collections_start.is_(None)]
    return or_(source.is_(None), source != Origin.SII.value, issue_date >= collections_start, *unset)


def history_flag(source: Any, issue_date: Any, collections_start: Any) -> ColumnElement[bool]:
    """SQL: :func:`is_history` as a boolean column (never null)."""
    if collections_start is None:
        return false()
    return case(
        (and_(source == Origin.SII.value, issue_date < collections_start), true()),
        else_=false(),
    )
