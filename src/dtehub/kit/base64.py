"""Strict base64 for request fields (whitespace and line breaks tolerated, nothing else)."""

from __future__ import annotations

import base64
import binascii
import re

from dtehub.errors import BadRequest, PayloadTooLarge

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


def decode_field(text: str, *, field: str, max_bytes: int, what: str, too_large_code: str) -> bytes:
    """A base64 request field, decoded: a clear 413 when it decodes to more than ``max_bytes`` (judged
    before decoding when possible), a clear 400 when it is not base64."""
    too_large = PayloadTooLarge(f"{what} is larger than {max_bytes} bytes", code=too_large_code, field=field)
    if decoded_size_bound(text) > max_bytes + 3:
        raise too_large
    try:
        content = decode(text)
    except InvalidBase64:
        raise BadRequest(f"{field} is not valid base64", field=field) from None
    if len(content) > max_bytes:
        raise too_large
    return content
