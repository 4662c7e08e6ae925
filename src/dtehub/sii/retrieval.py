"""Retrieve one issued DTE from MIPYME: the one call the API and the CLI make."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from dtehub.dte.pipeline import CheckedDte, read_dte_file
from dtehub.errors import DteRefused
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.config import Deadline
from dtehub.sii.errors import DocumentNotFound, LoginError, SessionLost, SiiTimeout, SiiUnavailable
from dtehub.sii.portal import MAX_ANSWER_BYTES, PortalSession
from dtehub.sii.sessions import SessionPool


@dataclass(frozen=True)
class RetrievedDocument:
    """An issued DTE as SII holds it: its own original bytes, checked, and what the portal says of it."""

    company_rut: str
    type_code: int
    folio: int
    sii_state: str
    checked: CheckedDte
    """The DTE's bytes (cut from SII's ``SetDTE`` unchanged) with its fields and verdicts."""
    pdf: bytes | None
    """SII's PDF, when asked for and SII produced one."""

    @property
    def issue_date(self) -> date:
        return self.checked.fields.issue_date

    @property
    def xml(self) -> bytes:
        return self.checked.content


async def retrieve(
    pool: SessionPool,
    certificate: PersonCertificate,
    *,
    company_rut: str,
    type_code: int,
    folio: int,
    include_pdf: bool,
) -> RetrievedDocument:
    """Find, download and check one document issued by ``company_rut``, within the pool's timeout.

    A reused session that SII has meanwhile ended is replaced once by a new login. The deadline is a hard
    one: each request is bounded by what is left of it, and the whole by :func:`asyncio.timeout`, so a
    server that trickles its answer cannot hold the request longer.
    """
    certificate.require_valid()
    deadline = Deadline(pool.config.timeout)
    try:
        async with asyncio.timeout(pool.config.timeout):
            return await _retrieve(pool, certificate, deadline, company_rut, type_code, folio, include_pdf)
    except TimeoutError:
        raise SiiTimeout(f"SII did not answer within {deadline.seconds:g} s; retry later") from None


async def _retrieve(
    pool: SessionPool,
    certificate: PersonCertificate,
    deadline: Deadline,
    company: str,
    type_code: int,
    folio: int,
    include_pdf: bool,
) -> RetrievedDocument:
    try:
        async with pool.session(certificate, deadline) as session:
            first_use = session.uses == 1
            return await _retrieve_with(session, deadline, company, type_code, folio, include_pdf)
    except SessionLost as lost:  # the pool logs the broken session out
        if first_use:  # a new login would not fare better
            raise LoginError(lost.message) from None
    async with pool.session(certificate, deadline, fresh=True) as session:
        try:
            return await _retrieve_with(session, deadline, company, type_code, folio, include_pdf)
        except SessionLost as lost:
            raise LoginError(lost.message) from None


async def _retrieve_with(
    session: PortalSession, deadline: Deadline, company: str, type_code: int, folio: int, include_pdf: bool
) -> RetrievedDocument:
    await session.select_company(company, deadline)
    # Once the company is selected, the listing and the download read nothing the other changes: they
    # run side by side, and the PDF follows the listing row it needs. SII's pages are slow.
    download = asyncio.ensure_future(session.download_xml(company, type_code, folio, deadline))
    pdf: asyncio.Future[bytes | None] | None = None
    try:
        listed = await session.find_issued(company, type_code, folio, deadline)
        if include_pdf:
            pdf = asyncio.ensure_future(session.download_pdf(listed.portal_id, deadline))
        checked = await asyncio.to_thread(_pick, await download, company, type_code, folio)
        return RetrievedDocument(company, type_code, folio, listed.state, checked, await pdf if pdf else None)
    finally:
        # Let a request still under way finish (within the deadline) rather than cancel it: the session
        # goes back to the pool, and a request cut off mid-answer would leave its connection unusable.
        # Errors of those not awaited above are the same story as the one being raised.
        await asyncio.gather(*(task for task in (download, pdf) if task is not None), return_exceptions=True)


def _pick(download: bytes, company: str, type_code: int, folio: int) -> CheckedDte:
    """The DTE of that issuer, type and folio among those SII sent (it may add referenced ones)."""
    try:
        outcomes = read_dte_file(download, max_bytes=MAX_ANSWER_BYTES)
    except DteRefused as refused:
        raise SiiUnavailable(
            f"SII's XML download could not be read ({refused.message}); retry later"
        ) from None
    for outcome in outcomes:
        if isinstance(outcome, CheckedDte):
            fields = outcome.fields
            if (fields.issuer.rut, fields.code, fields.folio) == (company, type_code, folio):
                return outcome
    unreadable = next((outcome for outcome in outcomes if isinstance(outcome, DteRefused)), None)
    if unreadable is not None:  # it may be the one asked for: SII's copy is unreadable, not missing
        raise SiiUnavailable(
            f"a DTE in SII's XML download could not be read ({unreadable.message}); retry later"
        )
    raise DocumentNotFound(f"SII's XML download holds no DTE of {company} type {type_code} folio {folio}")
