"""Query helpers shared by repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement


def key_in(first: Any, second: Any, keys: set[tuple[Any, Any]]) -> list[ColumnElement[bool]]:
    """``(first, second) IN keys`` as two plain INs, which both databases run on an index that starts
    with the two columns (SQLite scans for a row-value IN instead). It may match a few combinations
    that were not asked for: the caller keeps only the keys it asked for."""
    return [first.in_({key[0] for key in keys}), second.in_({key[1] for key in keys})]
