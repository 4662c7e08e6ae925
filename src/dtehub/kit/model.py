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
