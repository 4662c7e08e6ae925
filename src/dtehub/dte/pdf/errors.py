"""Why a document cannot be printed."""

from __future__ import annotations


class PrintError(ValueError):
    """The request cannot be printed; :attr:`code` says why.

    - ``not_cedible``: a CEDIBLE copy was asked for a type that cannot be assigned (ceded) to a factoring
      company (only 33, 34, 43, 46 and 52 can).
    - ``dte_unreadable``: the content is not one DTE that dtehub can read.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
