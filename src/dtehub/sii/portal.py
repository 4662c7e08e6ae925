"""One logged-in session of SII's MIPYME portal, driven page by page.

A :class:`PortalSession` is used by one retrieval at a time (:mod:`dtehub.sii.sessions` hands it out):
the selected company is server-side state of the session, so select-then-query must never interleave.
Every request is bounded by the retrieval's :class:`~dtehub.sii.config.Deadline`; a TLS or connection
hiccup is retried a few times (the live SII drops about one handshake in three) before it counts. A TLS
alert refusing the certificate is SII's verdict, not a hiccup: it is never retried
(:mod:`dtehub.sii.alerts`).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.x509.oid import NameOID
from lxml import html

from dtehub import __version__
from dtehub.sii import alerts, pages
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.config import Deadline, SiiConfig
from dtehub.sii.errors import (
    DocumentNotFound,
    HolderNotAuthorized,
    LoginError,
    SessionLost,
    SiiError,
    SiiTimeout,
    SiiUnavailable,
)
from dtehub.sii.tls import refusal_alert

PORTAL = "/cgi-bin/Portal001"
SELECT_FROM = "OPCION=2&TIPO=4"
LISTING_PAGE_SIZE = 10
MAX_LISTING_PAGES = 50
TRANSPORT_ATTEMPTS = 3
BACKOFF_SECONDS = (0.2, 0.5)
MAX_ANSWER_BYTES = 32 * 1024 * 1024
LOGOUT_TIMEOUT = 5.0
MAX_DOWNLOAD_DOCUMENTS = 20
"""SII's cap on the documents of one ``download.cgi``: more, and it answers an error page."""
NOT_IN_MIPYME = "no existe informacion en mipyme"
"""What SII's respaldo listing says (accents aside) of a company that never issued in MIPYME."""
VERDICT_WAIT_SECONDS = 2.0
"""How long a login that failed on a reset connection waits for SII's verdict on the certificate."""

LOGIN_CODES = {
    "27": "more than 10 open sessions for {holder}; SII frees them within an hour of each login",
    "28": "SII says {holder} is not authenticated or the session expired",
    "29": "the session of {holder} reached SII's maximum length",
    "33": "{holder} must log in to SII with a password, not a certificate (SII's authentication settings)",
    "34": "SII asks to present the certificate of {holder} again; retry",
    "35": "the certificate of {holder} has been revoked by its issuer",
    "36": "the certificate of {holder} has expired",
    "37": "the certificate of {holder} comes from a certification authority SII does not accept",
}
"""SII's login codes by their last two digits (SII's help page on authentication error codes)."""


class _NoCookies(DefaultCookiePolicy):
    """The session's cookies are sent by hand: SII sets them on its login host for the portal and
    logout hosts, and one of them (``locexp``) is ours to set."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


class PortalSession:
    def __init__(self, certificate: PersonCertificate, config: SiiConfig, context: ssl.SSLContext) -> None:
        self.certificate = certificate
        self.holder = certificate.holder_rut
        self._config = config
        self._context = context
        self._http = httpx.AsyncClient(
            verify=context,
            cookies=CookieJar(policy=_NoCookies()),
            follow_redirects=False,
            headers={"User-Agent": f"dtehub/{__version__}"},
        )
        self._cookies: dict[str, str] = {}
        self.logged_in_at: float | None = None
        self.selected_company: str | None = None
        self.single_company = False
        self._respaldo_opened_for: str | None = None
        self.uses = 0
        """Requests this session has served, the current one included."""

    # -- login and logout ------------------------------------------------------------------------

    async def login(self, deadline: Deadline) -> None:
        referencia = f"{self._config.portal_url}{PORTAL}/mipeAdminDocsEmi.cgi"
        url = f"{self._config.auth_url}/cgi_AUT2000/CAutInicio.cgi?{referencia}"
        response = await self._send("POST", url, deadline, data={"referencia": referencia}, login=True)
        cookies = {cookie.name: cookie.value or "" for cookie in response.cookies.jar}
        if "TOKEN" not in cookies and "CSESSIONID" not in cookies:
            raise self._login_refusal(pages.parse(response.content))
        # The login page's script sets this one; without it the portal treats the session as absent.
        expires = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
        cookies["NETSCAPE_LIVEWIRE.locexp"] = quote(expires, safe="")
        self._cookies = cookies
        self.logged_in_at = time.monotonic()

    def _login_refusal(self, page: html.HtmlElement) -> LoginError:
        said = pages.error_text(page)
        code = pages.error_code(said)
        if code in LOGIN_CODES:
            return LoginError(
                f"SII error {code}: {LOGIN_CODES[code].format(holder=self.holder)}", sii_code=code
            )
        detail = f" (SII error {code})" if code else ""
        return LoginError(
            f"SII refused the certificate login of {self.holder}{detail}: {said}", sii_code=code
        )

    async def logout(self) -> None:
        """End the session at SII (it counts open sessions per person) and close the connections.
        Never raises: a logout that fails leaves a session SII will expire on its own."""
        try:
            if self._cookies:  # retried like any request: an idle keep-alive connection may be gone
                url = f"{self._config.logout_url}/cgi_AUT2000/autTermino.cgi"
                await self._send("GET", url, Deadline(LOGOUT_TIMEOUT))
        except (SiiError, ssl.SSLError, OSError):
            pass
        finally:
            self._cookies = {}
            await self._http.aclose()

    # -- company -----------------------------------------------------------------------------------

    async def select_company(self, company: str, deadline: Deadline) -> None:
        """Put the session on ``company`` (canonical RUT), as the person's company selector allows."""
        if self.selected_company == company:
            return
        self._respaldo_opened_for = None
        url = f"{self._config.portal_url}{PORTAL}/mipeSelEmpresa.cgi"
        page = await self._page("GET", url, deadline, params={"DESDE_DONDE_URL": SELECT_FROM})
        selector = pages.company_selector(page)
        if selector is None:
            raise self._unexpected(page, "the company selector")
        if selector.launcher:  # the person has exactly one company and the session is on it
            named = pages.ruts_named(page) - {self.holder}
            if named and company not in named:
                raise HolderNotAuthorized(
                    f"{self.holder}, the certificate's holder, is an authorized user of "
                    f"{', '.join(sorted(named))} only in SII's MIPYME portal, not of {company}"
                )
            self.selected_company, self.single_company = company, True
            return
        if not selector.companies:
            raise HolderNotAuthorized(
                f"{self.holder}, the certificate's holder, is no authorized user of any company in "
                "SII's MIPYME portal"
            )
        if company not in selector.companies:
            raise HolderNotAuthorized(
                f"{self.holder}, the certificate's holder, is not an authorized user of {company} in "
                "SII's MIPYME portal"
            )
        self.selected_company = None  # whatever SII answers, the session may no longer be on the last one
        answer = await self._page(
            "POST", url, deadline, data={"RUT_EMP": company, "DESDE_DONDE_URL": SELECT_FROM}
        )
        again = pages.company_selector(answer)
        if again is not None and not again.launcher:
            raise HolderNotAuthorized(f"SII refused to select {company} for {self.holder}")
        self.selected_company = company

    # -- documents ---------------------------------------------------------------------------------

    async def find_issued(
        self, company: str, type_code: int, folio: int, deadline: Deadline
    ) -> pages.ListedDocument:
        """The listing's row of an issued document: its portal id, receiver, total and state."""
        url = f"{self._config.portal_url}{PORTAL}/mipeAdminDocsEmi.cgi"
        previous: list[pages.ListedDocument] | None = None
        for number in range(1, MAX_LISTING_PAGES + 1):
            params = {
                "RUT_RECP": "", "FOLIO": str(folio), "RZN_SOC": "", "FEC_DESDE": "", "FEC_HASTA": "",
                "TPO_DOC": str(type_code), "ESTADO": "", "ORDEN": "", "NUM_PAG": str(number),
            }  # fmt: skip
            rows = pages.listed_documents(await self._page("GET", url, deadline, params=params))
            # The folio filter is not exact (it matches prefixes): folio and type are matched here.
            for row in rows:
                if row.folio == folio and row.type_code == type_code:
                    return row
            if len(rows) < LISTING_PAGE_SIZE or rows == previous:
                break
            previous = rows
        raise DocumentNotFound(
            f"{company} has issued no document of type {type_code} with folio {folio} in MIPYME"
        )

    async def download_xml(self, company: str, type_code: int, folio: int, deadline: Deadline) -> bytes:
        """The ``SetDTE`` of the "respaldo de archivos" route, as SII sent it (ISO-8859-1)."""
        listing = await self._respaldo_listing(company, type_code, folio, folio, deadline)
        count = pages.record_count(listing)
        if count is None:
            raise self._unexpected(listing, "the respaldo listing")
        if count == 0:
            raise DocumentNotFound(
                f"SII's MIPYME backup of {company} holds no document of type {type_code} folio {folio}"
            )
        return await self._respaldo_download(company, type_code, folio, folio, deadline)

    async def count_range(
        self, company: str, type_code: int, low: int, high: int, deadline: Deadline
    ) -> int | None:
        """How many documents of ``type_code`` with folios ``low`` to ``high`` SII's MIPYME backup holds
        for ``company`` (the respaldo listing's count); None when SII says it holds nothing of the
        company in MIPYME (a company that does not issue there)."""
        try:
            listing = await self._respaldo_listing(company, type_code, low, high, deadline)
        except DocumentNotFound as refused:
            if NOT_IN_MIPYME in pages.plain(refused.message):
                return None
            return 0  # "Error al contribuyente": nothing SII can list in that range
        count = pages.record_count(listing)
        if count is None:
            raise self._unexpected(listing, "the respaldo listing")
        return count

    async def download_range(
        self, company: str, type_code: int, low: int, high: int, deadline: Deadline
    ) -> bytes:
        """The ``SetDTE`` of the documents of ``type_code`` with folios ``low`` to ``high`` (at most
        :data:`MAX_DOWNLOAD_DOCUMENTS`: ask :meth:`count_range` first), as SII sent it."""
        return await self._respaldo_download(company, type_code, low, high, deadline)

    def _respaldo_search(self, type_code: int, low: int, high: int) -> dict[str, str]:
        return {
            "RUT_RECP": "", "FOLIO": str(low), "FOLIOHASTA": str(high), "RZN_SOC": "", "FEC_DESDE": "",
            "FEC_HASTA": "", "TPO_DOC": str(type_code), "ESTADO": "", "ORDEN": "",
        }  # fmt: skip

    async def _respaldo_listing(
        self, company: str, type_code: int, low: int, high: int, deadline: Deadline
    ) -> html.HtmlElement:
        number, dv = company.split("-")
        base = f"{self._config.portal_url}{PORTAL}"
        if self._respaldo_opened_for != company:  # the route's entry page, once per selected company
            await self._page("GET", f"{base}/auth.cgi", deadline)
            self._respaldo_opened_for = company
        found = self._respaldo_search(type_code, low, high)
        form = {"recaptcha-response": "", "ORIGEN": "ENV", **found, "NUM_PAG": "1", "RUT_EMP": number}
        return await self._page(
            "POST",
            f"{base}/lista_documentos.cgi",
            deadline,
            data={**form, "DV_EMP": dv, "TPO_ARCHIVO": "dte"},
            refusal=DocumentNotFound,
        )

    async def _respaldo_download(
        self, company: str, type_code: int, low: int, high: int, deadline: Deadline
    ) -> bytes:
        number, dv = company.split("-")
        base = f"{self._config.portal_url}{PORTAL}"
        found = self._respaldo_search(type_code, low, high)
        query = {"RUT_EMP": number, "DV_EMP": dv, "ORIGEN": "ENV", **found, "DOWNLOAD": "XML"}
        response = await self._send("GET", f"{base}/download.cgi", deadline, params=query)
        head = response.content[:512].lstrip()
        if head.startswith(b"<?xml") or b"<SetDTE" in head or b"<DTE" in head:
            return response.content
        page = pages.parse(response.content)
        self._raise_if_session_lost(page)
        said = pages.error_text(page)
        folios = f"folio {low}" if low == high else f"folios {low} to {high}"
        raise DocumentNotFound(
            f"SII could not produce the XML of {company} type {type_code} {folios}: {said}"
        )

    async def download_pdf(self, portal_id: str, deadline: Deadline) -> bytes | None:
        """SII's own PDF of the document, or None when SII answers anything but a PDF (the XML is what
        matters: only the retrieval's deadline passing is an error here)."""
        base = f"{self._config.portal_url}{PORTAL}"
        referer = f"{base}/mipeGesDocEmi.cgi?CODIGO={portal_id}&ALL_PAGE_ANT=2"
        try:
            response = await self._send(
                "GET",
                f"{base}/mipeDisplayPDF.cgi",
                deadline,
                params={"DHDR_CODIGO": portal_id},
                headers={"Referer": referer},
            )
        except SiiTimeout:
            raise
        except SiiUnavailable:
            return None
        is_pdf = "pdf" in response.headers.get("content-type", "").lower()
        return response.content if is_pdf and response.content.startswith(b"%PDF") else None

    # -- other SII hosts on the same session ----------------------------------------------------------

    @property
    def token(self) -> str | None:
        """The session's ``TOKEN`` (what SII's RCV wants as its ``conversationId`` too); None before login."""
        return self._cookies.get("TOKEN") or self._cookies.get("CSESSIONID")

    async def request(
        self,
        method: str,
        url: str,
        deadline: Deadline,
        *,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request to any of SII's hosts with the session's cookies, answered whatever its HTTP status
        (the RCV's statuses mean things). It is tried once: the caller decides what to retry. Connection
        failures and TLS refusals raise as every request of the session does."""
        return await self._send(
            method,
            url,
            deadline,
            params=params,
            content=content,
            headers=headers,
            attempts=1,
            any_status=True,
        )

    # -- transport -----------------------------------------------------------------------------------

    async def _page(
        self,
        method: str,
        url: str,
        deadline: Deadline,
        *,
        refusal: type[SiiError] = SiiUnavailable,
        **options: Any,
    ) -> html.HtmlElement:
        """An HTML page; one that is an error (an alert, "Error al contribuyente") raises ``refusal``
        with SII's words, or :class:`SessionLost`."""
        page = pages.parse((await self._send(method, url, deadline, **options)).content)
        if pages.is_error_page(page):
            self._raise_if_session_lost(page)
            raise refusal(f"SII answered: {pages.error_text(page)}")
        return page

    def _raise_if_session_lost(self, page: html.HtmlElement) -> None:
        said = pages.error_text(page)
        plain = pages.plain(said)
        if pages.error_code(said) in ("28", "29") or "no ha seleccionado" in plain or "autentica" in plain:
            self.selected_company = self._respaldo_opened_for = None
            raise SessionLost(f"SII ended the session of {self.holder}: {said}")

    def _unexpected(self, page: html.HtmlElement, expected: str) -> SiiUnavailable:
        return SiiUnavailable(
            f"SII answered an unexpected page instead of {expected} ({pages.title(page)!r}); retry later"
        )

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{name}={value}" for name, value in self._cookies.items())}

    async def _send(
        self,
        method: str,
        url: str,
        deadline: Deadline,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        login: bool = False,
        attempts: int = TRANSPORT_ATTEMPTS,
        any_status: bool = False,
    ) -> httpx.Response:
        headers = {**(headers or {}), **({} if login else self._cookie_header())}
        for attempt in range(attempts):
            try:
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    content=content,
                    headers=headers,
                    timeout=deadline.remaining(),
                )
            except httpx.TimeoutException:
                deadline.remaining()  # raises when the retrieval's time is up
                raise SiiUnavailable(
                    f"SII ({httpx.URL(url).host}) did not answer in time; retry later"
                ) from None
            except (httpx.TransportError, ssl.SSLError) as error:
                # A bare ssl.SSLError: an alert read after a TLS 1.3 handshake, which httpcore's anyio
                # backend does not wrap.
                alert = alerts.alert_in(error)
                if alert is not None and alerts.is_final(alert):
                    raise self._refused(alert, url) from None
                if isinstance(alerts.ssl_error_in(error), ssl.SSLCertVerificationError):
                    raise self._transport_failure(url, error, None) from None  # ours to fix: no retry
                # A login is retried only when it never reached SII: a retried login SII did receive
                # would open a second session, with no cookie to ever log it out.
                retry = isinstance(error, httpx.ConnectError) or not login
                if retry and attempt + 1 < attempts:
                    await asyncio.sleep(min(BACKOFF_SECONDS[attempt], deadline.remaining()))
                    continue
                if login and alert is None:
                    alert = await self._verdict(url, deadline)
                raise self._transport_failure(url, error, alert) from None
            if response.status_code != 200 and not any_status:
                raise SiiUnavailable(
                    f"SII ({response.url.host}) answered HTTP {response.status_code}; retry later"
                )
            if len(response.content) > MAX_ANSWER_BYTES:
                raise SiiUnavailable(f"SII's answer is larger than {MAX_ANSWER_BYTES} bytes")
            return response
        raise AssertionError("unreachable")

    async def _verdict(self, url: str, deadline: Deadline) -> str | None:
        """SII's alert about the certificate, asked afresh after a login lost its connection: with TLS 1.3
        a refusal can race the request, and the client then sees a reset instead of the alert."""
        target = httpx.URL(url)
        port = target.port or (443 if target.scheme == "https" else 80)
        wait = min(VERDICT_WAIT_SECONDS, deadline.remaining())
        return await refusal_alert(target.host, port, self._context, wait=wait)

    def _refused(self, alert: str, url: str) -> SiiError:
        issuer = self.certificate.certificate.issuer
        names = issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
        return alerts.refusal(
            alert,
            holder=self.holder,
            issuer=str(names[0].value) if names else issuer.rfc4514_string(),
            host=httpx.URL(url).host,
        )

    def _transport_failure(self, url: str, error: Exception, alert: str | None) -> SiiError:
        host = httpx.URL(url).host
        cause = alerts.ssl_error_in(error)
        if isinstance(cause, ssl.SSLCertVerificationError):
            return SiiUnavailable(
                f"SII's server certificate ({host}) is not trusted: {cause.verify_message} "
                "(DTEHUB_SII_CA_BUNDLE names the trusted authorities)"
            )
        if alert in alerts.CERTIFICATE_ALERTS:
            return self._refused(alert, url)
        if alert is not None:
            return alerts.unexplained(alert, host=host)
        return SiiUnavailable(f"could not reach SII ({host}): {type(error).__name__}; retry later")
