"""What the DTE reader refuses."""

from __future__ import annotations


class DteUnreadable(ValueError):
    """The XML is well-formed but is not a DTE dtehub can read."""

    code = "dte_unreadable"
