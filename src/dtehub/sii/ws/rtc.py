"""SII's Registro de Transferencia de Créditos (RTC): uploading an electronic cession file (AEC) and following
its track id.

- :func:`upload` posts the AEC as SII's manual says (``RTCAnotEnvio.cgi``, ``multipart/form-data`` with
  ``emailNotif``, ``rutCompany``, ``dvCompany`` and the file ``archivo``, in that order, the token as the
  ``TOKEN`` cookie) and reads ``RECEPCIONAEC``: ``STATUS`` 0 gives the track id; 5 (token) is answered with a
  new token, once; the others are errors a person can act on.
- :func:`status` asks ``wsRPETCConsulta.getEstEnvio`` (rpc/encoded SOAP, the token as its first parameter)
  and answers the upload's state: pending (``UPL``, ``RCP``, ``SOK``, ``FSO``, ``COK``, ``VDC``, ``VCS``),
  accepted (``EOK``: the cession is registered) or rejected (``RSC``, ``RFS``, ``RCR``, ``RDC``, ``RCS``,
  ``EAN``, and any code this module does not know), with SII's words and what they mean.
- :func:`period_cessions` downloads the RTC's "Consulta de Cesiones en Período" (``RTCConsultaCesiones.cgi``,
  ``TIPOCONSULTA=2``: the cessions made to the company, ``TXTXML=TXT``) and reads its ``;``-separated rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import httpx

from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.kit.xml import XmlError, local_name, parse_untrusted
from dtehub.sii.errors import InvalidRequest, SiiTimeout, SiiUnavailable
from dtehub.sii.ws import soap
from dtehub.sii.ws.client import WsClient
from dtehub.sii.ws.errors import WsDocumentUnknown, WsNotAuthorized, WsUnavailable

UPLOAD_PATH = "/cgi_rtc/RTC/RTCAnotEnvio.cgi"
QUERY_PATH = "/DTEWS/services/wsRPETCConsulta"
QUERY_NAMESPACE = "http://DefaultNamespace"
PERIOD_PATH = "/cgi_rtc/RTC/RTCConsultaCesiones.cgi"
MAX_LISTING_BYTES = 16 * 1024 * 1024
MAX_ANSWER_BYTES = 256 * 1024


class Outcome(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


PENDING_STATES = frozenset({"UPL", "RCP", "SOK", "FSO", "COK", "VDC", "VCS"})
STATES = {
    "UPL": "SII is loading the file",
    "RCP": "SII received the file",
    "SOK": "SII validated the file's schema",
    "FSO": "SII validated the cover's signature",
    "COK": "SII validated the cover",
    "VDC": "SII is validating the ceded document",
    "VCS": "SII is validating the cession",
    "EOK": "SII registered the cession",
    "RSC": "SII rejected the file: it does not follow SII's schema",
    "RFS": "SII rejected the file: the cover's signature (the sender's) does not hold",
    "RCR": "SII rejected the file: its cover does not match the cession (assignor, assignee or sender)",
    "RDC": "SII rejected the file: the ceded document is not valid (not received by SII, not SII's record, "
    "or not cedible)",
    "RCS": "SII rejected the file: the cession is not valid (amount, dates, assignor, signer or an earlier "
    "cession)",
    "EAN": "SII annulled the upload",
}
_UPLOAD_STATUS = {
    1: "SII does not let {sender} send cessions for {company} (STATUS 1): the certificate's holder must be "
    "authorized for the company at SII, with the 'Envío de Documentos' permission; store the certificate of "
    "such a person, or have SII's authorization given to this one (sii.cl, Registro de Personas Autorizadas)",
    2: "SII refused the file's size (STATUS 2)",
    4: "SII found a field of the upload missing (STATUS 4)",
    6: "SII does not know the company as an authorized issuer of electronic documents (STATUS 6): check "
    "that DTEHUB_SII_WS_URL is the right environment (production or certification)",
}


@dataclass(frozen=True)
class Upload:
    track_id: int
    """SII's TRACKID."""
    received_at: str
    """SII's TIMESTAMP, as it wrote it."""


@dataclass(frozen=True)
class UploadState:
    track_id: int
    code: str
    """SII's ESTADO_ENVIO (``EOK``, ``RCS``…)."""
    description: str
    """SII's DESC_ESTADO."""
    outcome: Outcome

    @property
    def meaning(self) -> str:
        """What the code means, and SII's own words when they add something."""
        known = STATES.get(self.code, f"SII answered the state {self.code}")
        return f"{known} ({self.code}: {self.description})" if self.description else f"{known} ({self.code})"


def upload(ws: WsClient, company_rut: str, email: str, filename: str, data: bytes) -> Upload:
    """Upload the AEC for the company (the assignor); SII's track id, or an error that says why not."""
    body, _, dv = company_rut.partition("-")
    fields = {"emailNotif": email, "rutCompany": body, "dvCompany": dv.upper()}
    url = ws.config.ws_url + UPLOAD_PATH

    def post(token: str) -> Upload:
        try:
            response = ws.http.post(
                url,
                data=fields,
                files={"archivo": (filename, data, "text/xml")},
                headers={"Cookie": f"TOKEN={token}", "Cache-Control": "no-cache"},
            )
        except httpx.TimeoutException:
            raise SiiTimeout("SII's RTC did not answer the upload in time; retry later") from None
        except httpx.HTTPError as error:
            raise SiiUnavailable(
                f"SII's RTC could not be reached ({type(error).__name__}); retry later, or check "
                "DTEHUB_SII_WS_URL"
            ) from None
        return _reception(response)

    return ws.authorized(post)


def _reception(response: httpx.Response) -> Upload:
    if response.status_code in (401, 403):
        raise soap.TokenRejected("RTCAnotEnvio")
    try:
        root = parse_untrusted(response.content, max_bytes=MAX_ANSWER_BYTES)
    except XmlError:
        raise WsUnavailable(
            "SII's RTC answered the upload with something that is not its answer "
            f"(HTTP {response.status_code}): SII may be in maintenance; retry later"
        ) from None
    if local_name(root) != "RECEPCIONAEC":
        raise WsUnavailable(f"SII's RTC answered {local_name(root)}, not RECEPCIONAEC; retry later")
    status = soap.field(root, "STATUS") or ""
    if status == "5":
        raise soap.TokenRejected("RTCAnotEnvio")
    track = soap.field(root, "TRACKID") or ""
    if status == "0" and track.isdigit():
        return Upload(int(track), soap.field(root, "TIMESTAMP") or "")
    code = int(status) if status.isdigit() else -1
    if code == 1:
        sender, company = soap.field(root, "RUTSENDER") or "?", soap.field(root, "RUTCOMPANY") or "?"
        raise WsNotAuthorized(_UPLOAD_STATUS[1].format(sender=sender, company=company))
    if code in (2, 4):
        raise InvalidRequest(_UPLOAD_STATUS[code])
    if code == 6:
        raise WsNotAuthorized(_UPLOAD_STATUS[6])
    raise WsUnavailable(f"SII's RTC could not take the upload (STATUS {status or 'none'}); retry later")


def status(ws: WsClient, track_id: int) -> UploadState:
    """The upload's state now."""
    url = ws.config.ws_url + QUERY_PATH
    operation = soap.Operation(url, QUERY_NAMESPACE, "getEstEnvio", encoded=True)

    def ask(token: str) -> UploadState:
        parameters = [("Token", token), ("TrackId", str(track_id))]
        answer = soap.respuesta(soap.call(ws.http, operation, parameters).text, "getEstEnvio")
        estado = soap.field(answer, "ESTADO") or ""
        if estado in ("3", "4", "5"):
            raise soap.TokenRejected("getEstEnvio")
        if estado == "2":
            raise WsDocumentUnknown(f"SII has no upload with track id {track_id} (ESTADO 2)")
        if estado in ("9", "10"):
            raise WsNotAuthorized(
                f"SII answers that the certificate's holder may not see upload {track_id} (ESTADO {estado}): "
                "store the certificate of a person authorized for the company"
            )
        if estado != "0":
            glosa = soap.field(answer, "GLOSA")
            said = f": {glosa[:120]}" if glosa else ""
            raise WsUnavailable(f"SII's getEstEnvio answered ESTADO {estado or 'none'}{said}; retry later")
        code = (soap.field(answer, "ESTADO_ENVIO") or "").upper()
        description = soap.field(answer, "DESC_ESTADO") or ""
        if code == "EOK":
            outcome = Outcome.ACCEPTED
        elif code in PENDING_STATES or not code:
            outcome = Outcome.PENDING
        else:
            outcome = Outcome.REJECTED
        return UploadState(track_id, code, description, outcome)

    return ws.authorized(ask)


def ceded(ws: WsClient, issuer_rut: str, type_code: int, folio: int) -> bool:
    """Whether SII's RTC has a cession of the document registered (``getEstCesion`` without ``IdCesion``:
    ESTADO 0, "Documento Cedido"; 2, no information: not ceded)."""
    url = ws.config.ws_url + QUERY_PATH
    operation = soap.Operation(url, QUERY_NAMESPACE, "getEstCesion", encoded=True)
    body, _, dv = issuer_rut.partition("-")

    def ask(token: str) -> bool:
        parameters = [
            ("Token", token),
            ("RutEmisor", body),
            ("DVEmisor", dv.upper()),
            ("TipoDoc", str(type_code)),
            ("FolioDoc", str(folio)),
        ]
        answer = soap.respuesta(soap.call(ws.http, operation, parameters).text, "getEstCesion")
        estado = soap.field(answer, "ESTADO") or ""
        if estado in ("3", "4", "5"):
            raise soap.TokenRejected("getEstCesion")
        if estado == "0":
            return True
        if estado == "2":
            return False
        if estado in ("9", "10", "-15"):
            raise WsNotAuthorized(
                f"SII answers that the certificate's holder may not ask about this document (ESTADO {estado})"
            )
        glosa = soap.field(answer, "GLOSA")
        said = f": {glosa[:120]}" if glosa else ""
        raise WsUnavailable(f"SII's getEstCesion answered ESTADO {estado or 'none'}{said}; retry later")

    return ws.authorized(ask)


# --- the cessions of a period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodCession:
    """One row of the RTC's period listing: a registered cession of a document."""

    issuer_rut: str
    """The DTE's issuer (the seller; for a 46, the buyer, who issues it)."""
    type_code: int
    folio: int
    receiver_rut: str
    issue_date: date
    total: int
    """MNT_TOTAL, whole pesos."""
    assignor_rut: str
    assignor_name: str
    assignee_rut: str
    assignee_name: str
    amount: int
    """MNT_CESION, whole pesos."""
    ceded_at: datetime
    """FCH_CESION (to the minute, Santiago wall-clock time)."""
    last_due_date: date
    debtor_email: str
    state: str
    """ESTADO_CESION (``Cesion Vigente``)."""


@dataclass(frozen=True)
class PeriodListing:
    cessions: list[PeriodCession]
    unreadable: list[str]
    """The rows that could not be read, each with why (in words)."""


def period_cessions(ws: WsClient, company_rut: str, since: date, until: date) -> PeriodListing:
    """The cessions made to the company (``TIPOCONSULTA=2``, the company the assignee) that SII's RTC
    registered from ``since`` to ``until`` (both included)."""
    body, _, dv = company_rut.partition("-")
    fields = {
        "TIPOCONSULTA": "2",
        "TXTXML": "TXT",
        "DESDE": since.strftime("%d%m%Y"),
        "HASTA": until.strftime("%d%m%Y"),
        "rutCompany": body,
        "dvCompany": dv.upper(),
    }
    url = ws.config.ws_url + PERIOD_PATH

    def ask(token: str) -> PeriodListing:
        try:
            response = ws.http.post(url, data=fields, headers={"Cookie": f"TOKEN={token}"})
        except httpx.TimeoutException:
            raise SiiTimeout("SII's RTC did not answer the cessions' listing in time; retry later") from None
        except httpx.HTTPError as error:
            raise SiiUnavailable(
                f"SII's RTC could not be reached ({type(error).__name__}); retry later, or check "
                "DTEHUB_SII_WS_URL"
            ) from None
        if response.status_code == 401:
            raise soap.TokenRejected("RTCConsultaCesiones")
        if response.status_code == 403:
            raise WsNotAuthorized(
                f"SII's RTC answers that the certificate's holder may not list the cessions of "
                f"{company_rut}: store the certificate of a person authorized for the company"
            )
        if response.status_code != 200 or len(response.content) > MAX_LISTING_BYTES:
            raise WsUnavailable(
                f"SII's RTC answered the cessions' listing with HTTP {response.status_code}; retry later"
            )
        return read_period(response.content.decode("iso-8859-1"))

    return ws.authorized(ask)


_COLUMNS = (
    "VENDEDOR", "ESTADO_CESION", "DEUDOR", "MAIL_DEUDOR", "TIPO_DOC", "NOMBRE_DOC", "FOLIO_DOC",
    "FCH_EMIS_DTE", "MNT_TOTAL", "CEDENTE", "RZ_CEDENTE", "MAIL_CEDENTE", "CESIONARIO", "RZ_CESIONARIO",
    "MAIL_CESIONARIO", "FCH_CESION", "MNT_CESION", "FCH_VENCIMIENTO",
)  # fmt: skip


def read_period(text: str) -> PeriodListing:
    """The listing's rows: a ``DATOS_CONSULTA`` line (optional), the header line, then one cession a line.
    SII writes several e-mails of one field separated by an unescaped ``;``: consecutive fields with an
    ``@`` in a row that has too many are taken as one."""
    lines = [line for line in text.splitlines() if line.strip()]
    first = 2
    if lines and lines[0].upper().startswith("DATOS_CONSULTA"):
        lines, first = lines[1:], 3
    if not lines or tuple(part.strip().upper() for part in lines[0].split(";")) != _COLUMNS:
        raise WsUnavailable("SII's RTC answered the cessions' listing without its columns; retry later")
    cessions, unreadable = [], []
    for number, line in enumerate(lines[1:], start=first):
        try:
            cessions.append(_period_row(dict(zip(_COLUMNS, _fields(line), strict=True))))
        except (ValueError, InvalidRut) as error:
            unreadable.append(f"line {number}: {error}")
    return PeriodListing(cessions, unreadable)


def _fields(line: str) -> list[str]:
    parts = [part.strip() for part in line.split(";")]
    if len(parts) == len(_COLUMNS):
        return parts
    merged: list[str] = []
    for index, part in enumerate(parts):
        if merged and "@" in part and "@" in parts[index - 1]:
            merged[-1] += "," + part
        else:
            merged.append(part)
    if len(merged) != len(_COLUMNS):
        raise ValueError(f"{len(parts)} fields where the listing has {len(_COLUMNS)}")
    return merged


def _period_row(row: dict[str, str]) -> PeriodCession:
    type_code = int(row["TIPO_DOC"])
    seller, debtor = normalize_rut(row["VENDEDOR"]), normalize_rut(row["DEUDOR"])
    issuer, receiver = (debtor, seller) if type_code == 46 else (seller, debtor)
    return PeriodCession(
        issuer_rut=issuer,
        type_code=type_code,
        folio=int(row["FOLIO_DOC"]),
        receiver_rut=receiver,
        issue_date=date.fromisoformat(row["FCH_EMIS_DTE"]),
        total=int(row["MNT_TOTAL"]),
        assignor_rut=normalize_rut(row["CEDENTE"]),
        assignor_name=row["RZ_CEDENTE"],
        assignee_rut=normalize_rut(row["CESIONARIO"]),
        assignee_name=row["RZ_CESIONARIO"],
        amount=int(row["MNT_CESION"]),
        ceded_at=datetime.strptime(row["FCH_CESION"], "%Y-%m-%d %H:%M"),
        last_due_date=date.fromisoformat(row["FCH_VENCIMIENTO"]),
        debtor_email="" if row["MAIL_DEUDOR"] in ("", "null") else row["MAIL_DEUDOR"],
        state=row["ESTADO_CESION"],
    )
