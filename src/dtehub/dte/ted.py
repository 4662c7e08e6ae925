"""The timbre electrónico (TED) of a DTE: is it genuine, and does it say what the document says?

The TED is what the printed PDF417 barcode carries: ``DD`` (issuer, type, folio, date, receiver, total,
first item, the folio authorization ``CAF`` that SII signed, a timestamp) and ``FRMT``, the issuer's
SHA1withRSA signature of ``DD`` made with the CAF's private key. Verifying it means:

- ``FRMT`` verifies over ``DD`` with the CAF's public key ``DA/RSAPK`` (modulus ``M``, exponent ``E``);
- ``DD`` agrees with the document: RE = RUTEmisor, TD = TipoDTE, F = Folio, FE = FchEmis, RR = RUTRecep,
  MNT = MntTotal (RUTs compared without dots, leading zeros or case; amounts as numbers);
- the CAF was issued for this issuer and type (``DA/RE``, ``DA/TD``) and ``F`` lies in ``DA/RNG`` D..H.

The CAF's own signature ``FRMA`` is SII's, made with a key SII does not publish, so it is **not** checked
here: a forged CAF with a self-made key passes this check, and only SII can tell it apart.

The signed bytes of ``DD``, "DD aplanado": the element and its descendants under their local names,
without namespace declarations, attributes as written (``version="1.0"``, ``algoritmo="SHA1withRSA"``),
the whitespace between tags removed (a text made only of whitespace counts as such), every other text
exactly as it stands, escaped as XML requires (``&amp;`` ``&lt;`` ``&gt;``), encoded in ISO-8859-1;
RSA PKCS#1 v1.5 over SHA-1. formato-dtes-v2.2 defines the TED in §2.2 zone G and defers the details to
the annexes of SII's "Instructivo de Generación de documentos"; its §2.2 preamble requires ``&`` and
``<`` in texts to be written as XML's escape sequences. Issuers differ in the details, so a few other
forms of the same content are tried: quotes escaped too (``&quot;`` ``&apos;``, the five XML escapes),
the UTF-8 encoding, text whose UTF-8 had been read as Latin-1 repaired, and the ``DD`` exactly as written
in the original bytes when it reads back to the same content. Every form derives from the ``DD`` that
the field checks read, so an altered ``DD`` verifies in none of them. The signature is opened once (one
RSA public operation) and each further form costs one SHA-1.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from dtehub.dte.checks import Check, Problem, Verdict

SII_NAMESPACE = "http://www.sii.cl/SiiDte"
TED_ALGORITHM = "SHA1withRSA"

# The DTE's body is Documento for most types, Liquidacion for 43 and Exportaciones for 110-112.
_BODY_NAMES = frozenset({"Documento", "Liquidacion", "Exportaciones"})

# Escapes in the order they must apply ("&" first). The first pair is C14N's; SII lists all five.
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"}
_TEXT_ESCAPES_ALL = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\r": "&#xD;"}
_ATTRIBUTE_ESCAPES = {"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"}

# In the original bytes: the DD element (any prefix), namespace declarations, whitespace between tags.
_RAW_DD_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?DD[\s>]")
_RAW_DD_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?DD\s*>")
_RAW_XMLNS = re.compile(rb"""\s+xmlns(?::[\w.-]+)?\s*=\s*(?:"[^"]*"|'[^']*')""")
_RAW_BETWEEN_TAGS = re.compile(rb">\s+<")
_WHITESPACE = re.compile(r"\s+")
_DEFAULT_XMLNS = re.compile(rb"""\s+xmlns\s*=\s*(?:"[^"]*"|'[^']*')""")
_MAX_RAW_DDS = 4  # an original holding more DDs than this is not one DTE's bytes

_PKCS1 = padding.PKCS1v15()
_SHA1 = hashes.SHA1()  # noqa: S303 - SII's timbre is SHA1withRSA; this verifies, it does not choose


@dataclass(frozen=True)
class TedCheck:
    """The timbre's verdict: ``valid``, ``absent`` (no TED) or ``invalid`` with the problems found."""

    verdict: Verdict
    problems: tuple[Problem, ...]


class TedMissing(ValueError):
    """The DTE carries no TED (raised by :func:`ted_barcode_payload` only)."""


def verify_ted(dte: etree._Element, *, original: bytes | None = None) -> TedCheck:
    """Verify the TED of ``dte`` (a ``DTE`` element or its ``Documento``), with or without namespace.

    ``original`` is the DTE's own bytes, when available: some issuers wrote the ``DD`` in a form that
    a re-serialization does not reproduce. This function never raises for bad input.
    """
    try:
        return _verify(dte, original)
    except Exception as exc:  # a verdict, never a crash: garbage in must not fail the upload
        return _invalid([_problem("ted_malformed", f"the timbre cannot be read ({type(exc).__name__})")])


def ted_barcode_payload(dte: etree._Element) -> bytes:
    """The PDF417 payload: ``<TED>`` as it stands, without namespace declarations or whitespace between
    tags, in ISO-8859-1 (characters Latin-1 lacks as windows-1252, else as character references).

    Quotes in texts are escaped (``&quot;``) when that is the form the timbre's signature was made over,
    so that a reader of the barcode can verify it. Raises :class:`TedMissing` when there is no TED.
    """
    ted = _find_ted(dte)
    if ted is None:
        raise TedMissing("the DTE carries no timbre (TED)")
    escapes = _TEXT_ESCAPES
    dd = _child(ted, "DD")
    if dd is not None and _has_quotes(dd):
        opened = _opened_signature(ted, dd)
        if opened is not None and not _digest_matches(opened, _encode(_flatten(dd, _TEXT_ESCAPES))):
            all_escaped = _encode(_flatten(dd, _TEXT_ESCAPES_ALL))
            if _digest_matches(opened, all_escaped):
                escapes = _TEXT_ESCAPES_ALL
    return _encode(_flatten(ted, escapes))


def flattened(element: etree._Element) -> bytes:
    """The "aplanado" bytes of ``element`` that a timbre signs (see the module's docstring)."""
    return _encode(_flatten(element, _TEXT_ESCAPES))


# --- the check ---------------------------------------------------------------------------------------


def _verify(dte: etree._Element, original: bytes | None) -> TedCheck:
    body = _body(dte)
    ted = _find_ted(dte, body)
    if ted is None:
        return TedCheck(Verdict.ABSENT, (_problem("ted_absent", "the document carries no timbre (TED)"),))
    parts = _children(ted)
    dd = parts.get("DD")
    frmt = parts.get("FRMT")
    problems: list[Problem] = []
    if dd is None:
        problems.append(_problem("ted_malformed", "the timbre has no DD (the data it signs)"))
    if frmt is None:
        problems.append(_problem("ted_malformed", "the timbre has no FRMT (its signature)"))
    if dd is None:
        return _invalid(problems)

    fields = _children(dd)
    da = _children(_child(fields.get("CAF"), "DA"))
    document = _document_fields(body)
    _compare(fields, document, problems)
    if not da:
        problems.append(_problem("ted_malformed", "the timbre has no CAF/DA (the folio authorization)"))
    else:
        _check_caf(fields, da, document, problems)
    key = _caf_key(da, problems) if da else None
    if frmt is not None and key is not None:
        _check_signature(dd, frmt, key, original, problems)
    return _invalid(problems) if problems else TedCheck(Verdict.VALID, ())


# What each DD field must agree with: (DD name, document element, compared how).
_AGREEMENT = (
    ("RE", "RUTEmisor", "rut"),
    ("TD", "TipoDTE", "number"),
    ("F", "Folio", "number"),
    ("FE", "FchEmis", "text"),
    ("RR", "RUTRecep", "rut"),
    ("MNT", "MntTotal", "number"),
)


def _document_fields(body: etree._Element | None) -> dict[str, str | None]:
    header = _child(body, "Encabezado")
    id_doc = _child(header, "IdDoc")
    totales = _child(header, "Totales")
    return {
        "RUTEmisor": _value(_child(_child(header, "Emisor"), "RUTEmisor")),
        "TipoDTE": _value(_child(id_doc, "TipoDTE")),
        "Folio": _value(_child(id_doc, "Folio")),
        "FchEmis": _value(_child(id_doc, "FchEmis")),
        "RUTRecep": _value(_child(_child(header, "Receptor"), "RUTRecep")),
        "MntTotal": _value(_child(totales, "MntTotal")),
    }


def _compare(
    fields: dict[str, etree._Element], document: dict[str, str | None], problems: list[Problem]
) -> None:
    for ted_name, doc_name, kind in _AGREEMENT:
        ours = _value(fields.get(ted_name))
        if ours is None or not ours.strip():
            problems.append(_problem("ted_malformed", f"the timbre's DD has no {ted_name}"))
            continue
        theirs = document[doc_name]
        if theirs is None or not theirs.strip():
            message = f"the timbre says {ted_name} {_shown(ours)} but the document has no {doc_name}"
            problems.append(_problem("ted_mismatch", message))
        elif not _same(kind, ours, theirs):
            message = (
                f"the timbre says {ted_name} {_shown(ours)} but the document's {doc_name} is {_shown(theirs)}"
            )
            problems.append(_problem("ted_mismatch", message))


def _check_caf(
    fields: dict[str, etree._Element],
    da: dict[str, etree._Element],
    document: dict[str, str | None],
    problems: list[Problem],
) -> None:
    for caf_name, doc_name, kind in (("RE", "RUTEmisor", "rut"), ("TD", "TipoDTE", "number")):
        ours = _value(da.get(caf_name))
        theirs = document[doc_name]
        if ours is None or not ours.strip():
            problems.append(_problem("ted_malformed", f"the timbre's CAF has no DA/{caf_name}"))
        elif theirs is not None and theirs.strip() and not _same(kind, ours, theirs):
            message = (
                f"the CAF authorizes {caf_name} {_shown(ours)} but the document's {doc_name} is "
                f"{_shown(theirs)}"
            )
            problems.append(_problem("ted_mismatch", message))
    rng = da.get("RNG")
    first = _whole(_value(_child(rng, "D")))
    last = _whole(_value(_child(rng, "H")))
    folio = _whole(_value(fields.get("F")))
    if first is None or last is None:
        problems.append(_problem("ted_malformed", "the timbre's CAF has no readable folio range (RNG D..H)"))
    elif folio is not None and not first <= folio <= last:
        message = f"the timbre's folio {folio} is outside the range {first}..{last} that the CAF authorizes"
        problems.append(_problem("ted_folio_out_of_range", message))


def _caf_key(da: dict[str, etree._Element], problems: list[Problem]) -> rsa.RSAPublicKey | None:
    rsapk = da.get("RSAPK")
    if rsapk is None:
        dsa = " (it has a DSA key, DSAPK, which SII does not use)" if "DSAPK" in da else ""
        problems.append(_problem("ted_malformed", f"the timbre's CAF has no RSA public key (RSAPK){dsa}"))
        return None
    key = _public_key(_value(_child(rsapk, "M")) or "", _value(_child(rsapk, "E")) or "")
    if key is None:
        problems.append(_problem("ted_malformed", "the CAF's public key (RSAPK M, E) cannot be read"))
    return key


@functools.lru_cache(maxsize=256)
def _public_key(modulus: str, exponent: str) -> rsa.RSAPublicKey | None:
    """The CAF's key, cached by its text: one CAF stamps many folios, and building a key costs more
    than using it."""
    n_bytes = _base64(modulus)
    e_bytes = _base64(exponent)
    if n_bytes is None or e_bytes is None or len(n_bytes) > 1024 or len(e_bytes) > 8:
        return None  # 1024 bytes is an 8192-bit modulus: bound the work a hostile key can cause
    try:
        return rsa.RSAPublicNumbers(
            int.from_bytes(e_bytes, "big"), int.from_bytes(n_bytes, "big")
        ).public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None


def _base64(text: str) -> bytes | None:
    """Strict base64, line breaks and spaces allowed (some issuers wrap long values)."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        pass
    try:
        return base64.b64decode(_WHITESPACE.sub("", text), validate=True)
    except (binascii.Error, ValueError):
        return None


def _check_signature(
    dd: etree._Element,
    frmt: etree._Element,
    key: rsa.RSAPublicKey,
    original: bytes | None,
    problems: list[Problem],
) -> None:
    algorithm = frmt.get("algoritmo")
    if algorithm is not None and algorithm.strip() != TED_ALGORITHM:
        message = f"the timbre is signed with {_shown(algorithm)}; SII's timbre is {TED_ALGORITHM}"
        problems.append(_problem("ted_malformed", message))
        return
    signature = _base64(_value(frmt) or "")
    if signature is None:
        problems.append(_problem("ted_signature_invalid", "the timbre's signature (FRMT) is not base64"))
        return
    opened = _open_signature(key, signature)
    if opened is None or not any(_digest_matches(opened, form) for form in _dd_forms(dd, original)):
        message = "the timbre's signature (FRMT) does not match its data (DD) under the CAF's key"
        problems.append(_problem("ted_signature_invalid", message))


def _open_signature(key: rsa.RSAPublicKey, signature: bytes) -> bytes | None:
    """The SHA-1 digest the signature carries, or None: one RSA operation whatever the forms tried."""
    if not signature:
        return None
    try:
        return key.recover_data_from_signature(signature, _PKCS1, _SHA1)
    except (InvalidSignature, ValueError):
        return None


def _opened_signature(ted: etree._Element, dd: etree._Element) -> bytes | None:
    frmt = _child(ted, "FRMT")
    da = _children(_child(_child(dd, "CAF"), "DA"))
    key = _caf_key(da, []) if da else None
    signature = _base64(_value(frmt) or "")
    if key is None or signature is None:
        return None
    return _open_signature(key, signature)


def _digest_matches(opened: bytes, data: bytes) -> bool:
    return hmac.compare_digest(opened, hashlib.sha1(data).digest())  # noqa: S324 - SII's algorithm


def _dd_forms(dd: etree._Element, original: bytes | None) -> Iterator[bytes]:
    """The byte forms of ``DD`` that issuers are known to sign, likeliest first, without repeats."""
    seen: set[bytes] = set()

    def fresh(form: bytes | None) -> bool:
        if form is None or form in seen:
            return False
        seen.add(form)
        return True

    canonical = _flatten(dd, _TEXT_ESCAPES)
    first = _encode(canonical)
    if fresh(first):
        yield first
    if _has_quotes(dd):
        all_escaped = _encode(_flatten(dd, _TEXT_ESCAPES_ALL))
        if fresh(all_escaped):
            yield all_escaped
    if not canonical.isascii():
        as_utf8 = canonical.encode("utf-8")
        if fresh(as_utf8):
            yield as_utf8
        repaired = _repair_mojibake(canonical)
        if repaired is not None and fresh(repaired):
            yield repaired
    if original:
        for raw in _raw_dds(original):
            # Only a DD that reads back to the very content checked above may stand for it.
            if fresh(raw) and _reads_as(raw, canonical):
                yield raw


def _raw_dds(original: bytes) -> Iterator[bytes]:
    """``DD`` as written in the original bytes, flattened, in ISO-8859-1 (and as found, if different)."""
    position = 0
    for _ in range(_MAX_RAW_DDS):  # start and end found apart: each search stays linear in the input
        start = _RAW_DD_START.search(original, position)
        end = _RAW_DD_END.search(original, start.end()) if start else None
        if start is None or end is None:
            return
        position = end.end()
        raw = _RAW_BETWEEN_TAGS.sub(b"><", _RAW_XMLNS.sub(b"", original[start.start() : end.end()]))
        yield raw
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if not text.isascii():
            yield _encode(text)


def _reads_as(raw: bytes, canonical: str) -> bool:
    for encoding in ("iso-8859-1", "utf-8"):
        # A parser per call: lxml parsers must not be shared between threads, and this path is rare.
        parser = etree.XMLParser(
            encoding=encoding, resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False
        )
        try:
            element = etree.fromstring(raw, parser=parser)
        except etree.XMLSyntaxError:
            continue
        if element is not None and _flatten(element, _TEXT_ESCAPES) == canonical:
            return True
    return False


def _repair_mojibake(text: str) -> bytes | None:
    """Text whose UTF-8 bytes were read as Latin-1 (``CrÃ©dito``), as the issuer meant it (``Crédito``)."""
    for encoding in ("iso-8859-1", "windows-1252"):
        try:
            repaired = text.encode(encoding).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if repaired != text:
            return _encode(repaired)
    return None


# --- "aplanado" serialization --------------------------------------------------------------------------


def _flatten(root: etree._Element, escapes: dict[str, str]) -> str:
    """``root`` as one line of XML: local names, no namespace declarations, no whitespace between tags.

    "Between tags" is taken literally, as issuers that flatten with a regular expression do: a text made
    only of whitespace goes, even inside a leaf; any other text stays exactly as it is. With XML's own
    escapes this is exclusive C14N of the element minus namespace declarations and that whitespace,
    which libxml2 writes far faster than Python; the walk below does the shapes the shortcut cannot
    (prefixes, processing instructions, other escapes) and gives the same result where both apply.
    """
    if escapes is _TEXT_ESCAPES:
        fast = _flatten_c14n(root)
        if fast is not None:
            return fast
    return _flatten_walk(root, escapes)


def _flatten_c14n(root: etree._Element) -> str | None:
    try:
        canonical = etree.tostring(root, method="c14n", exclusive=True, with_comments=False)
    except (etree.C14NError, ValueError):
        return None
    head, close, rest = canonical.partition(b">")
    head = _DEFAULT_XMLNS.sub(b"", head)  # exclusive C14N declares the default namespace on top only
    if b":" in head or b"xmlns" in rest or b"<?" in rest:
        return None
    return _RAW_BETWEEN_TAGS.sub(b"><", head + close + rest).decode("utf-8")


def _flatten_walk(root: etree._Element, escapes: dict[str, str]) -> str:
    # Iterative (iterwalk), so a deep hostile tree cannot exhaust the stack. Text after a comment
    # inside an element is that element's text, as C14N (and any reader of the document) has it.
    parts: list[str] = []
    for event, node in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        if event == "start":
            parts.append("<")
            parts.append(_local(node.tag))
            if node.attrib:
                for name, value in sorted((_local(k), v) for k, v in node.attrib.items()):
                    parts.append(f' {name}="{_escape(value, _ATTRIBUTE_ESCAPES)}"')
            parts.append(">")
            _text_part(parts, node.text, escapes)
        elif event == "end":
            parts.append(f"</{_local(node.tag)}>")
            if node is not root:
                _text_part(parts, node.tail, escapes)
        else:  # a comment or PI: not signed, but the text after it is the parent's
            _text_part(parts, node.tail, escapes)
    return "".join(parts)


def _text_part(parts: list[str], text: str | None, escapes: dict[str, str]) -> None:
    if text and not text.isspace():
        parts.append(_escape(text, escapes))


def _escape(text: str, escapes: dict[str, str]) -> str:
    # str.replace per special character: str.translate with a dict is many times slower.
    for char, entity in escapes.items():
        if char in text:
            text = text.replace(char, entity)
    return text


def _encode(text: str) -> bytes:
    """ISO-8859-1; a character it lacks (``€``, curly quotes) as windows-1252, else a character reference."""
    try:
        return text.encode("iso-8859-1")
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("windows-1252")
    except UnicodeEncodeError:
        return text.encode("iso-8859-1", errors="xmlcharrefreplace")


def _has_quotes(element: etree._Element) -> bool:
    return any('"' in str(text) or "'" in str(text) for text in element.itertext())


# --- reading -------------------------------------------------------------------------------------------


def _local(tag: object) -> str:
    text = str(tag)
    return text.rpartition("}")[2] if text.startswith("{") else text


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    """The first child element called ``name`` in any namespace or none (libxml2 does the matching)."""
    if parent is None:
        return None
    for child in parent.iterchildren("{*}" + name):
        return child
    return None


def _children(parent: etree._Element | None) -> dict[str, etree._Element]:
    """A parent's child elements by local name (the first of each name): one pass for many look-ups."""
    found: dict[str, etree._Element] = {}
    if parent is not None:
        for child in parent:
            tag = child.tag
            if isinstance(tag, str):
                found.setdefault(tag[tag.rfind("}") + 1 :], child)
    return found


def _value(element: etree._Element | None) -> str | None:
    """An element's text as a reader sees it (comments inside it do not cut it short)."""
    if element is None:
        return None
    if not len(element):  # a leaf, the usual case: no comment or child can hide part of its text
        return element.text or ""
    return "".join(str(text) for text in element.itertext())


def _body(dte: etree._Element) -> etree._Element | None:
    if not isinstance(dte.tag, str):
        return None
    if _local(dte.tag) in _BODY_NAMES:
        return dte
    for child in dte:
        if isinstance(child.tag, str) and _local(child.tag) in _BODY_NAMES:
            return child
    return None


def _find_ted(dte: etree._Element, body: etree._Element | None = None) -> etree._Element | None:
    body = body if body is not None else _body(dte)
    if body is not None:
        return _child(body, "TED")
    if not isinstance(dte.tag, str):
        return None
    # No Documento: take a TED wherever it is rather than call a stamped fragment unstamped.
    for element in dte.iter():
        if isinstance(element.tag, str) and _local(element.tag) == "TED":
            return element
    return None


# --- comparing -----------------------------------------------------------------------------------------


def _same(kind: str, a: str, b: str) -> bool:
    if kind == "rut":
        return _rut_key(a) == _rut_key(b)
    if kind == "number":
        return _same_number(a, b)
    return a.strip() == b.strip()


def _rut_key(value: str) -> tuple[str, str]:
    text = value.strip().replace(".", "").replace(" ", "").upper()
    digits, _, check = text.rpartition("-") if "-" in text else (text[:-1], "", text[-1:])
    return digits.lstrip("0"), check


def _same_number(a: str, b: str) -> bool:
    try:
        return Decimal(a.strip()) == Decimal(b.strip())
    except (InvalidOperation, ValueError):
        return a.strip() == b.strip()


def _whole(text: str | None) -> int | None:
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(code: str, message: str) -> Problem:
    return Problem(check=Check.TED, code=code, message=message)


def _invalid(problems: list[Problem]) -> TedCheck:
    return TedCheck(Verdict.INVALID, tuple(problems))
