"""Ceding an invoice (the seller's side): ``POST /v1/createCesion``, and following SII's verdict.

:func:`create_cession` refuses what dtehub itself can tell will not do, before SII's RTC hears of it: a
document with a cession already pending or registered, an amount above the total (or not whole pesos), no
certificate or one out of its dates, a document the cedibility check (:mod:`.cedibility`, which asks SII's
acceptance/claim service) does not find cedible, values SII's schema refuses. Only then does it build the
electronic cession file (:mod:`dtehub.dte.aec`: the stored DTE untouched, each part signed with the company's
certificate, checked against SII's schema), upload it to the RTC (:mod:`dtehub.sii.ws.rtc`) and store the
cession with SII's track id, ``pending``. A refusal raises, so the unit of work changes nothing; an SII error
during the upload does too (nothing is stored, and SII registered nothing it could not answer for).

The upload is the last step of the request's unit of work: a unit of work that lost a database race would
run again and upload again (SII would reject the second file, its cession already registered); on SQLite a
writer holds the write lock from its start, so it cannot lose one.

:func:`follow` asks SII about one pending cession (``getEstEnvio``) and records its verdict: ``accepted`` (the
document is ceded: webhook ``document.ceded``) or ``rejected`` (the reason in words; ``document.updated``).
``dtehub serve`` runs :func:`follow_pending` every ``DTEHUB_CESSION_FOLLOW_INTERVAL`` seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from dtehub.db import unit_of_work
from dtehub.documents import repository as documents_repository
from dtehub.documents import service as documents_service
from dtehub.dte.aec import AecError, CededDte, Contact, Party, Signer, Terms, build_aec, ceded_dte
from dtehub.errors import (
    CessionAmountInvalid,
    CessionFileInvalid,
    DocumentAlreadyCeded,
    DocumentNotCedible,
    DtehubError,
    NotFound,
    Unprocessable,
)
from dtehub.factoring import repository
from dtehub.factoring.cedibility import SiiAccess, Status, check_document
from dtehub.factoring.repository import ACCEPTED, PENDING, REJECTED
from dtehub.factoring.schemas import CessionCreate
from dtehub.kit.dates import SANTIAGO, utcnow
from dtehub.kit.money import format_cents
from dtehub.models import Company, Document, DocumentCession
from dtehub.portal.links import Links
from dtehub.reminders import queue as reminders_queue
from dtehub.sii.errors import SiiError
from dtehub.sii.ws import rtc
from dtehub.sii.ws.client import WsClient
from dtehub.webhooks.events import EventType, Subscriptions

log = logging.getLogger(__name__)

FOLLOW_BATCH = 100


def create_cession(
    session: Session,
    company_id: int,
    data: CessionCreate,
    sii: SiiAccess,
    *,
    now: datetime | None = None,
) -> DocumentCession:
    """Cede the document as ``data`` says: refused with nothing changed, or uploaded and stored pending."""
    moment = now or utcnow()
    document = repository.document(session, company_id, data.document_id)
    company = repository.company(session, company_id)
    if document is None or company is None:
        raise NotFound(f"document {data.document_id} not found", field="documentId")
    if document.held:
        raise DocumentNotCedible(
            f"document {document.id} is held: {document.issuer_name} ({document.issuer_rut}) issued it and "
            "it was ceded to this company; ceding it onwards is a re-cession (its file carries the earlier "
            "cessions), which createCesion does not make yet",
            field="documentId",
        )
    standing = repository.standing_cession(session, company_id, document.id)
    if standing is not None:
        said = "SII registered it" if standing.sii_state == ACCEPTED else "SII has not decided on it yet"
        raise DocumentAlreadyCeded(
            f"document {document.id} already has a cession to {standing.assignee_name} "
            f"({standing.assignee_rut}), track id {standing.track_id}: {said}",
            field="documentId",
        )
    amount = _amount(document, data)
    certificate = sii.load_certificate(session, company_id, sii.settings)
    certificate.require_valid(moment)
    dte = _ceded(session, company_id, document)
    _require_cedible(session, company_id, document, sii, moment)
    terms = _terms(company, document, dte, data, amount, moment)
    signer = Signer(certificate.key, certificate.certificate, certificate.holder_rut, certificate.holder_name)
    try:
        aec = build_aec(dte, terms, signer)
    except AecError as error:
        raise CessionFileInvalid(f"the cession file cannot be made: {error}", field="documentId") from None
    with WsClient(sii.settings.sii_ws_config(), certificate, tokens=sii.tokens) as ws:
        sent = rtc.upload(ws, company.rut, terms.assignor.email, f"AEC_{dte.label}.xml", aec)
    contact = data.contact
    return repository.add_cession(
        session,
        DocumentCession(
            company_id=company_id,
            document_id=document.id,
            seq=terms.sequence,
            assignee_rut=terms.assignee.rut,
            assignee_name=terms.assignee.name,
            assignee_address=terms.assignee.address,
            assignee_email=terms.assignee.email,
            amount_cents=amount * 100,
            last_due_date=terms.last_due_date,
            contact=contact.model_dump(mode="json", exclude_none=True) if contact is not None else None,
            declaration=_declaration_of(aec),
            ceded_at=terms.signed_at.replace(tzinfo=SANTIAGO),
            signed_by=certificate.holder_rut,
            aec=aec,
            track_id=sent.track_id,
            sii_state=PENDING,
            sii_code="",
            sii_message="SII received the cession file; dtehub asks for its verdict until SII decides",
            sii_checked_at=moment,
        ),
    )


def _amount(document: Document, data: CessionCreate) -> int:
    """What is ceded, in whole pesos."""
    cents = data.amount if data.amount is not None else document.total_cents
    total = format_cents(document.total_cents)
    if document.currency != "CLP":
        raise CessionAmountInvalid(
            f"document {document.id} is in {document.currency}: SII's cessions are in pesos",
            field="documentId",
        )
    if cents <= 0 or cents % 100:
        raise CessionAmountInvalid(
            f"the amount ceded must be whole pesos above 0, not {format_cents(cents)}", field="amount"
        )
    if cents > document.total_cents:
        raise CessionAmountInvalid(
            f"the amount ceded ({format_cents(cents)}) is over the document's total ({total})", field="amount"
        )
    return cents // 100


def _ceded(session: Session, company_id: int, document: Document) -> CededDte:
    content = documents_repository.source_content(session, company_id, document.id)
    if content is None:
        raise DocumentNotCedible(
            f"document {document.id} has no DTE XML in dtehub: a cession carries the DTE as issued; upload "
            "it with createDocumentFromXml",
            field="documentId",
        )
    try:
        return ceded_dte(content)
    except AecError as error:
        raise CessionFileInvalid(f"the document's DTE cannot be ceded: {error}", field="documentId") from None


def _require_cedible(
    session: Session, company_id: int, document: Document, sii: SiiAccess, now: datetime
) -> None:
    verdict = check_document(session, company_id, document.id, sii, now=now)
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


def _terms(
    company: Company, document: Document, dte: CededDte, data: CessionCreate, amount: int, now: datetime
) -> Terms:
    given = data.assignor
    address = (given.address if given is not None else None) or dte.issuer_address
    email = (given.email if given is not None else None) or dte.issuer_email or company.reply_to
    if len(address) < 5:
        raise Unprocessable(
            "the cession states the company's address and its DTE gives none: give assignor.address",
            field="assignor.address",
        )
    if len(email) < 6 or "@" not in email:
        raise Unprocessable(
            "the cession states the company's e-mail and neither its DTE nor its replyTo gives one: give "
            "assignor.email",
            field="assignor.email",
        )
    last_due = data.last_due_date or max(document.due_date, dte.issue_date)
    if last_due < dte.issue_date:
        raise Unprocessable(
            f"lastDueDate ({last_due}) is before the document's issue date ({dte.issue_date})",
            field="lastDueDate",
        )
    contact = data.contact
    return Terms(
        assignor=Party(company.rut, company.name[:100], address[:80], email[:80]),
        assignee=Party(data.assignee.rut, data.assignee.name, data.assignee.address, data.assignee.email),
        amount=amount,
        last_due_date=last_due,
        signed_at=now.astimezone(SANTIAGO).replace(tzinfo=None, microsecond=0),
        declaration=data.declaration,
        debtor_email=dte.receiver_email if 6 <= len(dte.receiver_email) <= 80 else None,
        contact=Contact(contact.name, contact.phone, contact.email) if contact is not None else None,
    )


def _declaration_of(aec: bytes) -> str:
    start, end = aec.find(b"<DeclaracionJurada>"), aec.find(b"</DeclaracionJurada>")
    if start < 0 or end < 0:
        return ""
    return aec[start + len("<DeclaracionJurada>") : end].decode("iso-8859-1")


# --- following SII's verdict -----------------------------------------------------------------------------


@dataclass
class FollowSummary:
    asked: int = 0
    accepted: int = 0
    rejected: int = 0
    failed: int = 0


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
    if row.sii_state == ACCEPTED:
        document = repository.document(session, company_id, row.document_id)
        if document is not None:
            reminders_queue.cession_registered(session, company_id, row.id, document.id, document.client_id)
    event: EventType = "document.ceded" if row.sii_state == ACCEPTED else "document.updated"
    documents_service.record_events(
        session, Subscriptions(session, company_id), event, [row.document_id], links
    )
    return row


def follow_due(session: Session, sii: SiiAccess, links: Links, *, limit: int = FOLLOW_BATCH) -> FollowSummary:
    """Follow every pending cession, in this session (tests; :func:`follow_pending` commits per cession)."""
    summary = FollowSummary()
    for company_id, cession_id in repository.pending_cessions(session, limit):
        _count(summary, follow(session, company_id, cession_id, sii, links))
    return summary


def follow_pending(
    factory: sessionmaker[Session], sii: SiiAccess, links: Links, *, limit: int = FOLLOW_BATCH
) -> FollowSummary:
    """Follow every pending cession, each in a unit of work of its own (``dtehub serve``'s job)."""
    with unit_of_work(factory, writes=False) as session:
        pending = repository.pending_cessions(session, limit)
    summary = FollowSummary()
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
