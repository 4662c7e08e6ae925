"""The emulated RCV backend (``/consdcvinternetui/…``): the JSON facade of SII's Registro de Compras y
Ventas as ``rcv-protocol.md`` section 6 describes it, over the register of :mod:`.register`.

What a client meets here, as on SII: the ``TOKEN`` cookie and ``metaData.conversationId`` must agree
(``codRespuesta 99`` "El token no es valido"); a session that ended answers the login wall as a 200 HTML
page; a bare ``Accept: application/json`` is an HTTP 500 (RESTEASY001530); GET on a facade method a 405;
the namespace must name the URL's method; ``getResumen`` of an empty period answers ``codRespuesta 3`` with
``data: null``; a detail without ``codTipoDoc`` ``2``; a detail with no rows ``99``; the export is JSON
whose ``data`` are the CSV's lines (header first, a trailing ``;`` on every row); large periods go through
``getCtrlAsync`` and ``obtenerArchivoBLOB`` (a gzip of the CSV, ISO-8859-1). A RUT the person may not
represent answers "NO ESTA AUTORIZADO PARA REPRESENTAR". The emulator holds issued documents only: every
COMPRA query finds nothing.
"""

from __future__ import annotations

import gzip
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.sii.emulator import pages
from dtehub.sii.emulator.data import EmulatorData
from dtehub.sii.emulator.register import BOLETA_TYPES, Entry, Register, state_at
from dtehub.sii.emulator.sessions import Faults, Lookup, Session, SessionStore

APP = "/consdcvinternetui"
FACADE = f"{APP}/services/data/facadeService/"
BLOB = "obtenerArchivoBLOB"
AUT_TKN_DATA = "/cgi_AUT2000/AutTknData.cgi"
NAMESPACE = "cl.sii.sdi.lob.diii.consdcv.data.api.interfaces.FacadeService/"
METHODS = frozenset(
    {
        "getResumen", "getDetalleCompra", "getDetalleVenta", "getDetalleCompraExport",
        "getDetalleVentaExport", "getCtrlAsync", "getDatosInicio",
    }
)  # fmt: skip
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
TOKEN_INVALID = "El token no es valido: NO Existen Datos"  # noqa: S105 (SII's message, no secret)
NOT_REPRESENTED = "Usuario NO ESTA AUTORIZADO PARA REPRESENTAR al contribuyente {rut}"
NO_ROWS = "No existen datos para la consulta"
NO_TYPE = "Debe indicar el tipo de documento"
BAD_PERIOD = "Periodo tributario no valido"
SUMMARY_NAMES = {
    35: "Total Oper. del mes Boleta",
    38: "Total Oper. del mes Boleta exenta",
    39: "Total Oper. del mes Boleta Electr.",
    41: "Total Oper. del mes Boleta Exenta Electr.",
    47: "Total Oper. del mes Vale Electronico",
    48: "Total Oper. del mes Comprobante Pago Electronico",
}
VENTAS_HEADER = (
    "Nro;Tipo Doc;Tipo Venta;Rut cliente;Razon Social;Folio;Fecha Docto;Fecha Recepcion;Fecha Acuse Recibo;"
    "Fecha Reclamo;Monto Exento;Monto Neto;Monto IVA;Monto total;IVA Retenido Total;IVA Retenido Parcial;"
    "IVA no retenido;IVA propio;IVA Terceros;RUT Emisor Liquid. Factura;Neto Comision Liquid. Factura;"
    "Exento Comision Liquid. Factura;IVA Comision Liquid. Factura;IVA fuera de plazo;Tipo Docto. Referencia;"
    "Folio Docto. Referencia;Num. Ident. Receptor Extranjero;Nacionalidad Receptor Extranjero;"
    "Credito empresa constructora;Impto. Zona Franca (Ley 18211);Garantia Dep. Envases;"
    "Indicador Venta sin Costo;Indicador Servicio Periodico;Monto No facturable;Total Monto Periodo;"
    "Venta Pasajes Transporte Nacional;Venta Pasajes Transporte Internacional;Numero Interno;Codigo Sucursal;"
    "NCE o NDE sobre Fact. de Compra;Codigo Otro Imp.;Valor Otro Imp.;Tasa Otro Imp."
)
COMPRAS_REGISTRO_HEADER = (
    "Nro;Tipo Doc;Tipo Compra;RUT Proveedor;Razon Social;Folio;Fecha Docto;Fecha Recepcion;Fecha Acuse;"
    "Monto Exento;Monto Neto;Monto IVA Recuperable;Monto Iva No Recuperable;Codigo IVA No Rec.;Monto Total;"
    "Monto Neto Activo Fijo;IVA Activo Fijo;IVA uso Comun;Impto. Sin Derecho a Credito;IVA No Retenido;"
    "Tabacos Puros;Tabacos Cigarrillos;Tabacos Elaborados;NCE o NDE sobre Fact. de Compra;"
    "Codigo Otro Impuesto;Valor Otro Impuesto;Tasa Otro Impuesto"
)
_DETAIL_TEMPLATE: dict[str, Any] = {
    **dict.fromkeys(
        (
            "detMntActFijo", "detMntIVAActFijo", "detMntIVANoRec", "detMntCodNoRec", "detMntSinCredito",
            "detIVARetTotal", "detIVARetParcial", "detIVANoRetenido", "detIVAPropio", "detIVATerceros",
            "detIVAUsoComun", "detIVAFueraPlazo", "detLiqRutEmisor", "detLiqValComNeto", "detLiqValComExe",
            "detLiqValComIVA", "detCredEc", "detLey18211", "detDepEnvase", "detIndSinCosto", "detMntNoFact",
            "detMntPeriodo", "detPsjNac", "detPsjInt", "detTabPuros", "detTabCigarrillos", "detTabElaborado",
            "detImpVehiculo", "totalDtoiMontoImp", "totalDinrMontoIVANoR",
        ),
        0,
    ),
    **dict.fromkeys(
        ("detExpNumId", "detExpNacionalidad", "detNumInt", "detCdgSIISucur", "detEmisorNota",
         "emisorAgresivo", "fechaActivacionAnotacion", "detLiqDvEmisor"),
        None,
    ),
    "detIndServicio": 0, "detTpoImp": 1, "detTasaImp": 19, "detAnulado": False, "dcvEstadoContab": "REGISTRO",
    "detTipoTransaccion": 1, "descTipoTransaccion": "Del Giro", "cambiarTipoTran": False,
}  # fmt: skip


@dataclass(frozen=True)
class RcvRequest:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    """Lower-case names."""
    cookies: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class RcvResponse:
    status: int
    body: bytes
    content_type: str = JSON_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class _Job:
    id: int
    blob: str
    company: str
    period: str
    type_code: int
    lines: int
    content: bytes
    ready_at: float


def _json(payload: object, status: int = 200) -> RcvResponse:
    return RcvResponse(status, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())


def _html(status: int, body: bytes) -> RcvResponse:
    return RcvResponse(status, body, content_type=pages.HTML_CONTENT_TYPE)


def _jboss(status: int, title: str, text: str) -> RcvResponse:
    body = (
        f"<html><head><title>JBoss Web/7.0.13.Final - Error report</title></head><body>"
        f"<h1>HTTP Status {status} - {title}</h1><p><b>description</b> <u>{text}</u></p>"
        "<h3>JBoss Web/7.0.13.Final</h3></body></html>"
    ).encode()
    return _html(status, body)


def _date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def _moment(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    m = moment
    return f"{m.day:02d}/{m.month:02d}/{m.year:04d} {m.hour:02d}:{m.minute:02d}:{m.second:02d}"


class RcvFacade:
    """Answers the RCV's requests; thread-safe. ``requests`` counts the facade calls per method."""

    def __init__(
        self, data: EmulatorData, register: Register, sessions: SessionStore, faults: Faults
    ) -> None:
        self.data = data
        self.register = register
        self.sessions = sessions
        self.faults = faults
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._bootstrapped: set[str] = set()
        self._jobs: dict[int, _Job] = {}
        self._job_ids = itertools.count(7_000_001)

    def handles(self, path: str) -> bool:
        return path in (AUT_TKN_DATA, APP) or path.startswith(APP + "/")

    def answer(self, request: RcvRequest) -> RcvResponse:
        if request.path == AUT_TKN_DATA:
            return self._aut_tkn_data(request)
        if not request.path.startswith(FACADE):
            if request.method == "GET" and request.path in (APP, APP + "/"):
                return _html(200, pages.rcv_spa_page())
            return _html(404, pages.not_found_page(request.path))
        method = request.path[len(FACADE) :]
        if method.startswith(BLOB + "/") and request.method == "GET":
            return self._blob(request, method.split("/")[1:])
        if method not in METHODS:
            return _jboss(404, "Not Found", f"Could not find resource for relative : /{method}")
        with self._lock:
            self.requests[method] += 1
        fault = self._fault()
        if fault is not None:
            return fault
        if request.method != "POST":
            return _jboss(405, "Method Not Allowed", "No resource method found for GET, return 405")
        if request.headers.get("accept", "").strip().lower() == "application/json":
            return _jboss(
                500,
                "org.jboss.resteasy.spi.NotAcceptableException",
                "RESTEASY001530: No match for accept header",
            )
        try:
            envelope = json.loads(request.body)
            meta, data = envelope["metaData"], envelope.get("data") or {}
            if not isinstance(meta, dict) or not isinstance(data, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _jboss(400, "Bad Request", "org.jboss.resteasy.spi.ReaderException: the body is not JSON")
        if meta.get("namespace") != NAMESPACE + method:
            return self._envelope(meta, None, 1, f"Namespace no corresponde a {method}")
        token = request.cookies.get("TOKEN", "")
        if not token or meta.get("conversationId") != token:
            return self._envelope(meta, None, 99, TOKEN_INVALID)
        lookup, session = self.sessions.find(token)
        if lookup is not Lookup.OPEN or session is None:
            return _html(200, pages.rcv_login_wall_page())
        if self.faults.rcv_requires_bootstrap:
            with self._lock:
                bootstrapped = token in self._bootstrapped
            if not bootstrapped:
                return _jboss(401, "JBWEB000065", "JBWEB000065: This request requires HTTP authentication.")
        self._count_towards_expiry()
        refusal = self.faults.rcv_refusal
        if refusal is not None:
            return self._envelope(meta, None, 1, refusal)
        if self.faults.take("rcv_garbled_answers"):
            return RcvResponse(200, b'{"resultado": "sin envoltorio"}')
        return self._method(method, meta, data, session)

    # --- faults ------------------------------------------------------------------------------------------

    def _fault(self) -> RcvResponse | None:
        if self.faults.take("rcv_server_errors"):
            return _jboss(500, "Internal Server Error", "java.lang.NullPointerException")
        if self.faults.take("rcv_too_many_requests"):
            return _html(429, b"<html><body><h1>429 Too Many Requests</h1></body></html>")
        return None

    def _count_towards_expiry(self) -> None:
        """The fault ``rcv_session_expires_after``: after that many answered calls every open session ends."""
        if self.faults.take("rcv_session_expires_after") and self.faults.rcv_session_expires_after == 0:
            self.sessions.expire_open()

    # --- bootstrap -----------------------------------------------------------------------------------

    def _aut_tkn_data(self, request: RcvRequest) -> RcvResponse:
        token = request.cookies.get("TOKEN", "")
        lookup, _ = self.sessions.find(token) if token else (Lookup.UNKNOWN, None)
        valid = lookup is Lookup.OPEN
        if valid:
            with self._lock:
                self._bootstrapped.add(token)
        callback = request.query.get("callback") or "my_callback"
        payload = {"estado": 0 if valid else 1, "value": "Última conexión: hoy" if valid else ""}
        body = f"{callback}({json.dumps(payload, ensure_ascii=False)})".encode()
        return RcvResponse(200, body, content_type="application/javascript;charset=UTF-8")

    # --- methods -------------------------------------------------------------------------------------

    def _envelope(
        self, meta: Mapping[str, Any], data: object, code: int, message: str | None, **extra: object
    ) -> RcvResponse:
        echoed = {key: meta.get(key) for key in ("namespace", "conversationId", "transactionId", "page")}
        payload = {
            "data": data,
            "metaData": echoed,
            "respEstado": {"codRespuesta": code, "msgeRespuesta": message, "codError": None},
            **extra,
        }
        return _json(payload)

    def _method(
        self, method: str, meta: Mapping[str, Any], data: Mapping[str, Any], session: Session
    ) -> RcvResponse:
        if method == "getDatosInicio":
            return self._envelope(meta, {"ptributarioActual": self.register.now().strftime("%Y%m")}, 0, None)
        company = _company(data)
        if company is None:
            return self._envelope(meta, None, 1, "Rut de contribuyente no valido")
        person = self.data.people.get(session.person_rut)
        if person is None or company not in person.companies:
            return self._envelope(meta, None, 4, NOT_REPRESENTED.format(rut=company))
        if method == "getCtrlAsync":
            return self._ctrl_async(meta, data, company)
        period = str(data.get("ptributario") or "")
        if not (len(period) == 6 and period.isdigit() and 1 <= int(period[4:]) <= 12):
            return self._envelope(meta, None, 1, BAD_PERIOD)
        venta = method.endswith("Venta") or method.endswith("VentaExport") or data.get("operacion") == "VENTA"
        if method == "getResumen":
            return self._summary(meta, company, period, venta=data.get("operacion") == "VENTA")
        if method.endswith("Export"):
            return self._export(meta, data, company, period, venta=venta)
        return self._detail(meta, data, company, period, venta=method == "getDetalleVenta")

    def _dcv_header(self, company: str, period: str) -> dict[str, str | None]:
        dates = self.register.modified_at(company, period, self.register.now())
        if dates is None:
            return {"dcvFecCreacion": None, "dcvFecModificacion": None}
        return {"dcvFecCreacion": _moment(dates[0]), "dcvFecModificacion": _moment(dates[1])}

    def _summary(self, meta: Mapping[str, Any], company: str, period: str, *, venta: bool) -> RcvResponse:
        now = self.register.now()
        entries = self.register.visible(company, period, now) if venta else []
        rows = []
        for type_code, group in itertools.groupby(entries, key=lambda e: e.type_code):
            documents = list(group)
            rows.append(
                _summary_row(
                    type_code, pages.type_name(type_code), len(documents), "DET_ELE", True,
                    *(sum(getattr(d, name) for d in documents) for name in ("exempt", "net", "vat", "total")),
                )
            )  # fmt: skip
        for boleta in self.register.boletas(company, period) if venta else []:
            name = SUMMARY_NAMES.get(boleta.type_code, pages.type_name(boleta.type_code))
            rows.append(
                _summary_row(
                    boleta.type_code, name, boleta.count, "RESUMEN", False,
                    boleta.exempt, boleta.net, boleta.vat, boleta.total,
                )
            )  # fmt: skip
        header = self._dcv_header(company, period)
        if not rows:
            return self._envelope(meta, None, 3, None, dataCabecera=header, totDocRes=0)
        total = sum(row["rsmnTotDoc"] for row in rows)
        return self._envelope(meta, rows, 0, None, dataCabecera=header, totDocRes=total)

    def _detail(
        self, meta: Mapping[str, Any], data: Mapping[str, Any], company: str, period: str, *, venta: bool
    ) -> RcvResponse:
        type_code = _type_code(data.get("codTipoDoc"))
        if type_code is None or type_code == 0:
            return self._envelope(meta, None, 2, NO_TYPE)
        now = self.register.now()
        entries = self.register.visible(company, period, now) if venta else []
        rows = [_detail_row(e, now) for e in entries if e.type_code == type_code]
        if not rows:
            return self._envelope(meta, None, 99, NO_ROWS)
        # Thousands of rows: the keys every row has alike are serialized once, then spliced into each row
        # (every row starts with dhdrCodigo; inside a string that text would be escaped).
        listed = _json_text(rows).replace('{"dhdrCodigo":', "{" + _TEMPLATE_JSON + ',"dhdrCodigo":')
        envelope = self._envelope(meta, [], 0, None, dataCabecera=self._dcv_header(company, period))
        head, _, tail = envelope.body.partition(b'"data":[]')
        return RcvResponse(200, head + b'"data":' + listed.encode() + tail)

    def _export_lines(self, company: str, period: str, type_code: int, *, venta: bool) -> list[str]:
        if not venta:
            return [COMPRAS_REGISTRO_HEADER]
        now = self.register.now()
        entries = [
            e
            for e in self.register.visible(company, period, now)
            if (type_code == 0 or e.type_code == type_code) and e.type_code not in BOLETA_TYPES
        ]
        return [VENTAS_HEADER, *(_csv_row(number, e, now) for number, e in enumerate(entries, 1))]

    def _export(
        self, meta: Mapping[str, Any], data: Mapping[str, Any], company: str, period: str, *, venta: bool
    ) -> RcvResponse:
        type_code = _type_code(data.get("codTipoDoc"))
        lines = self._export_lines(company, period, type_code or 0, venta=venta)
        limit = self.faults.rcv_export_limit
        if limit is not None and len(lines) - 1 > limit:
            lines = []  # "too large": SII's direct export answers no line at all
        side = "VENTA" if venta else "COMPRA_REGISTRO"
        name = f"RCV_{side}_{company}_{period}.csv"
        return self._envelope(meta, lines, 0, None, nombreArchivo=name)

    def _ctrl_async(self, meta: Mapping[str, Any], data: Mapping[str, Any], company: str) -> RcvResponse:
        if data.get("generaCtrl") is True:
            period = str(data.get("ptributario") or "")
            if not (len(period) == 6 and period.isdigit()):
                return self._envelope(meta, None, 1, BAD_PERIOD)
            venta = data.get("operacion") == "VENTA"
            type_code = _type_code(data.get("codTipoDoc")) or 0
            lines = self._export_lines(company, period, type_code, venta=venta)
            text = "\n".join(lines) + "\n"
            with self._lock:
                job_id = next(self._job_ids)
                self._jobs[job_id] = _Job(
                    id=job_id,
                    blob=f"{job_id:x}{period}".upper(),
                    company=company,
                    period=period,
                    type_code=type_code,
                    lines=len(lines),
                    content=gzip.compress(text.encode("iso-8859-1", "replace"), compresslevel=1),
                    ready_at=time.monotonic() + self.faults.rcv_async_seconds,
                )
        now = time.monotonic()
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.company == company]
        listed = [
            {
                "caId": job.id,
                "caIdBLOB": job.blob if now >= job.ready_at else "SIN-BLOB",
                "compraOVenta": "V",
                "caEstado": "TERMINADO" if now >= job.ready_at else "EN PROCESO",
                "caPeriodo": int(job.period),
                "caTipoDoc": job.type_code,
                "caNumLineas": job.lines,
                "caFileSize": len(job.content),
            }
            for job in jobs
        ]
        return self._envelope(meta, listed, 0, None)

    def _blob(self, request: RcvRequest, parts: Sequence[str]) -> RcvResponse:
        with self._lock:
            self.requests[BLOB] += 1
        fault = self._fault()
        if fault is not None:
            return fault
        token = request.cookies.get("TOKEN", "")
        lookup, _ = self.sessions.find(token) if token else (Lookup.UNKNOWN, None)
        if lookup is not Lookup.OPEN:
            return _html(200, pages.rcv_login_wall_page())
        job = None
        if len(parts) == 4 and parts[3].isdigit():
            with self._lock:
                job = self._jobs.get(int(parts[3]))
        if job is None or job.blob != parts[0] or time.monotonic() < job.ready_at:
            return _jboss(404, "Not Found", "El archivo solicitado no existe")
        filename = f"RCV_VENTA_{job.company}_{job.period}.csv.gz"
        return RcvResponse(
            200,
            job.content,
            content_type="application/octet-stream",
            headers=(("Content-Disposition", f'attachment; filename="{filename}"'),),
        )


# --- rows ------------------------------------------------------------------------------------------------


def _company(data: Mapping[str, Any]) -> str | None:
    try:
        return normalize_rut(f"{data.get('rutEmisor', '')}-{data.get('dvEmisor', '')}")
    except InvalidRut:
        return None


def _type_code(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _summary_row(
    type_code: int, name: str, count: int, kind: str, link: bool, exempt: int, net: int, vat: int, total: int
) -> dict[str, Any]:
    return {
        "rsmnTipoDocInteger": type_code,
        "dcvNombreTipoDoc": name,
        "rsmnTotDoc": count,
        "rsmnMntExe": exempt,
        "rsmnMntNeto": net,
        "rsmnMntIVA": vat,
        "rsmnMntIVANoRec": 0,
        "rsmnMntTotal": total,
        "rsmnIVAUsoComun": 0,
        "dcvTipoIngresoDoc": kind,
        "rsmnLink": link,
        "dcvCodigo": None,
        "rsmnCodigo": None,
        "dcvOperacion": None,
        "rsmnEstadoContab": None,
        "rsmnTotalRutEmisor": None,
    }


def _json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_TEMPLATE_JSON = _json_text(_DETAIL_TEMPLATE)[1:-1]
"""The detail keys SII fills alike for every document the emulator holds (zeros, nulls, "Del Giro")."""


def _detail_row(entry: Entry, now: datetime) -> dict[str, Any]:
    """A detail row's own keys (:data:`_DETAIL_TEMPLATE` has those every row has alike)."""
    state = state_at(entry, now)
    number, _, dv = entry.customer_rut.partition("-")
    return {
        "dhdrCodigo": entry.codigo,
        "dcvCodigo": entry.codigo,
        "detCodigo": entry.codigo,
        "detTipoDoc": entry.type_code,
        "detRutDoc": int(number),
        "detDvDoc": dv,
        "detRznSoc": entry.customer_name,
        "detNroDoc": entry.folio,
        "detFchDoc": _date(entry.issue_date),
        "detFecRecepcion": _moment(entry.received_at),
        "detFecAcuse": _moment(state.accepted_at),
        "detFecReclamado": _moment(state.claimed_at),
        "detMntExe": entry.exempt,
        "detMntNeto": entry.net,
        "detMntIVA": entry.vat,
        "detMntTotal": entry.total,
        "detTipoDocRef": entry.ref_type or 0,
        "detFolioDocRef": entry.ref_folio,
        "detEventoReceptor": state.event[0] if state.event else None,
        "detEventoReceptorLeyenda": state.event[1] if state.event else None,
        "detPcarga": int(entry.period),
    }


def _csv_row(number: int, entry: Entry, now: datetime) -> str:
    state = state_at(entry, now)
    name = entry.customer_name.replace(";", ",")
    fields = (
        str(number), str(entry.type_code), "Del Giro", entry.customer_rut, name,
        str(entry.folio), _date(entry.issue_date), _moment(entry.received_at) or "",
        _moment(state.accepted_at) or "", _moment(state.claimed_at) or "",
        str(entry.exempt), str(entry.net), str(entry.vat), str(entry.total),
        "0", "0", "0", "0", "0", "-", "0", "0", "0", "0",
        str(entry.ref_type) if entry.ref_type else "", str(entry.ref_folio) if entry.ref_folio else "",
        "", "", "0", "", "0", "2", "0", "0", "0", "", "", "", "0", "", "", "", "",
    )  # fmt: skip
    return ";".join(fields) + ";"
