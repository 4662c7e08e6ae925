"""What the emulated portal knows: companies, people, states (``emulator.json``) and the DTEs in ``dtes/``.

``emulator.json``::

    {"companies": [{"rut": "76399752-9", "name": "EMPRESA SPA", "mipyme": true}],
     "people": [{"rut": "12345678-5", "name": "Juana Pérez", "companies": ["76399752-9"],
                 "password_only": false}],
     "states": {"76399752-9/33/25568": "Documento Emitido"}}

``rcv/`` holds the companies' Registro de Ventas (:mod:`dtehub.sii.emulator.register`).

``dtes/*.xml`` each hold a DTE, a SetDTE or an EnvioDTE. Every DTE is indexed by (issuer RUT, type,
folio) and kept as its own original bytes, cut out by :func:`~dtehub.dte.envelope.split_dtes`, because
the download must serve the very bytes its signature covers. Its fields come from dtehub's own reader
(:func:`~dtehub.dte.reader.read_fields`); the schema, signature and timbre checks of the import pipeline
are skipped on purpose: SII serves what it holds, valid or not, and the emulator should load fast.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from dtehub.dte.envelope import split_dtes
from dtehub.dte.errors import DteUnreadable
from dtehub.dte.reader import read_fields
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES, XmlError, parse_untrusted
from dtehub.sii.emulator.register import RCV_DIR, Register

log = logging.getLogger(__name__)

CONFIG_FILE = "emulator.json"
DTES_DIR = "dtes"
CA_DIR = "ca"
DEFAULT_STATE = "Documento Emitido"
MAX_FILE_BYTES = 256 * 1024 * 1024
"""A file in ``dtes/`` larger than this is skipped; each DTE in it is also held to the parser's limit."""

_BOM = b"\xef\xbb\xbf"
_CODIGO_FIRST = 10_000_000
_CODIGO_SPAN = 90_000_000  # eight-digit ids, like the portal's

DocumentKey = tuple[str, int, int]
"""(issuer RUT, document type, folio)."""


class EmulatorDataError(ValueError):
    """``emulator.json`` is missing or says something the emulator cannot use."""


@dataclass(frozen=True)
class Company:
    rut: str
    name: str
    mipyme: bool = True
    """False: a company that never used the MIPYME portal; the respaldo route says it has no data."""


@dataclass(frozen=True)
class Person:
    rut: str
    name: str
    companies: tuple[str, ...] = ()
    """The companies whose portal this person may use, in the order the selector lists them."""
    password_only: bool = False
    """The person told SII to log in with the password only: certificate logins get code 33."""


@dataclass(frozen=True)
class StoredDte:
    """One DTE as the portal lists and serves it."""

    issuer_rut: str
    code: int
    folio: int
    codigo: int
    """The portal's internal id (``CODIGO``, ``DHDR_CODIGO``): not the folio, stable across restarts."""
    issue_date: date
    receiver_rut: str
    receiver_name: str
    total: int
    """MntTotal in whole pesos, as the listing shows it."""
    state: str
    content: bytes
    """The ``<DTE>`` element's original bytes in ISO-8859-1, without an XML declaration."""
    references: tuple[DocumentKey, ...]
    """The same issuer's documents this one refers to (Referencia with a numeric type and folio)."""
    source: str
    """The file in ``dtes/`` it came from."""

    @property
    def key(self) -> DocumentKey:
        return (self.issuer_rut, self.code, self.folio)


@dataclass(frozen=True)
class EmulatorData:
    """The loaded data; see the module docstring for the layout of the directory."""

    directory: Path
    companies: Mapping[str, Company]
    people: Mapping[str, Person]
    documents: Mapping[DocumentKey, StoredDte]
    skipped: tuple[tuple[str, str], ...] = ()
    """Files or DTEs that could not be indexed: (file name, why)."""
    register: Register = field(default_factory=Register, compare=False)
    """The companies' Registro de Ventas (``rcv/``, :mod:`dtehub.sii.emulator.register`)."""
    _by_codigo: dict[int, StoredDte] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_issuer: dict[str, list[StoredDte]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for document in sorted(self.documents.values(), key=lambda d: d.key):
            self._by_codigo[document.codigo] = document
            self._by_issuer.setdefault(document.issuer_rut, []).append(document)

    @classmethod
    def load(cls, directory: Path) -> EmulatorData:
        config = _config(directory)
        companies = _companies(config.get("companies", []))
        people = _people(config.get("people", []), companies)
        states = _states(config.get("states", {}))
        documents, skipped = _index_dtes(directory / DTES_DIR, states)
        register = Register.load(directory / RCV_DIR)
        return cls(directory, companies, people, documents, tuple(skipped), register)

    @property
    def ca_directory(self) -> Path:
        return self.directory / CA_DIR

    def document(self, issuer_rut: str, code: int, folio: int) -> StoredDte | None:
        return self.documents.get((issuer_rut, code, folio))

    def by_codigo(self, codigo: int) -> StoredDte | None:
        return self._by_codigo.get(codigo)

    def issued_by(self, company_rut: str) -> Sequence[StoredDte]:
        """The company's documents ordered by type and folio."""
        return self._by_issuer.get(company_rut, [])


# --- emulator.json ------------------------------------------------------------------------------------


def read_people(directory: Path) -> Mapping[str, Person]:
    """The people of ``emulator.json``, without indexing ``dtes/``."""
    config = _config(directory)
    return _people(config.get("people", []), _companies(config.get("companies", [])))


def _config(directory: Path) -> dict[str, Any]:
    config_path = directory / CONFIG_FILE
    if not config_path.exists():
        raise EmulatorDataError(f"{config_path} does not exist (`dtehub sii-emulator init` makes one)")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EmulatorDataError(f"{config_path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise EmulatorDataError(f"{config_path} must hold a JSON object")
    return config


def _rut(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise EmulatorDataError(f'{where}: the RUT must be a string such as "76399752-9"')
    try:
        return normalize_rut(value)
    except InvalidRut as exc:
        raise EmulatorDataError(f"{where}: {exc}") from None


def _entries(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise EmulatorDataError(f"{CONFIG_FILE}: {what} must be a list of objects")
    return value


def _companies(value: Any) -> dict[str, Company]:
    companies: dict[str, Company] = {}
    for position, entry in enumerate(_entries(value, "companies"), 1):
        rut = _rut(entry.get("rut"), f"{CONFIG_FILE}: company {position}")
        if rut in companies:
            raise EmulatorDataError(f"{CONFIG_FILE}: company {rut} is listed twice")
        companies[rut] = Company(rut, str(entry.get("name", "")), bool(entry.get("mipyme", True)))
    return companies


def _people(value: Any, companies: Mapping[str, Company]) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for position, entry in enumerate(_entries(value, "people"), 1):
        where = f"{CONFIG_FILE}: person {position}"
        rut = _rut(entry.get("rut"), where)
        if rut in people:
            raise EmulatorDataError(f"{CONFIG_FILE}: person {rut} is listed twice")
        listed = entry.get("companies", [])
        if not isinstance(listed, list):
            raise EmulatorDataError(f"{where}: companies must be a list of RUTs")
        own = tuple(dict.fromkeys(_rut(company, where) for company in listed))
        unknown = [company for company in own if company not in companies]
        if unknown:
            raise EmulatorDataError(f"{where}: {', '.join(unknown)} is not among the companies")
        people[rut] = Person(rut, str(entry.get("name", "")), own, bool(entry.get("password_only", False)))
    return people


def _states(value: Any) -> dict[DocumentKey, str]:
    if not isinstance(value, dict):
        raise EmulatorDataError(f'{CONFIG_FILE}: states must map "rut/type/folio" to a state')
    states: dict[DocumentKey, str] = {}
    for key, state in value.items():
        rut, _, rest = str(key).partition("/")
        code, _, folio = rest.partition("/")
        if not (code.isdigit() and folio.isdigit()):
            raise EmulatorDataError(f'{CONFIG_FILE}: state key {key!r} is not "rut/type/folio"')
        states[(_rut(rut, f"{CONFIG_FILE}: state {key}"), int(code), int(folio))] = str(state)
    return states


# --- dtes/ --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    key: DocumentKey
    issue_date: date
    receiver_rut: str
    receiver_name: str
    total: int
    content: bytes
    references: tuple[DocumentKey, ...]
    source: str


def _index_dtes(
    directory: Path, states: Mapping[DocumentKey, str]
) -> tuple[dict[DocumentKey, StoredDte], list[tuple[str, str]]]:
    found: dict[DocumentKey, _Read] = {}
    skipped: list[tuple[str, str]] = []
    paths = sorted(directory.glob("*.xml")) if directory.is_dir() else []
    for path in paths:
        for item in _read_file(path):
            if isinstance(item, str):
                skipped.append((path.name, item))
            elif item.key in found:
                skipped.append((path.name, f"{_label(item.key)} is already in {found[item.key].source}"))
            else:
                found[item.key] = item
    for name, why in skipped:
        log.warning("SII emulator: skipped %s: %s", name, why)
    codigos = _codigos(found)
    documents = {
        key: StoredDte(
            issuer_rut=key[0],
            code=key[1],
            folio=key[2],
            codigo=codigos[key],
            issue_date=item.issue_date,
            receiver_rut=item.receiver_rut,
            receiver_name=item.receiver_name,
            total=item.total,
            state=states.get(key, DEFAULT_STATE),
            content=item.content,
            references=item.references,
            source=item.source,
        )
        for key, item in found.items()
    }
    return documents, skipped


def _read_file(path: Path) -> list[_Read | str]:
    """Each DTE of a file, or why it (or the whole file) cannot be indexed."""
    if path.stat().st_size > MAX_FILE_BYTES:
        return [f"larger than {MAX_FILE_BYTES} bytes"]
    try:
        pieces = split_dtes(path.read_bytes())
    except (XmlError, DteUnreadable) as exc:
        return [str(exc)]
    results: list[_Read | str] = []
    for piece in pieces:
        try:
            fields = read_fields(parse_untrusted(piece, max_bytes=DEFAULT_MAX_XML_BYTES))
        except (XmlError, DteUnreadable) as exc:
            results.append(str(exc))
            continue
        key = (fields.issuer.rut, fields.code, fields.folio)
        references = tuple(
            (fields.issuer.rut, int(reference.document_type), int(reference.folio))
            for reference in fields.references
            if reference.document_type.isdigit() and reference.folio.isdigit() and reference.other_rut is None
        )
        results.append(
            _Read(
                key=key,
                issue_date=fields.issue_date,
                receiver_rut=fields.receiver.rut,
                receiver_name=fields.receiver.name,
                total=_whole_pesos(fields.total_cents),
                content=_latin1_element(piece),
                references=references,
                source=path.name,
            )
        )
    return results


def _latin1_element(piece: bytes) -> bytes:
    """The ``<DTE>`` element of a piece, in ISO-8859-1, ready to go inside the download's ``SetDTE``.

    :func:`split_dtes` starts each piece with the file's XML declaration (and byte-order mark) and a
    newline; the download has a declaration of its own. A DTE stored in UTF-8 is re-encoded, as SII's own
    answers are ISO-8859-1: its signature still verifies, since canonicalization works on characters.
    """
    if piece.startswith(_BOM):
        piece = piece[len(_BOM) :]
    if piece.startswith(b"<?xml"):
        piece = piece[piece.index(b"?>") + 2 :].removeprefix(b"\n")
    if piece.isascii():
        return piece
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:
        return piece  # not UTF-8, so Latin-1 already: the very bytes stored
    return text.encode("iso-8859-1", "xmlcharrefreplace")


def _whole_pesos(cents: int) -> int:
    whole, rest = divmod(abs(cents), 100)
    whole += rest >= 50
    return whole if cents >= 0 else -whole


def _codigos(found: Mapping[DocumentKey, _Read]) -> dict[DocumentKey, int]:
    """An eight-digit id per document, from a hash of its key so that it survives restarts and new
    files; a clash (rare) moves to the next free number, deterministically."""
    taken: set[int] = set()
    codigos: dict[DocumentKey, int] = {}
    for key in sorted(found):
        digest = hashlib.sha256(_label(key).encode("ascii")).digest()
        number = _CODIGO_FIRST + int.from_bytes(digest[:8], "big") % _CODIGO_SPAN
        while number in taken:
            number = _CODIGO_FIRST + (number - _CODIGO_FIRST + 1) % _CODIGO_SPAN
        taken.add(number)
        codigos[key] = number
    return codigos


def _label(key: DocumentKey) -> str:
    return f"{key[0]}/{key[1]}/{key[2]}"


# --- an example to start from --------------------------------------------------------------------------

EXAMPLE_CONFIG: dict[str, Any] = {
    "companies": [{"rut": "76399752-9", "name": "EMPRESA DE EJEMPLO SPA", "mipyme": True}],
    "people": [
        {"rut": "12345678-5", "name": "Juana Pérez", "companies": ["76399752-9"], "password_only": False}
    ],
    "states": {},
}


def write_example(directory: Path) -> Path:
    """Write an example ``emulator.json`` and an empty ``dtes/``; an existing file is left as it is."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / DTES_DIR).mkdir(exist_ok=True)
    config_path = directory / CONFIG_FILE
    if not config_path.exists():
        text = json.dumps(EXAMPLE_CONFIG, indent=2, ensure_ascii=False) + "\n"
        config_path.write_text(text, encoding="utf-8")
    return config_path
