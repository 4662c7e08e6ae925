"""``/app/documents.csv`` and ``/app/documents.xlsx``: the documents page's list (the same query
parameters, the same rows in the same order) as a file, streamed. Each export is in the audit log with
the user (``app.exportDocuments``: the format and the query asked for).

The rows are read through the reports service in batches of :data:`~dtehub.reports.service.EXPORT_BATCH`,
each batch in its own short unit of work after the last one's (due date, id), always filtered by the
company: a list of a million documents neither sits in memory nor holds a connection while the
browser downloads. The CSV goes out batch by batch; the XLSX is written by openpyxl's write-only
workbook (rows go to a temporary file as they come) and then streamed from that file.

The files are for people in Chile and for programs alike: the CSV is UTF-8 with a BOM, separated by
``;`` (what a spreadsheet set to Spanish expects), dates ``dd-mm-aaaa``; amounts are plain numbers
(pesos as integers, ``1190000``; other currencies and the rare peso with cents with a point,
``1234.56``), the RUT as SII writes it in its own files (``76453707-6``). The XLSX holds real dates
and numbers, shown in Chilean formats. Text is never a formula: the XLSX's text cells are typed as
text, and a CSV text that would start one (``=``, ``+``, ``-``, ``@``) follows an apostrophe.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.orm import Session

from dtehub.audit.actions import Action
from dtehub.clients import repository as clients_repository
from dtehub.config import Settings
from dtehub.dependencies import SessionDep, run_unit_of_work
from dtehub.documents import repository as documents_repository
from dtehub.documents.repository import DocumentRow
from dtehub.documents.status import STATUS_NAMES, status_of
from dtehub.kit.dates import today_in_santiago
from dtehub.models.document import NO_CODE, DocumentState
from dtehub.reports import service as reports
from dtehub.reports.repository import OpenFilter, OpenRow
from dtehub.users import service as users
from dtehub.users.service import SessionEnded, Staff
from dtehub.webapp import pages
from dtehub.webapp.dashboard import (
    FIGURE_PARAMETERS,
    LIST_PARAMETERS,
    Listing,
    document_listing,
    is_figure_list,
    open_filter,
)
from dtehub.webapp.web import SESSION_COOKIE, NowDep, StaffDep, app_route, record

router = APIRouter()

OptionalText = Annotated[str | None, Query()]

HEADER = ("ID", "Tipo", "Código SII", "Folio", "RUT cliente", "Cliente", "Emisión", "Vencimiento", "Estado",
          "Moneda", "Total", "Saldo")  # fmt: skip
XLSX_MAX_ROWS = 1_048_575
"""A worksheet's rows, the header aside: a longer list is cut there (the CSV has no such limit)."""
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024


def amount(cents: int, currency: str) -> int | Decimal:
    """Hundredths as the file's number: whole pesos as an integer, anything else exact with two
    decimals."""
    if currency == "CLP" and cents % 100 == 0:
        return cents // 100
    return Decimal(cents).scaleb(-2)  # exact, always two decimals: 1000.00


def _values(row: OpenRow, currency: str, today: date) -> tuple[Any, ...]:
    """A figure list's row as the file's values."""
    status = "Vencida" if row.due_date < today else "Por vencer"
    code = None if row.code == NO_CODE else row.code
    return (row.id, pages.type_name(row.code), code, row.number, row.client_tax_id, row.client_name,
            row.issue_date, row.due_date, status, currency, amount(row.total, currency),
            amount(row.due, currency))  # fmt: skip


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(text: str) -> str:
    """A CSV text a spreadsheet cannot take for a formula (a client's name comes from its DTE): one
    that starts as a formula does is written after an apostrophe, as a spreadsheet shows text."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _rows(request: Request, company_id: int, wanted: OpenFilter, today: date) -> Iterator[OpenRow]:
    """Every row of the list, batch after batch, each read in a unit of work of its own. Before each
    batch after the first, the session must still work on the company: one signed out, disabled or
    removed from it mid-download gets no more rows, and the download fails (:class:`SessionEnded`
    aborts the answer) rather than end as if the list were complete."""
    settings: Settings = request.app.state.settings
    factory = request.app.state.sessionmaker
    token = request.cookies.get(SESSION_COOKIE)
    after: tuple[date, int] | None = None
    while True:

        def batch(session: Session, after: tuple[date, int] | None = after) -> list[OpenRow]:
            if after is not None and not users.still_working_on(session, token, company_id):
                raise SessionEnded(expired=False)
            return reports.open_batch(session, company_id, wanted, today, after)

        rows = run_unit_of_work(factory, batch, writes=False, busy_timeout=settings.db_busy_timeout)
        yield from rows
        if len(rows) < reports.EXPORT_BATCH:
            return
        after = (rows[-1].due_date, rows[-1].id)


def _full_values(row: DocumentRow, client_name: str, today: date) -> tuple[Any, ...]:
    """A row of getDocuments' listing as the file's values (each in its own currency)."""
    status = STATUS_NAMES[status_of(DocumentState(row.state), row.due_date, today)]
    code = None if row.code == NO_CODE else row.code
    return (row.id, pages.type_name(row.code), code, row.number, row.client_tax_id, client_name,
            row.issue_date, row.due_date, status, row.currency, amount(row.total_cents, row.currency),
            amount(row.due_cents, row.currency))  # fmt: skip


def _full_rows(request: Request, company_id: int, listing: Listing, today: date) -> Iterator[tuple[Any, ...]]:
    """Every row of getDocuments' listing for the page's filter, in the page's order, batch after
    batch (each read in a unit of work of its own, after the same check as :func:`_rows`)."""
    settings: Settings = request.app.state.settings
    factory = request.app.state.sessionmaker
    token = request.cookies.get(SESSION_COOKIE)
    offset = 0
    while not (listing.matching_clients or listing.nothing):

        def batch(session: Session, offset: int = offset) -> list[tuple[Any, ...]]:
            if offset and not users.still_working_on(session, token, company_id):
                raise SessionEnded(expired=False)
            rows, _ = documents_repository.list_page(
                session, company_id, listing.filters, order_by=listing.order_by,
                descending=listing.descending, offset=offset, limit=reports.EXPORT_BATCH,
                today=today, with_client=False,
            )  # fmt: skip
            names = clients_repository.by_ids(session, company_id, {row.client_id for row in rows})
            return [
                _full_values(row, names[row.client_id].name if row.client_id in names else "", today)
                for row in rows
            ]

        values = run_unit_of_work(factory, batch, writes=False, busy_timeout=settings.db_busy_timeout)
        yield from values
        if len(values) < reports.EXPORT_BATCH:
            return
        offset += len(values)


def _csv(rows: Iterator[tuple[Any, ...]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, 1):
        values = [_inert(v) if isinstance(v, str) else v for v in row]
        values[6], values[7] = pages.day(row[6]), pages.day(row[7])
        writer.writerow(values)
        if count % reports.EXPORT_BATCH == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _xlsx(rows: Iterator[tuple[Any, ...]]) -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = workbook.create_sheet("Documentos")
    sheet.freeze_panes = "A2"

    def cell(value: Any, shown: str | None = None) -> Cell:
        made = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            made.data_type = "s"  # text, always: a name that starts with "=" is no formula
        if shown is not None:
            made.number_format = shown
        return made

    sheet.append(list(HEADER))
    for count, row in enumerate(rows, 1):
        if count > XLSX_MAX_ROWS:
            break
        values = row
        number_format = "#,##0" if values[9] == "CLP" else "#,##0.00"
        sheet.append(
            [
                *(cell(value) for value in values[:6]),
                cell(values[6], "DD-MM-YYYY"),
                cell(values[7], "DD-MM-YYYY"),
                cell(values[8]),
                cell(values[9]),
                cell(values[10], number_format),
                cell(values[11], number_format),
            ]
        )
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk


def _export(
    request: Request,
    staff: Staff,
    session: Session,
    now: datetime,
    extension: str,
    parameters: tuple[str | None, ...],
) -> Response:
    asked = dict(zip(FIGURE_PARAMETERS, parameters, strict=True))
    asked.update({name: request.query_params.get(name) for name in LIST_PARAMETERS})
    today = today_in_santiago(now)
    rows: Iterator[tuple[Any, ...]]
    if is_figure_list(asked):
        wanted, _ = reports.checked_filter(session, staff.company_id, open_filter(*parameters))
        rows = (
            _values(row, wanted.currency, today) for row in _rows(request, staff.company_id, wanted, today)
        )
    else:
        listing = document_listing(session, staff.company_id, asked)
        rows = _full_rows(request, staff.company_id, listing, today)
    # Who took the list out, in which format and with which filter (the page's query, as asked).
    summary = {"format": extension, "query": request.url.query[:1000]}
    record(session, staff, Action.APP_EXPORT_DOCUMENTS, summary=summary)
    body = _csv(rows) if extension == "csv" else _xlsx(rows)
    name = f"documentos-{today.isoformat()}.{extension}"
    headers = {**pages.PRIVATE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    media_type = "text/csv; charset=utf-8" if extension == "csv" else XLSX_MEDIA_TYPE
    return StreamingResponse(body, media_type=media_type, headers=headers)


@router.get("/documents.csv")
@app_route(records=True)
def documents_csv(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    status: OptionalText = None,
    dueSince: OptionalText = None,
    dueUntil: OptionalText = None,
    clientId: OptionalText = None,
    currency: OptionalText = None,
    siiState: OptionalText = None,
) -> Response:
    """The documents page's list as CSV (``;``, UTF-8), streamed."""
    parameters = (status, dueSince, dueUntil, clientId, currency, siiState)
    return _export(request, staff, session, now, "csv", parameters)


@router.get("/documents.xlsx")
@app_route(records=True)
def documents_xlsx(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    now: NowDep,
    status: OptionalText = None,
    dueSince: OptionalText = None,
    dueUntil: OptionalText = None,
    clientId: OptionalText = None,
    currency: OptionalText = None,
    siiState: OptionalText = None,
) -> Response:
    """The documents page's list as an Excel workbook, streamed."""
    parameters = (status, dueSince, dueUntil, clientId, currency, siiState)
    return _export(request, staff, session, now, "xlsx", parameters)
