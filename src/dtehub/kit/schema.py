"""Base for API models: Duemint's camelCase names on the wire, snake_case in Python."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class ApiInput(ApiModel):
    """A request body: surrounding whitespace in text fields is dropped."""

    model_config = ConfigDict(str_strip_whitespace=True)


class IdRef(ApiModel):
    """A reference to another object when it is not expanded: ``{"id": "8201"}``."""

    id: str


JsonObject = dict[str, Any]
"""A view built as plain JSON-ready data (see :func:`respond_json`)."""


def id_refs(ids: Iterable[int]) -> list[JsonObject]:
    """:class:`IdRef`'s shape as plain data, for views built without models."""
    return [{"id": str(i)} for i in ids]


MAX_ID = 2**63 - 1
"""Ids are 64-bit; a larger number names nothing (and SQLite cannot even bind it)."""


def respond(model: BaseModel, status_code: int = 200) -> Response:
    """The model as JSON, serialized once, here.

    Endpoints declare ``response_model`` (for OpenAPI) and return this: FastAPI then sends it as it is
    instead of validating the model again (in a second thread-pool hop, for sync endpoints) and
    serializing it a second time.
    """
    return Response(
        model.model_dump_json(by_alias=True), status_code=status_code, media_type="application/json"
    )


def respond_json(content: Any) -> Response:
    """Plain JSON-ready data (built by a view function for speed) as the response body."""
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode(), media_type="application/json")


class RenewKey(ApiInput):
    """The body of the renew…Key methods: the object whose portal links get a new key."""

    id: int = Field(ge=1, le=MAX_ID, description="The object's id")
