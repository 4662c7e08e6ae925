"""The RCV client: one SII session for a whole run, every request paced, retried and read.

``async with RcvClient(pool, certificate, company_rut=…) as rcv:`` logs in once (a session of the shared
:class:`~dtehub.sii.sessions.SessionPool`, so the person's session limit counts MIPYME retrievals too),
serves every period of the run on it, and logs it out when the block ends, also on errors and cancellation.

Politeness and failures (``rcv-protocol.md`` sections 2 to 4 and 7):

- at most ``requests_per_second`` requests a second (:class:`~dtehub.sii.rcv.pace.RateLimiter`);
- a connection failure, a timeout, HTTP 429 or 5xx is retried after 1, 2, 4 and 8 seconds, then it is
  :class:`~dtehub.sii.errors.SiiUnavailable`;
- a session SII ended (its login page instead of JSON, or ``99`` "El token no es valido") is logged in again
  once per request; ending again at once is a :class:`~dtehub.sii.errors.LoginError`;
- HTTP 401 (JBoss's ``JBWEB000065``) is answered by the web application's bootstrap (its page and
  ``AutTknData.cgi``), once per session, and the request is made again;
- "no documents" is not an error: ``getResumen``'s ``3`` and a detail's ``99`` are empty answers;
- "NO ESTÁ AUTORIZADO PARA REPRESENTAR" is :class:`~dtehub.sii.errors.NotRepresentative` at once, and any
  other refusal :class:`~dtehub.sii.errors.RcvRefused` with SII's words: neither is retried.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import time
import unicodedata
import uuid
import zlib
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx

from dtehub.kit.dates import SANTIAGO
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.config import Deadline, SiiConfig
from dtehub.sii.errors import (
    InvalidRequest,
    LoginError,
    NotRepresentative,
    RcvRefused,
    RcvUnreadable,
    SessionLost,
    SiiTimeout,
    SiiUnavailable,
)
from dtehub.sii.portal import PortalSession
from dtehub.sii.rcv import parse
from dtehub.sii.rcv.models import (
    BOLETA_TYPES,
    ELECTRONIC_TYPES,
    Period,
    RcvDocument,
    RcvPeriod,
    RcvSummaryRow,
)
from dtehub.sii.rcv.pace import Clock, RateLimiter, SystemClock
from dtehub.sii.sessions import SessionPool

APP = "/consdcvinternetui/"
FACADE = "/consdcvinternetui/services/data/facadeService/"
NAMESPACE = "cl.sii.sdi.lob.diii.consdcv.data.api.interfaces.FacadeService/"
ACCEPT = "application/json, text/plain, */*"
"""What the web application sends: a bare ``application/json`` makes SII answer HTTP 500."""
RECAPTCHA = "t-o-k-e-n-web"
"""The web application's reCAPTCHA service is a stub that answers this literal; SII accepts it."""
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
ASYNC_POLL_SECONDS = 2.0
ASYNC_WAIT_SECONDS = 240.0
NO_MOVEMENTS = 3
NO_ROWS = 99


def _plain(text: str | None) -> str:
    """Upper case without accents, to find SII's words whatever their spelling."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


class _Transient(Exception):
    """An answer worth trying again (HTTP 429 or 5xx)."""


class _NeedsBootstrap(Exception):
    """HTTP 401 from JBoss: the web application's start-up calls are missing."""


_T = TypeVar("_T")


class RcvClient:
    """SII's Registro de Ventas of one company, read with one person's certificate (see the module)."""

    def __init__(
        self,
        pool: SessionPool,
        certificate: PersonCertificate,
        *,
        company_rut: str,
        config: SiiConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        try:
            self.company = normalize_rut(company_rut)
        except InvalidRut as exc:
            raise InvalidRequest(f"the company's RUT: {exc}", field="company_rut") from None
        self._pool = pool
        self._certificate = certificate
        self._config = config or pool.config
        self._clock = clock or SystemClock()
        self._limiter = RateLimiter(self._config.requests_per_second, self._clock)
        self._stack: AsyncExitStack | None = None
        self._session: PortalSession | None = None
        self._bootstrapped = False
        self.requests_made = 0
        """Requests sent to SII's RCV (and its bootstrap) in this run, retries included; not the login."""
        self.logins = 0
        """Sessions this run opened: 1, plus one per session SII ended under it."""
        self.portal_requests = 0
        """Calls to SII's MIPYME portal on the run's session (:meth:`on_portal`)."""

    # --- the run's session ------------------------------------------------------------------------------

    async def __aenter__(self) -> RcvClient:
        self._certificate.require_valid()
        await self._log_in()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._log_out()

    async def _log_in(self) -> None:
        stack = AsyncExitStack()
        try:
            deadline = Deadline(self._config.timeout)
            self._session = await stack.enter_async_context(
                self._pool.session(self._certificate, deadline, fresh=True, keep=False)
            )
        except BaseException:
            await stack.aclose()
            raise
        self._stack, self._bootstrapped = stack, False
        self.logins += 1

    async def _log_out(self) -> None:
        stack, self._stack, self._session = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    def _current(self) -> PortalSession:
        if self._session is None:
            raise RuntimeError("RcvClient is used outside its `async with` block")
        return self._session

    # --- the MIPYME portal on the same session ---------------------------------------------------------

    async def on_portal(self, work: Callable[[PortalSession, Deadline], Awaitable[_T]]) -> _T:
        """One step of SII's MIPYME portal (a company selection, a respaldo listing, a download) on the
        run's session, so that a run logs in once whatever it reads: paced like the RCV's requests, and
        done again once on a new login when SII ended the session under it. ``work`` must select its
        company itself (:meth:`PortalSession.select_company` does nothing when it is selected already):
        a new session has none."""
        for attempt in range(2):
            await self._limiter.wait()
            self.portal_requests += 1
            try:
                return await work(self._current(), Deadline(self._config.timeout))
            except SessionLost as lost:
                if attempt:
                    raise LoginError(
                        f"SII ended the session of {self._certificate.holder_rut} again right after a new "
                        f"login: {lost.message}"
                    ) from None
                await self._log_out()
                await self._log_in()
        raise AssertionError("unreachable")

    # --- what a sync asks -----------------------------------------------------------------------------

    async def summary(self, period: Period) -> list[RcvSummaryRow]:
        """The period's totals per document type (empty when SII has no movement for it)."""
        rows, _ = await self._summary(period)
        return rows

    async def documents(
        self, period: Period, type_code: int, problems: list[str] | None = None
    ) -> list[RcvDocument]:
        """Every document of one type in the period, from the JSON detail (which carries the receiver's
        event). Rows that cannot be read are left out and described in ``problems``."""
        body = await self._call(
            "getDetalleVenta",
            {
                **self._query(period),
                "codTipoDoc": str(type_code),
                "accionRecaptcha": "RCV_DETV",
                "tokenRecaptcha": RECAPTCHA,
            },
            empty_codes=(NO_ROWS,),
        )
        if body is None:
            return []
        return parse.detail_documents(period, body.get("data"), problems if problems is not None else [])

    async def period(self, period: Period, *, unchanged_since: datetime | None = None) -> RcvPeriod:
        """The summary, then every electronic document of each type it lists; boletas (monthly totals
        only) and paper documents are left out and counted in ``skipped``.

        With ``unchanged_since`` (the ``modified_at`` a previous run saw), a period SII has not changed
        since then costs the summary alone: its answer has ``unchanged`` set and no documents.
        """
        summary, modified_at = await self._summary(period)
        documents: list[RcvDocument] = []
        skipped: dict[int, int] = {}
        problems: list[str] = []
        if unchanged_since is not None and modified_at is not None and modified_at <= unchanged_since:
            return RcvPeriod(period, summary, [], skipped, modified_at, problems, unchanged=True)
        for row in summary:
            if row.type_code in BOLETA_TYPES or not row.detailed or row.type_code not in ELECTRONIC_TYPES:
                skipped[row.type_code] = skipped.get(row.type_code, 0) + row.count
                continue
            found = await self.documents(period, row.type_code, problems)
            if len(found) != row.count:
                problems.append(
                    f"SII's summary of {period} counts {row.count} documents of type {row.type_code}, "
                    f"its detail lists {len(found)}"
                )
            documents.extend(found)
        return RcvPeriod(period, summary, documents, skipped, modified_at, problems)

    async def export(self, period: Period, problems: list[str] | None = None) -> list[RcvDocument]:
        """Every electronic document of the period from the CSV export (all types in one file, read by
        cl-sii; no receiver event). A period SII finds too large for the direct export (no line at all)
        goes through the asynchronous export."""
        found = problems if problems is not None else []
        body = await self._call(
            "getDetalleVentaExport",
            {
                **self._query(period),
                "codTipoDoc": 0,
                "accionRecaptcha": "RCV_DDETV",
                "tokenRecaptcha": RECAPTCHA,
            },
        )
        lines = body.get("data") if body is not None else None
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise RcvUnreadable("SII's RCV export is not a list of lines")
        if not lines:
            lines = await self._async_export(period)
        return parse.csv_documents(self.company, period, lines, found)

    # --- the facade ------------------------------------------------------------------------------------

    def _query(self, period: Period) -> dict[str, Any]:
        number, dv = self.company.split("-")
        return {
            "rutEmisor": number,
            "dvEmisor": dv,
            "ptributario": period.code,
            "estadoContab": "REGISTRO",
            "operacion": "VENTA",
        }

    async def _summary(self, period: Period) -> tuple[list[RcvSummaryRow], datetime | None]:
        body = await self._call(
            "getResumen", {**self._query(period), "busquedaInicial": True}, empty_codes=(3,)
        )
        if body is None:
            return [], None
        header = body.get("dataCabecera")
        modified = header.get("dcvFecModificacion") if isinstance(header, dict) else None
        try:
            modified_at = datetime.strptime(str(modified), "%d/%m/%Y %H:%M:%S").replace(tzinfo=SANTIAGO)
        except ValueError:
            modified_at = None
        return parse.summary_rows(body.get("data")), modified_at

    async def _call(
        self, method: str, data: dict[str, Any], *, empty_codes: tuple[int, ...] = ()
    ) -> dict[str, Any] | None:
        """The answer of one facade method, or None for a "no documents" code among ``empty_codes``."""
        response = await self._request("POST", FACADE + method, method=method, data=data)
        try:
            body = json.loads(response.content)
            state = body["respEstado"]
            code, message = state["codRespuesta"], state.get("msgeRespuesta")
        except (ValueError, KeyError, TypeError):
            raise RcvUnreadable(f"SII's RCV answered {method} with something other than its JSON") from None
        if code == 0:
            return dict(body)
        said = _plain(message if isinstance(message, str) else None)
        if "AUTORIZADO PARA REPRESENTAR" in said:
            raise NotRepresentative(
                f"{self._certificate.holder_rut}, the certificate's holder, may not represent {self.company} "
                f"at SII (SII's RCV: {message})"
            )
        if code in empty_codes:
            return None
        raise RcvRefused(
            f"SII's RCV refused {method} for {self.company}: {message or 'no message'} (code {code})",
            sii_code=code if isinstance(code, int) else None,
        )

    async def _request(
        self, http_method: str, path: str, *, method: str, data: dict[str, Any] | None = None
    ) -> httpx.Response:
        """One request of the RCV, with a new login once if SII ended the session under it."""
        try:
            return await self._attempts(http_method, path, method, data)
        except SessionLost as lost:
            await self._log_out()
            await self._log_in()
            try:
                return await self._attempts(http_method, path, method, data)
            except SessionLost:
                raise LoginError(
                    f"SII ended the session of {self._certificate.holder_rut} again right after a new login: "
                    f"{lost.message}"
                ) from None

    async def _attempts(
        self, http_method: str, path: str, method: str, data: dict[str, Any] | None
    ) -> httpx.Response:
        """The request, retried with backoff while SII answers something transient."""
        failure = ""
        for attempt in range(len(RETRY_DELAYS) + 1):
            if attempt:
                await self._clock.sleep(RETRY_DELAYS[attempt - 1])
            try:
                return await self._once(http_method, path, method, data)
            except _NeedsBootstrap:
                if self._bootstrapped:
                    raise SessionLost(
                        f"SII's RCV refused the session of {self._certificate.holder_rut} (401)"
                    ) from None
                await self._bootstrap()
                try:
                    return await self._once(http_method, path, method, data)
                except _NeedsBootstrap:
                    raise SessionLost(
                        f"SII's RCV refused the session of {self._certificate.holder_rut} (401)"
                    ) from None
            except _Transient as transient:
                failure = str(transient)
            except SiiTimeout as timeout:
                failure = timeout.message
            except SiiUnavailable as unavailable:
                if isinstance(unavailable, RcvUnreadable):
                    raise
                failure = unavailable.message
        attempts = len(RETRY_DELAYS) + 1
        raise SiiUnavailable(
            f"SII's RCV did not answer {method} after {attempts} attempts ({failure}); retry later"
        )

    async def _once(
        self, http_method: str, path: str, method: str, data: dict[str, Any] | None
    ) -> httpx.Response:
        session = self._current()
        content = None
        headers = {"Accept": ACCEPT, "Origin": self._config.rcv_url, "Referer": self._config.rcv_url + APP}
        if data is not None:
            envelope = {
                "metaData": {
                    "namespace": NAMESPACE + method,
                    "conversationId": session.token,
                    "transactionId": str(uuid.uuid4()),
                    "page": None,
                },
                "data": data,
            }
            content = json.dumps(envelope).encode()
            headers["Content-Type"] = "application/json;charset=UTF-8"
        await self._limiter.wait()
        self.requests_made += 1
        response = await session.request(
            http_method,
            self._config.rcv_url + path,
            Deadline(self._config.timeout),
            content=content,
            headers=headers,
        )
        status = response.status_code
        if status == 401:
            raise _NeedsBootstrap
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}")
        if status != 200:
            raise RcvRefused(f"SII's RCV answered HTTP {status} to {method} for {self.company}")
        kind = response.headers.get("content-type", "").lower()
        if "html" in kind or (data is not None and not response.content.lstrip().startswith(b"{")):
            raise SessionLost(
                f"SII's RCV answered its login page: the session of {self._certificate.holder_rut} ended"
            )
        return response

    async def _bootstrap(self) -> None:
        """The web application's start-up: its page, then the session check that JBoss wants first."""
        self._bootstrapped = True
        session = self._current()
        moment = int(time.time() * 1000)
        for url, params in (
            (self._config.rcv_url + APP, None),
            (
                self._config.logout_url + "/cgi_AUT2000/AutTknData.cgi",
                {"rnd": uuid.uuid4().hex[:16], "callback": f"jQuery_{moment}", "_": str(moment + 1)},
            ),
        ):
            await self._limiter.wait()
            self.requests_made += 1
            # Best effort: the request that needed it says whether it helped.
            with contextlib.suppress(SiiUnavailable):
                await session.request("GET", url, Deadline(self._config.timeout), params=params)

    # --- the asynchronous export -------------------------------------------------------------------

    async def _async_export(self, period: Period) -> list[str]:
        create = {
            **self._query(period), "codTipoDoc": 0, "generaCtrl": True, "totDoc": "0",
            "accionRecaptcha": "RCV_DDETVA", "tokenRecaptcha": RECAPTCHA,
        }  # fmt: skip
        number, dv = self.company.split("-")
        poll = {"rutEmisor": number, "dvEmisor": dv, "ptributario": period.code, "codTipoDoc": 0,
                "generaCtrl": False, "operacion": "VENTA", "estadoContab": "", "totDoc": "",
                "accionRecaptcha": "", "tokenRecaptcha": ""}  # fmt: skip
        jobs = await self._jobs(create, period)
        if not jobs:
            raise RcvUnreadable(f"SII's RCV started no export of {period}")
        job_id = max(int(job.get("caid") or 0) for job in jobs)
        started = self._clock.monotonic()
        while True:
            job = next((j for j in await self._jobs(poll, period) if int(j.get("caid") or 0) == job_id), None)
            if job is None:
                raise RcvUnreadable(f"SII's RCV lost its export {job_id} of {period}")
            blob = str(job.get("caidblob") or "")
            if str(job.get("caestado") or "").upper() == "TERMINADO" and blob and blob != "SIN-BLOB":
                break
            if self._clock.monotonic() - started >= ASYNC_WAIT_SECONDS:
                raise SiiTimeout(
                    f"SII's RCV did not finish its export of {period} in {ASYNC_WAIT_SECONDS:g} s"
                )
            await self._clock.sleep(ASYNC_POLL_SECONDS)
        response = await self._request("GET", f"{FACADE}obtenerArchivoBLOB/{blob}/{number}/{number}/{job_id}",
                                       method="obtenerArchivoBLOB")  # fmt: skip
        try:
            content = gzip.decompress(response.content)
        except (OSError, EOFError, zlib.error):
            raise RcvUnreadable(f"SII's RCV export of {period} is not the gzip file it should be") from None
        return parse.decode(content).splitlines()

    async def _jobs(self, data: dict[str, Any], period: Period) -> list[dict[str, Any]]:
        body = await self._call("getCtrlAsync", data)
        listed = body.get("data") if body is not None else None
        if not isinstance(listed, list):
            return []
        # The two captures spell caIdBlob/caIdBLOB differently: keys are read case-insensitively.
        jobs = [{key.lower(): value for key, value in job.items()} for job in listed if isinstance(job, dict)]
        return [
            job
            for job in jobs
            if str(job.get("caperiodo")) == period.code and job.get("compraoventa") in ("V", None)
        ]
