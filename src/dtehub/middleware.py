"""ASGI middleware: request body limits, Duemint's "any Content-Type is JSON" rule, the lenient reading of
query parameters with its warnings, and the portal's headers on every portal answer."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncGenerator, Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dtehub.errors import PayloadTooLarge
from dtehub.errors_http import error_body, http_status
from dtehub.kit import parameters
from dtehub.kit.parameters import API_PREFIXES, Adjustment, QueryRules
from dtehub.webapp import pages as webapp_pages

FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


async def form_as_json(body: bytes, content_type: bytes, *, max_part_bytes: int) -> bytes | None:
    """A form's fields as the JSON object an API method reads, or None when the body is JSON after
    all (Duemint's ``curl -d '{…}'`` declares a form), empty, or no form it can read.

    Every value stays text, read by the field's type as a JSON text would be; PHP's brackets name
    nested values (``tags[]=a&tags[]=b``, ``documents[0][amount]=5``, ``sendReminders[expired]=0``); a
    name given twice keeps its last value. A multipart form's files are not fields: they are left out.
    """
    stripped = body.lstrip()
    if not stripped or stripped[:1] in (b"{", b"[", b'"'):
        return None
    try:
        json.loads(body)
    except ValueError:
        pass
    else:
        return None
    pairs: list[tuple[str, str]]
    if content_type.split(b";")[0].strip().lower() == FORM_TYPES[0]:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return None
    else:

        async def chunks() -> AsyncGenerator[bytes, None]:
            yield body

        parser = MultiPartParser(
            Headers(raw=[(b"content-type", content_type)]), chunks(), max_part_size=max_part_bytes
        )
        try:
            form = await parser.parse()
        except MultiPartException:
            return None
        try:
            pairs = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
        finally:
            await form.close()  # the files' spooled copies
    return fields_as_json(pairs)


def fields_as_json(pairs: list[tuple[str, str]]) -> bytes:
    """Named values (a form's, a query's) as one JSON object, PHP's brackets nesting them."""
    fields: dict[str, Any] = {}
    for name, value in pairs:
        _place(fields, _bracket_parts(name), value)
    return json.dumps({name: _as_lists(value) for name, value in fields.items()}).encode()


def _bracket_parts(name: str) -> list[str]:
    """``documents[0][amount]`` → ``["documents", "0", "amount"]``; ``tags[]`` → ``["tags", ""]``."""
    head, bracket, rest = name.partition("[")
    if not bracket or not head or not rest.endswith("]"):
        return [name]
    return [head, *rest[:-1].split("][")]


def _place(node: dict[str, Any], parts: list[str], value: str) -> None:
    key = parts[0] or str(len(node))  # "[]" appends
    if len(parts) == 1:
        node[key] = value
        return
    child = node.get(key)
    if not isinstance(child, dict):
        child = node[key] = {}
    _place(child, parts[1:], value)


def _as_lists(value: Any) -> Any:
    """Objects whose keys are all indexes become lists, in the indexes' order."""
    if not isinstance(value, dict):
        return value
    items = {key: _as_lists(item) for key, item in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


async def _whole_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, handed once; then whatever the client sends next (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class ApiBodyMiddleware:
    """Refuse bodies over ``max_body_bytes`` with 413, and read API bodies as JSON.

    Duemint's own curl examples send ``-d`` without a Content-Type (so curl says form-urlencoded);
    an integration that works against Duemint must work here unchanged, so API request bodies are
    JSON whatever their declared type.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        declared_type = b""
        if path.startswith(API_PREFIXES):
            declared_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            headers.append((b"content-type", b"application/json"))
            scope = dict(scope, headers=headers)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(send, app_page=path.startswith("/app/"))
            return

        received = 0

        async def limited_receive() -> Message:
            # Bodies without a Content-Length (chunked) are counted as they arrive; the route's
            # body reader turns this into the same 413 through the error mapping.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, self._too_large_message())
            return message

        is_form = declared_type.split(b";")[0].strip().lower() in FORM_TYPES
        # Clients that cannot send a body with DELETE put Duemint's parameters in the query instead.
        query_as_body = scope["method"] == "DELETE" and bool(scope["query_string"])
        if (is_form or query_as_body) and path.startswith(API_PREFIXES):
            try:
                body = await _whole_body(limited_receive)
            except HTTPException:
                await self._refuse(send, app_page=False)
                return
            fields = (
                await form_as_json(body, declared_type, max_part_bytes=self.max_body_bytes)
                if is_form
                else None
            )
            if fields is None and query_as_body and not body.strip():
                fields = fields_as_json(
                    parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                )
            if fields is not None:
                body = fields
                headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
                scope = dict(scope, headers=[*headers, (b"content-length", str(len(body)).encode())])
            await self.app(scope, _replay(body, receive), send)
            return
        await self.app(scope, limited_receive, send)

    def _too_large_message(self) -> str:
        return f"the request body is larger than {self.max_body_bytes} bytes"

    async def _refuse(self, send: Send, *, app_page: bool) -> None:
        refused = PayloadTooLarge(self._too_large_message())
        if app_page:  # the web app's own error page (an upload too large for /app/import)
            page = webapp_pages.error_page(http_status(refused), refused.message, refused.code)
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in page.headers.items()]
            headers = [(k, v) for k, v in headers if k != b"content-length"]
            body = bytes(page.body)
            headers += [(b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        else:
            body = json.dumps(error_body(refused)).encode()
            headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": http_status(refused), "headers": headers})
        await send({"type": "http.response.body", "body": body})


class ApiTrailingSlashMiddleware:
    """Serve an API path written with a trailing slash (``/v1/createTag/``) as the method itself.

    The framework would redirect it (307), and a client that does not follow redirects (PHP's curl by
    default) would get an empty answer where Duemint answered; a redirected POST also sends its body
    twice. Runs before the rest, so parameters and bodies are read by the method's own rules.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if (
                path.endswith("/")
                and path.startswith(API_PREFIXES)
                and path.rstrip("/") + "/" not in API_PREFIXES
            ):
                trimmed = path.rstrip("/")
                scope = dict(scope, path=trimmed, raw_path=trimmed.encode("latin-1"))
        await self.app(scope, receive, send)


class PortalHeadersMiddleware:
    """Every answer under ``/portal/`` (or another ``prefix``: the web app's ``/app/``) carries its
    security and cache headers, whoever made it:
    pages set their own, and this adds the missing ones to what the framework answers by itself (a
    refused body, a redirect, a 405). A header the route set stays as it is."""

    def __init__(self, app: ASGIApp, *, headers: Mapping[str, str], prefix: str = "/portal/") -> None:
        self.app = app
        self.prefix = prefix
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value) for name, value in self.headers if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


_CACHED_QUERY_BYTES = 512


class ParameterMiddleware:
    """Read each API request's query by the rules of :mod:`dtehub.kit.parameters`, and report every
    adjustment (of the query, or of the body: :class:`dtehub.kit.schema.ApiInput`) in its answer.

    The query is rewritten before the framework reads it, so endpoints see only values they can use.
    A successful answer that adjusted something carries one ``Warning`` header per adjustment and, when
    it is a JSON object, a ``warnings`` list as its last member. Answers without adjustments pass as
    they are.
    """

    def __init__(self, app: ASGIApp, *, rules: Mapping[str, QueryRules]) -> None:
        self.app = app
        self.rules = rules  # filled once the routes are declared (dtehub.app)
        # Integrations send the same few queries again and again: each is read once (per process),
        # and the cache stays small (at most 4096 queries of at most 512 bytes).
        self._read_cached = functools.lru_cache(maxsize=4096)(self._read)

    def _read(self, path: str, query: bytes) -> tuple[bytes | None, tuple[Adjustment, ...]]:
        rules = self.rules.get(path)
        if rules is None:
            return None, ()
        adjustments: list[Adjustment] = []
        return parameters.adjust_query(query, rules, adjustments), tuple(adjustments)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return
        adjustments: list[Adjustment] = []
        if scope["query_string"]:
            read = self._read_cached if len(scope["query_string"]) <= _CACHED_QUERY_BYTES else self._read
            query, adjusted = read(scope["path"], scope["query_string"])
            if query is not None:
                scope = dict(scope, query_string=query)
            adjustments += adjusted
        held: Message | None = None
        body = b""

        async def send_with_warnings(message: Message) -> None:
            nonlocal held, body
            if message["type"] == "http.response.start":
                if adjustments and 200 <= message["status"] < 300:
                    held = message  # sent with the body, whose length changes
                    return
            elif message["type"] == "http.response.body" and held is not None:
                body += message.get("body", b"")
                if message.get("more_body", False):
                    return
                start, held = held, None
                message = {"type": "http.response.body", "body": body}
                await send(_reported(start, message, adjustments))
            await send(message)

        token = parameters.collect_into(adjustments)
        try:
            await self.app(scope, receive, send_with_warnings)
        finally:
            parameters.stop_collecting(token)


def _reported(start: Message, message: Message, adjustments: list[Adjustment]) -> Message:
    """The answer's start with its ``Warning`` headers, its body (``message``, changed in place) with
    its ``warnings`` list when it is a JSON object."""
    headers = list(start.get("headers", []))
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    if content_type.startswith(b"application/json"):
        body = parameters.with_warnings(message["body"], adjustments)
        if body is not None:
            message["body"] = body
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
    headers += [(b"warning", a.header_value().encode("latin-1")) for a in adjustments]
    return {**start, "headers": headers}
