"""The emulated Registro de Aceptación o Reclamo: per document, when SII received it, who receives it, and
its events (acceptance, goods receipt, claims, credit notes), with SII's rules over time.

Documents are keyed as everywhere in the emulator: (issuer RUT, type, folio), the keys of the RCV's register
(:mod:`.register`), whose documents are SII's: a claim made through the service shows in the RCV and one the
register holds shows in the service. Documents of ``dtes/`` that the register does not hold are received at
noon of their issue date unless ``acceptance.json`` says otherwise; tests add more with
:meth:`Acceptances.receive`. A credit note (61) of ``dtes/`` that refers to one of its issuer's documents adds
``NCA`` (it cancels it: CodRef 1) or ``ENC`` to that document's events.

``acceptance.json`` (optional)::

    {"received": {"76399752-9/33/25568": "2026-09-08T10:15:00"},
     "events": {"76399752-9/33/25568": [{"code": "ERM", "rut": "81675600-6", "at": "2026-09-09T09:00:00"}]}}

Times are Santiago wall-clock times (naive), as SII shows them, on the register's clock (a test moves it with
:meth:`Acceptances.advance`). The rules are the manual's (``sii-ws-reclamo-cesion.md`` §2.4-2.7): events only
within 8 calendar days of SII's reception; a claim excludes acceptance and receipt and the other way round;
``consultarDocDteCedible`` answers 21 (cancelling credit note within the 8 days), 24 (claimed), 23 (receipt or
acceptance), 25 (8 days passed) or 22 (none yet). :attr:`Acceptances.listeners` hear each event recorded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from dtehub.dte.errors import DteUnreadable
from dtehub.dte.reader import read_fields
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES, XmlError, parse_untrusted
from dtehub.sii.emulator.data import DocumentKey, EmulatorData, EmulatorDataError, StoredDte
from dtehub.sii.emulator.register import Register, santiago_now

ACCEPTANCE_FILE = "acceptance.json"
WINDOW = timedelta(days=8)
HANDLED_TYPES = frozenset({33, 34, 43})
FIRST_DAY = date(2017, 1, 14)
CLAIMS = frozenset({"RCD", "RFP", "RFT"})
RECEIPTS = frozenset({"ACD", "ERM"})
ACTIONS = frozenset({"ACD", "ERM", *CLAIMS})
EVENT_NAMES = {
    "ACD": "Acepta Contenido del Documento",
    "RCD": "Reclamo al Contenido del Documento",
    "ERM": "Otorga Recibo de Mercaderías o Servicios",
    "RFP": "Reclamo por Falta Parcial de Mercaderías",
    "RFT": "Reclamo por Falta Total de Mercaderías",
    "NCA": "Recepción de NC de anulación que referencia al documento",
    "ENC": "Recepción de NC, distinta de anulación, que referencia al documento",
}
RESPONSES = {
    0: "Acción Completada OK",
    6: "Acción no permitida, documento reclamado por {claim}",
    7: "Evento registrado previamente",
    8: "Pasados 8 días después de la recepción no es posible registrar reclamos o eventos",
    11: "No se puede reclamar un documento que ya fue aceptado",
    12: "No se puede aceptar un documento que fue reclamado por {claim}",
    13: "No se puede reclamar un documento con recibo de mercaderías",
    15: "Listado de eventos del documento",
    16: "Documento no registra reclamos ni recibo de mercaderías",
    20: "Tipo de documento no cedible",
    21: "DTE no cedible, referenciado por nota de crédito de anulación en los primeros 8 días",
    22: "DTE no registra reclamos ni acuse de recibo",
    23: "DTE Cedible, sin reclamos",
    24: "DTE no cedible, reclamado por el receptor",
    25: "DTE Cedible, sin reclamos pasados 8 días desde la recepción",
}


Listener = Callable[[DocumentKey, "Recorded"], None]


@dataclass(frozen=True)
class Recorded:
    code: str
    rut: str
    """Who recorded it (the person's RUT for an action; the note's issuer for NCA/ENC)."""
    at: datetime


@dataclass
class Dossier:
    key: DocumentKey
    receiver_rut: str
    received_at: datetime
    events: list[Recorded] = field(default_factory=list)


class Acceptances:
    """Every document's reception and events, over the RCV's register; thread-safe.

    A document of the register (``rcv/``, ``emulator.register``) is received when its entry says, by its
    customer; its ``accepted_at`` shows as ``ERM``, its claim as the claim's code, and a credit note in the
    register that refers to it as ``NCA`` (for at least its total: it cancels it) or ``ENC``. Events recorded
    here go to the register too (``accept``, ``claim``), so the RCV shows them. Documents of ``dtes/`` that
    the register does not hold, and those of :meth:`receive`, are this module's own. The clock is the
    register's.
    """

    def __init__(self, register: Register | None = None) -> None:
        self.register = register if register is not None else Register()
        self._lock = threading.Lock()
        self._own: dict[DocumentKey, tuple[str, datetime]] = {}
        """Documents the register does not hold: (receiver, received at)."""
        self._events: dict[DocumentKey, list[Recorded]] = {}
        self.listeners: list[Listener] = []

    @classmethod
    def load(cls, data: EmulatorData) -> Acceptances:
        acceptances = cls(data.register)
        config = _config(data.directory)
        received = {_key(k): _moment(v, k) for k, v in _mapping(config.get("received", {})).items()}
        for document in data.documents.values():
            if data.register.find(*document.key) is None:
                at = received.get(document.key, datetime.combine(document.issue_date, time(12)))
                acceptances._own[document.key] = (document.receiver_rut, at)
        for document in data.documents.values():
            if document.code == 61 and document.key in acceptances._own:
                acceptances._note_events(document)
        for key_text, events in _mapping(config.get("events", {})).items():
            key = _key(key_text)
            base = acceptances._base(key)
            if base is None:
                raise EmulatorDataError(
                    f"{ACCEPTANCE_FILE}: events of {key_text}, a document SII does not hold"
                )
            for event in events if isinstance(events, list) else []:
                code = str(event.get("code", ""))
                if code not in EVENT_NAMES:
                    raise EmulatorDataError(f"{ACCEPTANCE_FILE}: {key_text}: {code!r} is no event code")
                rut = _rut(event.get("rut", base[0]), key_text)
                acceptances._events.setdefault(key, []).append(
                    Recorded(code, rut, _moment(event.get("at"), key_text))
                )
        return acceptances

    def _note_events(self, note: StoredDte) -> None:
        try:
            fields = read_fields(parse_untrusted(note.content, max_bytes=DEFAULT_MAX_XML_BYTES))
        except (XmlError, DteUnreadable):
            return
        received_at = self._own[note.key][1]
        for reference in fields.references:
            if not (reference.document_type.isdigit() and reference.folio.isdigit()) or reference.other_rut:
                continue
            target = (note.issuer_rut, int(reference.document_type), int(reference.folio))
            if self._base(target) is not None:
                code = "NCA" if reference.reason_code == 1 else "ENC"
                self._events.setdefault(target, []).append(Recorded(code, note.issuer_rut, received_at))

    # --- time ------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.register.now()

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (the register's too): 8-day windows close, tacit acceptance comes."""
        self.register.advance(delta)

    def reset_clock(self) -> None:
        """Back to the real time."""
        self.register.set_clock(santiago_now)

    # --- tests and other services change it -------------------------------------------------------------

    def receive(
        self, issuer_rut: str, type_code: int, folio: int, receiver_rut: str, at: datetime | None = None
    ) -> None:
        """SII receives a document the register does not hold (at ``at``, default now); receiving it again
        changes nothing. (``emulator.register.add`` puts one in both.)"""
        key = (normalize_rut(issuer_rut), type_code, folio)
        moment = at or self.now()
        with self._lock:
            self._own.setdefault(key, (normalize_rut(receiver_rut), moment))

    def credit_note(self, target: DocumentKey, *, cancelling: bool, at: datetime | None = None) -> Recorded:
        """SII receives a credit note of the issuer that refers to ``target``."""
        return self._append(target, Recorded("NCA" if cancelling else "ENC", target[0], at or self.now()))

    def record(self, key: DocumentKey, code: str, rut: str, at: datetime | None = None) -> Recorded:
        """Put an event on the record without SII's rules (tests; :meth:`register_action` applies them)."""
        if code not in EVENT_NAMES:
            raise ValueError(f"{code!r} is no event code")
        return self._append(key, Recorded(code, normalize_rut(rut), at or self.now()))

    def _append(self, key: DocumentKey, event: Recorded) -> Recorded:
        if self._base(key) is None:
            raise KeyError(f"SII has not received {key}")
        with self._lock:
            self._events.setdefault(key, []).append(event)
            listeners = list(self.listeners)
        entry = self.register.find(*key)
        if entry is not None:  # the RCV shows it too
            if event.code in RECEIPTS and entry.accepted_at is None:
                self.register.accept(*key, at=event.at)
            elif event.code in CLAIMS and entry.claimed_at is None:
                self.register.claim(*key, at=event.at, event=event.code)
        for listener in listeners:
            listener(key, event)
        return event

    # --- what the service reads ---------------------------------------------------------------------------

    def _base(self, key: DocumentKey) -> tuple[str, datetime] | None:
        entry = self.register.find(*key)
        if entry is not None:
            return entry.customer_rut, entry.received_at
        with self._lock:
            return self._own.get(key)

    def dossier(self, key: DocumentKey) -> Dossier | None:
        """The document as SII knows it now (None before SII received it)."""
        now = self.now()
        base = self._base(key)
        if base is None or base[1] > now:
            return None
        receiver, received_at = base
        with self._lock:
            events = list(self._events.get(key, []))
        events += self._register_events(key, events)
        visible = sorted((e for e in events if e.at <= now), key=lambda e: e.at)
        return Dossier(key, receiver, received_at, visible)

    def _register_events(self, key: DocumentKey, own: list[Recorded]) -> list[Recorded]:
        """What the register says happened that this module did not record itself."""
        entry = self.register.find(*key)
        if entry is None:
            return []
        codes = {e.code for e in own}
        found = []
        if entry.accepted_at is not None and not codes & RECEIPTS:
            found.append(Recorded("ERM", entry.customer_rut, entry.accepted_at))
        claim = entry.claim_event or "RCD"
        if entry.claimed_at is not None and claim not in codes:
            found.append(Recorded(claim, entry.customer_rut, entry.claimed_at))
        if not codes & {"NCA", "ENC"}:
            for note in self.register.referring(*key):
                if note.type_code == 61:
                    code = "NCA" if note.total >= entry.total else "ENC"
                    found.append(Recorded(code, key[0], note.received_at))
        return found

    def cedibility(self, dossier: Dossier) -> int:
        if dossier.key[1] not in HANDLED_TYPES:
            return 20
        now = self.now()
        window_end = dossier.received_at + WINDOW
        if any(e.code == "NCA" and e.at <= window_end for e in dossier.events):
            return 21
        codes = {e.code for e in dossier.events}
        if codes & CLAIMS:
            return 24
        if codes & RECEIPTS:
            return 23
        return 25 if now >= window_end else 22

    def register_action(self, key: DocumentKey, action: str, person_rut: str) -> tuple[int, str]:
        """The receiver's action through the service, with SII's rules: (codResp, descResp)."""
        now = self.now()
        dossier = self.dossier(key)
        if dossier is None:
            return 18, "Documento no recibido por el SII"
        if now > dossier.received_at + WINDOW:
            return 8, RESPONSES[8]
        codes = [e.code for e in dossier.events]
        claims = [code for code in codes if code in CLAIMS]
        if action in CLAIMS:
            if action in claims:
                return 7, RESPONSES[7]
            if "ERM" in codes:
                return 13, RESPONSES[13]
            if "ACD" in codes:
                return 11, RESPONSES[11]
        elif claims:
            code = 12 if action == "ACD" else 6
            return code, RESPONSES[code].format(claim=claims[0])
        elif action in codes:
            return 7, RESPONSES[7]
        self._append(key, Recorded(action, person_rut, now))
        return 0, RESPONSES[0]


# --- acceptance.json ---------------------------------------------------------------------------------


def _config(directory: Path) -> dict[str, object]:
    path = directory / ACCEPTANCE_FILE
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EmulatorDataError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise EmulatorDataError(f"{path} must hold a JSON object")
    return config


def _mapping(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise EmulatorDataError(f'{ACCEPTANCE_FILE}: "received" and "events" map "rut/type/folio" to values')
    return {str(k): v for k, v in value.items()}


def _key(text: str) -> DocumentKey:
    rut, _, rest = text.partition("/")
    code, _, folio = rest.partition("/")
    if not (code.isdigit() and folio.isdigit()):
        raise EmulatorDataError(f'{ACCEPTANCE_FILE}: {text!r} is not "rut/type/folio"')
    return (_rut(rut, text), int(code), int(folio))


def _rut(value: object, where: str) -> str:
    try:
        return normalize_rut(str(value))
    except InvalidRut as exc:
        raise EmulatorDataError(f"{ACCEPTANCE_FILE}: {where}: {exc}") from None


def _moment(value: object, where: str) -> datetime:
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        raise EmulatorDataError(f"{ACCEPTANCE_FILE}: {where}: {value!r} is not a date-time") from None
