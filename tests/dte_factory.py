"""The tests' DTE builder: it lives in :mod:`dtehub.dte.factory`, beside signing and stamping, so that the SII
emulator's generator can make the same documents."""

from dtehub.dte.factory import Line, Reference, _certificate, build_dte

__all__ = ["Line", "Reference", "_certificate", "build_dte"]
