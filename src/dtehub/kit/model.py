"""The API models' base and plain JSON views, without FastAPI: what :mod:`dtehub.dte` needs of
:mod:`dtehub.kit.schema`, so that the DTE pipeline (and ``dtehub import``'s workers) import no web
framework. :mod:`dtehub.kit.schema` builds the request models and responses on it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


JsonObject = dict[str, Any]
"""A view built as plain JSON-ready data (see :func:`dtehub.kit.schema.respond_json`)."""


STRIPPED = r"\t-\r\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""What a request body drops around a text (``ApiInput``'s ``str_strip_whitespace``: pydantic strips
Unicode White_Space, not U+001C–U+001F as Python's ``str.strip`` would), as a regex class's members:
a pattern that refuses white space in a value admits it around, as ``[{STRIPPED}]*`` at both ends."""


def min_length_pattern(min_length: int) -> str:
    """A text of at least ``min_length`` (2 or more) characters once the white space around it is dropped,
    as pydantic counts ``min_length`` (``minLength`` counts them as sent), and no NUL, as a pattern."""
    edge = rf"[^\x00{STRIPPED}]"
    return rf"^[{STRIPPED}]*{edge}[^\x00]{{{min_length - 2},}}{edge}[{STRIPPED}]*$"
