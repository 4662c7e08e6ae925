from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from dtehub.kit.dates import SANTIAGO, format_datetime
from dtehub.kit.money import AmountOut, format_cents
from dtehub.kit.schema import ApiModel, IdRef
from dtehub.models import Note
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


class SignedFormOut(ApiModel):
    as_found: bool = Field(description="The signature holds over the DTE exactly as received")
    added: dict[str, str] = Field(
        description='Declarations the DTE element had when signed and lacks now, e.g. {"xmlns": '
        '"http://www.sii.cl/SiiDte"}'
    )
    removed: dict[str, str] = Field(
        description="Declarations the DTE element has now and did not have when signed, e.g. "
        '{"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance"}'
    )


class XmlChecksOut(ApiModel):
    schema_: str = Field(alias="schema", description="valid | invalid | unverifiable (boletas)")
    signature: str = Field(description="valid | unsigned | invalid | unverifiable")
    signer: str | None = Field(description="RUT of the person who signed the DTE")
    signed_at: str | None = Field(description="TmstFirma, ISO 8601")
    ted: str = Field(description="valid | absent | invalid")
    signed_form: SignedFormOut | None = Field(
        description="The form of the DTE in which its signature held: as found, or with declarations "
        "added to or removed from its DTE element (SII's namespace, an envelope's xmlns:xsi); null when "
        "the signature held in no form, or was not checked"
    )
    problems: list[dict[str, str]] = Field(description="[{check, code, message}] for each verdict not valid")


def _signing_time(moment: datetime | None) -> str | None:
    """TmstFirma in Chile's time, as the pipeline reported it: the database hands it back in UTC (or in
    its session's zone), and the same instant must not read differently after a reload."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(SANTIAGO).isoformat()


def xml_checks_of(row: Any) -> dict[str, Any] | None:
    """``xmlChecks`` of a document or note row (None when it was created by fields, without XML)."""
    if row.xml_schema is None:
        return None
    return {
        "schema": row.xml_schema,
        "signature": row.xml_signature,
        "signer": row.xml_signer,
        "signedAt": _signing_time(row.xml_signed_at),
        "signedForm": row.xml_signed_form,
        "ted": row.xml_ted,
        "problems": row.xml_problems or [],
    }


class NoteOut(ApiModel):
    id: str
    client_tax_id: str
    number: str
    created_at: str = Field(description="YYYY-MM-DD HH:MM:SS, Santiago time")
    issue_date: str
    code: int = Field(description="56, 61, 111 or 112")
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
    xml_checks: XmlChecksOut
    xml: str = Field(description="The note's DTE as received (a link its customer can open)")
    pdf: str = Field(description="The note printed as SII requires, with its timbre")

    @classmethod
    def of(cls, note: Note, client_tax_id: str, links: Links) -> NoteOut:
        note_type = NoteType.CREDIT if note.is_credit else NoteType.DEBIT
        return cls(
            id=str(note.id),
            client_tax_id=client_tax_id,
            number=note.number,
            created_at=format_datetime(note.created_at),
            issue_date=note.issue_date.isoformat(),
            code=note.code,
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
            xml_checks=XmlChecksOut.model_validate(xml_checks_of(note)),
            xml=links.note_xml(note.id, note.portal_key),
            pdf=links.note_pdf(note.id, note.portal_key),
        )


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
