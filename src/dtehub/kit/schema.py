"""Base for API models: Duemint's camelCase names on the wire, snake_case in Python."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, ClassVar, Self, get_args

from fastapi.responses import Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import to_json

from dtehub.errors import BadRequest
from dtehub.kit.model import ApiModel as ApiModel
from dtehub.kit.model import JsonObject as JsonObject
from dtehub.kit.parameters import (
    ANYTHING,
    EMPTY_TEXT,
    NULL,
    Adjustment,
    BodyOption,
    admits_empty,
    forget_since,
    is_empty,
    note,
    noted,
    reported,
    widen,
)


def _publish_lenient_fields(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """State in the published schema what :class:`ApiInput` accepts: a field with a default also takes
    null and an empty text; a body option takes anything."""
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    alternatives: list[dict[str, Any]] = []
    for name in getattr(model, "alternatives", ()):
        key = model.model_fields[name].alias or name
        alternatives.append(
            {"required": [key], "properties": {key: _with_value(_without_nul(properties[key]))}}
        )
    if alternatives:
        schema["oneOf" if getattr(model, "exactly_one", False) else "anyOf"] = alternatives
    if getattr(model, "published_rules", ()):
        schema["allOf"] = list(model.published_rules)  # type: ignore[attr-defined]
    for name, field in model.model_fields.items():
        published = properties.get(field.alias or name)
        if published is None:
            continue
        properties[field.alias or name] = published = _without_nul(_not_blank(published))
        if field.is_required():
            continue
        if _is_option(field):
            widen(published, ANYTHING)
        else:
            widen(published, NULL, *(() if admits_empty(published) else (EMPTY_TEXT,)))


def _not_blank(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (a copy) with :data:`NOT_BLANK` as the pattern of each text it admits that must not be
    empty (``minLength``), alone or as a branch (a folio: text or a whole number): surrounding whitespace
    is dropped before ``minLength`` counts, so a blank text is empty."""
    schema = dict(schema)
    if "anyOf" in schema:
        schema["anyOf"] = [_not_blank(branch) for branch in schema["anyOf"]]
    if schema.get("type") == "string" and schema.get("minLength") and "pattern" not in schema:
        schema["pattern"] = NOT_BLANK
    return schema


NOT_BLANK = "^[^\\x00]*[^\\s\\x00\\x1c-\\x1f\\x85][^\\x00]*$"
"""A text with something besides whitespace (as Python's ``str.strip`` sees it), and no NUL
(:data:`NO_NUL`), as a pattern."""

NO_NUL = "^[^\\x00]*$"
"""No NUL character (U+0000) in any text of a request body: PostgreSQL cannot store one in a text
column (SQLite would), so :class:`ApiInput` refuses it on every database alike with a 400 naming the
field, and every text of every body publishes it."""

_MAY_ADMIT_NUL = ("[^", ".", "\\W", "\\D", "\\S")  # a pattern without these admits no NUL


def _without_nul(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (a copy) with :data:`NO_NUL` stated in every text it admits: as its pattern, or beside
    a pattern that may admit a NUL (as an ``allOf`` member)."""
    schema = dict(schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            schema[key] = [_without_nul(branch) for branch in schema[key]]
    if isinstance(schema.get("items"), dict):
        schema["items"] = _without_nul(schema["items"])
    if schema.get("type") != "string" or "enum" in schema or "const" in schema:
        return schema
    pattern = schema.get("pattern")
    if pattern is None:
        schema["pattern"] = NO_NUL
    elif pattern not in (NO_NUL, NOT_BLANK) and any(mark in pattern for mark in _MAY_ADMIT_NUL):
        schema["allOf"] = [*schema.get("allOf", []), {"pattern": NO_NUL}]
    return schema


def _first_nul(value: Any, where: str, model: type[BaseModel] | None = None) -> str | None:
    """Where in ``value`` (a field's value as sent) a text holds a NUL, or ``None``. Within a body
    model (``model``: a nested object such as createCesion's ``assignee``) only the keys it knows are
    read, as at the top: an unknown key's value is ignored, never stored, and the document admits it."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, list):
        items = (_first_nul(item, f"{where}[{i}]", model) for i, item in enumerate(value))
        return next((found for found in items if found is not None), None)
    if isinstance(value, dict):
        if model is None:
            members = (_first_nul(item, f"{where}.{key}") for key, item in value.items())
        else:
            names, nested = _field_names(model), _nested_models(model)
            members = (
                _first_nul(item, f"{where}.{key}", nested.get(names[key]))
                for key, item in value.items()
                if key in names
            )
        return next((found for found in members if found is not None), None)
    return None


@cache
def _nested_models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The body model each field of ``model`` holds (alone, optional or in a list), by field name."""
    found: dict[str, type[BaseModel]] = {}
    for name, field in model.model_fields.items():
        pending: list[Any] = [field.annotation]
        while pending:
            annotation = pending.pop()
            if isinstance(annotation, type) and issubclass(annotation, ApiInput):
                found[name] = annotation
                break
            pending.extend(get_args(annotation))
    return found


def _with_value(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's published schema without its ``null`` branch: the field given with a value."""
    branches = [branch for branch in schema.get("anyOf", []) if branch != NULL]
    if not branches:
        return dict(schema)
    return branches[0] if len(branches) == 1 else {"anyOf": branches}


class ApiInput(ApiModel):
    """A request body: surrounding whitespace in text fields is dropped, and Duemint integrations'
    habits are read as dtehub's rules for parameters say (:mod:`dtehub.kit.parameters`): a field with a
    default given ``null`` or an empty text it cannot use (``"dueDate": ""``) is absent, and a body
    option (``send``) given a value it cannot use is its default; each is reported as a warning."""

    model_config = ConfigDict(str_strip_whitespace=True, json_schema_extra=_publish_lenient_fields)

    alternatives: ClassVar[tuple[str, ...]] = ()
    """Fields of which a body gives at least one (:attr:`exactly_one`: exactly one) with a value: the
    published schema says so (``anyOf``/``oneOf`` of their being present), the endpoint enforces it."""
    exactly_one: ClassVar[bool] = False
    published_rules: ClassVar[tuple[dict[str, Any], ...]] = ()
    """Rules between fields the endpoint enforces, as JSON Schema (each a member of ``allOf``)."""

    @model_validator(mode="wrap")
    @classmethod
    def _absent_when_unusable(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(data, dict):
            _refuse_nul(cls, data)
            _refuse_unpublished(cls, data)
        before = noted()
        try:
            return handler(data)
        except ValidationError as error:
            dropped = _unusable_keys(cls, data, error) if isinstance(data, dict) else {}
            if not dropped:
                raise
            forget_since(before)  # nested bodies note theirs again below
        model = handler({key: value for key, value in data.items() if key not in dropped})
        for key, name in dropped.items():  # noted once the rest is valid, too
            default = cls.model_fields[name].get_default(call_default_factory=True)
            note(Adjustment(key, data[key], reported(default)))
        return model


@cache
def _published(model: type[BaseModel]) -> dict[str, tuple[int | None, bool, bool]]:
    """Each body key's published ``maxLength`` (of its text branch), whether it admits ``true`` and
    ``false``, and whether it admits a blank text of any length, by alias and by name. A field with a
    default publishes a blank text (:data:`EMPTY_TEXT`) beside its text: such a text is absent, or
    empty, whatever its length, so its ``maxLength`` is for texts with something in them
    (:func:`_refuse_unpublished`)."""
    properties = model.model_json_schema(by_alias=True).get("properties", {})
    rules: dict[str, tuple[int | None, bool, bool]] = {}
    for name, field in model.model_fields.items():
        published = properties.get(field.alias or name, {})
        branches = published.get("anyOf", [published])
        lengths = [b["maxLength"] for b in branches if "maxLength" in b]
        booleans = any(b.get("type") in (None, "boolean") and "$ref" not in b for b in branches)
        blank = EMPTY_TEXT in branches
        rules[field.alias or name] = rules[name] = (max(lengths) if lengths else None, booleans, blank)
    return rules


def _refuse_unpublished(model: type[BaseModel], data: dict[str, Any]) -> None:
    """A 400 for what the published schema refuses and pydantic's lax reading would take: a text longer
    than its ``maxLength`` as sent (the document counts surrounding whitespace too, dtehub drops it after
    counting), ``true`` or ``false`` for a number. A blank text (spaces and tabs) where the document
    admits one of any length is no value, never too long: :class:`ApiInput` reads it as absent, or as
    the empty text."""
    rules = _published(model)
    for key, value in data.items():
        limit, booleans, blank_ok = rules.get(key, (None, True, False))
        if limit is not None and isinstance(value, str) and len(value) > limit:
            if blank_ok and is_empty(value):
                continue
            raise BadRequest(f"{key}: at most {limit} characters, surrounding spaces included", field=key)
        if isinstance(value, bool) and not booleans:
            raise BadRequest(f"{key}: {str(value).lower()} is not a value it takes", field=key)


def _refuse_nul(model: type[BaseModel], data: dict[str, Any]) -> None:
    """A 400 naming the field of ``data`` whose text holds a NUL (:data:`NO_NUL`); keys the model does
    not know are ignored, as their values are."""
    names, nested = _field_names(model), _nested_models(model)
    for key, value in data.items():
        if key in names and (where := _first_nul(value, key, nested.get(names[key]))) is not None:
            raise BadRequest(
                f"{where} holds a NUL character (U+0000), which no text can store; nothing was changed",
                field=where,
            )


def _is_option(field: FieldInfo) -> bool:
    return any(isinstance(marker, BodyOption) for marker in field.metadata)


@cache
def _field_names(model: type[BaseModel]) -> dict[str, str]:
    """The field each key of a body names: its alias or its own name."""
    names = {name: name for name in model.model_fields}
    names.update({field.alias: name for name, field in model.model_fields.items() if field.alias})
    return names


def _unusable_keys(model: type[BaseModel], data: dict[str, Any], error: ValidationError) -> dict[str, str]:
    """The keys of ``data`` (with their field's name) that :class:`ApiInput` reads as absent."""
    names = _field_names(model)
    dropped: dict[str, str] = {}
    for problem in error.errors():
        location = problem["loc"]
        name = names.get(location[0]) if location and isinstance(location[0], str) else None
        if name is None:
            continue
        field = model.model_fields[name]
        if field.is_required():
            continue
        for key in {field.alias or name, name}:
            if key in data and (data[key] is None or is_empty(data[key]) or _is_option(field)):
                dropped[key] = name
    return dropped


class IdRef(ApiModel):
    """A reference to another object when it is not expanded: ``{"id": "8201"}``."""

    id: str


def id_refs(ids: Iterable[int]) -> list[JsonObject]:
    """:class:`IdRef`'s shape as plain data, for views built without models."""
    return [{"id": str(i)} for i in ids]


MAX_ID = 2**63 - 513
"""Ids are 64-bit; a larger number names nothing (and SQLite cannot even bind 2^63). The bound is the
largest integer that a binary64 reader rounds below 2^63 (to 2^63-1024, the largest double below it), so
that a JSON reader that holds numbers as doubles (a schema validator, a generated client) draws exactly
the line dtehub draws on the integers as sent: 9223372036854775000 is 2^63-1024 as a double and an id
here (not found), 9223372036854775807 and 2^63-512 are 2^63 as doubles and refused here."""


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
    """Plain JSON-ready data (built by a view function for speed) as the response body.

    Serialized by pydantic's core (Rust, already here for the models): for such data (text, integers,
    booleans, null; amounts are text, never floats) its bytes are those of ``json.dumps(content,
    ensure_ascii=False, separators=(",", ":")).encode()``, for a fraction of the CPU (a 50-document
    page: 0.28-0.65 -> 0.11-0.14 ms). A float would differ below 1e-4 (``1e-7``, not ``1e-07``)."""
    return Response(to_json(content), media_type="application/json")


class RenewKey(ApiInput):
    """The body of the renew…Key methods: the object whose portal links get a new key."""

    id: int = Field(ge=1, le=MAX_ID, description="The object's id")
