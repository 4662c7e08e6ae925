"""Holding bought invoices: the factoring company's side of a cession (``createCesionFromXml``).

A company that bought an invoice receives the electronic cession file (AEC) that ceded it. dtehub checks
the whole file as SII judges it (:func:`dtehub.dte.aec_verify.verify_aec`: schema, each signature in the
context it was made in, the DTE inside through the one pipeline, the chain of cessions, and that the last
assignee is this company). A file that holds makes the invoice a **held document** of the company: a
document like any other (its debtor a client of the company, its amounts and status from the DTE, its
payments, reminders, portal and PDF), marked ``held`` with its issuer's RUT and name, beside the AEC
as received (``document_holdings``). A file that fails any check stores nothing and is refused with every
failed check (:class:`~dtehub.errors.AecRefused`).

A held document dtehub knew from SII's RTC only (``dtehub factoring sync-cessions``: no AEC yet) is completed
by its AEC, not duplicated: it keeps its id, links and payments, and takes the DTE's XML, amounts and debtor
(as a register-only row of the SII sync takes its XML: :mod:`dtehub.ingest.attach`) and the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dtehub.clients import service as clients_service
from dtehub.clients.schemas import ClientFields
from dtehub.companies import service as companies_service
from dtehub.documents import ledger
from dtehub.documents import service as documents_service
from dtehub.documents.schemas import RECEIVABLE_CODES
from dtehub.dte.aec_verify import AecVerification, Cession, verify_aec
from dtehub.dte.pipeline import CheckedDte
from dtehub.errors import AecRefused, Conflict, UnsupportedDocumentType
from dtehub.factoring import repository
from dtehub.ingest import attach
from dtehub.ingest import repository as ingest_repository
from dtehub.ingest import service as ingest_service
from dtehub.kit.dates import SANTIAGO, utcnow
from dtehub.models import Company, DocumentHolding, Origin
from dtehub.portal.links import Links
from dtehub.webhooks import events as webhook_events


@dataclass(frozen=True)
class Held:
    """The held document's id; ``created`` is False when the very same AEC was received before."""

    document_id: int
    created: bool
    verification: AecVerification
    completed: bool = False
    """The document was known from SII's RTC only: its AEC completed it."""


def hold_from_aec(session: Session, company_id: int, data: bytes, links: Links, *, max_bytes: int) -> Held:
    """Verify the AEC and make its invoice a held document of the company, or raise what refuses it."""
    company = companies_service.require(session, company_id)
    verification = verify_aec(data, holder_rut=company.rut, max_bytes=max_bytes)
    cession = verification.last_cession
    checked = verification.dte
    if not verification.valid or checked is None or cession is None or cession.assignor is None:
        failed = verification.failed
        raise AecRefused(
            f"the AEC does not hold ({len(failed)} failed check{'s' if len(failed) != 1 else ''}): "
            + "; ".join(finding.message for finding in failed),
            field="xml",
            details=[finding.as_json() for finding in failed],
        )
    fields = checked.fields
    if fields.code not in RECEIVABLE_CODES:  # the AEC's schema allows only 33, 34, 43 and 46
        raise UnsupportedDocumentType(f"document type {fields.code} is not a receivable", field="xml")
    issuer, number = fields.issuer.rut, str(fields.folio)
    ledger.lock_arrivals(session, company_id, [(f"{issuer}/{fields.code}", number)])
    digest = hashlib.sha256(data).hexdigest()
    existing = repository.held_document(session, company_id, issuer, fields.code, number)
    if existing is not None:
        stored = repository.holding(session, company_id, existing.id)
        if stored is not None and stored.aec_sha256 == digest:
            return Held(existing.id, created=False, verification=verification)
        if stored is not None and not stored.aec:  # known from SII's RTC, no AEC yet: completed
            _complete(session, company, existing.id, stored, checked, cession, data, digest, verification)
            subscriptions = webhook_events.Subscriptions(session, company_id)
            documents_service.record_events(session, subscriptions, "document.updated", [existing.id], links)
            return Held(existing.id, created=False, verification=verification, completed=True)
        raise Conflict(
            f"the company already holds DTE {number} (code {fields.code}) of {issuer}, from another AEC",
            field="xml",
        )
    document_id = _store(session, company_id, checked, cession, data, digest, verification)
    subscriptions = webhook_events.Subscriptions(session, company_id)
    documents_service.record_events(session, subscriptions, "document.created", [document_id], links)
    # No new-document message: the holder did not issue it (its issuer sent it to the debtor long ago);
    # due and overdue reminders go out as for any document.
    return Held(document_id, created=True, verification=verification)


def _store(
    session: Session,
    company_id: int,
    checked: CheckedDte,
    cession: Cession,
    data: bytes,
    digest: str,
    verification: AecVerification,
) -> int:
    company = companies_service.require(session, company_id)
    fields = checked.fields
    receiver = fields.receiver
    clients = clients_service.upsert_receivers(session, company_id, [(receiver.rut, _debtor(checked), True)])
    now = utcnow()
    row = documents_service.document_row_from_dte(
        company, clients[receiver.rut], checked, send=False, now=now, source=Origin.API
    )
    row.update(held=True, issuer_rut=fields.issuer.rut, issuer_name=fields.issuer.name[:100])
    document_id = repository.insert_held_document(session, company_id, row)
    ingest_repository.insert_sources(
        session,
        ingest_repository.DOCUMENTS,
        [document_id],
        [ingest_service.source_row(checked)],
    )
    holding = DocumentHolding(document_id=document_id, company_id=company_id, created_at=now)
    _keep(holding, cession, data, digest, verification)
    repository.add_holding(session, holding)
    return document_id


def _keep(
    holding: DocumentHolding, cession: Cession, data: bytes, digest: str, verification: AecVerification
) -> None:
    """The AEC, its last cession and the verification's findings on the holding."""
    assignor = cession.assignor
    assert assignor is not None  # a valid AEC's cessions name their parties
    holding.sequence = cession.sequence or 0
    holding.assignor_rut = assignor.rut
    holding.assignor_name = assignor.name[:100]
    holding.amount_cents = (cession.amount or 0) * 100
    holding.last_due_date = cession.last_due_date
    holding.ceded_at = _santiago(cession.signed_at)
    holding.debtor_email = (cession.debtor_email or "")[:80]
    holding.aec = data
    holding.aec_sha256 = digest
    holding.checks = [finding.as_json() for finding in verification.findings]


def _complete(
    session: Session,
    company: Company,
    document_id: int,
    holding: DocumentHolding,
    checked: CheckedDte,
    cession: Cession,
    data: bytes,
    digest: str,
    verification: AecVerification,
) -> None:
    """The held document known from SII's RTC only, completed by its AEC: the DTE's fields and XML, the
    debtor's details, the file."""
    receiver = checked.fields.receiver
    clients = clients_service.upsert_receivers(session, company.id, [(receiver.rut, _debtor(checked), True)])
    arrival = attach.Arrival(document_id, checked, clients[receiver.rut])
    attach.attach_documents(
        session, company, [arrival], now=utcnow(), register="SII's RTC (its cession listing)"
    )
    ingest_repository.insert_sources(
        session,
        ingest_repository.DOCUMENTS,
        [document_id],
        [ingest_service.source_row(checked)],
    )
    document = repository.document(session, company.id, document_id)
    assert document is not None  # locked and attached just now
    document.source = Origin.API
    document.issuer_name = checked.fields.issuer.name[:100]
    _keep(holding, cession, data, digest, verification)
    session.flush()


def _debtor(checked: CheckedDte) -> ClientFields:
    receiver = checked.fields.receiver
    return ClientFields(
        name=receiver.name[:255],
        activity=receiver.activity[:255],
        address=receiver.address[:255],
        comuna=receiver.comuna[:128],
        city=receiver.city[:128],
    )


def _santiago(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=SANTIAGO) if moment is not None and moment.tzinfo is None else moment
