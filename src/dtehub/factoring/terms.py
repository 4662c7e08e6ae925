"""What a cession through ``createCesion`` says, read from the request and what dtehub holds: the amount,
the DTE as it goes into the file, the cession's terms, and the file itself (:func:`build`).

A document the company issued is ceded for the first time (``SeqCesion`` 1, the company its issuer). A
held document (one ceded to the company, its AEC kept in ``document_holdings``) is ceded onwards: a
re-cession by the current holder, whose file carries the earlier one's ``DTECedido`` and cessions byte
for byte and adds the company's own with the next sequence number (:func:`dtehub.dte.aec.build_recession`).
Its defaults come from that file: the company's address and e-mail as its assignor wrote them, the last
due date it agreed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dtehub.documents import repository as documents_repository
from dtehub.dte.aec import (
    AecError,
    CededDte,
    Contact,
    Party,
    Signer,
    Terms,
    build_aec,
    build_recession,
    ceded_dte,
    last_assignee,
)
from dtehub.errors import CessionAmountInvalid, CessionFileInvalid, DocumentNotCedible, Unprocessable
from dtehub.factoring import repository
from dtehub.factoring.schemas import CessionCreate
from dtehub.kit.dates import SANTIAGO
from dtehub.kit.money import format_cents
from dtehub.models import Company, Document, DocumentHolding


def amount(document: Document, data: CessionCreate) -> int:
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


def holding_of(session: Session, company_id: int, document: Document) -> DocumentHolding | None:
    """The AEC by which the company holds ``document`` (None for a document it issued); a held document
    dtehub has no AEC for (known from SII's RTC only) cannot be ceded onwards."""
    if not document.held:
        return None
    holding = repository.holding(session, company_id, document.id)
    if holding is None or not holding.aec:
        raise DocumentNotCedible(
            f"document {document.id} is held, but dtehub has no AEC for it (known from SII's RTC only): "
            "a re-cession carries the earlier cessions' file; ask the assignor for the AEC and give it to "
            "createCesionFromXml, then cede it",
            field="documentId",
        )
    return holding


def ceded(session: Session, company_id: int, document: Document) -> CededDte:
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


def terms(
    company: Company,
    document: Document,
    dte: CededDte,
    data: CessionCreate,
    amount: int,
    now: datetime,
    holding: DocumentHolding | None = None,
) -> Terms:
    """The cession's terms: the request's, else the defaults (the DTE's, or for a held document the file
    that ceded it to the company)."""
    given = data.assignor
    if holding is None:
        default_address, default_email = dte.issuer_address, dte.issuer_email or company.reply_to
        default_due, sequence = max(document.due_date, dte.issue_date), 1
    else:
        try:
            holder = last_assignee(holding.aec)
        except AecError as error:
            raise CessionFileInvalid(f"the AEC held cannot be read: {error}", field="documentId") from None
        default_address, default_email = holder.address, holder.email or company.reply_to
        default_due = max(holding.last_due_date or document.due_date, dte.issue_date)
        sequence = holding.sequence + 1
    address = (given.address if given is not None else None) or default_address
    email = (given.email if given is not None else None) or default_email
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
    last_due = data.last_due_date or default_due
    if last_due < dte.issue_date:
        raise Unprocessable(
            f"lastDueDate ({last_due}) is before the document's issue date ({dte.issue_date})",
            field="lastDueDate",
        )
    debtor_email = dte.receiver_email or (holding.debtor_email if holding is not None else "")
    contact = data.contact
    return Terms(
        assignor=Party(company.rut, company.name[:100], address[:80], email[:80]),
        assignee=Party(data.assignee.rut, data.assignee.name, data.assignee.address, data.assignee.email),
        amount=amount,
        last_due_date=last_due,
        signed_at=now.astimezone(SANTIAGO).replace(tzinfo=None, microsecond=0),
        declaration=data.declaration,
        debtor_email=debtor_email if 6 <= len(debtor_email) <= 80 else None,
        contact=Contact(contact.name, contact.phone, contact.email) if contact is not None else None,
        sequence=sequence,
    )


def build(dte: CededDte, terms: Terms, signer: Signer, previous: bytes | None) -> bytes:
    """The cession file: the first cession of ``dte``, or the re-cession of the file ``previous``."""
    try:
        if previous is None:
            return build_aec(dte, terms, signer)
        return build_recession(previous, terms, signer)
    except AecError as error:
        raise CessionFileInvalid(f"the cession file cannot be made: {error}", field="documentId") from None


def declaration_of(aec: bytes) -> str:
    """The sworn declaration of the file's last cession, as signed."""
    start = aec.rfind(b"<DeclaracionJurada>")
    end = aec.find(b"</DeclaracionJurada>", start)
    if start < 0 or end < 0:
        return ""
    return aec[start + len("<DeclaracionJurada>") : end].decode("iso-8859-1")
