"""The emulated Registro de Transferencia de Créditos (RTC): the AEC upload (``RTCAnotEnvio.cgi``), the
upload's status (``wsRPETCConsulta.getEstEnvio``), the cessions SII registered (``getEstCesion``) and their
listing by period (``RTCConsultaCesiones.cgi``, :func:`period_listing`).

The upload is a ``multipart/form-data`` POST (``emailNotif``, ``rutCompany``, ``dvCompany``, ``archivo``)
with the ``TOKEN`` cookie; it answers ``RECEPCIONAEC`` with a ``STATUS`` (0 received with a ``TRACKID``; 1
the person does not act for the company; 2 an empty or oversized file; 4 a field missing; 5 no valid token;
6 a company SII does not know as a DTE issuer). The file is judged when it arrives, as SII's manual and
instructions say (``sii-ws-reclamo-cesion.md`` §3.6-3.8):

- ``RSC`` not XML, or not ``AEC_v10.xsd``;
- ``RFS`` the cover's (``DocumentoAEC``) signature does not hold;
- ``RCR`` the cover's ``RutCedente``/``RutCesionario`` are not the last cession's, or ``RutCedente`` is not
  the company that uploads;
- ``RDC`` the ceded DTE: ``DocumentoDTECedido``'s or the DTE's signature, SII has not received it, its
  receiver or total is not SII's record, SII's cedibility code is not 23 or 25;
- ``RCS`` a cession: its signature, ``IdDTE`` not the DTE's, sequence not 1..N, amount over the total, last
  due date before the issue date, a date in the future, an earlier cession not the one registered (or none
  new), the assignor neither the issuer (first cession) nor the current holder, the signer not among
  ``RUTAutorizado``, a sworn declaration missing after one was made;
- otherwise ``EOK``, and the cession is registered: the assignee is the holder from then on.

Inner signatures are verified where they sit (each part was signed standalone with the same declarations as
the file). The status walks ``RCP``, ``SOK``, ``FSO``, ``COK``, ``VDC``, ``VCS`` for
:attr:`Rtc.processing_queries` queries before the verdict shows, so a test sees a pending upload without
waiting for anything.
"""

from __future__ import annotations

import email.parser
import email.policy
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from lxml import etree

from dtehub.dte.aec import validate_aec
from dtehub.dte.signature import verify_dte_signature
from dtehub.dte.xmldsig import verify_reference
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.kit.xml import XmlError, local_name, parse_untrusted
from dtehub.kit.xmlbuild import element
from dtehub.sii.emulator.acceptance import Acceptances
from dtehub.sii.emulator.certificates import holder_rut
from dtehub.sii.emulator.data import DocumentKey, EmulatorData
from dtehub.sii.emulator.portal import Request, Response
from dtehub.sii.emulator.ws import SII_NS, TokenStore, _axis, _fault, _read_call

UPLOAD_PATH = "/cgi_rtc/RTC/RTCAnotEnvio.cgi"
QUERY_PATH = "/DTEWS/services/wsRPETCConsulta"
PERIOD_PATH = "/cgi_rtc/RTC/RTCConsultaCesiones.cgi"
PERIOD_COLUMNS = (
    "VENDEDOR;ESTADO_CESION;DEUDOR;MAIL_DEUDOR;TIPO_DOC;NOMBRE_DOC;FOLIO_DOC;FCH_EMIS_DTE;MNT_TOTAL;CEDENTE;"
    "RZ_CEDENTE;MAIL_CEDENTE;CESIONARIO;RZ_CESIONARIO;MAIL_CESIONARIO;FCH_CESION;MNT_CESION;FCH_VENCIMIENTO"
)
PERIOD_KINDS = {"0": "DEUDOR", "1": "CEDENTE", "2": "CESIONARIO"}
"""``TIPOCONSULTA``: the cessions whose debtor, assignor or assignee the company is."""
_DOCUMENT_NAMES = {
    33: "Factura Electronica",
    34: "Factura No Afecta o Exenta Electronica",
    43: "Liquidacion-Factura Electronica",
    46: "Factura de Compra Electronica",
}
MAX_FILE_BYTES = 900 * 1024
PIPELINE = ("RCP", "SOK", "FSO", "COK", "VDC", "VCS")
DESCRIPTIONS = {
    "UPL": "Envio en proceso de carga",
    "RCP": "Envio recibido",
    "SOK": "Schema validado",
    "FSO": "Firma de sobre validada",
    "COK": "Caratula validada",
    "VDC": "Validando documento",
    "VCS": "Validando cesiones",
    "EOK": "Envio Aceptado",
    "RSC": "Rechazado por Error en Schema",
    "RFS": "Rechazado por Firma de Sobre",
    "RCR": "Rechazado por Error en Caratula",
    "RDC": "Rechazado por Documento Invalido",
    "RCS": "Rechazado por Cesion Invalida",
}
_SII_DTE = "{http://www.sii.cl/SiiDte}"
HANG_UP = Response(0, b"", content_type="text/plain")
"""No answer at all: the server closes the connection."""
_STAMP = "%d-%m-%Y %H:%M:%S"


@dataclass(frozen=True)
class Registered:
    """A cession SII registered."""

    seq: int
    assignor: str
    assignee: str
    amount: int
    at: datetime
    track_id: int
    declaration: bool
    receiver: str = ""
    """The DTE's receiver (RUTReceptor): its debtor, or its seller for a 46."""
    debtor_email: str = ""
    issued: date | None = None
    total: int = 0
    last_due: date | None = None
    assignor_name: str = ""
    assignor_email: str = ""
    assignee_name: str = ""
    assignee_email: str = ""


@dataclass
class Upload:
    track_id: int
    company: str
    person: str
    filename: str
    received_at: datetime
    code: str
    reason: str
    """Why it was rejected, in SII's words and the rule's (empty when accepted)."""
    key: DocumentKey | None = None
    queries: int = 0


@dataclass
class _Judged:
    code: str
    reason: str = ""
    key: DocumentKey | None = None
    new: list[Registered] = field(default_factory=list)


class Rtc:
    """The RTC's uploads and registered cessions; thread-safe. ``processing_queries`` (default 0): how many
    status queries of an upload answer a state of the pipeline before its verdict."""

    def __init__(self, data: EmulatorData, acceptances: Acceptances, tokens: TokenStore) -> None:
        self.data = data
        self.acceptances = acceptances
        self.tokens = tokens
        self.processing_queries = 0
        self.upload_status: int | None = None
        """A fault: every upload with a valid token answers this STATUS (1, 2, 4, 6, 9, 10), kept nowhere."""
        self.upload_drops = 0
        """A fault: the next N uploads with a valid token are hung up on, unanswered and kept nowhere (SII
        unreachable in the middle of the upload)."""
        self.upload_gate: threading.Event | None = None
        """A slow RTC: an upload with a valid token waits (at most a minute) until this is set, then is
        judged; ``upload_arrived`` is set when one starts waiting, so a test knows one is in flight."""
        self.upload_arrived = threading.Event()
        self._lock = threading.Lock()
        self._uploads: dict[int, Upload] = {}
        self._cessions: dict[DocumentKey, list[Registered]] = {}
        self._next_track = 38_936

    def handles(self, path: str) -> bool:
        return path.lower() in (UPLOAD_PATH.lower(), QUERY_PATH.lower(), PERIOD_PATH.lower())

    def answer(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(405, b"", content_type="text/plain")
        if request.path.lower() == UPLOAD_PATH.lower():
            return self._upload(request)
        if request.path.lower() == PERIOD_PATH.lower():
            return self._period(request)
        try:
            operation, parameters = _read_call(request.body)
        except ValueError as exc:
            return _fault(500, f"Unable to read the request: {exc}")
        if operation == "getEstEnvio":
            return self._status(parameters)
        if operation == "getEstCesion":
            return self._cession_state(parameters)
        return _fault(500, f"No such operation '{operation}'")

    # --- what tests read ----------------------------------------------------------------------------------

    def upload(self, track_id: int) -> Upload | None:
        with self._lock:
            return self._uploads.get(track_id)

    def cessions(self, key: DocumentKey) -> list[Registered]:
        with self._lock:
            return list(self._cessions.get(key, []))

    def holder(self, key: DocumentKey) -> str | None:
        """The document's current holder (the last registered assignee), or None when it was never ceded."""
        with self._lock:
            known = self._cessions.get(key)
            return known[-1].assignee if known else None

    def record(
        self, key: DocumentKey, assignee: str, amount: int, at: datetime | None = None, **details: Any
    ) -> Registered:
        """Register a cession of the document's issuer (or its current holder) without a file (tests);
        ``details``: the other fields of :class:`Registered` (the receiver defaults to SII's record's)."""
        dossier = self.acceptances.dossier(key)
        with self._lock:
            known = self._cessions.setdefault(key, [])
            assignor = known[-1].assignee if known else key[0]
            moment = at or self.acceptances.now()
            made = Registered(
                len(known) + 1, assignor, assignee, amount, moment, 0, False,
                receiver=dossier.receiver_rut if dossier is not None else "", total=amount,
                issued=moment.date(), last_due=moment.date(),
            )  # fmt: skip
            made = replace(made, **details)
            known.append(made)
            return made

    @property
    def uploads(self) -> int:
        with self._lock:
            return len(self._uploads)

    # --- the upload ---------------------------------------------------------------------------------------

    def _upload(self, request: Request) -> Response:
        now = self.acceptances.now()
        person = self.tokens.person(request.cookies.get("TOKEN"))
        if person is None:
            return _reception(now, 5, "-", "-", "")
        if self.upload_status is not None:
            return _reception(now, self.upload_status, person, "-", "")
        with self._lock:
            dropped = self.upload_drops > 0
            self.upload_drops -= dropped
        if dropped:
            return HANG_UP
        gate = self.upload_gate
        if gate is not None:
            self.upload_arrived.set()
            gate.wait(60)
        fields, files = _multipart(request.headers.get("content-type", ""), request.body)
        body, dv = fields.get("rutCompany", "").strip(), fields.get("dvCompany", "").strip()
        archivo = files.get("archivo")
        if not body or not dv or archivo is None or not fields.get("emailNotif", "").strip():
            return _reception(now, 4, person, "-", "")
        try:
            company = normalize_rut(f"{body}-{dv}")
        except InvalidRut:
            return _reception(now, 4, person, f"{body}-{dv}", archivo[0])
        filename, content = archivo
        if company not in self.data.companies:
            return _reception(now, 6, person, company, filename)
        if company not in self.data.people[person].companies:
            return _reception(now, 1, person, company, filename)
        if not content or len(content) > MAX_FILE_BYTES:
            return _reception(now, 2, person, company, filename)
        with self._lock:  # judged and registered at once: two uploads of one cession never both pass
            self._next_track += 1
            track_id = self._next_track
            judged = self._judge(content, company, person, now, track_id)
            self._uploads[track_id] = Upload(
                track_id, company, person, filename, now, judged.code, judged.reason, judged.key
            )
            if judged.code == "EOK" and judged.key is not None:
                self._cessions.setdefault(judged.key, []).extend(judged.new)
        return _reception(now, 0, person, company, filename, track_id=track_id)

    def _judge(self, content: bytes, company: str, person: str, now: datetime, track_id: int) -> _Judged:
        try:
            root = parse_untrusted(content, max_bytes=MAX_FILE_BYTES)
        except XmlError as exc:
            return _Judged("RSC", f"el archivo no es XML: {exc}")
        problems = validate_aec(root) if local_name(root) == "AEC" else ["the root is not AEC"]
        if problems:
            return _Judged("RSC", problems[0])
        outer = root.find(f"{{{_DSIG}}}Signature")
        if outer is None or verify_reference(outer).problem is not None:
            return _Judged("RFS", "la firma del sobre (DocumentoAEC) no es valida")
        caratula = root.find(f"{_SII_DTE}DocumentoAEC/{_SII_DTE}Caratula")
        cesiones = root.findall(f"{_SII_DTE}DocumentoAEC/{_SII_DTE}Cesiones/{_SII_DTE}Cesion")
        assert caratula is not None  # the schema says so
        assert cesiones
        last = cesiones[-1].find(f"{_SII_DTE}DocumentoCesion")
        assert last is not None
        if _text(caratula, "RutCedente") != company:
            sender = _text(caratula, "RutCedente")
            return _Judged("RCR", f"RutCedente {sender} no es la empresa que envia ({company})")
        if (_text(caratula, "RutCedente"), _text(caratula, "RutCesionario")) != (
            _text(last, "Cedente/RUT"),
            _text(last, "Cesionario/RUT"),
        ):
            return _Judged("RCR", "la caratula no corresponde al cedente y cesionario de la ultima cesion")
        return self._judge_document(root, cesiones, now, track_id)

    def _judge_document(
        self, root: etree._Element, cesiones: list[etree._Element], now: datetime, track_id: int
    ) -> _Judged:
        cedido = root.find(f".//{_SII_DTE}DocumentoDTECedido")
        dte = cedido.find(f"{_SII_DTE}DTE") if cedido is not None else None
        assert cedido is not None  # the schema says so
        assert dte is not None
        cedido_signature = cedido.getnext()
        if cedido_signature is None or verify_reference(cedido_signature).problem is not None:
            return _Judged("RDC", "la firma del DTE cedido (DocumentoDTECedido) no es valida")
        if verify_dte_signature(etree.tostring(dte), parsed=dte).verdict.value != "valid":
            return _Judged("RDC", "la firma del DTE no es valida")
        header = "Documento/Encabezado/"
        issuer = _text(dte, header + "Emisor/RUTEmisor")
        type_code, folio = int(_text(dte, header + "IdDoc/TipoDTE")), int(_text(dte, header + "IdDoc/Folio"))
        key = (issuer, type_code, folio)
        id_dte = {
            "TipoDTE": str(type_code),
            "RUTEmisor": issuer,
            "RUTReceptor": _text(dte, header + "Receptor/RUTRecep"),
            "Folio": str(folio),
            "FchEmis": _text(dte, header + "IdDoc/FchEmis"),
            "MntTotal": _text(dte, header + "Totales/MntTotal"),
        }
        dossier = self.acceptances.dossier(key)
        if dossier is None:
            return _Judged("RDC", "el DTE no ha sido recibido por el SII", key)
        if dossier.receiver_rut != id_dte["RUTReceptor"]:
            return _Judged("RDC", "el receptor del DTE no es el registrado en el SII", key)
        entry = self.acceptances.register.find(*key)
        if entry is not None and entry.total != int(id_dte["MntTotal"]):
            return _Judged("RDC", "el monto total del DTE no es el registrado en el SII", key)
        code = self.acceptances.cedibility(dossier)
        if code not in (23, 25):
            return _Judged("RDC", f"el DTE no es cedible (codigo {code})", key)
        return self._judge_cessions(key, cesiones, id_dte, now, track_id)

    def _judge_cessions(
        self, key: DocumentKey, cesiones: list[etree._Element], id_dte: Mapping[str, str], now: datetime,
        track_id: int,
    ) -> _Judged:  # fmt: skip
        registered = self._cessions.get(key, [])
        total, issued = int(id_dte["MntTotal"]), date.fromisoformat(id_dte["FchEmis"])
        holder, declared = key[0], False
        new: list[Registered] = []
        for index, cesion in enumerate(cesiones):
            document = cesion.find(f"{_SII_DTE}DocumentoCesion")
            assert document is not None
            seq = int(_text(document, "SeqCesion"))
            label = f"cesion {seq}"
            signature = document.getnext()
            if signature is None or verify_reference(signature).problem is not None:
                return _Judged("RCS", f"{label}: firma no valida", key)
            if seq != index + 1:
                return _Judged("RCS", f"{label}: las cesiones deben ir numeradas de 1 en adelante", key)
            if any(_text(document, f"IdDTE/{name}") != value for name, value in id_dte.items()):
                return _Judged("RCS", f"{label}: IdDTE no corresponde al DTE cedido", key)
            amount = int(_text(document, "MontoCesion"))
            if amount > total:
                return _Judged(
                    "RCS", f"{label}: el monto cedido ({amount}) supera el total del DTE ({total})", key
                )
            if date.fromisoformat(_text(document, "UltimoVencimiento")) < issued:
                return _Judged("RCS", f"{label}: el ultimo vencimiento es anterior a la emision del DTE", key)
            stamped = datetime.fromisoformat(_text(document, "TmstCesion"))
            if stamped > now:
                return _Judged("RCS", f"{label}: la fecha de la cesion es posterior a hoy", key)
            assignor, assignee = _text(document, "Cedente/RUT"), _text(document, "Cesionario/RUT")
            has_declaration = bool(_text(document, "Cedente/DeclaracionJurada", required=False))
            if index < len(registered):
                known = registered[index]
                if (known.seq, known.assignor, known.assignee, known.amount) != (
                    seq,
                    assignor,
                    assignee,
                    amount,
                ):
                    return _Judged("RCS", f"{label}: no corresponde a la cesion registrada", key)
            else:
                if index != len(cesiones) - 1:
                    said = f"{label}: no esta registrada; solo la ultima cesion del archivo puede ser nueva"
                    return _Judged("RCS", said, key)
                if assignor != holder:
                    return _Judged(
                        "RCS",
                        f"{label}: el cedente {assignor} no es el tenedor vigente del DTE ({holder})",
                        key,
                    )
                if declared and not has_declaration:
                    return _Judged("RCS", f"{label}: falta la declaracion jurada de la cesion anterior", key)
                made = Registered(seq, assignor, assignee, amount, stamped, track_id, has_declaration)
                new.append(_detailed(made, document, id_dte))
            holder, declared = assignee, declared or has_declaration
        if not new:
            return _Judged("RCS", "las cesiones del archivo ya estan registradas", key)
        last = cesiones[-1].find(f"{_SII_DTE}DocumentoCesion")
        assert last is not None
        authorized = {_text(a, "RUT") for a in last.findall(f"{_SII_DTE}Cedente/{_SII_DTE}RUTAutorizado")}
        signer = _signer(last.getnext())
        if signer is None or signer not in authorized:
            return _Judged(
                "RCS", f"el firmante de la ultima cesion ({signer}) no esta entre RUTAutorizado", key
            )
        return _Judged("EOK", "", key, new)

    # --- the queries ---------------------------------------------------------------------------------------

    def _period(self, request: Request) -> Response:
        """The cessions of a period whose debtor, assignor or assignee the company is (``TIPOCONSULTA`` 0, 1,
        2), registered between ``DESDE`` and ``HASTA`` (``DDMMAAAA``, both included), as SII's "Consulta de
        Cesiones en Período" downloads them (``TXTXML=TXT``: ``;``-separated, ISO-8859-1, a ``DATOS_CONSULTA``
        line first). The company is ``rutCompany``/``dvCompany`` (as in the upload); the ``TOKEN`` cookie's
        person must act for it."""
        person = self.tokens.person(request.cookies.get("TOKEN"))
        if person is None:
            return _text_answer(401, "NO ESTA AUTENTICADO: TOKEN no valido o expirado")
        form = request.form
        kind = PERIOD_KINDS.get(form.get("TIPOCONSULTA", "").strip())
        try:
            company = normalize_rut(f"{form.get('rutCompany', '')}-{form.get('dvCompany', '')}")
            since = datetime.strptime(form.get("DESDE", ""), "%d%m%Y").date()
            until = datetime.strptime(form.get("HASTA", ""), "%d%m%Y").date()
        except (InvalidRut, ValueError):
            kind = None
        if kind is None:
            return _text_answer(400, "ERROR EN LOS PARAMETROS DE LA CONSULTA")
        if company not in self.data.people[person].companies:
            return _text_answer(403, f"USUARIO {person} SIN PERMISO SOBRE LA EMPRESA {company}")
        with self._lock:
            found = [(key, c) for key, chain in self._cessions.items() for c in chain]
        lines = [
            f"DATOS_CONSULTA; RUT={company};TIPO_CONSULTA={kind};DESDE_DDMMAAAA={form['DESDE']};"
            f"HASTA_DDMMAAAA={form['HASTA']}",
            PERIOD_COLUMNS,
        ]
        for key, cession in sorted(found, key=lambda item: (item[1].at, item[0], item[1].seq)):
            line = period_line(key, cession)
            party = {"DEUDOR": line[2], "CEDENTE": cession.assignor, "CESIONARIO": cession.assignee}[kind]
            if party == company and since <= cession.at.date() <= until:
                lines.append(";".join(line))
        body = "\r\n".join(lines) + "\r\n"
        return Response(
            200, body.encode("iso-8859-1", "replace"), content_type="text/plain; charset=ISO-8859-1"
        )

    def _status(self, parameters: Mapping[str, str]) -> Response:
        person = self.tokens.person(parameters.get("Token", "").strip())
        if person is None:
            return _axis("getEstEnvio", _respuesta("3", "Token Inactivo"))
        text = parameters.get("TrackId", "").strip()
        if not text.isdigit():
            return _axis("getEstEnvio", _respuesta("1", "Error en los datos"))
        with self._lock:
            upload = self._uploads.get(int(text))
            if upload is not None:
                upload.queries += 1
                queries = upload.queries
        if upload is None:
            return _axis("getEstEnvio", _respuesta("2", "No hay informacion"))
        if upload.company not in self.data.people[person].companies:
            return _axis("getEstEnvio", _respuesta("10", f"Usuario {person} sin permiso sobre empresa"))
        state = upload.code if queries > self.processing_queries else PIPELINE[(queries - 1) % len(PIPELINE)]
        description = DESCRIPTIONS[state] + (
            f": {upload.reason}" if state == upload.code and upload.reason else ""
        )
        body = {"TRACKID": str(upload.track_id), "ESTADO_ENVIO": state, "DESC_ESTADO": description}
        return _axis("getEstEnvio", _respuesta("0", "", body))

    def _cession_state(self, parameters: Mapping[str, str]) -> Response:
        if self.tokens.person(parameters.get("Token", "").strip()) is None:
            return _axis("getEstCesion", _respuesta("3", "Token Inactivo"))
        try:
            issuer = normalize_rut(f"{parameters.get('RutEmisor', '')}-{parameters.get('DVEmisor', '')}")
            key = (issuer, int(parameters.get("TipoDoc", "")), int(parameters.get("FolioDoc", "")))
        except (InvalidRut, ValueError):
            return _axis("getEstCesion", _respuesta("1", "Error en los datos"))
        cessions = self.cessions(key)
        if not cessions:
            return _axis("getEstCesion", _respuesta("2", "Documento no Cedido"))
        return _axis("getEstCesion", _respuesta("0", "Documento Cedido"))


_DSIG = "http://www.w3.org/2000/09/xmldsig#"


def period_line(key: DocumentKey, cession: Registered) -> list[str]:
    """One cession as the period listing writes it (:data:`PERIOD_COLUMNS`): the seller and debtor as the
    type says (a 46's buyer issued it), the cession's time to the minute, "Cesion Vigente"."""
    issuer, type_code, folio = key
    seller, debtor = (cession.receiver, issuer) if type_code == 46 else (issuer, cession.receiver)
    issued = cession.issued.isoformat() if cession.issued is not None else ""
    last_due = cession.last_due.isoformat() if cession.last_due is not None else ""
    return [
        seller, "Cesion Vigente", debtor, cession.debtor_email, str(type_code),
        _DOCUMENT_NAMES.get(type_code, ""), str(folio), issued, str(cession.total), cession.assignor,
        cession.assignor_name, cession.assignor_email, cession.assignee, cession.assignee_name,
        cession.assignee_email, cession.at.strftime("%Y-%m-%d %H:%M"), str(cession.amount), last_due,
    ]  # fmt: skip


def _detailed(made: Registered, document: etree._Element, id_dte: Mapping[str, str]) -> Registered:
    """The registered cession with what the period listing shows of it, from its ``DocumentoCesion``."""
    return replace(
        made,
        receiver=id_dte["RUTReceptor"],
        total=int(id_dte["MntTotal"]),
        issued=date.fromisoformat(id_dte["FchEmis"]),
        debtor_email=_text(document, "eMailDeudor", required=False),
        last_due=date.fromisoformat(_text(document, "UltimoVencimiento")),
        assignor_name=_text(document, "Cedente/RazonSocial"),
        assignor_email=_text(document, "Cedente/eMail"),
        assignee_name=_text(document, "Cesionario/RazonSocial"),
        assignee_email=_text(document, "Cesionario/eMail"),
    )


def _text_answer(status: int, text: str) -> Response:
    return Response(
        status, text.encode("iso-8859-1", "replace"), content_type="text/plain; charset=ISO-8859-1"
    )


def _text(parent: etree._Element, path: str, *, required: bool = True) -> str:
    found = parent.find("/".join(_SII_DTE + part for part in path.split("/")))
    value = (found.text or "").strip() if found is not None else ""
    if required and not value:
        raise ValueError(f"{path} missing")  # the schema was checked: cannot happen
    return (
        value.upper()
        if path.endswith(("RUT", "RUTEmisor", "RUTRecep", "RutCedente", "RutCesionario"))
        else value
    )


def _signer(signature: etree._Element | None) -> str | None:
    if signature is None:
        return None
    certificate = verify_reference(signature).certificate
    return holder_rut(certificate) if certificate is not None else None


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """The form's fields and files (name → (filename, content)), read with the standard library."""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}, {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, content)
        else:
            fields[name] = content.decode("latin-1")
    return fields, files


def _reception(
    at: datetime, status: int, sender: str, company: str, filename: str, *, track_id: int | None = None
) -> Response:
    document = element(
        "RECEPCIONAEC",
        element("RUTSENDER", sender),
        element("RUTCOMPANY", company),
        element("FILE", filename),
        element("TIMESTAMP", at.strftime(_STAMP)),
        element("STATUS", str(status)),
        element("TRACKID", f"{track_id:010d}") if track_id is not None else None,
    )
    body = etree.tostring(document, encoding="UTF-8", xml_declaration=True)
    return Response(200, bytes(body), content_type="text/xml; charset=utf-8")


def _respuesta(estado: str, glosa: str, body: Mapping[str, str] | None = None) -> str:
    """``SII:RESPUESTA`` as wsRPETCConsulta writes it: ``SII:ESTADO`` and ``SII:GLOSA`` prefixed."""
    header = element(
        f"{{{SII_NS}}}RESP_HDR",
        element(f"{{{SII_NS}}}ESTADO", estado),
        element(f"{{{SII_NS}}}GLOSA", glosa) if glosa else None,
    )
    content = element(f"{{{SII_NS}}}RESP_BODY", *(element(n, v) for n, v in (body or {}).items()))
    document = element(f"{{{SII_NS}}}RESPUESTA", header, content, nsmap={"SII": SII_NS})
    return etree.tostring(document, encoding="UTF-8", xml_declaration=True).decode("utf-8")
