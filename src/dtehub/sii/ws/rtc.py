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
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx

from dtehub.kit.xml import XmlError, local_name, parse_untrusted
from dtehub.sii.errors import InvalidRequest, SiiTimeout, SiiUnavailable
from dtehub.sii.ws import soap
from dtehub.sii.ws.client import WsClient
from dtehub.sii.ws.errors import WsDocumentUnknown, WsNotAuthorized, WsUnavailable

UPLOAD_PATH = "/cgi_rtc/RTC/RTCAnotEnvio.cgi"
QUERY_PATH = "/DTEWS/services/wsRPETCConsulta"
QUERY_NAMESPACE = "http://DefaultNamespace"
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
    1: "the certificate's holder may not send cessions for the company at SII (STATUS 1): store the "
    "certificate of a person authorized for the company, with the 'Envío de Documentos' permission",
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
        raise WsNotAuthorized(_UPLOAD_STATUS[1])
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
