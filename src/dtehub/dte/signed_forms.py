"""The canonical text of a DTE's signed parts, in each form the DTE may have travelled in.

A DTE's signature covers two canonical texts: the body (``Documento``) for ``DigestValue`` and
``SignedInfo`` for ``SignatureValue``. SII signs with inclusive C14N 1.0, which writes on the apex of each
every namespace declaration in scope there, inherited ones included: a ``Documento`` signed inside
``<DTE xmlns="http://www.sii.cl/SiiDte" xmlns:xsi="...">`` canonicalizes with both declarations, the same
``Documento`` under a bare ``<DTE>`` with neither. Real files travel in contexts their signer never saw:
signed bare and served with SII's namespace (or the reverse, as SII's MIPYME portal serves what it signed
with the namespace), given an ``xmlns:xsi`` copied from the envelope they were cut out of, or signed inside
an envelope and cut out of it without its declarations. Nothing in the signed content changed, yet the
canonical text did.

So a form (:class:`SignedForm`) is a change to the declarations the DTE element holds (a bare DTE is
always the root here, so what it holds is what its parts inherit), tried on both parts alike:

- the default namespace as found, or switched: SII's added when the DTE has none, removed when it has
  SII's (another vocabulary's default namespace is not a form real files show);
- the prefixed declarations as found, or without those nothing in the DTE uses (declarations inherited
  from an envelope), or with ``xmlns:xsi`` (what every SII envelope declares) when the DTE lacks it;

and each combination of the two: at most six forms, the one as found first.

Only declarations that a part inherits from the DTE change with the form: a ``Signature`` that declares
its own default namespace (as SII's does) keeps it whatever the DTE's. A form changes no character of the
content, so a document changed after signing matches in none of them; and the verifier accepts a form only
when both the digest and the signature value hold in it.

Cost: the form as found is the first, computed as before (one detached canonicalization per part); other
forms are computed only when it does not match. Under inclusive C14N, when the serialized part shows that
the declarations changed appear nowhere but on its apex, a form is derived from the canonical text by
rewriting the apex's declarations (exact: nothing else in the text depends on them); otherwise the part is
re-serialized with its apex's declarations changed and canonicalized again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml import etree

SII_NS = "http://www.sii.cl/SiiDte"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
ENVELOPE_DECLARATIONS: tuple[tuple[str, str], ...] = (("xsi", XSI_NS),)
"""Declarations an envelope gives the DTEs inside it (SII's EnvioDTE declares xsi for schemaLocation)."""

# The apex of canonical XML: its name, then its namespace declarations (C14N writes them before attributes).
_CANONICAL_APEX = re.compile(
    rb'\A<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)((?: xmlns(?::[A-Za-z_][\w.\-]*)?="[^"]*")*)(?=[ />])'
)
_CANONICAL_DECLARATION = re.compile(rb' (xmlns(?::[A-Za-z_][\w.\-]*)?)="[^"]*"')
# lxml's own serialization of a start tag: double-quoted attributes only.
_SERIALIZED_NAME = re.compile(rb"\A<[^\s/>]+")
_SERIALIZED_ATTRIBUTE = re.compile(rb'\s+([^\s=/>]+)="[^"]*"')


# A part's serialization is kept for the other forms when it is this small (a DTE is 5-20 KB); a larger
# one is serialized again if another form is asked for, rather than held in memory meanwhile.
_KEEP_SERIALIZED_UP_TO = 256 * 1024

Declaration = tuple[str | None, str]
"""A namespace declaration: its prefix (None for the default namespace) and its URI."""


@dataclass(frozen=True)
class SignedForm:
    """A form of a DTE: the declarations its ``DTE`` element holds, relative to the document as found.

    ``added`` are declarations the form has and the document lacks, ``removed`` those the document has
    and the form lacks: SII's default namespace set (added) or removed, an envelope's ``xmlns:xsi``.
    """

    added: tuple[Declaration, ...] = ()
    removed: tuple[Declaration, ...] = ()

    @property
    def as_found(self) -> bool:
        return not (self.added or self.removed)

    def as_json(self) -> dict[str, Any]:
        """What ``xmlChecks.signedForm`` shows: ``{"asFound", "added", "removed"}``, each declaration
        by its attribute name (``xmlns``, ``xmlns:xsi``) and URI."""
        return {
            "asFound": self.as_found,
            "added": {_attribute(prefix): uri for prefix, uri in self.added},
            "removed": {_attribute(prefix): uri for prefix, uri in self.removed},
        }


AS_FOUND = SignedForm()
_WITH_SII = SignedForm(added=((None, SII_NS),))
_WITHOUT_SII = SignedForm(removed=((None, SII_NS),))


def _attribute(prefix: str | None) -> str:
    return "xmlns" if prefix is None else f"xmlns:{prefix}"


@lru_cache(maxsize=64)
def _name(prefix: str | None) -> bytes:
    return _attribute(prefix).encode()


def canonicalize(
    element: etree._Element,
    *,
    exclusive: bool = False,
    with_comments: bool = False,
    inclusive_prefixes: tuple[str, ...] | None = None,
) -> bytes:
    """The canonical form of ``element`` and its subtree, as a signer computes it in its document.

    The element is serialized (lxml writes all in-scope namespaces on it) and parsed again as a
    document of its own: libxml2 canonicalizing a subtree in place can add ``xmlns=""`` declarations
    (seen with libxml2 2.14), which breaks every digest; even ``deepcopy`` does.
    """
    return _c14n(_reparse(_serialized(element)), exclusive, with_comments, inclusive_prefixes)


@dataclass(frozen=True)
class C14nMethod:
    exclusive: bool
    with_comments: bool
    inclusive_prefixes: tuple[str, ...] | None


_Change = tuple[tuple[str | None, ...], tuple[Declaration, ...]]  # prefixes removed, declarations added


class _Part:
    """One signed part (the body or SignedInfo) and its canonical text per change of its apex.

    The text as found is kept (the others derive from it); the others only when ``keep`` says so: a
    small SignedInfo is judged in many forms that mostly give it one text, while a body of megabytes
    is judged once per form and must not stay in memory six times over.
    """

    __slots__ = ("_element", "_first", "_keep", "_method", "_serialized", "_texts")

    def __init__(self, element: etree._Element, method: C14nMethod, *, keep: bool) -> None:
        self._element = element
        self._method = method
        self._keep = keep
        self._serialized = b""
        self._first: bytes | None = None
        self._texts: dict[_Change, bytes | None] = {}

    def canonical(self, form: SignedForm) -> bytes | None:
        """The part's canonical text in ``form``, or None when that form cannot be built.

        A form changes what the part inherits from the DTE: a declaration removed from the DTE is gone
        only where the part inherits it, and one added to it shows where nothing declares that prefix.
        """
        if not (form.added or form.removed):
            return self._as_found()
        nsmap = self._element.nsmap
        removed = tuple([prefix for prefix, uri in form.removed if nsmap.get(prefix) == uri])
        added = tuple([declaration for declaration in form.added if declaration[0] not in nsmap])
        if not (removed or added):
            return self._as_found()
        change = (removed, added)
        if change in self._texts:
            return self._texts[change]
        text = self._build(change)
        if self._keep:
            self._texts[change] = text
        return text

    def _as_found(self) -> bytes:
        first = self._first
        if first is None:
            serialized = _serialized(self._element)
            if len(serialized) <= _KEEP_SERIALIZED_UP_TO:
                self._serialized = serialized
            method = self._method
            first = self._first = _c14n(
                _reparse(serialized), method.exclusive, method.with_comments, method.inclusive_prefixes
            )
        return first

    def _serialization(self) -> bytes:
        return self._serialized or _serialized(self._element)

    def _build(self, change: _Change) -> bytes | None:
        removed, added = change
        first = self._as_found()
        changed = {_name(prefix) for prefix in removed}
        new = [(_name(prefix), uri) for prefix, uri in added]
        method = self._method
        if not method.exclusive and _only_on_apex(self._serialization(), changed, new):
            derived = _rewrite_canonical_apex(first, changed, new)
            if derived is not None:
                return derived
        try:
            moved = _reparse(_rewrite_serialized_apex(self._serialization(), changed, new))
        except etree.XMLSyntaxError:
            return None  # e.g. a removed prefix that the part uses after all: not a form it can have had
        return _c14n(moved, method.exclusive, method.with_comments, method.inclusive_prefixes)


class SignedParts:
    """A DTE's body and SignedInfo in one reading of its bytes, canonicalized lazily in each form."""

    def __init__(
        self,
        root: etree._Element,
        body: etree._Element,
        signed_info: etree._Element | None,
        reference_method: C14nMethod,
        signed_info_method: C14nMethod,
    ) -> None:
        self._root = root
        self.body = _Part(body, reference_method, keep=False)
        self.signed_info = (
            _Part(signed_info, signed_info_method, keep=True) if signed_info is not None else None
        )

    def signed_info_canonical(self, form: SignedForm) -> bytes | None:
        return self.signed_info.canonical(form) if self.signed_info is not None else None

    def forms(self) -> Iterator[SignedForm]:
        """The forms to try, the one as found first; the others only computed when asked for."""
        yield AS_FOUND
        nsmap = self._root.nsmap
        current = nsmap.get(None)
        defaults: list[SignedForm] = [AS_FOUND]
        if current is None:
            defaults.append(_WITH_SII)
        elif current == SII_NS:
            defaults.append(_WITHOUT_SII)
        # (another vocabulary's default namespace is not a form real files show)
        yield from defaults[1:]
        declarations: list[SignedForm] = []
        unused = _unused_declarations(self._root)
        if unused:
            declarations.append(SignedForm(removed=unused))
        missing = tuple((prefix, uri) for prefix, uri in ENVELOPE_DECLARATIONS if prefix not in nsmap)
        if missing:
            declarations.append(SignedForm(added=missing))
        for declared in declarations:
            for default in defaults:
                yield SignedForm(default.added + declared.added, default.removed + declared.removed)


def _unused_declarations(root: etree._Element) -> tuple[Declaration, ...]:
    """The DTE's prefixed declarations that no element or attribute in it uses, in prefix order."""
    declared = {prefix: uri for prefix, uri in root.nsmap.items() if prefix is not None}
    if not declared:
        return ()
    used_prefixes: set[str] = set()
    used_namespaces: set[str] = set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.prefix is not None:
            used_prefixes.add(element.prefix)
        for name in element.attrib:
            if isinstance(name, str) and name.startswith("{"):
                used_namespaces.add(name[1:].partition("}")[0])
    return tuple(
        sorted(
            (p, uri) for p, uri in declared.items() if p not in used_prefixes and uri not in used_namespaces
        )
    )


def _only_on_apex(serialized: bytes, changed: set[bytes], new: list[tuple[bytes, str]]) -> bool:
    """Whether the declarations a form changes are on the serialized part's apex and nowhere else.

    Then the canonical text and the form differ in the apex's declarations alone. A redundant
    redeclaration further down, which C14N omits but which would show once the apex's is gone, makes it
    false, and so does an undeclaration (``xmlns=""``) under a default namespace added.
    """
    for name in changed:
        if serialized.count(name + b'="') != 1:
            return False
    return all(name in changed or serialized.count(name + b'="') == 0 for name, _ in new)


def _rewrite_canonical_apex(
    canonical: bytes, changed: set[bytes], new: list[tuple[bytes, str]]
) -> bytes | None:
    """Canonical text with the apex's declarations changed, in C14N's order (default first, then by
    prefix); None when the apex cannot be read."""
    apex = _CANONICAL_APEX.match(canonical)
    if apex is None:
        return None
    declarations = [(name, b" " + name + b'="' + _escape(uri) + b'"') for name, uri in new]
    if apex.group(2):
        declarations += [
            (match.group(1), match.group(0))
            for match in _CANONICAL_DECLARATION.finditer(apex.group(2))
            if match.group(1) not in changed
        ]
    if len(declarations) > 1:
        declarations.sort(key=_c14n_order)
    rest = memoryview(canonical)[apex.end() :]  # not copied: the text can be megabytes
    return b"".join([b"<", apex.group(1), *(text for _, text in declarations), rest])


def _c14n_order(declaration: tuple[bytes, bytes]) -> bytes:
    return declaration[0][6:]  # by prefix: "xmlns" (b"") before every "xmlns:p" (b"p")


def _rewrite_serialized_apex(serialized: bytes, changed: set[bytes], new: list[tuple[bytes, str]]) -> bytes:
    """lxml's serialization of an element with its apex's declarations changed."""
    name = _SERIALIZED_NAME.match(serialized)
    if name is None:
        return serialized
    position, kept = name.end(), []
    while match := _SERIALIZED_ATTRIBUTE.match(serialized, position):
        if match.group(1) not in changed:
            kept.append(match.group(0))
        position = match.end()
    declarations = [b" " + key + b'="' + _escape(uri) + b'"' for key, uri in new]
    return b"".join([name.group(0), *declarations, *kept, serialized[position:]])


@lru_cache(maxsize=64)
def _escape(value: str) -> bytes:
    # Attribute escaping as C14N writes it; the URIs declared here hold none of these characters.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;").encode("utf-8")


def _c14n(
    root: etree._Element, exclusive: bool, with_comments: bool, inclusive_prefixes: tuple[str, ...] | None
) -> bytes:
    return etree.tostring(
        root,
        method="c14n",
        exclusive=exclusive,
        with_comments=with_comments,
        inclusive_ns_prefixes=list(inclusive_prefixes) if inclusive_prefixes else None,
    )


def _serialized(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="UTF-8", xml_declaration=False, with_tail=False)


def _reparse(text: bytes) -> etree._Element:
    # Our own serialization of an already parsed tree: no DTD can be in it; the parser is hardened anyway.
    parser = etree.XMLParser(
        encoding="utf-8", resolve_entities=False, load_dtd=False, no_network=True, collect_ids=False
    )
    return etree.fromstring(text, parser=parser)
