"""The emulator's HTTPS server: the stdlib's threading HTTP server behind TLS with client certificates.

One server plays SII's three hosts (certificate login, logout, portal): they are told apart by path.
The standard library rather than an ASGI server because the login needs the client's certificate as
presented in the handshake (``getpeercert(binary_form=True)``).

TLS, as SII's hosts do it by default: TLS 1.2; the client certificate is asked for but optional (the
portal pages do without), and verified against the test CA. Its dates are *not* checked in the handshake
(``X509_V_FLAG_NO_CHECK_TIME``) so that an expired certificate reaches the login page and gets code 36,
as on the real SII, while one from another authority fails in the handshake. :mod:`.handshake` makes the
handshake stricter. Each handshake runs in the connection's own thread, never in the accept loop, so a
slow or silent client blocks nobody else.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, cast
from urllib.parse import parse_qs, urlsplit

from dtehub.kit.rut import normalize_rut
from dtehub.sii.emulator import pages
from dtehub.sii.emulator.acceptance import Acceptances
from dtehub.sii.emulator.certificates import TestCertificateAuthority
from dtehub.sii.emulator.data import EmulatorData
from dtehub.sii.emulator.handshake import Handshake, ServerContexts
from dtehub.sii.emulator.portal import Portal, Request, Response
from dtehub.sii.emulator.register import Register
from dtehub.sii.emulator.rtc import Rtc
from dtehub.sii.emulator.sessions import Faults, SessionStore
from dtehub.sii.emulator.ws import WebServices

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_SECONDS = 10.0
LINGER_SECONDS = 2.0
"""How long a refused handshake's connection reads what the client still sends before it is closed."""
IDLE_TIMEOUT_SECONDS = 30.0
MAX_BODY_BYTES = 1024 * 1024


class Service(Protocol):
    """A service the server answers by path before the portal's pages (the SOAP services, the RTC)."""

    def handles(self, path: str) -> bool: ...

    def answer(self, request: Request) -> Response: ...


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() waits for the connections' threads: nothing outlives stop()

    def __init__(
        self,
        address: tuple[str, int],
        contexts: ServerContexts,
        portal: Portal,
        faults: Faults,
        services: tuple[Service, ...],
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        self.contexts = contexts
        self.portal = portal
        self.services = services
        self.faults = faults
        self.stopping = threading.Event()
        self._connections: set[ssl.SSLSocket] = set()
        self._connections_lock = threading.Lock()
        self.connections = 0

    def server_bind(self) -> None:
        # HTTPServer.server_bind would look the host up in the DNS (getfqdn) for a name nobody reads.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Runs in the connection's thread. The raw socket is closed by shutdown_request() afterwards.
        with self._connections_lock:  # counted before anything is answered: a client never sees it lag
            self.connections += 1
        if self.faults.take_handshake_failure():
            return
        # The handler writes headers and body separately: with Nagle's algorithm on, the client's
        # delayed ACK would hold every answer back by 40 ms.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        context = self.contexts.current()
        connection = context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
        with self._tracked(connection):
            try:
                connection.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
                connection.do_handshake()
            except ssl.SSLError as exc:  # an alert sent (a refused certificate) or received
                log.debug("SII emulator: TLS handshake with %s failed: %s", client_address, exc)
                _linger(connection)
                return
            except OSError as exc:
                log.debug("SII emulator: TLS handshake with %s failed: %s", client_address, exc)
                return
            try:
                _Handler(connection, client_address, self)
            except OSError as exc:  # the client went away mid-answer (reset, broken pipe, TLS close)
                log.debug("SII emulator: connection from %s ended: %s", client_address, exc)

    @contextlib.contextmanager
    def _tracked(self, connection: ssl.SSLSocket) -> Iterator[None]:
        with self._connections_lock:
            self._connections.add(connection)
        try:
            yield
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            connection.close()

    def close_connections(self) -> None:
        """Wake every connection's thread (idle keep-alive ones included) so that it ends."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("SII emulator: error on the connection from %s", client_address)


def _linger(connection: ssl.SSLSocket) -> None:
    """After a failed handshake, read (and drop) what the client still sends until it closes, as Apache's
    lingering close does. Closing at once with data unread would reset the connection, and with TLS 1.3
    the client is already sending its request when the refusal comes: the reset would overtake the
    alert, and the client would never learn why it was refused."""
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)  # the alert is out; TLS is over, the socket is plain again
        connection.settimeout(LINGER_SECONDS)
        end = time.monotonic() + LINGER_SECONDS
        while connection.recv(4096) and time.monotonic() < end:
            pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""
    timeout = IDLE_TIMEOUT_SECONDS
    disable_nagle_algorithm = True  # headers and body are two writes: do not let the body wait for an ACK

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib's signature
        log.debug("SII emulator: " + format, *args)

    def _serve(self) -> None:
        server = cast(_TlsServer, self.server)
        body = self._body()
        if body is None:
            return
        delay = server.faults.delay_seconds
        if delay > 0 and server.stopping.wait(delay):
            self.close_connection = True
            return
        if server.faults.unavailable:
            self._send(Response(503, pages.unavailable_page()))
            return
        try:
            request = self._request(body)
            handler = next((s for s in server.services if s.handles(request.path)), server.portal)
            response = handler.answer(request)
        except Exception:
            log.exception("SII emulator: error answering %s %s", self.command, self.path)
            response = Response(500, pages.alert_page("Se ha producido un error inesperado."))
        if response.status == 0:  # hang up unanswered (a fault of the RTC's upload)
            self.close_connection = True
            return
        self._send(response)

    def _body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411, "Length Required")
            return None
        length_text = self.headers.get("Content-Length", "0").strip() or "0"
        if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
            self.send_error(413 if length_text.isdigit() else 400)
            return None
        return self.rfile.read(int(length_text))

    def _request(self, body: bytes) -> Request:
        parts = urlsplit(self.path)
        form: dict[str, str] = {}
        content_type = self.headers.get("Content-Type", "application/x-www-form-urlencoded")
        if self.command == "POST" and content_type.lower().startswith("application/x-www-form-urlencoded"):
            form = _fields(body.decode(pages.ENCODING))
        connection = cast(ssl.SSLSocket, self.connection)
        return Request(
            method=self.command,
            path=parts.path,
            raw_query=parts.query,
            query=_fields(parts.query),
            form=form,
            cookies=_cookies(self.headers.get_all("Cookie") or []),
            peer_certificate=connection.getpeercert(binary_form=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-cache")
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)


def _fields(text: str) -> dict[str, str]:
    """Form or query fields, first value of each; SII's forms are ISO-8859-1."""
    parsed = parse_qs(text, keep_blank_values=True, encoding=pages.ENCODING)
    return {name: values[0] for name, values in parsed.items()}


def _cookies(headers: list[str]) -> dict[str, str]:
    """Cookie pairs, read leniently (``http.cookies`` drops everything after a value it dislikes)."""
    cookies: dict[str, str] = {}
    for header in headers:
        for pair in header.split(";"):
            name, equals, value = pair.strip().partition("=")
            if name and equals:
                cookies.setdefault(name, value)
    return cookies


class Emulator:
    """SII's MIPYME portal on this machine, served over TLS from a background thread.

    ``with Emulator(data_dir) as emulator:`` loads ``data_dir`` (see :mod:`dtehub.sii.emulator.data`),
    makes the test CA in ``data_dir/ca`` if needed, and serves on ``host:port`` (port 0: a free one),
    refusing in the TLS handshake what ``handshake`` says (:attr:`handshake` changes it while serving).
    """

    def __init__(
        self, data_dir: Path, *, host: str = "127.0.0.1", port: int = 0, handshake: Handshake | None = None
    ) -> None:
        self.data = EmulatorData.load(data_dir)
        self.authority = TestCertificateAuthority.load_or_create(self.data.ca_directory)
        self._contexts = ServerContexts(self.authority, handshake or Handshake())  # or HandshakeError
        self.faults = Faults()
        self.sessions = SessionStore(self.faults)
        self.portal = Portal(self.data, self.authority, self.sessions, self.faults)
        self.acceptances = Acceptances.load(self.data)
        """SII's acceptance/claim records (:mod:`.acceptance`): tests receive documents, record events and
        move its clock while it serves."""
        self.ws = WebServices(self.data, self.acceptances)
        """The SOAP services (seed, token, acceptance/claim): ``ws.faults``, ``ws.tokens``."""
        self.rtc = Rtc(self.data, self.acceptances, self.ws.tokens)
        """The RTC (:mod:`.rtc`): AEC uploads judged as SII does, their status, the cessions registered."""
        self.ws.holder_of = self.rtc.holder  # the current holder's people may ask the acceptance service
        self._host = host
        self._port = port
        self._server: _TlsServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        server = _TlsServer(
            (self._host, self._port), self._contexts, self.portal, self.faults, (self.ws, self.rtc)
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sii-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.stopping.set()
        server.shutdown()
        thread.join()
        server.close_connections()
        server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT``: the auth, logout and portal URLs a client is pointed at."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"https://{host}:{self.port}"

    @property
    def handshake(self) -> Handshake:
        """What the TLS handshake refuses; set it to change that for the next connections."""
        return self._contexts.handshake

    @handshake.setter
    def handshake(self, handshake: Handshake) -> None:
        self._contexts.handshake = handshake

    @property
    def ca_bundle(self) -> Path:
        """The test CA's certificate (PEM): what a client must trust to reach the emulator."""
        return self.authority.ca_bundle

    @property
    def logins(self) -> int:
        """Successful logins since the start."""
        return self.sessions.logins

    def logins_of(self, person_rut: str) -> int:
        """Successful logins of one person since the start."""
        return self.sessions.logins_of(person_rut)

    def wait_for_logins(self, person_rut: str, count: int, timeout: float = 30.0) -> bool:
        """Wait (a thread) until the person has logged in ``count`` times since the start."""
        return self.sessions.wait_for_logins(person_rut, count, timeout)

    @property
    def connections(self) -> int:
        """Connections accepted since the start (each one a TLS handshake, unless a fault drops it)."""
        return self._server.connections if self._server is not None else 0

    @property
    def logouts(self) -> int:
        """Logouts that closed a session."""
        return self.sessions.logouts

    @property
    def register(self) -> Register:
        """The companies' Registro de Ventas: ``accept``, ``claim``, ``add``, ``advance`` change it while it
        serves (:mod:`dtehub.sii.emulator.register`)."""
        return self.data.register

    @property
    def rcv_requests(self) -> Counter[str]:
        """Calls of the RCV's facade so far, per method (a copy)."""
        with self.portal.rcv._lock:
            return Counter(self.portal.rcv.requests)

    @property
    def portal_requests(self) -> Counter[str]:
        """Requests of the MIPYME portal's pages so far, per page (``download.cgi``…; a copy)."""
        with self.portal.requests_lock:
            return Counter(self.portal.requests)

    def expire_sessions(self) -> None:
        """End every session open now, as SII's timeout would (without waiting for it)."""
        self.sessions.expire_open()

    def open_sessions(self, person_rut: str) -> int:
        """The person's sessions open now (not logged out, not expired)."""
        return self.sessions.open_sessions(normalize_rut(person_rut))

    def peak_sessions(self, person_rut: str) -> int:
        """The most sessions the person had open at once."""
        return self.sessions.peak_sessions(normalize_rut(person_rut))
