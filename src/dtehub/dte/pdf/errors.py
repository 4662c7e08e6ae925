"""Why a document cannot be printed. The printing library's own errors: whoever asked for the PDF says
what they mean to its reader (the portal answers them in its own words)."""

from __future__ import annotations


class PrintError(ValueError):
    """The request cannot be printed; its class (and :attr:`code`) says why."""

    code = "dte_unreadable"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DteNotPrintable(PrintError):
    """The content is not one DTE that dtehub can read."""

    code = "dte_unreadable"


class NoCedibleCopy(PrintError):
    """A CEDIBLE copy was asked for a type that cannot be assigned (ceded) to a factoring company (only
    33, 34, 43, 46 and 52 can)."""

    code = "not_cedible"
