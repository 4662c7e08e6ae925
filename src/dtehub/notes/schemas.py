from __future__ import annotations

import enum
from datetime import date
from typing import Any

from pydantic import Field

from dtehub.documents.history import is_history
from dtehub.documents.sii_states import SiiOut, sii_json
from dtehub.dte.checks import XmlChecksOut, stored_xml_checks_json
from dtehub.kit.dates import format_datetime, today_in_santiago
from dtehub.kit.money import AmountOut, format_cents
from dtehub.kit.schema import ApiModel, IdRef
from dtehub.models import Note, Origin
from dtehub.notes.filters import NoteType
from dtehub.portal.links import Links

TYPE_NAMES = {NoteType.CREDIT: "Crédito", NoteType.DEBIT: "Débito"}


class NoteCode(enum.IntEnum):
    """The SII codes kept as notes (getNotes' ``code``)."""

    DEBIT_NOTE = 56
    CREDIT_NOTE = 61
    EXPORT_DEBIT_NOTE = 111
    EXPORT_CREDIT_NOTE = 112


class NoteReference(ApiModel):
    """The reference the note acts through (its first Referencia to a document type dtehub keeps)."""

    code: str | None = Field(description="TpoDocRef, e.g. 33")
    number: str | None = Field(description="FolioRef")
    reason: int | None = Field(description="CodRef: 1 anula, 2 corrige texto, 3 corrige montos")


class NoteOut(ApiModel):
    id: str
    client_tax_id: str
    number: str
    created_at: str = Field(description="YYYY-MM-DD HH:MM:SS, Santiago time")
    issue_date: str
    code: int = Field(description="56, 61, 111 or 112")
    source: Origin | None = Field(
        description="How it came into dtehub: api, import, mipyme, sii, demo (as a document's source); "
        "null: stored before dtehub recorded it"
    )
    history: bool = Field(
        description="true: brought in by the SII sync and issued before the company's "
        "collectionsStartDate (as a document's history): never reminded. Follows that setting"
    )
    type: NoteType
    type_name: str = Field(description="Crédito or Débito")
    currency: str
    net: AmountOut
    taxes: AmountOut
    total: AmountOut
    gloss: str = Field(description="RazonRef of the reference")
    notes: str
    reference: NoteReference
    moves_money: bool = Field(description="False for a text correction (CodRef 2)")
    client: IdRef
    document: IdRef | None = Field(description="The document the reference names, once it is in dtehub")
    files: list[IdRef]
    xml_checks: XmlChecksOut | None = Field(
        description="The XML pipeline's verdicts; null for a note known only from SII's register (no XML yet)"
    )
    sii: SiiOut | None = Field(
        description="SII's states of it (Registro de Ventas), as the last SII sync read them (a note stays "
        "received: customers accept or claim facturas); null: no sync has found it at SII"
    )
    xml: str = Field(description="The note's DTE as received (a link its customer can open)")
    pdf: str = Field(description="The note printed as SII requires, with its timbre")

    @classmethod
    def of(cls, note: Note, client_tax_id: str, links: Links, collections_start: date | None) -> NoteOut:
        note_type = NoteType.CREDIT if note.is_credit else NoteType.DEBIT
        return cls(
            id=str(note.id),
            client_tax_id=client_tax_id,
            number=note.number,
            created_at=format_datetime(note.created_at),
            issue_date=note.issue_date.isoformat(),
            code=note.code,
            source=Origin(note.source) if note.source is not None else None,
            history=is_history(note.source, note.issue_date, collections_start),
            type=note_type,
            type_name=TYPE_NAMES[note_type],
            currency=note.currency,
            net=note.net_cents,
            taxes=note.taxes_cents,
            total=note.total_cents,
            gloss=note.gloss,
            notes=note.notes,
            reference=NoteReference(code=note.ref_code, number=note.ref_number, reason=note.reason),
            moves_money=note.moves_money,
            client=IdRef(id=str(note.client_id)),
            document=IdRef(id=str(note.document_id)) if note.document_id is not None else None,
            files=[],
            xml_checks=_checks(note),
            sii=_sii(note),
            xml=links.note_xml(note.id, note.portal_key),
            pdf=links.note_pdf(note.id, note.portal_key),
        )


def _checks(note: Note) -> XmlChecksOut | None:
    checks = stored_xml_checks_json(note)
    return XmlChecksOut.model_validate(checks) if checks is not None else None


def _sii(note: Note) -> SiiOut | None:
    sii = sii_json(note.code, note, today_in_santiago())
    return SiiOut.model_validate(sii) if sii is not None else None


def note_summary(note: Note, links: Links) -> dict[str, Any]:
    """A note as a document's detail lists it (``NoteSummary``)."""
    return {
        "id": str(note.id),
        "number": note.number,
        "code": note.code,
        "type": (NoteType.CREDIT if note.is_credit else NoteType.DEBIT).value,
        "issueDate": note.issue_date.isoformat(),
        "total": format_cents(note.total_cents),
        "reason": note.reason,
        "movesMoney": note.moves_money,
        "xml": links.note_xml(note.id, note.portal_key),
        "pdf": links.note_pdf(note.id, note.portal_key),
    }
