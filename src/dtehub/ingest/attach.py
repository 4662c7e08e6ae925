"""An XML that arrives for a document or note the SII sync created from the Registro de Ventas.

The sync creates what SII's register lists and dtehub lacks without its XML ("register-only": ``source``
``sii``, no XML source row). When the DTE of the same company, type and folio comes later (the API,
``dtehub import``, MIPYME retrieval, the sync's own MIPYME step), :mod:`dtehub.ingest.service` sends it
through the same checks as any DTE and then here instead of answering a conflict: the row keeps its id,
portal links, payments, tags and history, and gains what the XML brings (verdicts, detail lines and
references, TED, printable PDF, the XML itself).

**The XML is the signed truth.** The row takes the XML's amounts, issue date, customer and (for a note)
reference; where the register's row said otherwise, the difference is kept on the row as a problem of
``xmlChecks`` (``check: "sii_register"``), in words, so a person can take it up with SII. The document's
balance follows through the ledger. A row that already has XML is never attached to again: a different
XML for it still conflicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from dtehub.clients import repository as clients_repository
from dtehub.documents import ledger
from dtehub.documents import service as documents_service
from dtehub.dte.document_types import dte_type_name
from dtehub.dte.pipeline import CheckedDte
from dtehub.kit.money import format_money
from dtehub.models import Client, Company, Note
from dtehub.notes import repository as notes_repository
from dtehub.notes import service as notes_service
from dtehub.notes.service import NoteTarget

REGISTER_CHECK = "sii_register"
DISAGREES = "register_disagrees"


@dataclass(frozen=True)
class Arrival:
    """An XML for a register-only row: the row's id, the checked DTE and the client it goes to."""

    id: int
    checked: CheckedDte
    client: Client


REGISTER = "SII's Registro de Ventas"


def disagreements(
    checked: CheckedDte,
    *,
    total_cents: int,
    issue_date: date,
    client: Client,
    previous_client: Client | None,
    register: str = REGISTER,
) -> list[dict[str, str]]:
    """The problems to keep on the row: where SII's register row (the row's values before the XML) and
    the XML differ. The XML's values are the ones kept."""
    fields = checked.fields
    name = f"{dte_type_name(fields.code).capitalize()} {fields.folio}"
    problems = []
    if total_cents != fields.total_cents:
        problems.append(
            f"{name}: the XML's total is {format_money(fields.total_cents)}, {register} says "
            f"{format_money(total_cents)}; the signed XML's amount is kept, check with SII"
        )
    if issue_date != fields.issue_date:
        problems.append(
            f"{name}: the XML says it was issued on {fields.issue_date.isoformat()}, {register} on "
            f"{issue_date.isoformat()}; the signed XML's date is kept, check with SII"
        )
    if previous_client is not None and previous_client.id != client.id:
        problems.append(
            f"{name}: the XML goes to {client.tax_id}, {register} names {previous_client.tax_id}; the "
            f"document now belongs to {client.tax_id}, check with SII"
        )
    return [{"check": REGISTER_CHECK, "code": DISAGREES, "message": message} for message in problems]


def attach_documents(
    session: Session,
    company: Company,
    arrivals: Sequence[Arrival],
    *,
    now: datetime,
    register: str = REGISTER,
) -> dict[int, list[str]]:
    """Give register-only documents their XML (its source row is the caller's); the disagreements with
    the register, in words, by document id."""
    if not arrivals:
        return {}
    by_id = {arrival.id: arrival for arrival in arrivals}
    documents = ledger.lock(session, company.id, set(by_id))
    previous = clients_repository.by_ids(session, company.id, {document.client_id for document in documents})
    said: dict[int, list[str]] = {}
    for document in documents:
        arrival = by_id[document.id]
        row = documents_service.document_row_from_dte(
            company, arrival.client, arrival.checked, send=document.send_requested, now=now
        )
        problems = disagreements(
            arrival.checked,
            total_cents=document.total_cents,
            issue_date=document.issue_date,
            client=arrival.client,
            previous_client=previous.get(document.client_id),
            register=register,
        )
        said[document.id] = [problem["message"] for problem in problems]
        for column in (
            "client_id", "issue_date", "due_date", "net_cents", "taxes_cents", "total_cents",
            "xml_schema", "xml_signature", "xml_ted", "xml_signer", "xml_signed_at", "xml_signed_form",
        ):  # fmt: skip
            setattr(document, column, row[column])
        document.xml_problems = [*arrival.checked.checks.problems_json(), *problems]
        if not document.notes:
            document.notes = str(row["notes"])
        document.updated_at = now
    # The total may have changed: what it owes follows from it, its notes and its payments.
    ledger.recompute(session, company.id, documents, ledger.Source.NOTES | ledger.Source.PAYMENTS)
    return said


def attach_notes(
    session: Session,
    company_id: int,
    arrivals: Sequence[Arrival],
    targets: dict[int, NoteTarget | None],
    linked: dict[int, int | None],
    *,
    now: datetime,
) -> tuple[set[int], dict[int, list[str]]]:
    """Give register-only notes their XML (``targets`` and ``linked``: each note's reference and the
    document it names, by note id; the source row is the caller's); (the documents whose notes changed,
    the disagreements in words by note id)."""
    if not arrivals:
        return set(), {}
    by_id = {arrival.id: arrival for arrival in arrivals}
    notes: list[Note] = notes_repository.by_ids(session, company_id, sorted(by_id))
    previous = clients_repository.by_ids(session, company_id, {note.client_id for note in notes})
    affected: set[int] = set()
    said: dict[int, list[str]] = {}
    for note in notes:
        arrival = by_id[note.id]
        row = notes_service.note_row_from_dte(
            company_id, arrival.client, arrival.checked, targets[note.id], linked[note.id], now=now
        )
        problems = disagreements(
            arrival.checked,
            total_cents=note.total_cents,
            issue_date=note.issue_date,
            client=arrival.client,
            previous_client=previous.get(note.client_id),
        )
        said[note.id] = [problem["message"] for problem in problems]
        if note.document_id is not None:
            affected.add(note.document_id)
        for column in (
            "client_id", "document_id", "issue_date", "net_cents", "taxes_cents", "total_cents", "ref_code",
            "ref_number", "reason", "gloss", "xml_schema", "xml_signature", "xml_ted", "xml_signer",
            "xml_signed_at", "xml_signed_form",
        ):  # fmt: skip
            setattr(note, column, row[column])
        note.xml_problems = [*arrival.checked.checks.problems_json(), *problems]
        if not note.notes:
            note.notes = str(row["notes"])
        note.updated_at = now
        if note.document_id is not None:
            affected.add(note.document_id)
    return affected, said
