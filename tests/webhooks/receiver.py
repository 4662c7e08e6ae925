"""A real HTTP receiver on loopback, in a thread: records every request; can answer errors or stall."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    status: int = 200
    """What it answers; change it to make deliveries fail."""
    stall: float = 0.0
    """Seconds to wait before answering."""
    trickle: float = 0.0
    """Seconds between the bytes of its answer (a receiver that never quite stops talking)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()


@contextmanager
def receiver(host: str = "127.0.0.1", port: int = 0) -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            owner = holder["receiver"]
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with owner.lock:
                owner.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            if owner.stall:
                time.sleep(owner.stall)
            if owner.trickle:
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(owner.trickle)
                return
            self.send_response(owner.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    owner = holder["receiver"] = Receiver(
        url=f"http://{shown}:{port}/hooks/dtehub?source=test", server=server
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield owner
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
