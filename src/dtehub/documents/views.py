"""A document as the API shows it (``DocumentOut``'s shape), built as plain JSON-ready data.

A listing builds fifty of these per request, so they are dicts made straight from the row rather than
validated models: that halves the cost of a page. ``tests/documents/test_views.py`` holds the builder to
``DocumentOut``, the schema OpenAPI publishes.
"""

from __future__ import annotations

from datetime import date

from dtehub.documents.repository import DocumentRow
from dtehub.documents.sii_states import sii_json
from dtehub.documents.status import STATUS_NAMES, status_of
from dtehub.dte.checks import stored_xml_checks_json
from dtehub.kit.dates import format_datetime
from dtehub.kit.money import format_cents
from dtehub.kit.schema import JsonObject
from dtehub.models import DocumentCession, DocumentState
from dtehub.models.document import NO_CODE
from dtehub.portal.links import Links


def document_view(
    row: DocumentRow,
    links: Links,
    today: date,
    *,
    client: JsonObject,
    tags: list[JsonObject],
    files: list[JsonObject],
    cession: DocumentCession | None = None,
) -> JsonObject:
    status = status_of(DocumentState(row.state), row.due_date, today)
    paid_date = row.paid_date
    return {
        "id": str(row.id),
        "clientTaxId": row.client_tax_id,
        "number": row.number,
        "createdAt": format_datetime(row.created_at),
        "issueDate": row.issue_date.isoformat(),
        "dueDate": row.due_date.isoformat(),
        "status": int(status),
        "statusName": STATUS_NAMES[status],
        "currency": row.currency,
        "net": format_cents(row.net_cents),
        "taxes": format_cents(row.taxes_cents),
        "total": format_cents(row.total_cents),
        "paidAmount": format_cents(row.paid_cents),
        "paidDate": paid_date.isoformat() if paid_date is not None else None,
        "amountDue": format_cents(row.due_cents),
        "amountCredit": format_cents(row.credit_cents),
        "amountDebit": format_cents(row.debit_cents),
        "purchaseOrder": row.purchase_order,
        "gloss": row.gloss,
        "notes": row.notes,
        "code": row.code if row.code != NO_CODE else None,
        "source": row.source,
        "held": row.held,
        "issuer": {"taxId": row.issuer_rut, "name": row.issuer_name} if row.held else None,
        "history": bool(row.history),
        "url": links.invoice_page(row.id, row.portal_key),
        "xml": links.invoice_xml(row.id, row.portal_key),
        "pdf": links.invoice_pdf(row.id, row.portal_key),
        "xmlChecks": stored_xml_checks_json(row),
        "sii": sii_json(row.code, row, today),
        "client": client,
        "tags": tags,
        "files": files,
        "isCeded": cession is not None and cession.sii_state == ACCEPTED,
        "cession": cession_view(cession) if cession is not None else None,
    }


ACCEPTED = "accepted"


def cession_view(cession: DocumentCession) -> JsonObject:
    return {
        "assignee": {
            "rut": cession.assignee_rut,
            "name": cession.assignee_name,
            "address": cession.assignee_address,
            "email": cession.assignee_email,
        },
        "amount": format_cents(cession.amount_cents),
        "date": format_datetime(cession.ceded_at),
        "lastDueDate": cession.last_due_date.isoformat(),
        "trackId": str(cession.track_id),
        "siiState": cession.sii_state,
        "siiCode": cession.sii_code,
        "siiMessage": cession.sii_message,
    }
