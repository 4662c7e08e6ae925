"""Strict base64 for request fields (whitespace and line breaks tolerated, nothing else)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from dtehub.errors import BadRequest, DtehubError

_WHITESPACE = re.compile(r"[ \t\r\n]+")
_W = r"[ \t\r\n]*"
_B64 = f"[A-Za-z0-9+/]{_W}"
BASE64_PATTERN = (
    f"^{_W}(?:(?:{_B64}){{4}})*(?:(?:{_B64}){{4}}|(?:{_B64}){{2}}={_W}={_W}|(?:{_B64}){{3}}={_W})$"
)
"""Non-empty standard base64 (padded), spaces and line breaks anywhere: what :func:`decode` reads, as
the published pattern of every base64 field (:func:`base64_schema`)."""


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


def decode_field(text: str, *, field: str, max_bytes: int, what: str, too_large: type[DtehubError]) -> bytes:
    """A base64 request field, decoded: ``too_large`` when it decodes to more than ``max_bytes`` (judged
    before decoding when possible), :class:`~dtehub.errors.BadRequest` when it is not base64."""
    refused = too_large(f"{what} is larger than {max_bytes} bytes", field=field)
    if decoded_size_bound(text) > max_bytes + 3:
        raise refused
    try:
        content = decode(text)
    except InvalidBase64:
        raise BadRequest(f"{field} is not valid base64", field=field) from None
    if len(content) > max_bytes:
        raise refused
    return content


def base64_schema(description: str) -> dict[str, Any]:
    """The published schema of a base64 request field (see :data:`BASE64_PATTERN`)."""
    return {
        "type": "string",
        "pattern": BASE64_PATTERN,
        "contentEncoding": "base64",
        "description": description,
    }
