"""What a listing of documents (getDocuments) can be filtered and ordered by: the repository's
query, apart from the API's parameters that ask for it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from dtehub.documents.sii_states import SiiStateFilter
from dtehub.documents.status import DocumentStatus
from dtehub.dte.checks import Verdict


class DateBy(enum.IntEnum):
    ISSUE = 1
    CREATION = 2


class OrderBy(enum.IntEnum):
    ISSUE_DATE = 1
    CREATION = 2
    DUE_DATE = 3
    NUMBER = 4
    TOTAL = 5


@dataclass(frozen=True)
class DocumentFilters:
    """getDocuments' filters, already validated. ``since``/``until`` are Santiago calendar days of the
    issue date or, with ``date_by`` CREATION, of the creation."""

    date_by: DateBy = DateBy.ISSUE
    since: date | None = None
    until: date | None = None
    status: DocumentStatus | None = None
    open_only: bool = False
    """True: only the documents still to collect (por vencer and vencida), whatever ``status`` says."""
    number: str | None = None
    code: int | None = None
    currency: str | None = None
    client_id: int | None = None
    client_tax_id: str | None = None
    tag_id: int | None = None
    xml_schema: Verdict | None = None
    xml_signature: Verdict | None = None
    xml_ted: Verdict | None = None
    held: bool | None = None
    """True: only the documents the company holds (bought through a cession); False: only those it issued;
    None: both."""
    sii_state: SiiStateFilter | None = None
    is_ceded: bool | None = None
    """True: documents whose cession SII registered; False: the others."""
