"""What SII's acceptance/claim service says of a document, read on demand and kept beside it.

:func:`ask_sii` asks the service (:mod:`dtehub.sii.ws.reclamo`) for the document's reception time at SII,
its event history and its cedibility code, without the database (no transaction waits on SII); the caller
stores the answer in ``document_sii_acceptances`` (``repository.save_acceptance``: one row per document,
replaced on each reading). A document SII has not received is stored as such (no reception time, no
code). Types the service does not handle (46, and anything but 33, 34, 43) are not asked.

Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dtehub.factoring import repository
from dtehub.kit.dates import utcnow
from dtehub.models import Company, Document, DocumentSiiAcceptance
from dtehub.sii.ws.client import WsClient
from dtehub.sii.ws.errors import WsDocumentUnknown
from dtehub.sii.ws.reclamo import HANDLED_TYPES, DocumentRef, Event, cedibility, history, reception_time


@dataclass(frozen=True)
class SiiEvent:
    code: str
    description: str
    responsible_rut: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "description": self.description,
            "responsibleRut": self.responsible_rut,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiiEvent:
        return cls(
            data["code"], data["description"], data["responsibleRut"], datetime.fromisoformat(data["at"])
        )


def document_ref(company: Company, document: Document) -> DocumentRef | None:
    """The document as SII names it (a held document by its issuer's RUT), or None when it has no SII type
    or a folio that is not a number."""
    if document.code == 0 or not document.number.isascii() or not document.number.isdigit():
        return None
    issuer = document.issuer_rut if document.held else company.rut
    return DocumentRef(issuer, document.code, int(document.number))


def asks_sii(document: Document) -> bool:
    return document.code in HANDLED_TYPES


def ask_sii(
    company: Company, document: Document, ws: WsClient, *, now: datetime | None = None
) -> DocumentSiiAcceptance:
    """Ask SII's service about ``document`` (a type it handles): its answer as a row to store."""
    ref = document_ref(company, document)
    if ref is None or not asks_sii(document):
        raise ValueError(f"SII's acceptance/claim service does not answer for document {document.id}")
    row = DocumentSiiAcceptance(
        document_id=document.id,
        company_id=company.id,
        received_at=None,
        events=[],
        events_listed=True,
        cedibility_code=None,
        cedibility_description="",
        checked_at=now or utcnow(),
        checked_by=ws.certificate.holder_rut,
    )
    received = reception_time(ws, ref)
    if received is None:
        # SII answers no reception time both for a document it has not received and to a person it does
        # not let see it: the cedibility code tells them apart (18 not received; 14 raises WsNotAuthorized).
        with suppress(WsDocumentUnknown):
            cedibility(ws, ref)
    if received is not None:
        try:
            listed = history(ws, ref)
            code = cedibility(ws, ref)
        except WsDocumentUnknown:
            received = None  # SII says it has not received it after all: stored as not received
        else:
            row.events = [_event(e).as_json() for e in listed.events]
            row.events_listed = listed.listed
            row.cedibility_code = code.code
            row.cedibility_description = code.description[:120]
    row.received_at = received
    return row


def _event(event: Event) -> SiiEvent:
    return SiiEvent(event.code, event.description, event.responsible_rut, event.at)


def stored(session: Session, company_id: int, document_id: int) -> DocumentSiiAcceptance | None:
    return repository.acceptance(session, company_id, document_id)
