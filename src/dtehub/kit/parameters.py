"""Request parameters as Duemint integrations send them: filters, options and their warnings.

Every query parameter of ``/v1`` is a **filter** or an **option**:

- a filter (``status``, ``clientId``, ``since``…) narrows the answer. A value it cannot read answers 400:
  ignoring it would answer objects the caller did not ask for.
- an option has a documented default and only shapes the answer (``orderBy``, ``order``, ``dateBy``, the
  ``expand…`` flags, ``page``, ``resultsPerPage``). A value it cannot use is served as that default (a
  count above its maximum: at the maximum).

Either kind given empty or without a value (``?status=``, ``?clientId&page=1``) is absent: a filter then
filters nothing, an option takes its default. Request bodies follow the same idea
(:class:`dtehub.kit.schema.ApiInput`). Every such adjustment is an :class:`Adjustment`, collected per
request and reported in a successful answer (a ``warnings`` list and ``Warning`` headers) by
:class:`dtehub.middleware.ParameterMiddleware`.

An endpoint makes a query parameter an option with :func:`option` (or the ready-made declarations here):
the same :class:`Option` object reads its values and publishes its schema in ``/openapi.json``. Every
other query parameter is a filter.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import quote, unquote

import fastapi.routing
from fastapi import Query
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

API_PREFIXES = ("/v1/", "/V1/")

EMPTY_PATTERN = "^[ \t]*$"
"""What counts as an empty value: nothing, or only spaces and tabs."""

_ECHO_LIMIT = 200  # characters of a value echoed back in a warning's body
_HEADER_ECHO_LIMIT = 64  # and in its Warning header
_HEADER_SAFE = "-._~!$'()*+,;:@/[]"  # kept as they are in a Warning header; the rest is percent-encoded
_INTEGER = re.compile(r"[+-]?[0-9]+")
_LARGEST_INTEGER_DIGITS = 18  # more digits are beyond any bound here (and beyond a 64-bit integer)


ANY_TEXT: dict[str, Any] = {"type": "string"}
EMPTY_TEXT: dict[str, Any] = {"type": "string", "pattern": EMPTY_PATTERN}
NULL: dict[str, Any] = {"type": "null"}
ANYTHING: dict[str, Any] = {}


def widen(schema: dict[str, Any], *branches: dict[str, Any]) -> None:
    """Publish that a parameter or field also accepts ``branches``: its schema becomes ``anyOf`` its
    own and theirs (its title, description and default stay outside)."""
    outer = {key: schema.pop(key) for key in ("title", "description", "default") if key in schema}
    alternatives = list(schema.pop("anyOf")) if list(schema) == ["anyOf"] else [dict(schema)]
    schema.clear()
    schema.update(anyOf=[*alternatives, *(b for b in branches if b not in alternatives)], **outer)


def admits_empty(schema: dict[str, Any]) -> bool:
    """Whether an empty text already matches ``schema`` (a plain text, or a branch of one)."""
    if "anyOf" in schema:
        return any(admits_empty(branch) for branch in schema["anyOf"])
    constraints = {"minLength", "pattern", "enum", "const", "format", "$ref"}
    return schema.get("type") == "string" and not constraints & schema.keys()


def is_empty(value: object) -> bool:
    """Whether a parameter's value means "no value": an empty text, or only spaces and tabs."""
    return isinstance(value, str) and not value.strip(" \t")


def reported(value: Any) -> Any:
    """A value as a warning reports it: flags as 0 or 1 (as Duemint spells them), enums by value."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


# Adjustments


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A parameter dtehub did not use as sent: what was sent and what was used instead (``None``: the
    parameter was taken as absent, with no default of its own)."""

    parameter: str
    value: Any
    used: Any

    def as_json(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "value": _echo(self.value), "used": self.used}

    def header_value(self) -> str:
        """As a ``Warning`` header (RFC 7234, section 5.5): ``299 dtehub "page=0 served as 1"``."""
        given = _as_text(self.value)[:_HEADER_ECHO_LIMIT]
        used = quote(_as_text(self.used)[:_HEADER_ECHO_LIMIT], safe=_HEADER_SAFE)
        outcome = "ignored" if self.used is None else f"served as {used}"
        text = f"{quote(self.parameter, safe=_HEADER_SAFE)}={quote(given, safe=_HEADER_SAFE)} {outcome}"
        return f'299 dtehub "{text}"'


def _echo(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and len(value) > _ECHO_LIMIT:
        return value[:_ECHO_LIMIT] + "…"
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(int(value))
    return json.dumps(value, ensure_ascii=False)


class ParameterWarning(BaseModel):
    """A parameter that was not used as sent, in the `warnings` list of a successful answer."""

    parameter: str = Field(description="The query parameter or body field, by the name it was sent as")
    value: Any = Field(description="Its value as sent (text longer than 200 characters is cut)")
    used: Any = Field(
        description="What was used instead; null: taken as absent (a filter then filters nothing)"
    )


WARNING_HEADER_DESCRIPTION = (
    'One per adjusted parameter, RFC 7234 style: 299 dtehub "resultsPerPage=500 served as 100"'
)

_collected: ContextVar[list[Adjustment] | None] = ContextVar("dtehub_parameter_adjustments", default=None)


def collect_into(adjustments: list[Adjustment]) -> Token[list[Adjustment] | None]:
    """Collect the current request's adjustments into ``adjustments`` until :func:`stop_collecting`."""
    return _collected.set(adjustments)


def stop_collecting(token: Token[list[Adjustment] | None]) -> None:
    _collected.reset(token)


def note(adjustment: Adjustment) -> None:
    """Record an adjustment of the current request (none is recorded outside a request: the CLI)."""
    adjustments = _collected.get()
    if adjustments is not None:
        adjustments.append(adjustment)


def noted() -> int:
    """How many adjustments the current request has recorded so far (see :func:`forget_since`)."""
    adjustments = _collected.get()
    return len(adjustments) if adjustments is not None else 0


def forget_since(count: int) -> None:
    """Forget the adjustments recorded after the first ``count``: those of a validation attempt that
    failed (a body read again notes its nested parts' adjustments again)."""
    adjustments = _collected.get()
    if adjustments is not None:
        del adjustments[count:]


class BodyOption:
    """Marks a request body field as an option with a documented default (``send``): any value it
    cannot use is read as that default, with a warning (:class:`dtehub.kit.schema.ApiInput`)."""


BODY_OPTION = BodyOption()


# Options


class Reading(NamedTuple):
    """A value an option can use: the text its endpoint reads, the value reported, and whether that
    differs from what was sent (a count above its maximum)."""

    text: str
    used: Any
    adjusted: bool = False


class Option:
    """How a query parameter with a documented default reads a value; as a ``Query``'s
    ``json_schema_extra`` it also publishes the parameter's schema: the values it serves as they are,
    or any other text (served as the default)."""

    rule = "Any other value is served as the default, with a warning."

    def read(self, text: str) -> Reading | None:
        """The reading of ``text``, or ``None`` when the option cannot use it (the default applies)."""
        raise NotImplementedError

    def __call__(self, schema: dict[str, Any]) -> None:
        widen(schema, ANY_TEXT)


class Choice(Option):
    """One of a few values (numbers, or words in any case)."""

    def __init__(self, values: Iterable[int | str]) -> None:
        self._readings: dict[str, Reading] = {}
        for value in values:
            if isinstance(value, int):
                self._readings[str(int(value))] = Reading(str(int(value)), int(value))
            else:
                self._readings[value.upper()] = Reading(value, value)

    def read(self, text: str) -> Reading | None:
        key = text.strip(" \t").upper()
        if _INTEGER.fullmatch(key) and len(key) <= _LARGEST_INTEGER_DIGITS:
            key = str(int(key))  # "01" and "+1" are 1
        return self._readings.get(key)


class Flag(Option):
    """A yes/no flag: 1 or 0, and the spellings of true and false that FastAPI reads."""

    _TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
    _FALSE = frozenset({"0", "false", "f", "no", "n", "off"})

    def read(self, text: str) -> Reading | None:
        key = text.strip(" \t").lower()
        if key in self._TRUE:
            return Reading("1", 1)
        if key in self._FALSE:
            return Reading("0", 0)
        return None


class Count(Option):
    """A whole number from 1: above ``maximum`` it is served at the maximum; below 1, or not a whole
    number, at the default."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.rule = (
            f"Above {maximum}: {maximum}; below 1 or not a whole number: the default; each with a warning."
        )

    def read(self, text: str) -> Reading | None:
        text = text.strip(" \t")
        if not _INTEGER.fullmatch(text):
            return None
        digits = text.lstrip("+-").lstrip("0")
        if text.startswith("-") or not digits:
            return None  # below 1
        if len(digits) > _LARGEST_INTEGER_DIGITS or int(digits) > self.maximum:
            return Reading(str(self.maximum), self.maximum, adjusted=True)
        return Reading(digits, int(digits))


def option(alias: str, description: str, reading: Option, **constraints: Any) -> Any:
    """The ``Query`` of an option: its description states what happens to a value it cannot use."""
    return Query(
        alias=alias, description=f"{description}. {reading.rule}", json_schema_extra=reading, **constraints
    )


def choice(alias: str, description: str, values: Iterable[int | str], **constraints: Any) -> Any:
    """An option that takes one of ``values`` (an ``IntEnum`` class works)."""
    return option(alias, description, Choice(values), **constraints)


def flag(alias: str, description: str) -> Any:
    """An option that is 0 (default) or 1, as Duemint's ``expand…`` flags."""
    return option(alias, f"{description} (0 or 1, default 0)", Flag())


SortOrder = Literal["ASC", "DESC"]
OrderQuery = Annotated[SortOrder, option("order", "ASC or DESC", Choice(("ASC", "DESC")))]
"""``order``: ASC or DESC, in any case; the endpoint reads it in capitals."""


# The rules of each operation, read from its declaration


@dataclass(frozen=True, slots=True)
class QueryRules:
    """One operation's query parameters: each one's default as reported (``None`` for a filter without
    one), and the :class:`Option` of those that are options."""

    defaults: Mapping[str, Any]
    options: Mapping[str, Option]


def rules_of(routes: Iterable[Any]) -> dict[str, QueryRules]:
    """The rules of every API operation with query parameters, by path."""
    rules: dict[str, QueryRules] = {}
    for route in _every_route(list(routes)):
        path = route.path
        original = getattr(route, "original_route", route)
        if not isinstance(original, APIRoute) or not (path or "").startswith(API_PREFIXES):
            continue
        defaults: dict[str, Any] = {}
        options: dict[str, Option] = {}
        for field in _query_fields(route.dependant):
            info = field.field_info
            defaults[field.alias] = None if info.is_required() else reported(field.default)
            if isinstance(info.json_schema_extra, Option):
                options[field.alias] = info.json_schema_extra
        if defaults and path:
            rules[path] = QueryRules(defaults=defaults, options=options)
    return rules


def _every_route(routes: list[Any]) -> Iterable[Any]:
    """Every route, those of included routers too: recent FastAPI keeps an included router as one
    route of the app (and lists its routes through ``iter_route_contexts``); older ones copied them."""
    expand = getattr(fastapi.routing, "iter_route_contexts", None)
    return routes if expand is None else expand(routes)


def _query_fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for dependency in dependant.dependencies:
        yield from _query_fields(dependency)


def adjust_query(query: bytes, rules: QueryRules, adjustments: list[Adjustment]) -> bytes | None:
    """The query string the operation reads, or ``None`` when it reads ``query`` as it is.

    Read as the framework reads it (a name's last value counts; ``name`` alone is an empty value): an
    empty value is dropped (absent), an option's value replaced by its reading or dropped (the default
    applies). Every change is appended to ``adjustments``. Other parameters' bytes are kept as sent.
    """
    segments = query.decode("latin-1").split("&")
    named = [_name_and_value(segment) for segment in segments]
    last = {name: position for position, (name, _) in enumerate(named) if name in rules.defaults}
    if not last:
        return None
    kept: list[str] = []
    changed = False
    for position, (segment, (name, value)) in enumerate(zip(segments, named, strict=True)):
        if name not in last:
            kept.append(segment)
            continue
        if last[name] != position:  # an earlier value of a repeated parameter: never read
            changed = True
            continue
        if is_empty(value):
            adjustments.append(Adjustment(name, value, rules.defaults[name]))
            changed = True
            continue
        reading_option = rules.options.get(name)
        if reading_option is None:
            kept.append(segment)
            continue
        reading = reading_option.read(value)
        if reading is None:
            adjustments.append(Adjustment(name, value, rules.defaults[name]))
            changed = True
            continue
        if reading.adjusted:
            adjustments.append(Adjustment(name, value, reading.used))
        if reading.text != value:
            segment = f"{quote(name)}={quote(reading.text)}"
            changed = True
        kept.append(segment)
    return "&".join(kept).encode("latin-1") if changed else None


def _name_and_value(segment: str) -> tuple[str, str]:
    """A segment's name and value as ``urllib.parse.parse_qsl`` reads them."""
    name, _, value = segment.partition("=")
    return _unquote(name), _unquote(value)


def _unquote(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return unquote(text) if "%" in text else text


def warnings_json(adjustments: Iterable[Adjustment]) -> bytes:
    items = [adjustment.as_json() for adjustment in adjustments]
    return json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()


def with_warnings(body: bytes, adjustments: list[Adjustment]) -> bytes | None:
    """A JSON object's bytes with a ``warnings`` member added last; ``None`` when not an object."""
    stripped = body.strip()
    if not (stripped.startswith(b"{") and stripped.endswith(b"}")):
        return None
    separator = b"," if stripped[1:-1].strip() else b""
    return stripped[:-1] + separator + b'"warnings":' + warnings_json(adjustments) + b"}"
