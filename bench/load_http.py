"""bench/load.py's HTTP client: kept-alive connections, answers parsed by httptools."""

from __future__ import annotations

import asyncio
from json import loads
from typing import Any

import httptools


class Answer:
    """One HTTP answer: what the driver reads of it."""

    __slots__ = ("body", "content_type", "status_code")

    def __init__(self, status_code: int, content_type: str, body: bytes) -> None:
        self.status_code, self.content_type, self.body = status_code, content_type, body

    def json(self) -> Any:
        return loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Connection:
    """One kept-alive HTTP/1.1 connection, one request at a time, answers parsed by httptools (what
    uvicorn parses with): a few tens of microseconds of client CPU a request, where httpx spends ~1 ms
    and would take a visible share of the two cores from the server it measures."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, target: str, headers: dict[str, str] | None, body: bytes | None
    ) -> Answer:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
        for attempt in range(2):  # a kept-alive connection the server closed meanwhile: once more
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            try:
                self.writer.write(data)
                return await self._answer(self.reader)
            except (ConnectionError, asyncio.IncompleteReadError, EOFError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _answer(self, reader: asyncio.StreamReader) -> Answer:
        parts: list[bytes] = []
        state: dict[str, Any] = {"done": False, "type": "", "close": False}

        class Callbacks:
            def on_header(self, name: bytes, value: bytes) -> None:
                lowered = name.lower()
                if lowered == b"content-type":
                    state["type"] = value.decode()
                elif lowered == b"connection" and value.lower() == b"close":
                    state["close"] = True

            def on_body(self, chunk: bytes) -> None:
                parts.append(chunk)

            def on_message_complete(self) -> None:
                state["done"] = True

        parser = httptools.HttpResponseParser(Callbacks())
        while not state["done"]:
            chunk = await reader.read(65536)
            if not chunk:
                raise EOFError("the server closed the connection")
            parser.feed_data(chunk)
        if state["close"]:
            self.close()
        return Answer(parser.get_status_code(), state["type"], b"".join(parts))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
