"""Electronic cession files (AEC, ``AEC_v10.xsd``): the seller cedes an invoice through SII's RTC.

An AEC holds the DTE as issued (``DTECedido``), one cession (``Cesion``) and the cover (``Caratula``), each
part signed in its own context with the assignor's certificate (SII's profile: :mod:`dtehub.dte.xmldsig`)::

    AEC/DocumentoAEC[Caratula, Cesiones[DTECedido[DocumentoDTECedido[DTE, TmstFirma], Signature],
                                        Cesion[DocumentoCesion[...], Signature]]], Signature

How it is built, so that every signature holds where it ends up:

- **The DTE's bytes are never re-serialized.** Its signature covers its exact content: the parts are
  written as text (values escaped by :func:`xml.sax.saxutils.escape`, as lxml would write them) and the
  DTE's own bytes pasted in where they have ``<DTE/>`` (as are the signed parts into ``Cesiones``). A DTE
  stored in ISO-8859-1 (SII's encoding) or in plain ASCII goes in byte for byte; one stored in UTF-8 with
  accents is transcoded to the file's ISO-8859-1 (the same characters: its signature, over the canonical
  text, still holds; a character ISO-8859-1 lacks becomes a character reference).
- **One set of namespace declarations everywhere**: SII's default namespace alone, on the standalone
  ``DTECedido`` and ``Cesion`` that are signed and on the ``AEC`` that holds them (no ``xmlns:xsi``, so no
  ``schemaLocation``, which the schema does not require). Inclusive C14N renders every namespace in scope,
  so a part signed standalone canonicalizes the same inside the file, and a DTE signed as a bare document
  in SII's namespace keeps its signature's context too: a strict verifier checks each signature in place.
- **Checked before it leaves**: the file is read again, validated against SII's XSDs (shipped in cl-sii)
  and each of its signatures shown to hold where it sits. A file that fails is a bug here, raised as
  :class:`AecError`, never sent. A part's signature holds where it sits when its canonical text there is
  the one signed; that text is a function of the part's bytes and of the namespaces (and ``xml:``
  attributes) in scope, so when the part's bytes as signed are in the file once, byte for byte, under the
  same declarations and no ``xml:`` attribute, it is the same text and the signature holds without being
  computed again (:func:`_signed_in_place`). A signature for which that is not shown is verified in full
  (:func:`signatures`' way), so the check is never less than a verification.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, cast
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from lxml import etree

from dtehub.dte.schema import schema_directory
from dtehub.dte.signature import DSIG_NS
from dtehub.dte.xmldsig import (
    DocumentSignature,
    id_index,
    sign_canonical,
    verify_reference,
)
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES, XmlError, encoding_of, local_name, parse_untrusted

SII_NS = "http://www.sii.cl/SiiDte"
ENCODING = "ISO-8859-1"
CEDIBLE_TYPES = frozenset({33, 34, 43, 46})
TIMESTAMP = "%Y-%m-%dT%H:%M:%S"
MAX_AEC_BYTES = 8 * 1024 * 1024
_SCHEMA_FILES = frozenset(
    {
        "AEC_v10.xsd",
        "Cesion_v10.xsd",
        "DTECedido_v10.xsd",
        "DTE_v10.xsd",
        "Recibos_v10.xsd",
        "SiiTypes_v10.xsd",
        "xmldsignature_v10.xsd",
    }
)
_DECLARATION = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>)?\s*")
_LATIN1 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1"})
_S = f"{{{SII_NS}}}"

DEFAULT_DECLARATION = (
    "Se declara bajo juramento que {assignor_name}, RUT {assignor_rut} ha puesto a disposición del "
    "cesionario {assignee_name}, RUT {assignee_rut}, el o los documentos donde constan los recibos de las "
    "mercaderías entregadas o servicios prestados, entregados por parte del deudor de la factura "
    "{debtor_name}, RUT {debtor_rut}, de acuerdo a lo establecido en la Ley N°19.983."
)
"""The sworn declaration SII's format document prescribes (``DeclaracionJurada``, at most 512 characters)."""


class AecError(ValueError):
    """The DTE cannot be ceded as it is stored, or the file built does not hold (a bug: never sent)."""


@dataclass(frozen=True)
class Party:
    rut: str
    """Canonical, ``76123456-K``."""
    name: str
    address: str
    email: str


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Signer:
    """The person who signs for the assignor: their key and certificate, RUT and name."""

    key: PrivateKeyTypes
    certificate: x509.Certificate
    rut: str
    name: str

    def __repr__(self) -> str:
        return f"Signer(rut={self.rut!r})"


@dataclass(frozen=True)
class CededDte:
    """The DTE as it goes into ``DTECedido`` (its bytes, ISO-8859-1) and the ``IdDTE`` read from it."""

    content: bytes
    type_code: int
    folio: int
    issuer_rut: str
    receiver_rut: str
    receiver_name: str
    issue_date: date
    total: int
    """MntTotal, whole pesos."""
    issuer_address: str = ""
    """DirOrigen and CmnaOrigen, as the issuer wrote them."""
    issuer_email: str = ""
    receiver_email: str = ""

    @property
    def label(self) -> str:
        return f"T{self.type_code}F{self.folio}"


@dataclass(frozen=True)
class Terms:
    assignor: Party
    assignee: Party
    amount: int
    """MontoCesion, whole pesos (at most the DTE's total)."""
    last_due_date: date
    signed_at: datetime
    """TmstCesion, TmstFirma and TmstFirmaEnvio: Santiago wall-clock time (naive)."""
    declaration: str | None = None
    """DeclaracionJurada; None: :data:`DEFAULT_DECLARATION`; "": none."""
    debtor_email: str | None = None
    contact: Contact | None = None
    sequence: int = 1


def ceded_dte(stored: bytes) -> CededDte:
    """The stored DTE (a bare ``DTE``, its XML declaration aside) read for a cession."""
    try:
        root = parse_untrusted(stored, max_bytes=DEFAULT_MAX_XML_BYTES)
    except XmlError as error:
        raise AecError(f"the stored DTE cannot be read: {error}") from None
    if local_name(root) != "DTE":
        raise AecError(f"the stored XML is a {local_name(root)}, not a DTE")
    if etree.QName(root).namespace != SII_NS:
        raise AecError(
            "the stored DTE is not in SII's namespace (http://www.sii.cl/SiiDte): SII's cession schema "
            "takes only a DTE as SII defines it"
        )
    fields = _id_dte(root)
    body = _DECLARATION.sub(b"", stored, count=1).rstrip()
    encoding = encoding_of(stored)
    if encoding not in _LATIN1 and not body.isascii():
        body = body.decode(encoding).encode(ENCODING, errors="xmlcharrefreplace")
    return CededDte(content=body, **fields)


_HEADERS = (f"{_S}Documento/{_S}Encabezado", f"{_S}Liquidacion/{_S}Encabezado")
_ID_DTE_SECTIONS = frozenset(_S + name for name in ("IdDoc", "Emisor", "Receptor", "Totales"))


def _id_dte(root: etree._Element) -> dict[str, Any]:
    header = root.find(_HEADERS[0])
    if header is None:
        header = root.find(_HEADERS[1])
    if header is None:
        raise AecError("the stored DTE has no Documento/Encabezado: only facturas (33, 34, 43, 46) are ceded")
    values: dict[str, str] = {}  # "IdDoc/Folio": its text, stripped; the first of each, as find gives
    for section in header:
        if section.tag in _ID_DTE_SECTIONS:
            prefix = str(section.tag)[len(_S) :] + "/"
            for child in section:
                tag = child.tag
                if isinstance(tag, str) and tag.startswith(_S):
                    values.setdefault(prefix + tag[len(_S) :], (child.text or "").strip())

    def optional(path: str) -> str:
        return values.get(path, "")

    def text(path: str) -> str:
        value = optional(path)
        if not value:
            raise AecError(f"the stored DTE has no {path.rpartition('/')[2]}")
        return value

    try:
        type_code, folio, total = (
            int(text("IdDoc/TipoDTE")),
            int(text("IdDoc/Folio")),
            int(text("Totales/MntTotal")),
        )
        issued = date.fromisoformat(text("IdDoc/FchEmis"))
    except ValueError:
        raise AecError("the stored DTE's type, folio, issue date or total cannot be read") from None
    if type_code not in CEDIBLE_TYPES:
        raise AecError(f"type {type_code} cannot be ceded: only 33, 34, 43 and 46 can")
    address = ", ".join(
        part for part in (optional("Emisor/DirOrigen"), optional("Emisor/CmnaOrigen")) if part
    )
    return {
        "issuer_address": address,
        "issuer_email": optional("Emisor/CorreoEmisor"),
        "receiver_email": optional("Receptor/CorreoRecep"),
        "type_code": type_code,
        "folio": folio,
        "issuer_rut": text("Emisor/RUTEmisor").upper(),
        "receiver_rut": text("Receptor/RUTRecep").upper(),
        "receiver_name": optional("Receptor/RznSocRecep"),
        "issue_date": issued,
        "total": total,
    }


def default_declaration(dte: CededDte, assignor: Party, assignee: Party) -> str:
    text = DEFAULT_DECLARATION.format(
        assignor_name=assignor.name,
        assignor_rut=assignor.rut,
        assignee_name=assignee.name,
        assignee_rut=assignee.rut,
        debtor_name=dte.receiver_name or dte.receiver_rut,
        debtor_rut=dte.receiver_rut,
    )
    return text[:512]


# --- building ----------------------------------------------------------------------------------------------


def build_aec(dte: CededDte, terms: Terms, signer: Signer) -> bytes:
    """The AEC of the first cession of ``dte`` (ISO-8859-1, with its XML declaration), checked."""
    if not 0 < terms.amount <= dte.total:
        raise AecError(
            f"the amount ceded ({terms.amount}) must be above 0 and at most the total ({dte.total})"
        )
    stamp = terms.signed_at.strftime(TIMESTAMP)
    parts: list[_Signed] = []
    nsmap: dict[str | None, str] = {None: SII_NS}
    cedido = _signed_part(
        _s(
            "DTECedido",
            _s("DocumentoDTECedido", _s("DTE"), _s("TmstFirma", stamp), ID=f"DTECedido_{dte.label}"),
            version="1.0",
        ),
        nsmap,
        {b"<DTE/>": dte.content},
        signer,
        parts,
    )
    cesion = _signed_part(_cesion(dte, terms, signer, stamp), nsmap, {}, signer, parts)
    aec = _s("AEC", _cover(terms, stamp, f"AEC_{dte.label}"), version="1.0")
    body = _signed_part(
        aec, nsmap, {b"<Cesiones/>": b"<Cesiones>" + cedido + cesion + b"</Cesiones>"}, signer, parts
    )
    data = f'<?xml version="1.0" encoding="{ENCODING}"?>\n'.encode("ascii") + body
    _check_built(data, dte, parts)
    return data


def _cover(terms: Terms, stamp: str, identifier: str) -> _Node:
    """The AEC's DocumentoAEC: its cover (Caratula) and an empty Cesiones the signed parts go in."""
    contact = terms.contact or Contact()
    return _s(
        "DocumentoAEC",
        _s(
            "Caratula",
            _s("RutCedente", terms.assignor.rut),
            _s("RutCesionario", terms.assignee.rut),
            _s("NmbContacto", contact.name) if contact.name else None,
            _s("FonoContacto", contact.phone) if contact.phone else None,
            _s("MailContacto", contact.email) if contact.email else None,
            _s("TmstFirmaEnvio", stamp),
            version="1.0",
        ),
        _s("Cesiones"),
        ID=identifier,
    )


def _cesion(dte: CededDte, terms: Terms, signer: Signer, stamp: str) -> _Node:
    declaration = (
        default_declaration(dte, terms.assignor, terms.assignee)
        if terms.declaration is None
        else terms.declaration
    )
    assignor, assignee = terms.assignor, terms.assignee
    return _s(
        "Cesion",
        _s(
            "DocumentoCesion",
            _s("SeqCesion", str(terms.sequence)),
            _s(
                "IdDTE",
                _s("TipoDTE", str(dte.type_code)),
                _s("RUTEmisor", dte.issuer_rut),
                _s("RUTReceptor", dte.receiver_rut),
                _s("Folio", str(dte.folio)),
                _s("FchEmis", dte.issue_date.isoformat()),
                _s("MntTotal", str(dte.total)),
            ),
            _s(
                "Cedente",
                *_party(assignor),
                _s("RUTAutorizado", _s("RUT", signer.rut), _s("Nombre", signer.name[:40])),
                _s("DeclaracionJurada", declaration[:512]) if declaration else None,
            ),
            _s("Cesionario", *_party(assignee)),
            _s("MontoCesion", str(terms.amount)),
            _s("UltimoVencimiento", terms.last_due_date.isoformat()),
            _s("eMailDeudor", terms.debtor_email) if terms.debtor_email else None,
            _s("TmstCesion", stamp),
            ID=f"Cesion_{dte.label}_{terms.sequence}",
        ),
        version="1.0",
    )


def _party(party: Party) -> list[_Node]:
    return [
        _s("RUT", party.rut),
        _s("RazonSocial", party.name[:100]),
        _s("Direccion", party.address[:80]),
        _s("eMail", party.email[:80]),
    ]


class _Node(NamedTuple):
    """An element of SII's namespace to be written: its name, its children or its text, its attributes."""

    name: str
    content: tuple[_Node, ...] | str
    attributes: dict[str, str]


def _s(name: str, *content: _Node | str | None, **attributes: str) -> _Node:
    """``name`` holding ``content``: child nodes, or one text (None: left out)."""
    present = [part for part in content if part is not None]
    if len(present) == 1 and isinstance(present[0], str):
        return _Node(name, present[0], attributes)
    children = tuple(part for part in present if isinstance(part, _Node))
    if len(children) != len(present):
        raise TypeError(f"{name} holds either one text or elements")  # a bug
    return _Node(name, children, attributes)


# What XML requires escaped, and what lxml escapes besides (so the text is what lxml would write):
# a carriage return (which a reader would turn into a line feed) and, in attributes, white space.
_TEXT_ENTITIES = {"\r": "&#13;"}
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"}


def _written(node: _Node, nsmap: dict[str | None, str]) -> bytes:
    """``node`` as XML text in the file's encoding, declaring ``nsmap`` on it (SII's as the default), each
    text and attribute value escaped by :func:`xml.sax.saxutils.escape`; a character ISO-8859-1 lacks
    becomes a character reference. The text is read back before it is signed (:func:`_canonical_in_part`)
    and the finished file is read and validated (:func:`_check_built`)."""
    if nsmap.get(None) != SII_NS:
        raise AecError("the AEC's parts are written in SII's default namespace")  # a bug
    out: list[str] = []
    _write(node, out, _declarations(tuple(nsmap.items())).decode(ENCODING), nsmap)
    return "".join(out).encode(ENCODING, errors="xmlcharrefreplace")


def _write(node: _Node, out: list[str], declarations: str, nsmap: dict[str | None, str]) -> None:
    attributes = "".join(
        f' {_attribute_name(name, nsmap)}="{escape(value, _ATTRIBUTE_ENTITIES)}"'
        for name, value in node.attributes.items()
    )
    content = node.content
    if isinstance(content, str):
        out.append(f"<{node.name}{declarations}{attributes}>{escape(content, _TEXT_ENTITIES)}</{node.name}>")
    elif not content:
        out.append(f"<{node.name}{declarations}{attributes}/>")
    else:
        out.append(f"<{node.name}{declarations}{attributes}>")
        for child in content:
            _write(child, out, "", nsmap)
        out.append(f"</{node.name}>")


def _attribute_name(name: str, nsmap: dict[str | None, str]) -> str:
    """An attribute's name as written: ``{uri}local`` with the prefix ``nsmap`` declares for ``uri``."""
    if not name.startswith("{"):
        return name
    uri, _, local = name[1:].partition("}")
    for prefix, declared in nsmap.items():
        if prefix is not None and declared == uri:
            return f"{prefix}:{local}"
    raise AecError(f"the attribute {name} has no prefix declared for it")  # a bug


@dataclass(frozen=True)
class _Signed:
    """A part as it was signed: its bytes (signature included), the ID of the element signed, and the
    namespaces in scope on the part when it was signed standalone."""

    text: bytes
    identifier: str
    nsmap: dict[str | None, str]


def _signed_part(
    part: _Node,
    nsmap: dict[str | None, str],
    pastes: dict[bytes, bytes],
    signer: Signer,
    signed_parts: list[_Signed] | None = None,
) -> bytes:
    """``part`` written declaring ``nsmap``, with ``pastes`` put in place of their placeholders, its only
    child signed: the signature is made over that child's canonical text as it reads in these bytes and
    written after it, so no byte of what was pasted is ever written again. The part as signed is added to
    ``signed_parts`` (for :func:`_check_built`)."""
    text = _written(part, nsmap)
    for placeholder, content in pastes.items():
        if text.count(placeholder) != 1:
            raise AecError(f"the AEC's skeleton does not hold {placeholder!r} once")  # a bug
        text = text.replace(placeholder, content)
    closing = f"</{part.name}>".encode("ascii")
    if isinstance(part.content, str) or len(part.content) != 1 or not text.endswith(closing):
        raise AecError("the AEC's part is not one element to sign and its closing tag")  # a bug
    signed = part.content[0]
    identifier = signed.attributes.get("ID", "")
    canonical = _canonical_in_part(text[: -len(closing)], signed.name, identifier, nsmap)
    holder = etree.Element(f"{_S}{part.name}", nsmap=cast("dict[Any, str]", nsmap))  # where it goes
    signature = sign_canonical(holder, identifier, canonical, signer.key, signer.certificate)
    signed_text = text[: -len(closing)] + _serialize(signature) + closing
    if signed_parts is not None:
        signed_parts.append(_Signed(signed_text, identifier, dict(nsmap)))
    return signed_text


def _canonical_in_part(text: bytes, name: str, identifier: str, nsmap: dict[str | None, str]) -> bytes:
    """The canonical text (inclusive C14N 1.0) of the element the part's ``text`` ends with, ``name`` with
    ``ID="identifier"``, as it reads in the part, whose root declares ``nsmap``.

    Inclusive C14N writes on a signed element every namespace in scope on it (and nothing else from its
    ancestors but ``xml:`` attributes, which a part never has), so its canonical text in the part is that
    of a document of its own made of its very bytes with the part's declarations written on it. That
    document is what is read and canonicalized here (libxml2 computes the text): the part's bytes are
    neither read whole nor serialized again to sign one element of it. What is read must be that element
    and declare those namespaces, or it is a bug here (:class:`AecError`).
    """
    start = f'<{name} ID="{identifier}"'.encode()
    at = text.find(start)
    if at < 0 or text.find(start, at + 1) >= 0:
        raise AecError(f"the AEC's part does not hold {name} {identifier} once")  # a bug
    alone = _parse(
        b"<" + name.encode("ascii") + _declarations(tuple(nsmap.items())) + text[at + 1 + len(name) :]
    )
    if etree.QName(alone).localname != name or alone.get("ID") != identifier or dict(alone.nsmap) != nsmap:
        raise AecError(f"the AEC's part does not read as {name} {identifier} in its context")  # a bug
    return etree.tostring(alone, method="c14n", exclusive=False, with_comments=False)


@lru_cache(maxsize=16)
def _declarations(nsmap: tuple[tuple[str | None, str], ...]) -> bytes:
    """The namespace declarations of ``nsmap`` as lxml writes them in a start tag (`` xmlns="…"``)."""
    empty = _serialize(etree.Element("x", nsmap=cast("dict[Any, str]", dict(nsmap))))
    if not (empty.startswith(b"<x") and empty.endswith(b"/>")):
        raise AecError("the namespace declarations cannot be written")  # a bug
    return empty[2:-2]


def _serialize(part: etree._Element) -> bytes:
    return cast(bytes, etree.tostring(part, encoding=ENCODING, xml_declaration=False, with_tail=False))


def _parse(text: bytes) -> etree._Element:
    declared = f'<?xml version="1.0" encoding="{ENCODING}"?>'.encode("ascii") + text
    try:
        return parse_untrusted(declared, max_bytes=MAX_AEC_BYTES)
    except XmlError as error:
        raise AecError(f"the AEC built cannot be read back: {error}") from None


def _check_built(data: bytes, dte: CededDte, parts: list[_Signed]) -> None:
    root = parse_untrusted(data, max_bytes=MAX_AEC_BYTES)
    problems = validate_aec(root)
    if problems:
        raise AecError("the AEC built does not follow SII's schema: " + "; ".join(problems))
    ids = id_index(root)
    by_id = {part.identifier: part for part in parts}
    failed = [
        label
        for label, signature in _part_signatures(root)
        if not _signed_in_place(data, ids, by_id.get(label.rpartition(" ")[2]), signature)
        and verify_reference(signature, ids=ids).problem is not None
    ]
    if failed:
        raise AecError(f"signatures of the AEC built do not hold: {', '.join(failed)}")
    if data.count(dte.content) != 1:
        raise AecError("the DTE inside the AEC built is not the stored one byte for byte")


_XML_NS = "{http://www.w3.org/XML/1998/namespace}"


def _signed_in_place(
    data: bytes, ids: dict[str, list[etree._Element]], part: _Signed | None, signature: etree._Element
) -> bool:
    """Whether ``signature`` is the one made on ``part`` and its canonical texts in ``data`` are those it
    was made on: the part's bytes as signed are in the file once, the element it signs is the only one
    with its ID, and the part sits under the same namespace declarations as when it was signed, with no
    ``xml:`` attribute around it (inclusive C14N renders those on the apex). False: not shown (the
    signature is then verified in full)."""
    if part is None or data.count(part.text) != 1:
        return False
    found = ids.get(part.identifier, [])
    if len(found) != 1 or found[0].getnext() is not signature:
        return False
    container = found[0].getparent()
    if container is None or signature.getparent() is not container:
        return False
    if dict(container.nsmap) != part.nsmap:
        return False
    return not any(
        str(name).startswith(_XML_NS) for ancestor in container.iterancestors() for name in ancestor.attrib
    )


# --- re-cession -------------------------------------------------------------------------------------------


def build_recession(previous: bytes, terms: Terms, signer: Signer) -> bytes:
    """The AEC by which the current holder (``terms.assignor``, the last assignee of ``previous``) cedes the
    document onwards: ``previous``'s ``DTECedido`` and cessions byte for byte (their signatures stay as
    they were made), a new cession (``SeqCesion`` one more) and a new cover, signed with ``signer``.

    The new file declares the namespaces ``previous`` declared on its ``AEC``, and the new cession is signed
    standalone with those same declarations, so every part keeps the context it was signed in. Only the
    new parts are judged here; the earlier ones are whatever the previous file holds (verify it first).
    """
    text = _latin1(previous)
    root = _parse_whole(text)
    if local_name(root) != "AEC" or etree.QName(root).namespace != SII_NS:
        raise AecError("the previous file is not an AEC")
    dte_element = root.find(f"{_S}DocumentoAEC/{_S}Cesiones/{_S}DTECedido/{_S}DocumentoDTECedido/{_S}DTE")
    cesiones = root.findall(f"{_S}DocumentoAEC/{_S}Cesiones/{_S}Cesion/{_S}DocumentoCesion")
    if dte_element is None or not cesiones:
        raise AecError("the previous AEC holds no ceded DTE or no cession")
    last = cesiones[-1]
    holder = _child_text(last, "Cesionario/RUT").upper()
    if holder != terms.assignor.rut:
        raise AecError(f"the assignor {terms.assignor.rut} is not the document's holder ({holder})")
    sequence = int(_child_text(last, "SeqCesion") or "0") + 1
    if sequence > 40:
        raise AecError("SII takes at most 40 cessions of a document")
    declared = any(_child_text(c, "Cedente/DeclaracionJurada") for c in cesiones)
    if declared and terms.declaration == "":
        raise AecError("an earlier cession has a sworn declaration, so this one needs one too")
    dte = CededDte(content=b"", **_id_dte(dte_element))
    if not 0 < terms.amount <= dte.total:
        raise AecError(
            f"the amount ceded ({terms.amount}) must be above 0 and at most the total ({dte.total})"
        )
    start, end = text.find(b"<Cesiones>"), text.rfind(b"</Cesiones>")
    if start < 0 or end < start:
        raise AecError("the previous AEC's cessions cannot be cut out as they are (a prefixed Cesiones)")
    earlier = text[start + len(b"<Cesiones>") : end]
    nsmap = {prefix: uri for prefix, uri in root.nsmap.items()}
    if nsmap.get(None) != SII_NS:
        raise AecError("the previous AEC does not declare SII's namespace as its default")
    stamp = terms.signed_at.strftime(TIMESTAMP)
    chained = Terms(**{**terms.__dict__, "sequence": sequence})
    cesion = _signed_part(_cesion(dte, chained, signer, stamp), nsmap, {}, signer)
    cover = _cover(terms, stamp, f"AEC_{dte.label}_{sequence}")
    aec = _s("AEC", cover, **_attributes(root))
    body = _signed_part(
        aec, nsmap, {b"<Cesiones/>": b"<Cesiones>" + earlier + cesion + b"</Cesiones>"}, signer
    )
    data = f'<?xml version="1.0" encoding="{ENCODING}"?>\n'.encode("ascii") + body
    built = parse_untrusted(data, max_bytes=MAX_AEC_BYTES)
    problems = validate_aec(built)
    if problems:
        raise AecError("the AEC built does not follow SII's schema: " + "; ".join(problems))
    verdicts = signatures(built)
    new = [verdict for part, verdict in verdicts if part.endswith(f"_{sequence}")]
    if len(new) != 2 or any(verdict.problem is not None for verdict in new):
        raise AecError("the new cession's or the cover's signature does not hold")  # a bug
    if data.count(earlier) != 1:
        raise AecError("the earlier parts inside the AEC built are not the previous ones byte for byte")
    return data


def last_assignee(previous: bytes) -> Party:
    """The last cession's assignee (``Cesionario``) of ``previous``, as its assignor wrote it: the current
    holder, who cedes it onwards under that address and e-mail unless told otherwise."""
    root = _parse_whole(_latin1(previous))
    cesiones = root.findall(f"{_S}DocumentoAEC/{_S}Cesiones/{_S}Cesion/{_S}DocumentoCesion")
    if not cesiones:
        raise AecError("the previous AEC holds no cession")
    last = cesiones[-1]
    return Party(
        _child_text(last, "Cesionario/RUT").upper(),
        _child_text(last, "Cesionario/RazonSocial"),
        _child_text(last, "Cesionario/Direccion"),
        _child_text(last, "Cesionario/eMail"),
    )


def _latin1(data: bytes) -> bytes:
    """``data`` in the file's ISO-8859-1 (the same characters; byte for byte when it already is)."""
    encoding = encoding_of(data)
    body = _DECLARATION.sub(b"", data, count=1)
    if encoding in _LATIN1 or body.isascii():
        return body
    return body.decode(encoding).encode(ENCODING, errors="xmlcharrefreplace")


def _parse_whole(text: bytes) -> etree._Element:
    try:
        return parse_untrusted(
            f'<?xml version="1.0" encoding="{ENCODING}"?>'.encode("ascii") + text, max_bytes=MAX_AEC_BYTES
        )
    except XmlError as error:
        raise AecError(f"the previous AEC cannot be read: {error}") from None


def _attributes(of: etree._Element) -> dict[str, str]:
    return {str(name): str(value) for name, value in of.attrib.items()}


def _child_text(parent: etree._Element, path: str) -> str:
    found = parent.find("/".join(_S + part for part in path.split("/")))
    return (found.text or "").strip() if found is not None else ""


# --- checking ----------------------------------------------------------------------------------------------


def signatures(root: etree._Element) -> list[tuple[str, DocumentSignature]]:
    """Each signature of the AEC's parts (``DocumentoDTECedido``, each ``DocumentoCesion``, ``DocumentoAEC``)
    verified where it sits; the DTE's own signature is the DTE pipeline's."""
    ids = id_index(root)  # one search of the file for the parts' IDs
    return [(label, verify_reference(signature, ids=ids)) for label, signature in _part_signatures(root)]


def _part_signatures(root: etree._Element) -> list[tuple[str, etree._Element]]:
    """The signatures of the AEC's own parts, labelled ``DocumentoCesion <ID>`` (not the DTE's)."""
    found: list[tuple[str, etree._Element]] = []
    for signature in root.iter(f"{{{DSIG_NS}}}Signature"):
        signed = signature.getprevious()
        name = local_name(signed) if signed is not None and isinstance(signed.tag, str) else "?"
        if name == "Documento" or name == "Liquidacion" or name == "Exportaciones":
            continue
        found.append((f"{name} {signed.get('ID')}" if signed is not None else name, signature))
    return found


class _SiiFilesOnly(etree.Resolver):
    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        name = (system_url or "").replace("\\", "/").rsplit("/", 1)[-1]
        if name not in _SCHEMA_FILES:
            raise AecError(f"the AEC schema may only include SII's files, not {system_url!r}")
        path = schema_directory() / name
        return self.resolve_string(path.read_bytes(), context, base_url=str(path))


_schema: list[etree.XMLSchema] = []
_schema_lock = threading.Lock()


def _aec_schema() -> etree.XMLSchema:
    with _schema_lock:
        if not _schema:
            parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
            parser.resolvers.add(_SiiFilesOnly())
            path = schema_directory() / "AEC_v10.xsd"
            _schema.append(etree.XMLSchema(etree.parse(str(path), parser)))
        return _schema[0]


def validate_aec(root: etree._Element) -> list[str]:
    """What in the AEC does not follow ``AEC_v10.xsd`` (empty when it does), line by line."""
    schema = _aec_schema()
    with _schema_lock:
        if schema.validate(root):
            return []
        log = cast("Iterable[Any]", schema.error_log)
        return [f"line {e.line}: {e.message}" for e in log][:10]
