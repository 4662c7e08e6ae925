"""The emulated SOAP web services: ``CrSeed`` and ``GetTokenFromSeed`` (Axis, rpc/encoded answers) and
``RegistroReclamoDteService`` (JAX-WS, literal), over :mod:`.acceptance`.

Requests are read leniently, as SII does: rpc/encoded or literal, the operation's namespace whatever it is,
parameters by local name. The signed seed is checked as SII's manual says (§4 of the reference): the
``Semilla`` (06), the ``Signature`` (04), the certificate (11), the signature itself (05, 21), the seed known
and younger than two minutes (08; compared as numbers), the certificate's holder among the emulator's people
(``-07``). Tokens travel as the ``TOKEN`` cookie; a missing, unknown or expired one is answered HTTP 401 with
a SOAP fault (SII's own answer is not documented). The acceptance/claim service's rules are the
manual's: only the issuer's, the receiver's or the current holder's people (the holder by the RTC's
registered cessions: ``holder_of``) may ask (14), only the receiver's may act (17).
:class:`WsFaults` makes it misbehave on demand.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lxml import etree

from dtehub.dte.xmldsig import SignatureProblem, verify_document
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.kit.xml import XmlError, local_name, parse_untrusted
from dtehub.kit.xmlbuild import element
from dtehub.sii.emulator.acceptance import (
    ACTIONS,
    EVENT_NAMES,
    FIRST_DAY,
    HANDLED_TYPES,
    RESPONSES,
    Acceptances,
    Dossier,
)
from dtehub.sii.emulator.certificates import holder_rut
from dtehub.sii.emulator.data import DocumentKey, EmulatorData
from dtehub.sii.emulator.portal import Request, Response

SEED_PATH = "/DTEWS/CrSeed.jws"
TOKEN_PATH = "/DTEWS/GetTokenFromSeed.jws"  # noqa: S105 (a path, no secret)
RECLAMO_PATH = "/WSREGISTRORECLAMODTE/registroreclamodteservice"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENCODING = "http://schemas.xmlsoap.org/soap/encoding/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
SII_NS = "http://www.sii.cl/XMLSchema"
RECLAMO_NS = "http://ws.registroreclamodte.diii.sdi.sii.cl"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
SEED_SECONDS = 120.0
MAX_REQUEST_BYTES = 256 * 1024
_TOKEN_ALPHABET = string.ascii_letters + string.digits
_TIME = "%d-%m-%Y %H:%M:%S"


class WsFaults:
    """Misbehaviour of the web services on demand, safe to change while serving (``emulator.ws.faults``)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.seed_estado: str | None = None
        """getSeed answers this ESTADO (``-1``, ``-2``) and no seed."""
        self.token_estado: str | None = None
        """getToken answers this ESTADO whatever it is sent."""
        self.seed_seconds: float = SEED_SECONDS
        """How long a seed may wait for its signed copy (0: every seed has timed out: ESTADO 08)."""
        self.token_seconds: float = 3600.0
        """How long a token is valid."""
        self.reclamo_internal_error: bool = False
        """The acceptance/claim service answers codResp -1 (SII's internal error)."""
        waiting = getattr(self, "reclamo_gate", None)
        if waiting is not None:
            waiting.set()  # a call still waiting ends
        self.reclamo_gate: threading.Event | None = None
        """A slow acceptance/claim service: a call with a valid token waits (at most a minute) until this is
        set; ``reclamo_arrived`` is set when one starts waiting, so a test knows one is in flight."""
        self.reclamo_arrived = threading.Event()


@dataclass
class _Token:
    person: str
    expires: float


class TokenStore:
    """Seeds handed out and tokens made, with their ages; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seeds: dict[int, float] = {}
        self._tokens: dict[str, _Token] = {}
        self._next_seed = secrets.randbelow(10**9)
        self.seeds = 0
        self.tokens = 0

    def new_seed(self) -> str:
        with self._lock:
            self._next_seed += 1 + secrets.randbelow(97)
            self._seeds[self._next_seed] = time.monotonic()
            self.seeds += 1
            return f"{self._next_seed:012d}"

    def take_seed(self, text: str, lifetime: float) -> bool:
        """True when the seed was handed out less than ``lifetime`` ago; it is used up either way."""
        if not text.strip().isdigit():
            return False
        with self._lock:
            issued = self._seeds.pop(int(text.strip()), None)
        return issued is not None and time.monotonic() - issued < lifetime

    def new_token(self, person: str, lifetime: float) -> str:
        token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(13))
        with self._lock:
            self._tokens[token] = _Token(person, time.monotonic() + lifetime)
            self.tokens += 1
        return token

    def person(self, token: str | None) -> str | None:
        with self._lock:
            found = self._tokens.get(token or "")
            return found.person if found is not None and time.monotonic() < found.expires else None

    def expire_all(self) -> None:
        """Every token given so far stops working (as if SII's lifetime had passed)."""
        with self._lock:
            self._tokens.clear()


class WebServices:
    def __init__(self, data: EmulatorData, acceptances: Acceptances) -> None:
        self.data = data
        self.acceptances = acceptances
        self.faults = WsFaults()
        self.tokens = TokenStore()
        self.holder_of: Callable[[DocumentKey], str | None] = lambda key: None
        """The document's current holder by SII's RTC (a company RUT), or None when it was never ceded: the
        emulator sets it to its RTC's."""
        self._routes = {SEED_PATH.lower(), TOKEN_PATH.lower(), RECLAMO_PATH.lower()}

    def handles(self, path: str) -> bool:
        return path.lower() in self._routes

    def answer(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(405, b"", content_type=XML_CONTENT_TYPE)
        try:
            operation, parameters = _read_call(request.body)
        except ValueError as exc:
            return _fault(500, f"Unable to read the request: {exc}")
        path = request.path.lower()
        if path == SEED_PATH.lower() and operation == "getSeed":
            return self._seed()
        if path == TOKEN_PATH.lower() and operation == "getToken":
            return self._token(parameters.get("pszXml", ""))
        if path == RECLAMO_PATH.lower():
            return self._reclamo(request, operation, parameters)
        return _fault(500, f"No such operation '{operation}'")

    # --- seed and token --------------------------------------------------------------------------------

    def _seed(self) -> Response:
        estado = self.faults.seed_estado
        if estado is not None:
            return _axis("getSeed", _respuesta(estado, {}, glosa="Error"))
        return _axis("getSeed", _respuesta("00", {"SEMILLA": self.tokens.new_seed()}))

    def _token(self, signed: str) -> Response:
        estado, token = self._judge(signed)
        if self.faults.token_estado is not None:
            estado, token = self.faults.token_estado, None
        if token is None:
            return _axis("getToken", _respuesta(estado, {}, glosa=_TOKEN_GLOSAS.get(estado, "Error")))
        return _axis("getToken", _respuesta("00", {"TOKEN": token}, glosa="Token Creado"))

    def _judge(self, signed: str) -> tuple[str, str | None]:
        try:
            root = parse_untrusted(_without_declaration(signed).encode("utf-8"), max_bytes=MAX_REQUEST_BYTES)
        except XmlError:
            return "02", None
        seed = next(
            (e.text or "" for e in root.iter() if isinstance(e.tag, str) and local_name(e) == "Semilla"), None
        )
        if seed is None:
            return "06", None
        verdict = verify_document(root)
        if verdict.problem is SignatureProblem.NO_SIGNATURE:
            return "04", None
        if verdict.problem is SignatureProblem.NO_CERTIFICATE or verdict.certificate is None:
            return "11", None
        if verdict.problem is SignatureProblem.KEY_MISMATCH:
            return "21", None
        if verdict.problem is not None:
            return "05", None
        if not self.tokens.take_seed(seed, self.faults.seed_seconds):
            return "08", None
        person = holder_rut(verdict.certificate)
        if person is None or person not in self.data.people:
            return "-07", None
        return "00", self.tokens.new_token(person, self.faults.token_seconds)

    # --- acceptance and claims ---------------------------------------------------------------------------

    def _reclamo(self, request: Request, operation: str, parameters: Mapping[str, str]) -> Response:
        person = self.tokens.person(request.cookies.get("TOKEN"))
        if person is None:
            return _fault(401, "Token no valido o expirado")
        gate = self.faults.reclamo_gate
        if gate is not None:
            self.faults.reclamo_arrived.set()
            gate.wait(60)
        if operation == "getVersion":
            return _jaxws(operation, "1.2")
        if operation not in ("ingresarAceptacionReclamoDoc", "listarEventosHistDoc", "consultarDocDteCedible",
                             "consultarFechaRecepcionSii"):  # fmt: skip
            return _fault(500, f"Cannot find dispatch method for {operation}")
        key_or_code = _document_key(parameters)
        if isinstance(key_or_code, int):
            return self._coded(operation, key_or_code)
        if self.faults.reclamo_internal_error:
            return self._coded(operation, -1, "Error interno, reintente más tarde")
        dossier = self.acceptances.dossier(key_or_code)
        if operation == "consultarFechaRecepcionSii":
            allowed = dossier is not None and self._acts_for(person, dossier) is not None
            moment = dossier.received_at.strftime(_TIME) if dossier is not None and allowed else ""
            return _jaxws(operation, moment)
        if dossier is None:
            return self._coded(operation, 18, "Documento no recibido por el SII")
        if dossier.received_at.date() < FIRST_DAY:
            return self._coded(operation, 10, "Documento no emitido ni recibido a partir del 14-01-2017")
        role = self._acts_for(person, dossier)
        if role is None:
            return self._coded(operation, 14, "Acción solo permitida para empresa receptora o emisora")
        if operation == "consultarDocDteCedible":
            code = self.acceptances.cedibility(dossier)
            return self._coded(operation, code, RESPONSES[code])
        if key_or_code[1] not in HANDLED_TYPES:
            return self._coded(operation, 3, "Tipo de documento no manejado")
        if operation == "listarEventosHistDoc":
            if not dossier.events:
                return self._coded(operation, 16, RESPONSES[16])
            return _jaxws(operation, _listing(dossier))
        action = parameters.get("accionDoc", "").strip()
        if action not in ACTIONS:
            return self._coded(operation, 4, "Acción no válida")
        if role != "receiver":
            return self._coded(operation, 17, "Acción solo permitida para empresa receptora")
        return self._coded(operation, *self.acceptances.register_action(key_or_code, action, person))

    def _acts_for(self, person: str, dossier: Dossier) -> str | None:
        companies = self.data.people[person].companies if person in self.data.people else ()
        if dossier.receiver_rut in companies:
            return "receiver"
        if dossier.key[0] in companies:
            return "issuer"
        if self.holder_of(dossier.key) in companies:
            return "holder"
        return None

    def _coded(self, operation: str, code: int, description: str | None = None) -> Response:
        text = description if description is not None else RESPONSES.get(code, "")
        if operation == "consultarFechaRecepcionSii":  # a bare string: no room for a code
            return _fault(500, text) if code == -1 else _jaxws(operation, "")
        return _jaxws(operation, _respuesta_to(code, text))


_TOKEN_GLOSAS = {
    "02": "Error Interno (SAXException)",
    "04": "Error: no existe elemento Signature",
    "05": "Error: firma no valida",
    "06": "Error: no existe elemento Semilla",
    "08": "Error retorno: TIME-OUT DEL SEED / NO Existe SEED",
    "11": "Error: no existe elemento certificado",
    "21": "Error: llave publica no corresponde al certificado",
    "-07": "Error de validacion de RUT: usuario no registrado para autenticarse con certificado digital",
}


def _document_key(parameters: Mapping[str, str]) -> DocumentKey | int:
    """(issuer, type, folio), or the codResp of what is wrong with them (1 RUT, 2 folio, 3 type)."""
    body, dv = parameters.get("rutEmisor", "").strip(), parameters.get("dvEmisor", "").strip()
    if not body.isdigit() or int(body) < 1000 or len(dv) != 1:
        return 1
    try:
        issuer = normalize_rut(f"{body}-{dv}")
    except InvalidRut:
        return 1
    type_text, folio = parameters.get("tipoDoc", "").strip(), parameters.get("folio", "").strip()
    if not type_text.isdigit() or len(type_text) > 2:
        return 3
    if not folio.isdigit() or int(folio) == 0 or len(folio) > 10:
        return 2
    return (issuer, int(type_text), int(folio))


# --- reading a call ------------------------------------------------------------------------------------


def _read_call(body: bytes) -> tuple[str, dict[str, str]]:
    try:
        root = parse_untrusted(body, max_bytes=MAX_REQUEST_BYTES)
    except XmlError as exc:
        raise ValueError(str(exc)) from None
    soap_body = next((c for c in root if isinstance(c.tag, str) and local_name(c) == "Body"), None)
    if local_name(root) != "Envelope" or soap_body is None:
        raise ValueError("not a SOAP envelope")
    call = next((c for c in soap_body if isinstance(c.tag, str)), None)
    if call is None:
        raise ValueError("an empty Body")
    parameters = {local_name(c): c.text or "" for c in call if isinstance(c.tag, str)}
    return local_name(call), parameters


def _without_declaration(text: str) -> str:
    stripped = text.lstrip()
    return (
        stripped[stripped.index("?>") + 2 :]
        if stripped.startswith("<?xml") and "?>" in stripped
        else stripped
    )


# --- answers -------------------------------------------------------------------------------------------


def _respuesta(estado: str, body: Mapping[str, str], *, glosa: str | None = None) -> str:
    header = element(
        f"{{{SII_NS}}}RESP_HDR", element("ESTADO", estado), element("GLOSA", glosa) if glosa else None
    )
    content = element(f"{{{SII_NS}}}RESP_BODY", *(element(name, value) for name, value in body.items()))
    document = element(f"{{{SII_NS}}}RESPUESTA", header, content, nsmap={"SII": SII_NS})
    return etree.tostring(document, encoding="UTF-8", xml_declaration=True).decode("utf-8")


def _axis(operation: str, text: str) -> Response:
    wrapper = element(
        etree.QName("http://DefaultNamespace", f"{operation}Response"),
        element(f"{operation}Return", text, attributes={etree.QName(XSI, "type"): "xsd:string"}),
        nsmap={"ns1": "http://DefaultNamespace"},
        attributes={etree.QName(SOAP_ENV, "encodingStyle"): SOAP_ENCODING},
    )
    return _envelope(200, wrapper, {"soapenv": SOAP_ENV, "xsd": XSD, "xsi": XSI})


def _respuesta_to(code: int, description: str) -> etree._Element:
    return element("return", element("codResp", str(code)), element("descResp", description))


def _listing(dossier: Dossier) -> etree._Element:
    returned = _respuesta_to(15, RESPONSES[15])
    for event in dossier.events:
        body, _, dv = event.rut.partition("-")
        returned.append(
            element(
                "listaEventosDoc",
                element("codEvento", event.code),
                element("descEvento", EVENT_NAMES[event.code]),
                element("rutResponsable", body),
                element("dvResponsable", dv),
                element("fechaEvento", event.at.strftime(_TIME)),
            )
        )
    return returned


def _jaxws(operation: str, content: etree._Element | str) -> Response:
    returned = element("return", content) if isinstance(content, str) else content
    wrapper = element(etree.QName(RECLAMO_NS, f"{operation}Response"), returned, nsmap={"ns2": RECLAMO_NS})
    return _envelope(200, wrapper, {"S": SOAP_ENV})


def _fault(status: int, message: str) -> Response:
    fault = element(
        etree.QName(SOAP_ENV, "Fault"), element("faultcode", "S:Server"), element("faultstring", message)
    )
    return _envelope(status, fault, {"S": SOAP_ENV})


def _envelope(status: int, content: etree._Element, nsmap: Mapping[str | None, str]) -> Response:
    document = element(
        etree.QName(SOAP_ENV, "Envelope"), element(etree.QName(SOAP_ENV, "Body"), content), nsmap=nsmap
    )
    body = etree.tostring(document, encoding="UTF-8", xml_declaration=True)
    return Response(status, bytes(body), content_type=XML_CONTENT_TYPE)
