"""Ceding an invoice (the seller's side): ``POST /v1/createCesion``, and following SII's verdict.

:func:`create_cession` never asks SII while a transaction is open, and uploads at most one file per request
that dtehub answers, in short units of work (``units``) with SII's calls between them:

1. **claim** (a write unit): dtehub's own refusals (no such document, a cession already uploading, pending
   or registered, an amount above the total or not whole pesos, no certificate or one out of its dates, no
   DTE XML, values SII's schema refuses), then a cession row in state ``uploading`` that claims the
   document. The partial unique index ``ux_document_cessions_standing`` lets one claim per document stand:
   of two requests at once, the second answers 409 naming the first.
2. **no transaction**: the cedibility check (:mod:`.cedibility`: SII's acceptance/claim service and the
   RTC), the cession file (:mod:`dtehub.dte.aec`), then one write unit that keeps the file on the claim, then
   the upload to the RTC (:mod:`dtehub.sii.ws.rtc`).
3. **record** (a write unit): the track id, state ``pending`` (then :func:`follow` as before), what SII's
   acceptance/claim service said, the audit event and the answer (``finish``), all in one commit: nothing
   is answered that is not stored.

A refusal after the claim (not cedible, SII refused the upload or could not be reached) removes the claim in
a write unit of its own before the error is raised: the document is as it was, and the person can retry.
Only an upload SII did not answer in time is left claimed: SII may have taken the file, and
:func:`settle_claim` finds out.

A claim older than :data:`CLAIM_STALE` belongs to a request that stopped between its steps (the process was
killed, the database was lost before the record). :func:`settle_claim` asks SII's RTC whether the document
is ceded (``getEstCesion``): yes, the cession is taken for the claim's (its own checks found the RTC without
one just before its upload) and recorded ``accepted``, as :func:`record` records SII's verdict; no, the claim
is removed. The follow-up job settles stale claims on each run, and a request that finds one settles it
before it claims the document itself.

:func:`follow` asks SII about one pending cession (``getEstEnvio``) and records its verdict: ``accepted`` (the
document is ceded: webhook ``document.ceded``) or ``rejected`` (the reason in words; ``document.updated``).
``dtehub serve`` runs :func:`follow_pending` every ``DTEHUB_CESSION_FOLLOW_INTERVAL`` seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from dtehub.db import unit_of_work
from dtehub.documents import service as documents_service
from dtehub.dte.aec import CededDte, Signer, Terms
from dtehub.errors import DocumentAlreadyCeded, DocumentNotCedible, DtehubError, NotFound
from dtehub.factoring import repository, terms
from dtehub.factoring.acceptance import document_ref
from dtehub.factoring.cedibility import SiiAccess, SiiAnswers, Status, Verdict, ask_sii, judge, store_answers
from dtehub.factoring.repository import ACCEPTED, PENDING, REJECTED, UPLOADING
from dtehub.factoring.schemas import CessionCreate
from dtehub.factoring.units import JobUnits, Units
from dtehub.kit.dates import SANTIAGO, format_datetime, utcnow
from dtehub.models import Company, Document, DocumentCession, Note
from dtehub.portal.links import Links
from dtehub.reminders import queue as reminders_queue
from dtehub.sii.certificate import PersonCertificate
from dtehub.sii.errors import SiiError, SiiTimeout
from dtehub.sii.ws import rtc
from dtehub.sii.ws.client import WsClient
from dtehub.webhooks.events import EventType, Subscriptions

log = logging.getLogger(__name__)

FOLLOW_BATCH = 100
CLAIM_STALE = timedelta(minutes=10)
"""When a claim (``uploading``) is taken for one whose request stopped: far longer than a request takes
(its SII calls are bounded by ``DTEHUB_SII_WS_TIMEOUT`` each), short enough that a person retrying soon
finds the document free."""

T = TypeVar("T")


@dataclass
class _Claim:
    """What the claim's unit read, for the steps without a transaction (detached, fully loaded rows)."""

    cession_id: int
    company: Company
    document: Document
    notes: list[Note]
    certificate: PersonCertificate
    dte: CededDte
    terms: Terms
    previous: bytes | None
    """A held document's AEC (the file that ceded it to the company): this cession is a re-cession."""


@dataclass(frozen=True)
class _Stale:
    cession_id: int


def create_cession(
    units: Units,
    company_id: int,
    data: CessionCreate,
    sii: SiiAccess,
    links: Links,
    finish: Callable[[Session, DocumentCession], T],
    *,
    now: datetime | None = None,
) -> T:
    """Cede the document as ``data`` says: refused with nothing changed, or uploaded and stored pending;
    ``finish`` makes the answer in the record's unit of work (the audit event, the document's view)."""
    moment = now or utcnow()
    claimed = units(lambda session: _claim(session, company_id, data, sii, moment))
    if isinstance(claimed, _Stale):  # a request stopped between its steps: settled first, then claimed
        settle_claim(units, company_id, claimed.cession_id, sii, links, now=moment)
        claimed = units(lambda session: _claim(session, company_id, data, sii, moment, settling=False))
    assert isinstance(claimed, _Claim)
    claim = claimed
    try:
        answers = ask_sii(claim.company, claim.document, sii, claim.certificate, moment)
        if answers.refused is not None:  # the certificate's holder may not act for the company at SII
            raise answers.refused
        _require_cedible(claim.document, judge(claim.document, claim.notes, None, answers, moment))
        signer = Signer(
            claim.certificate.key,
            claim.certificate.certificate,
            claim.certificate.holder_rut,
            claim.certificate.holder_name,
        )
        aec = terms.build(claim.dte, claim.terms, signer, claim.previous)
        units(lambda session: _keep_file(session, company_id, claim.cession_id, aec))
        with WsClient(sii.settings.sii_ws_config(), claim.certificate, tokens=sii.tokens) as ws:
            sent = rtc.upload(
                ws, claim.company.rut, claim.terms.assignor.email, f"AEC_{claim.dte.label}.xml", aec
            )
    except SiiTimeout as error:  # SII may have taken the file: the claim stays until SII's RTC is asked
        _after_failure(
            units, claim, lambda session: _unanswered(session, company_id, claim.cession_id, moment)
        )
        raise SiiTimeout(
            f"{error.message}. SII may have taken the file: dtehub asks SII's RTC about it after "
            f"{CLAIM_STALE.seconds // 60} minutes and records the cession, or frees the document; until then "
            "createCesion answers 409",
            field=error.field,
        ) from None
    except BaseException:
        _after_failure(
            units, claim, lambda session: repository.release(session, company_id, claim.cession_id)
        )
        raise
    return units(
        lambda session: finish(session, _record(session, company_id, claim, answers, aec, sent, moment))
    )


def _after_failure(units: Units, claim: _Claim, work: Callable[[Session], object]) -> None:
    """``work`` on the claim of a request that failed; should the database fail too, the request's own error
    is the one answered, and the claim is settled once stale (:func:`settle_claim`)."""
    try:
        units(work)
    except Exception:
        log.exception(
            "cession %s: its claim could not be updated; it is settled once stale", claim.cession_id
        )


def _claim(
    session: Session,
    company_id: int,
    data: CessionCreate,
    sii: SiiAccess,
    now: datetime,
    *,
    settling: bool = True,
) -> _Claim | _Stale:
    """dtehub's own refusals, then the claim; a stale claim in the way is handed back to be settled."""
    document = repository.document(session, company_id, data.document_id)
    company = repository.company(session, company_id)
    if document is None or company is None:
        raise NotFound(f"document {data.document_id} not found", field="documentId")
    holding = terms.holding_of(session, company_id, document)  # a held document is ceded onwards
    standing = repository.standing_cession(session, company_id, document.id)
    if standing is not None:
        if settling and standing.sii_state == UPLOADING and standing.created_at < now - CLAIM_STALE:
            return _Stale(standing.id)
        raise _already_ceded(document, standing)
    amount = terms.amount(document, data)
    certificate = sii.load_certificate(session, company_id, sii.settings)
    certificate.require_valid(now)
    dte = terms.ceded(session, company_id, document)
    agreed = terms.terms(company, document, dte, data, amount, now, holding)
    notes = repository.notes_of(session, company_id, document.id)
    contact = data.contact
    row = DocumentCession(
        company_id=company_id,
        document_id=document.id,
        seq=agreed.sequence,
        assignee_rut=agreed.assignee.rut,
        assignee_name=agreed.assignee.name,
        assignee_address=agreed.assignee.address,
        assignee_email=agreed.assignee.email,
        amount_cents=amount * 100,
        last_due_date=agreed.last_due_date,
        contact=contact.model_dump(mode="json", exclude_none=True) if contact is not None else None,
        declaration="",
        ceded_at=agreed.signed_at.replace(tzinfo=SANTIAGO),
        signed_by=certificate.holder_rut,
        aec=b"",
        track_id=0,
        sii_state=UPLOADING,
        sii_code="",
        sii_message="dtehub is asking SII and uploading the cession file",
        sii_checked_at=None,
        created_at=now,
    )
    if not repository.claim(session, row):  # another request claimed it since the check above
        standing = repository.standing_cession(session, company_id, document.id)
        raise _already_ceded(document, standing)
    previous = holding.aec if holding is not None else None
    return _Claim(row.id, company, document, notes, certificate, dte, agreed, previous)


def _already_ceded(document: Document, standing: DocumentCession | None) -> DocumentAlreadyCeded:
    if standing is None:  # the winner's row is not visible to this transaction yet
        return DocumentAlreadyCeded(
            f"document {document.id} is being ceded by another request", field="documentId"
        )
    to = f"{standing.assignee_name} ({standing.assignee_rut})"
    if standing.sii_state == UPLOADING:
        since = format_datetime(standing.created_at)
        return DocumentAlreadyCeded(
            f"document {document.id} is being ceded to {to} by another request (cession "
            f"{standing.id}, since {since}): wait for its answer; getDocument shows the cession once SII "
            "took its file",
            field="documentId",
        )
    said = "SII registered it" if standing.sii_state == ACCEPTED else "SII has not decided on it yet"
    return DocumentAlreadyCeded(
        f"document {document.id} already has a cession to {to}, track id {standing.track_id}: {said}",
        field="documentId",
    )


def _keep_file(session: Session, company_id: int, cession_id: int, aec: bytes) -> None:
    """The file on the claim before it leaves: a request that stops after the upload leaves it to settle."""
    row = repository.cession(session, company_id, cession_id)
    if row is not None and row.sii_state == UPLOADING:
        row.aec = aec
        row.declaration = terms.declaration_of(aec)
        session.flush()


def _unanswered(session: Session, company_id: int, cession_id: int, now: datetime) -> None:
    row = repository.cession(session, company_id, cession_id)
    if row is not None and row.sii_state == UPLOADING:
        row.sii_message = (
            "SII did not answer the upload in time: dtehub asks SII's RTC whether it registered the cession"
        )
        row.sii_checked_at = now
        session.flush()


def _record(
    session: Session,
    company_id: int,
    claim: _Claim,
    answers: SiiAnswers,
    aec: bytes,
    sent: rtc.Upload,
    now: datetime,
) -> DocumentCession:
    """The upload's track id on the claim, now ``pending``; what SII's acceptance/claim service said."""
    store_answers(session, answers)
    row = repository.cession(session, company_id, claim.cession_id)
    if row is None:  # settled as not ceded while this request waited on SII: the upload still stands
        row = DocumentCession(
            company_id=company_id, document_id=claim.document.id, seq=claim.terms.sequence,
            assignee_rut=claim.terms.assignee.rut, assignee_name=claim.terms.assignee.name,
            assignee_address=claim.terms.assignee.address, assignee_email=claim.terms.assignee.email,
            amount_cents=claim.terms.amount * 100, last_due_date=claim.terms.last_due_date,
            ceded_at=claim.terms.signed_at.replace(tzinfo=SANTIAGO), signed_by=claim.certificate.holder_rut,
            sii_state=UPLOADING, created_at=now,
        )  # fmt: skip
        repository.add_cession(session, row)
    row.aec = aec
    row.declaration = terms.declaration_of(aec)
    row.track_id = sent.track_id
    row.sii_checked_at = now
    if row.sii_state == UPLOADING:
        row.sii_state = PENDING
        row.sii_code = ""
        row.sii_message = "SII received the cession file; dtehub asks for its verdict until SII decides"
    session.flush()
    return row


def _require_cedible(document: Document, verdict: Verdict) -> None:
    if verdict.cedible:
        return
    blocking = [
        check
        for check in verdict.checks
        if check.status in (Status.FAILED, Status.PENDING)
        or (check.decides and check.status is Status.NOT_CHECKED)
    ]
    reasons = "; ".join(f"{c.name}: {c.message} ({c.action})" if c.action else f"{c.name}: {c.message}"
                        for c in blocking)  # fmt: skip
    raise DocumentNotCedible(
        f"document {document.id} cannot be ceded now: {reasons} (getDocumentCedibility shows every check)",
        field="documentId",
    )


# --- following SII's verdict -----------------------------------------------------------------------------


@dataclass
class FollowSummary:
    asked: int = 0
    accepted: int = 0
    rejected: int = 0
    failed: int = 0
    adopted: int = 0
    """Stale claims SII's RTC had registered: recorded accepted."""
    released: int = 0
    """Stale claims SII's RTC had not registered: removed."""


def follow(
    session: Session,
    company_id: int,
    cession_id: int,
    sii: SiiAccess,
    links: Links,
    *,
    now: datetime | None = None,
) -> DocumentCession | None:
    """Ask SII about the cession (while pending) and record what it says; None: no such cession."""
    moment = now or utcnow()
    answer = ask(session, company_id, cession_id, sii, now=moment)
    return record(session, company_id, cession_id, answer, links, now=moment)


Answer = rtc.UploadState | str | None
"""SII's state of the upload; or why SII could not be asked; None: nothing to ask (not pending)."""


def ask(
    session: Session, company_id: int, cession_id: int, sii: SiiAccess, *, now: datetime | None = None
) -> Answer:
    """What SII says of the pending cession's upload now (reads only: the caller may hold no write lock)."""
    row = repository.cession(session, company_id, cession_id)
    if row is None or row.sii_state != PENDING:
        return None
    try:
        certificate = sii.load_certificate(session, company_id, sii.settings)
        certificate.require_valid(now)
        with WsClient(sii.settings.sii_ws_config(), certificate, tokens=sii.tokens) as ws:
            return rtc.status(ws, row.track_id)
    except (DtehubError, SiiError) as error:  # no certificate, out of its dates, no key; SII's trouble
        return f"dtehub could not ask SII about it: {error.message}; it asks again later"


def record(
    session: Session,
    company_id: int,
    cession_id: int,
    answer: Answer,
    links: Links,
    *,
    now: datetime | None = None,
) -> DocumentCession | None:
    """Record SII's answer on the cession, if it is still pending: a verdict records its webhook event
    (``document.ceded``, ``document.updated``) and, for a registered cession, queues the debtor's notice."""
    row = repository.cession(session, company_id, cession_id)
    if row is None or row.sii_state != PENDING or answer is None:
        return row
    row.sii_checked_at = now or utcnow()
    if isinstance(answer, str):
        row.sii_message = answer
        session.flush()
        return row
    row.sii_code = answer.code
    row.sii_message = answer.meaning
    if answer.outcome is rtc.Outcome.PENDING:
        session.flush()
        return row
    row.sii_state = ACCEPTED if answer.outcome is rtc.Outcome.ACCEPTED else REJECTED
    session.flush()
    _announce(session, company_id, row, links)
    return row


def _announce(session: Session, company_id: int, row: DocumentCession, links: Links) -> None:
    """SII's verdict on the cession told: ``document.ceded`` and the debtor's notice for a registered one,
    ``document.updated`` for a rejected one."""
    if row.sii_state == ACCEPTED:
        document = repository.document(session, company_id, row.document_id)
        if document is not None:
            reminders_queue.cession_registered(session, company_id, row.id, document.id, document.client_id)
    event: EventType = "document.ceded" if row.sii_state == ACCEPTED else "document.updated"
    documents_service.record_events(
        session, Subscriptions(session, company_id), event, [row.document_id], links
    )


# --- a claim whose request stopped -------------------------------------------------------------------------


@dataclass(frozen=True)
class _ToSettle:
    company: Company
    document: Document
    certificate: PersonCertificate


def settle_claim(
    units: Units,
    company_id: int,
    cession_id: int,
    sii: SiiAccess,
    links: Links,
    *,
    now: datetime | None = None,
) -> str | None:
    """Settle a claim (``uploading``) whose request stopped: SII's RTC is asked whether the document is
    ceded, with no transaction open; ``"adopted"`` (recorded accepted), ``"released"`` (removed), or None
    (no such claim any more, or SII could not be asked: it stays for the next try)."""
    moment = now or utcnow()
    found = units(lambda session: _to_settle(session, company_id, cession_id, sii, moment), writes=False)
    if found is None:
        return None
    if found.document.held:
        # SII's RTC answers whether a document is ceded, not to whom: a held document was ceded already (to
        # this company), so the answer cannot tell whether the re-cession was registered. The claim is
        # removed: should SII have registered it, the next re-cession is refused by SII (not the holder).
        log.warning("cession %s: the re-cession's claim is removed; SII's RTC cannot say whether it was "
                    "registered", cession_id)  # fmt: skip
        return units(lambda session: _settle(session, company_id, cession_id, False, links, moment))
    ref = document_ref(found.company, found.document)
    try:
        if ref is None:
            raise ValueError(f"document {found.document.id} has no SII folio")
        with WsClient(sii.settings.sii_ws_config(), found.certificate, tokens=sii.tokens) as ws:
            ceded = rtc.ceded(ws, ref.issuer_rut, ref.type_code, ref.folio)
    except (DtehubError, SiiError, ValueError) as error:
        log.warning("cession %s: SII's RTC could not be asked about its claim: %s", cession_id, error)
        return None
    return units(lambda session: _settle(session, company_id, cession_id, ceded, links, moment))


def _to_settle(
    session: Session, company_id: int, cession_id: int, sii: SiiAccess, now: datetime
) -> _ToSettle | None:
    row = repository.cession(session, company_id, cession_id)
    if row is None or row.sii_state != UPLOADING:
        return None
    document = repository.document(session, company_id, row.document_id)
    company = repository.company(session, company_id)
    if document is None or company is None:
        return None
    try:
        certificate = sii.load_certificate(session, company_id, sii.settings)
        certificate.require_valid(now)
    except DtehubError as error:
        log.warning("cession %s: its claim cannot be settled without the certificate: %s", cession_id, error)
        return None
    return _ToSettle(company, document, certificate)


def _settle(
    session: Session, company_id: int, cession_id: int, ceded: bool, links: Links, now: datetime
) -> str | None:
    row = repository.cession(session, company_id, cession_id)
    if row is None or row.sii_state != UPLOADING:
        return None  # its request recorded it meanwhile, or another run settled it
    if not ceded:
        repository.release(session, company_id, cession_id)
        return "released"
    row.sii_state = ACCEPTED
    row.sii_code = ""
    row.sii_message = (
        "SII's RTC registered the cession; the request that uploaded it stopped before it recorded SII's "
        "track id, so dtehub took the registered cession for it"
    )
    row.sii_checked_at = now
    session.flush()
    _announce(session, company_id, row, links)
    return "adopted"


def follow_due(session: Session, sii: SiiAccess, links: Links, *, limit: int = FOLLOW_BATCH) -> FollowSummary:
    """Follow every pending cession, in this session (tests; :func:`follow_pending` commits per cession)."""
    summary = FollowSummary()
    for company_id, cession_id in repository.pending_cessions(session, limit):
        _count(summary, follow(session, company_id, cession_id, sii, links))
    return summary


def follow_pending(
    factory: sessionmaker[Session],
    sii: SiiAccess,
    links: Links,
    *,
    limit: int = FOLLOW_BATCH,
    now: datetime | None = None,
) -> FollowSummary:
    """Settle the stale claims, then follow every pending cession, each in units of work of its own
    (``dtehub serve``'s job)."""
    moment = now or utcnow()
    units = JobUnits(factory)
    with unit_of_work(factory, writes=False) as session:
        stale = repository.stale_claims(session, moment - CLAIM_STALE, limit)
    summary = FollowSummary()
    for company_id, cession_id in stale:
        try:
            settled = settle_claim(units, company_id, cession_id, sii, links, now=moment)
        except Exception:  # logged; settled on the next run
            summary.failed += 1
            log.exception("settling the claim of cession %s failed", cession_id)
        else:
            summary.adopted += settled == "adopted"
            summary.released += settled == "released"
    with unit_of_work(factory, writes=False) as session:
        pending = repository.pending_cessions(session, limit)
    for company_id, cession_id in pending:
        try:
            # SII is asked in a reading unit of work, so that no write lock waits on SII; the answer is
            # written in a short one of its own (which records nothing if another process did meanwhile).
            with unit_of_work(factory, writes=False) as session:
                answer = ask(session, company_id, cession_id, sii)
            with unit_of_work(factory) as session:
                _count(summary, record(session, company_id, cession_id, answer, links))
        except Exception:  # one cession's trouble does not stop the others; logged, asked again next run
            summary.failed += 1
            log.exception("following cession %s failed", cession_id)
    return summary


def _count(summary: FollowSummary, row: DocumentCession | None) -> None:
    summary.asked += 1
    if row is not None and row.sii_state == ACCEPTED:
        summary.accepted += 1
    elif row is not None and row.sii_state == REJECTED:
        summary.rejected += 1
