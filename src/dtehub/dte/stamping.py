"""Make folio authorizations (CAF) and timbres (TED) the way SII and issuers do.

Tests, benchmarks and the project's SII emulator need documents that carry a real, verifiable timbre
without SII's help:

- :func:`make_test_caf` makes an ``<AUTORIZACION>`` shaped like the files SII hands out: the ``CAF``
  (``DA`` with RE, RS, TD, RNG D..H, FA, RSAPK M/E, IDK; ``FRMA``), then the folio key pair as PEM
  (``RSASK``, ``RSAPUBK``). SII's own signing key is not public, so ``FRMA`` is made with a stand-in
  key (:func:`stand_in_sii_key`, or one given): it is well-formed but only that stand-in verifies it.
  The folio key is RSA with exponent 3 like SII's, but of at least 1024 bits (SII's are 512; the
  ``cryptography`` package no longer generates keys that small).
- :func:`stamp_ted` builds the ``TED`` from the document's own fields and signs ``DD`` with the CAF's
  private key over exactly the bytes :func:`dtehub.dte.ted.verify_ted` checks, then puts it where the
  schema wants it (after Detalle/SubTotInfo/DscRcgGlobal/Referencia/Comisiones, before TmstFirma),
  replacing any TED already there. Stamping changes the document, so it comes before the XML signature.

Speed matters here (benchmark corpora of 100,000 documents): a stamp is one parse, about twenty new
elements, one 1024-bit RSA signature and one serialization.
"""

from __future__ import annotations

import base64
import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from dtehub.dte.ted import TED_ALGORITHM, flattened
from dtehub.kit.dates import SANTIAGO
from dtehub.kit.rut import normalize_rut
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES, parse_untrusted

_BODY_NAMES = frozenset({"Documento", "Liquidacion", "Exportaciones"})
# Documento's children that come before TED in the schema (DTE_v10.xsd), in their order.
_BEFORE_TED = frozenset({"Encabezado", "Detalle", "SubTotInfo", "DscRcgGlobal", "Referencia", "Comisiones"})
_TED_TEXT_LIMIT = 40  # RSR, IT1 and the CAF's RS are at most 40 characters
_CAF_KEY_EXPONENT = 3  # what SII's CAF keys use (E = "Aw==")
_TEST_KEY_ID = 100  # IDK: SII numbers its keys; 100 is the certification environment's

_PKCS1 = padding.PKCS1v15()
_SHA1 = hashes.SHA1()  # noqa: S303 - the timbre and the CAF are SHA1withRSA by SII's format


@dataclass(frozen=True, eq=False)
class TestCaf:
    """A folio authorization with its private key, as in the ``<AUTORIZACION>`` file SII hands out.

    Treat ``element`` as read-only: stamps copy a CAF prepared once from it.
    """

    __test__ = False  # a library class, not a pytest test class, whatever its name says

    rut: str
    name: str
    code: int
    first: int
    last: int
    authorized_on: date
    private_key: rsa.RSAPrivateKey
    element: etree._Element  # <AUTORIZACION>

    @property
    def caf(self) -> etree._Element:
        """The ``<CAF>`` element, the part a timbre carries."""
        caf = self.element.find("CAF")
        if caf is None:  # make_test_caf and load_caf always build it
            raise ValueError("the AUTORIZACION has no CAF")
        return caf

    def to_xml(self) -> bytes:
        """The CAF file's bytes, ISO-8859-1, as SII serves them."""
        return _latin1_document(self.element)


@functools.cache
def stand_in_sii_key() -> rsa.RSAPrivateKey:
    """The key that signs test CAFs' ``FRMA`` in SII's place (one per process)."""
    return rsa.generate_private_key(public_exponent=_CAF_KEY_EXPONENT, key_size=1024)  # noqa: S505 - a test key


def make_test_caf(
    rut: str,
    name: str,
    code: int,
    first: int,
    last: int,
    *,
    key_bits: int = 1024,
    authorized_on: date,
    sii_key: rsa.RSAPrivateKey | None = None,
) -> TestCaf:
    """A CAF for folios ``first``..``last`` of document type ``code`` of issuer ``rut`` (named ``name``)."""
    if not 1 <= first <= last:
        raise ValueError(f"the folio range {first}..{last} is empty or not positive")
    rut = normalize_rut(rut)
    private_key = rsa.generate_private_key(public_exponent=_CAF_KEY_EXPONENT, key_size=key_bits)
    numbers = private_key.public_key().public_numbers()

    root = etree.Element("AUTORIZACION")
    root.text = "\n"
    caf = _sub(root, "CAF", None, tail="\n", version="1.0")
    caf.text = "\n"
    da = _sub(caf, "DA", None, tail="\n")
    da.text = "\n"
    _sub(da, "RE", rut, tail="\n")
    _sub(da, "RS", name[:_TED_TEXT_LIMIT], tail="\n")
    _sub(da, "TD", str(code), tail="\n")
    rng = _sub(da, "RNG", None, tail="\n")
    _sub(rng, "D", str(first))
    _sub(rng, "H", str(last))
    _sub(da, "FA", authorized_on.isoformat(), tail="\n")
    rsapk = _sub(da, "RSAPK", None, tail="\n")
    _sub(rsapk, "M", _b64_int(numbers.n))
    _sub(rsapk, "E", _b64_int(numbers.e))
    _sub(da, "IDK", str(_TEST_KEY_ID), tail="\n")
    signer = sii_key if sii_key is not None else stand_in_sii_key()
    frma = base64.b64encode(signer.sign(flattened(da), _PKCS1, _SHA1)).decode("ascii")
    _sub(caf, "FRMA", frma, tail="\n", algoritmo=TED_ALGORITHM)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # "BEGIN RSA PRIVATE KEY", as in SII's files
        serialization.NoEncryption(),
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _sub(root, "RSASK", private_pem.decode("ascii"), tail="\n")
    _sub(root, "RSAPUBK", public_pem.decode("ascii"), tail="\n")
    return TestCaf(rut, name[:_TED_TEXT_LIMIT], code, first, last, authorized_on, private_key, root)


def load_caf(data: bytes) -> TestCaf:
    """Read a CAF file (``<AUTORIZACION>`` with ``RSASK``), one made here or one SII handed out."""
    root = parse_untrusted(data, max_bytes=DEFAULT_MAX_XML_BYTES)
    if root.tag != "AUTORIZACION":
        raise ValueError(f"the root element is {root.tag}; a CAF file's is AUTORIZACION")
    da = root.find("CAF/DA")
    pem = (root.findtext("RSASK") or "").strip()
    if da is None or not pem:
        raise ValueError("the CAF file has no CAF/DA or no private key (RSASK)")
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the CAF's private key (RSASK) is not an RSA key")
    try:
        return TestCaf(
            rut=normalize_rut(da.findtext("RE") or ""),
            name=da.findtext("RS") or "",
            code=int(da.findtext("TD") or ""),
            first=int(da.findtext("RNG/D") or ""),
            last=int(da.findtext("RNG/H") or ""),
            authorized_on=date.fromisoformat((da.findtext("FA") or "").strip()),
            private_key=key,
            element=root,
        )
    except ValueError as exc:
        raise ValueError(f"the CAF's DA cannot be read: {exc}") from None


def stamp_ted(dte_xml: bytes, caf: TestCaf, *, stamped_at: datetime, strict: bool = True) -> bytes:
    """``dte_xml`` with its timbre made with ``caf``, serialized in ISO-8859-1 with a declaration.

    ``strict`` refuses (``ValueError``) a document the CAF does not cover (another issuer or type, a
    folio out of range), as an issuer's system would; tests that need such a timbre pass ``False``.
    """
    root = parse_untrusted(dte_xml, max_bytes=DEFAULT_MAX_XML_BYTES)
    stamp(root, caf, stamped_at=stamped_at, strict=strict)
    return _latin1_document(root.getroottree())


def stamp(dte: etree._Element, caf: TestCaf, *, stamped_at: datetime, strict: bool = True) -> etree._Element:
    """Put a timbre made with ``caf`` into ``dte`` (a ``DTE`` or its body), in place; return the TED."""
    body = _body(dte)
    namespace = etree.QName(body).namespace

    def tag(name: str) -> str:
        return f"{{{namespace}}}{name}" if namespace else name

    fields = _ted_fields(body, tag)
    if strict:
        _check_covered(fields, caf)

    ted = etree.Element(tag("TED"), version="1.0")
    _place(body, ted)  # in the tree first, so that its children share the document's namespace
    dd = _sub(ted, tag("DD"), None)
    for name in ("RE", "TD", "F", "FE", "RR", "RSR", "MNT", "IT1"):
        _sub(dd, tag(name), fields[name])
    dd.append(copy.deepcopy(_caf_template(caf, namespace)))
    _sub(dd, tag("TSTED"), _timestamp(stamped_at))
    signature = caf.private_key.sign(flattened(dd), _PKCS1, _SHA1)
    _sub(ted, tag("FRMT"), base64.b64encode(signature).decode("ascii"), algoritmo=TED_ALGORITHM)
    return ted


def _body(dte: etree._Element) -> etree._Element:
    if etree.QName(dte).localname in _BODY_NAMES:
        return dte
    bodies = [child for child in dte if _is_body(child)] or [el for el in dte.iter() if _is_body(el)]
    if len(bodies) != 1:
        raise ValueError(
            f"expected one DTE body (Documento, Liquidacion, Exportaciones); found {len(bodies)}"
        )
    return bodies[0]


def _is_body(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and etree.QName(element).localname in _BODY_NAMES


def _ted_fields(body: etree._Element, tag: Callable[[str], str]) -> dict[str, str]:
    def text(path: str) -> str:
        return (body.findtext("/".join(tag(step) for step in path.split("/"))) or "").strip()

    fields = {
        "RE": text("Encabezado/Emisor/RUTEmisor"),
        "TD": text("Encabezado/IdDoc/TipoDTE"),
        "F": text("Encabezado/IdDoc/Folio"),
        "FE": text("Encabezado/IdDoc/FchEmis"),
        "RR": text("Encabezado/Receptor/RUTRecep"),
        "MNT": text("Encabezado/Totales/MntTotal"),
    }
    missing = [name for name, value in fields.items() if not value]
    if missing:
        raise ValueError(f"the document lacks what the timbre repeats: {', '.join(missing)}")
    fields["RSR"] = text("Encabezado/Receptor/RznSocRecep")[:_TED_TEXT_LIMIT]
    fields["IT1"] = text("Detalle/NmbItem")[:_TED_TEXT_LIMIT]
    return fields


def _check_covered(fields: dict[str, str], caf: TestCaf) -> None:
    if normalize_rut(fields["RE"]) != caf.rut:
        raise ValueError(f"the CAF is {caf.rut}'s; the document's issuer is {fields['RE']}")
    if not fields["TD"].isdigit() or int(fields["TD"]) != caf.code:
        raise ValueError(f"the CAF is for type {caf.code}; the document is type {fields['TD']}")
    if not fields["F"].isdigit() or not caf.first <= int(fields["F"]) <= caf.last:
        raise ValueError(f"folio {fields['F']} is outside the CAF's range {caf.first}..{caf.last}")


def _place(body: etree._Element, ted: etree._Element) -> None:
    """Where the schema wants the TED: in the old one's place, else after the elements that precede it."""
    children = list(body)
    index = len(children)
    for position, child in enumerate(children):
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == "TED":
            ted.tail = child.tail
            body.replace(child, ted)
            return
        if name in _BEFORE_TED:
            index = position + 1
    body.insert(index, ted)
    if index > 0:  # indent like the siblings: the TED takes its predecessor's place in the layout
        previous = children[index - 1]
        ted.tail = previous.tail
        previous.tail = children[index - 2].tail if index > 1 else body.text


@functools.lru_cache(maxsize=64)
def _caf_template(caf: TestCaf, namespace: str | None) -> etree._Element:
    """The CAF as a timbre carries it, built once per CAF and namespace and copied for each stamp
    (lxml reuses the document's own namespace declaration when the copy is attached)."""

    def tag(name: str) -> str:
        return f"{{{namespace}}}{name}" if namespace else name

    holder = etree.Element(tag("DD"))
    _copy_into(holder, caf.caf, tag)
    return holder[0]


def _copy_into(parent: etree._Element, source: etree._Element, tag: Callable[[str], str]) -> None:
    """``source`` under ``parent`` in the document's namespace, whitespace between tags dropped."""
    attributes = {str(name): str(value) for name, value in source.attrib.items()}
    element = _sub(parent, tag(etree.QName(source).localname), None, **attributes)
    children = [child for child in source if isinstance(child.tag, str)]
    if children:
        for child in children:
            _copy_into(element, child, tag)
    else:
        element.text = source.text


def _sub(
    parent: etree._Element, tag: str, text: str | None, *, tail: str | None = None, **attributes: str
) -> etree._Element:
    element = etree.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    if tail is not None:
        element.tail = tail
    return element


def _latin1_document(node: etree._Element | etree._ElementTree) -> bytes:
    """The document in ISO-8859-1 with its declaration (characters beyond Latin-1 as references)."""
    data = etree.tostring(node, xml_declaration=True, encoding="ISO-8859-1")
    return data if isinstance(data, bytes) else data.encode("iso-8859-1")


def _timestamp(moment: datetime) -> str:
    """TSTED: Chile's wall-clock time, ``AAAA-MM-DDTHH:MI:SS``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(SANTIAGO)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _b64_int(value: int) -> str:
    return base64.b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode("ascii")
