"""Reading the RCV's answers into :mod:`.models`: the JSON detail and summary rows (by their names, each value
checked), and the CSV export through cl-sii's ``cl_sii.rcv`` parser.

Where cl-sii fits and where it does not: it reads the "Descargar Detalles" CSV (``parse_rcv_venta_csv_file``:
SII's header checked column by column, amounts, dates in Santiago, referenced documents, the "otros
impuestos" continuation rows), so the export goes through it. It has no reader for the facade's JSON (the
summary and the per-type detail, which alone carry the receiver's event and SII's row id): those are read
here. It reads a file by path only and as UTF-8, so the export's lines are written to a temporary file first
(re-encoded when SII sent ISO-8859-1). It refuses a header with any column added or renamed: that is
reported as :class:`~dtehub.sii.errors.RcvUnreadable`, not guessed around.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cl_sii.rcv.data_models import RvDetalleEntry
from cl_sii.rcv.parse_csv import parse_rcv_venta_csv_file
from cl_sii.rut import Rut

from dtehub.kit.dates import SANTIAGO
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.sii.errors import RcvUnreadable
from dtehub.sii.rcv.models import Period, RcvDocument, RcvSummaryRow, ReceiverEvent


class RowUnreadable(ValueError):
    """One row that cannot be read; the period goes on without it, and says so."""


def _int(row: Mapping[str, Any], key: str, *, default: int | None = None) -> int:
    value = row.get(key)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RowUnreadable(f"{key} is {value!r}, not a number")
    try:
        return int(value)
    except ValueError:
        raise RowUnreadable(f"{key} is {value!r}, not a number") from None


# SII's dates, read without strptime (a period has thousands of rows, and strptime is the slow part).
_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_MOMENT = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _day(value: Any, key: str) -> date:
    found = _DAY.match(str(value).strip())
    try:
        if found is None:
            raise ValueError
        return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
    except ValueError:
        raise RowUnreadable(f"{key} is {value!r}, not a date dd/mm/yyyy") from None


def _moment(value: Any, key: str) -> datetime | None:
    """A Santiago wall-clock time ``dd/mm/yyyy HH:MM[:SS]`` (or a bare date), aware."""
    if value in (None, "", "null"):
        return None
    found = _MOMENT.match(str(value).strip())
    try:
        if found is None:
            raise ValueError
        day, month, year, hour, minute, second = found.groups()
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=SANTIAGO,
        )
    except ValueError:
        raise RowUnreadable(f"{key} is {value!r}, not a time dd/mm/yyyy HH:MM:SS") from None


@functools.lru_cache(maxsize=4096)
def _customer(number: int, dv: object) -> str:
    """A customer's RUT (customers repeat: each is checked once)."""
    try:
        return normalize_rut(f"{number}-{dv}")
    except InvalidRut as exc:
        raise RowUnreadable(f"the customer's RUT: {exc}") from None


def summary_rows(data: Any) -> list[RcvSummaryRow]:
    """``getResumen``'s ``data`` (None when the period has no movement)."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise RcvUnreadable("SII's RCV summary is not a list of rows")
    rows = []
    for row in data:
        try:
            if not isinstance(row, dict):
                raise RowUnreadable("a row is not an object")
            kind = row.get("dcvTipoIngresoDoc")
            rows.append(
                RcvSummaryRow(
                    type_code=_int(row, "rsmnTipoDocInteger"),
                    name=str(row.get("dcvNombreTipoDoc") or ""),
                    count=_int(row, "rsmnTotDoc", default=0),
                    exempt=_int(row, "rsmnMntExe", default=0),
                    net=_int(row, "rsmnMntNeto", default=0),
                    vat=_int(row, "rsmnMntIVA", default=0),
                    total=_int(row, "rsmnMntTotal", default=0),
                    detailed=kind == "DET_ELE" or (kind is None and row.get("rsmnLink") is not False),
                )
            )
        except RowUnreadable as exc:
            raise RcvUnreadable(f"SII's RCV summary has a row dtehub cannot read: {exc}") from None
    return rows


def detail_document(period: Period, row: Any) -> RcvDocument:
    """One row of ``getDetalleVenta``'s ``data``."""
    if not isinstance(row, dict):
        raise RowUnreadable("the row is not an object")
    customer = _customer(_int(row, "detRutDoc"), row.get("detDvDoc"))
    event = row.get("detEventoReceptor")
    legend = row.get("detEventoReceptorLeyenda")
    ref_type = row.get("detTipoDocRef")
    ref_folio = row.get("detFolioDocRef")
    reference = None
    if isinstance(ref_type, int) and ref_type > 0 and str(ref_folio or "").strip().isdigit():
        reference = (ref_type, int(str(ref_folio).strip()))
    received = _moment(row.get("detFecRecepcion"), "detFecRecepcion")
    if received is None:
        raise RowUnreadable("detFecRecepcion is empty")
    return RcvDocument(
        period=period,
        type_code=_int(row, "detTipoDoc"),
        folio=_int(row, "detNroDoc"),
        issue_date=_day(row.get("detFchDoc"), "detFchDoc"),
        exempt=_int(row, "detMntExe", default=0),
        net=_int(row, "detMntNeto", default=0),
        vat=_int(row, "detMntIVA", default=0),
        total=_int(row, "detMntTotal"),
        customer_rut=customer,
        customer_name=str(row.get("detRznSoc") or "").strip(),
        received_at=received,
        accepted_at=_moment(row.get("detFecAcuse"), "detFecAcuse"),
        claimed_at=_moment(row.get("detFecReclamado"), "detFecReclamado"),
        event=ReceiverEvent(str(event), str(legend) if legend else None) if event else None,
        reference=reference,
        sii_id=row["detCodigo"] if isinstance(row.get("detCodigo"), int) else None,
    )


def detail_documents(period: Period, data: Any, problems: list[str]) -> list[RcvDocument]:
    """Every readable row of a detail; each one that is not becomes a problem."""
    if not isinstance(data, list):
        raise RcvUnreadable("SII's RCV detail is not a list of rows")
    documents = []
    for number, row in enumerate(data, 1):
        try:
            documents.append(detail_document(period, row))
        except RowUnreadable as exc:
            folio = row.get("detNroDoc") if isinstance(row, dict) else None
            problems.append(f"SII's RCV row {number} of {period} (folio {folio}) could not be read: {exc}")
    return documents


def decode(content: bytes) -> str:
    """An export's text: UTF-8 when it is, else ISO-8859-1 (SII's encoding is not settled); a BOM dropped."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = content.decode("iso-8859-1")
    return text.removeprefix("\ufeff")


def csv_documents(
    company_rut: str, period: Period, lines: Sequence[str], problems: list[str]
) -> list[RcvDocument]:
    """The export's lines (header first), read by cl-sii."""
    if len(lines) <= 1:
        return []
    with tempfile.TemporaryDirectory(prefix="dtehub-rcv-") as directory:
        path = Path(directory) / "export.csv"
        path.write_text("\n".join(line.rstrip("\r\n") for line in lines) + "\n", encoding="utf-8")
        try:
            parsed = list(parse_rcv_venta_csv_file(Rut(company_rut), str(path)))
        except ValueError as exc:
            raise RcvUnreadable(f"SII's RCV export has a header dtehub does not know: {exc}") from None
    return list(_from_entries(period, parsed, problems))


def _from_entries(
    period: Period,
    parsed: Iterable[tuple[RvDetalleEntry | None, int, dict[str, object], dict[str, object]]],
    problems: list[str],
) -> Iterable[RcvDocument]:
    for entry, number, raw, errors in parsed:
        if entry is None or errors:
            folio = raw.get("Folio")
            why = errors or "no document"
            problems.append(
                f"SII's RCV export line {number + 1} of {period} (folio {folio}) could not be read: {why}"
            )
            continue
        references = entry.documento_referencias or ()
        first = next((r for r in references if str(r.folio_documento_referencia).isdigit()), None)
        yield RcvDocument(
            period=period,
            type_code=int(entry.tipo_docto.value),
            folio=entry.folio,
            issue_date=entry.fecha_emision_date,
            exempt=entry.monto_exento or 0,
            net=entry.monto_neto or 0,
            vat=entry.monto_iva or 0,
            total=entry.monto_total,
            customer_rut=normalize_rut(str(entry.cliente_rut)),
            customer_name=entry.cliente_razon_social,
            received_at=entry.fecha_recepcion_dt.astimezone(SANTIAGO),
            accepted_at=entry.fecha_acuse_dt.astimezone(SANTIAGO) if entry.fecha_acuse_dt else None,
            claimed_at=entry.fecha_reclamo_dt.astimezone(SANTIAGO) if entry.fecha_reclamo_dt else None,
            event=None,
            reference=(
                (first.tipo_documento_referencia, int(first.folio_documento_referencia)) if first else None
            ),
        )
