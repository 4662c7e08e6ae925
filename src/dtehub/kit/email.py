"""What an e-mail address is, for the API's plain address fields (updateCompany's ``replyTo``, the
cession's ``assignee``, ``assignor`` and ``contact`` e-mails): one rule, published as each field's
pattern and checked with that same expression.

createContact's ``email`` is stricter (``format: email``, read by email_validator, no special-use domain:
contacts.schemas), and every address it takes passes this rule too.
"""

from __future__ import annotations

import re

from dtehub.kit.model import STRIPPED

SPACES = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
"""Every character that is white space to some regex dialect, spelled out: ``\\s`` is U+001C–U+001F and
U+0085 to Python's ``re``, U+0085 and not U+001C–U+001F to Rust's (pydantic's), and neither but U+FEFF
to ECMA-262's (the document's), so a pattern with ``\\s`` means different things to its readers."""

_PART = rf"[^@<>\"(),;:\x00-\x1f\x7f{SPACES}]+"  # no control character: PostgreSQL stores no NUL
ADDRESS = rf"{_PART}@{_PART}\.{_PART}"
"""An address: something, ``@``, a domain with a dot; no white space, control character or ``<>"(),;:``."""
_AROUND = rf"[{STRIPPED}]*"
EMAIL_PATTERN = rf"^{_AROUND}{ADDRESS}{_AROUND}$"
"""An address, as published: white space around it is dropped before it is read."""
EMAIL_OR_EMPTY_PATTERN = rf"^{_AROUND}(?:{ADDRESS})?{_AROUND}$"
_EMAIL = re.compile(ADDRESS)


def email_pattern(*, min_length: int) -> str:
    """:data:`EMAIL_PATTERN` for a field whose address (white space around it dropped, as pydantic counts
    ``min_length``) has at least ``min_length`` characters: ``minLength`` counts them as sent."""
    return rf"^{_AROUND}(?=[^{STRIPPED}]{{{min_length}}}){ADDRESS}{_AROUND}$"


def is_email(text: str) -> bool:
    """``text`` (stripped as a request body's texts are) is an address."""
    return _EMAIL.fullmatch(text) is not None


def check_email(text: str) -> str:
    """A field's validator (``AfterValidator(check_email)``, the field publishing :data:`EMAIL_PATTERN`)."""
    if not is_email(text):
        raise ValueError(f"{text!r} is not an e-mail address")
    return text
