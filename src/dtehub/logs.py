"""Logging that never writes a credential: portal and download links carry their key in the path, and
SII's answers set session cookies."""

from __future__ import annotations

import logging
import re

_LINK_KEY = re.compile(r"^(/portal/[^/?]+/[^/?]+/)[^/?]+")


def redact_path(path: str) -> str:
    """``/portal/invoice/12/SECRET?x`` → ``/portal/invoice/12/***?x``."""
    return _LINK_KEY.sub(r"\1***", path)


class RedactLinkKeys(logging.Filter):
    """For uvicorn's access log, whose arguments are (client, method, path, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def install_redaction() -> None:
    # httpcore's DEBUG trace prints whole response headers, SII's session cookies among them.
    logging.getLogger("httpcore").setLevel(logging.INFO)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, RedactLinkKeys) for existing in access.filters):
        access.addFilter(RedactLinkKeys())
