"""SII's acceptance/claim service (``RegistroReclamoDteService``): a document's reception time at SII, its
event history (acceptance, goods receipt, claims, credit notes), its cedibility code, and registering the
receiver's acceptance or claim.

The service answers ``codResp`` codes (``docs/factoring.md`` lists them); the ones that mean the question
cannot be answered become errors a person can act on (:mod:`dtehub.sii.ws.errors`), the others are data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from dtehub.kit.dates import SANTIAGO
from dtehub.sii.errors import InvalidRequest
from dtehub.sii.ws import soap
from dtehub.sii.ws.client import WsClient
from dtehub.sii.ws.errors import WsDocumentUnknown, WsNotAuthorized, WsTypeNotHandled, WsUnavailable

SERVICE_PATH = "/WSREGISTRORECLAMODTE/registroreclamodteservice"
NAMESPACE = "http://ws.registroreclamodte.diii.sdi.sii.cl"
HANDLED_TYPES = frozenset({33, 34, 43})
"""The types the service answers for (46, the factura de compra, is not among them)."""
ACTIONS = ("ACD", "RCD", "ERM", "RFP", "RFT")
CLAIMS = frozenset({"RCD", "RFP", "RFT"})
RECEIPTS = frozenset({"ACD", "ERM"})
CEDIBLE_CODES = frozenset({23, 25})
NOT_CEDIBLE_CODES = frozenset({20, 21, 24})
NOT_YET_CODE = 22
TIME_FORMAT = "%d-%m-%Y %H:%M:%S"

_UNKNOWN_DOCUMENT = {
    1: "SII finds the issuer's RUT wrong (codResp 1)",
    2: "SII finds the folio wrong (codResp 2)",
    9: "SII has no records for this document (codResp 9)",
    10: "SII has no record of this document issued or received on or after 2017-01-14 (codResp 10)",
    18: "SII has not received this document (codResp 18): it must be sent to SII before anything else",
}


@dataclass(frozen=True)
class DocumentRef:
    issuer_rut: str
    """Canonical, ``76123456-K``."""
    type_code: int
    folio: int

    def label(self) -> str:
        return f"type {self.type_code} folio {self.folio} of {self.issuer_rut}"


@dataclass(frozen=True)
class Event:
    code: str
    """``ACD``, ``ERM``, ``RCD``, ``RFP``, ``RFT``, ``NCA``, ``ENC``…"""
    description: str
    responsible_rut: str
    at: datetime
    """Aware, America/Santiago."""


@dataclass(frozen=True)
class Answer:
    code: int
    description: str


@dataclass(frozen=True)
class History:
    events: tuple[Event, ...]
    listed: bool
    """False when SII gave no list (codResp 8: more than 8 days since it received the document)."""
    answer: Answer


def reception_time(ws: WsClient, document: DocumentRef) -> datetime | None:
    """When SII received the document (Santiago time), or None when SII answers no date."""
    text = _call(ws, "consultarFechaRecepcionSii", document).text
    if not text or not text.strip():
        return None
    try:
        return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=SANTIAGO)
    except ValueError:
        raise WsUnavailable(
            f"SII answered the reception time of {document.label()} as {text.strip()[:40]!r}, not a date; "
            "retry later"
        ) from None


def history(ws: WsClient, document: DocumentRef) -> History:
    """The document's events at SII (codResp 15), none (16), or not listed (8)."""
    answer = _call(ws, "listarEventosHistDoc", document)
    result = _answer(answer)
    if result.code == 8:
        return History((), False, result)
    if result.code not in (15, 16):
        raise _refusal(result, document, "listarEventosHistDoc")
    events = tuple(_event(element) for element in answer if _named(element, "listaEventosDoc"))
    return History(tuple(sorted(events, key=lambda e: e.at)), True, result)


def cedibility(ws: WsClient, document: DocumentRef) -> Answer:
    """SII's cedibility code (20–25) for the document."""
    result = _answer(_call(ws, "consultarDocDteCedible", document))
    if result.code not in range(20, 26):
        raise _refusal(result, document, "consultarDocDteCedible")
    return result


def register_event(ws: WsClient, document: DocumentRef, action: str) -> Answer:
    """Record the receiver's ``ACD``, ``ERM``, ``RCD``, ``RFP`` or ``RFT``: SII's code and text (0 done,
    7 already recorded; 5, 6, 8, 11, 12, 13, 19, 27 refusals that leave the document as it was)."""
    if action not in ACTIONS:
        raise InvalidRequest(f"{action!r} is no action of SII's service; one of {', '.join(ACTIONS)}")
    result = _answer(_call(ws, "ingresarAceptacionReclamoDoc", document, [("accionDoc", action)]))
    if result.code in (1, 2, 3, 9, 10, 14, 17, 18, -1):
        raise _refusal(result, document, "ingresarAceptacionReclamoDoc")
    return result


def _call(
    ws: WsClient, name: str, document: DocumentRef, extra: list[tuple[str, str]] | None = None
) -> etree._Element:
    if document.type_code not in HANDLED_TYPES:
        raise WsTypeNotHandled(
            f"SII's acceptance/claim service handles types 33, 34 and 43 only, not {document.type_code}"
        )
    body, _, dv = document.issuer_rut.partition("-")
    parameters = [("rutEmisor", body), ("dvEmisor", dv.upper()), ("tipoDoc", str(document.type_code))]
    parameters += [("folio", str(document.folio)), *(extra or [])]
    url = ws.config.reclamo_url + SERVICE_PATH
    operation = soap.Operation(url, NAMESPACE, name, encoded=False)
    return ws.authorized(lambda token: soap.call(ws.http, operation, parameters, token=token))


def _answer(element: etree._Element) -> Answer:
    code = soap.field(element, "codResp")
    if code is None or not code.lstrip("-").isdigit():
        raise WsUnavailable("SII's acceptance/claim service answered without a code; retry later")
    return Answer(int(code), soap.field(element, "descResp") or "")


def _refusal(result: Answer, document: DocumentRef, operation: str) -> Exception:
    said = f" ({result.description})" if result.description else ""
    if result.code in _UNKNOWN_DOCUMENT:
        return WsDocumentUnknown(
            f"{_UNKNOWN_DOCUMENT[result.code]}: {document.label()}", sii_code=result.code
        )
    if result.code == 3:
        return WsTypeNotHandled(f"SII does not handle type {document.type_code} in this service (codResp 3)")
    if result.code in (14, 17):
        return WsNotAuthorized(
            f"SII answers that the certificate's holder acts for neither the issuer nor the receiver of "
            f"{document.label()} (codResp {result.code}{said}): store the certificate of a person authorized "
            "for the company at SII"
        )
    if result.code == -1:
        return WsUnavailable(f"SII had an internal error in {operation} (codResp -1); retry later")
    return WsUnavailable(f"SII's {operation} answered codResp {result.code}{said}; retry later")


def _event(element: etree._Element) -> Event:
    code = soap.field(element, "codEvento") or ""
    rut, dv = soap.field(element, "rutResponsable") or "", soap.field(element, "dvResponsable") or ""
    when = soap.field(element, "fechaEvento") or ""
    try:
        at = datetime.strptime(when, TIME_FORMAT).replace(tzinfo=SANTIAGO)
    except ValueError:
        raise WsUnavailable(
            f"SII listed an event {code} dated {when[:40]!r}, not a date; retry later"
        ) from None
    return Event(code, soap.field(element, "descEvento") or "", f"{rut}-{dv}" if rut else "", at)


def _named(element: etree._Element, name: str) -> bool:
    return isinstance(element.tag, str) and etree.QName(element).localname == name
