"""Strict base64 for request fields (whitespace and line breaks tolerated, nothing else)."""

from __future__ import annotations

import base64
import binascii
import re

_WHITESPACE = re.compile(r"\s+")


class InvalidBase64(ValueError):
    pass


def decoded_size_bound(text: str) -> int:
    """An upper bound of the decoded size, known before decoding anything (line breaks don't count)."""
    spaces = sum(text.count(c) for c in " \t\r\n")
    return (len(text) - spaces) * 3 // 4


def decode(text: str) -> bytes:
    compact = _WHITESPACE.sub("", text)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidBase64("not valid base64") from None
