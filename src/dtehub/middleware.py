"""ASGI middleware: request body limits, Duemint's "any Content-Type is JSON" rule, and the portal's
headers on every portal answer."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dtehub.errors import PayloadTooLarge
from dtehub.errors_http import error_body, http_status

_API_PREFIXES = ("/v1/", "/V1/")


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
        if path.startswith(_API_PREFIXES):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            headers.append((b"content-type", b"application/json"))
            scope = dict(scope, headers=headers)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(send)
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

        await self.app(scope, limited_receive, send)

    def _too_large_message(self) -> str:
        return f"the request body is larger than {self.max_body_bytes} bytes"

    async def _refuse(self, send: Send) -> None:
        refused = PayloadTooLarge(self._too_large_message())
        body = json.dumps(error_body(refused)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": http_status(refused),
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class PortalHeadersMiddleware:
    """Every answer under ``/portal/`` carries the portal's security and cache headers, whoever made it:
    pages set their own, and this adds the missing ones to what the framework answers by itself (a
    refused body, a redirect, a 405). A header the route set stays as it is."""

    def __init__(self, app: ASGIApp, *, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/portal/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value) for name, value in self.headers if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
