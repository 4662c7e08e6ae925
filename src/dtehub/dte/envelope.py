"""Cut each DTE out of a file, byte for byte, so that its signature still verifies on its own.

A DTE's signature covers its text, so a DTE kept or served apart from its envelope must be the very bytes
it had: :func:`split_dtes` returns slices of the input, never a re-serialization, each prefixed with the
file's XML declaration (and byte-order mark) when the file has one, so a piece is read with the same
encoding as the whole.

The scan is a single pass over the bytes with no tree: it stops only at markup that could hide or be a
``DTE`` tag (comments, CDATA sections, processing instructions, ``DTE`` and ``SetDTE`` tags), which is
sound because ``<`` cannot occur unescaped in text or attribute values. It is linear in the input, and a
file cut short or a DTD is refused rather than guessed at. The caller limits the input's size; each piece
is later parsed by the hardened parser on its own.

Namespaces declared only on the envelope: the SII default namespace and ``xmlns:xsi`` on ``EnvioDTE``
are not copied into a piece. A DTE signed inside its envelope had them in scope when it was
canonicalized; the verifier tries the forms with and without them (:mod:`dtehub.dte.signed_forms`), so
the piece verifies as cut. A prefix that a DTE uses but only the envelope declares (rare: ``ds:`` or
``xsi:`` declared on ``EnvioDTE``) would leave the piece not well-formed, so that one declaration is
added to the piece's ``DTE`` start tag, the only change ever made to the bytes.

The DTEs returned are the outermost ``DTE`` elements in document order, wherever they sit in the
envelope, matching :func:`dtehub.dte.reader.dte_elements` (a DTE nested inside another DTE, which no real
file has, is not cut out on its own).
"""

from __future__ import annotations

import re

from dtehub.dte.errors import DteUnreadable
from dtehub.kit.xml import XmlError, XmlForbiddenFeature

ROOT_NAMES = (b"DTE", b"SetDTE", b"EnvioDTE", b"EnvioBOLETA")

_BOM = b"\xef\xbb\xbf"
_SPACE = re.compile(rb"[ \t\r\n]*")
_NAME = re.compile(rb"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?")
# Markup that can hide a tag (comments, CDATA, PIs, declarations) and the DTE and SetDTE tags themselves.
_LANDMARK = re.compile(rb"<(?:!--|!\[CDATA\[|!|\?|(/?)(?:[A-Za-z_][\w.\-]*:)?(DTE|SetDTE)(?=[\s/>]))")
_TAG_STOP = re.compile(rb"[\"'>]")
_PREFIXED_DECLARATION = re.compile(rb"""\sxmlns:([A-Za-z_][\w.\-]*)\s*=\s*("[^"]*"|'[^']*')""")
_ANY_TAG = re.compile(rb"<(?:!--|!\[CDATA\[|!|\?|/?([^\s/>]+))")
_ATTRIBUTE = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*(?:"[^"]*"|'[^']*')""")
_SKIP_TO = {b"<!--": b"-->", b"<![CDATA[": b"]]>", b"<?": b"?>"}


def split_dtes(data: bytes, *, roots: tuple[bytes, ...] = ROOT_NAMES) -> list[bytes]:
    """The bytes of each DTE in a ``DTE``, ``SetDTE``, ``EnvioDTE`` or ``EnvioBOLETA`` file (or in a file
    whose root is one of ``roots``: an electronic cession file, ``AEC``, carries one DTE).

    Raises :class:`~dtehub.kit.xml.XmlError` when the bytes are not XML it can cut (a DTD, a file cut
    short) and :class:`~dtehub.dte.errors.DteUnreadable` when the root is none of those four.
    """
    position = len(_BOM) if data.startswith(_BOM) else 0
    prefix = b""
    if data.startswith(b"<?xml", position) and data[position + 5 : position + 6].isspace():
        position = _after(data, b"?>", position, "the XML declaration")
        prefix = data[:position] + b"\n"
    root_start, root_name = _root(data, position)
    local = root_name.rpartition(b":")[2]
    if local not in roots:
        *others, last = [name.decode("ascii") for name in roots]
        raise DteUnreadable(
            f"the root element is {root_name.decode('ascii', 'replace')}; "
            f"expected {', '.join(others) + ' or ' if others else ''}{last}"
        )

    namespaces: dict[bytes, bytes] = {}  # prefix → quoted URI, declared on the envelope's own tags
    if local != b"DTE":
        root_end = _tag_end(data, root_start + 1 + len(root_name))
        namespaces.update(_PREFIXED_DECLARATION.findall(data[root_start:root_end]))

    pieces: list[bytes] = []
    depth = 0
    piece_start = 0
    scan = root_start
    while match := _LANDMARK.search(data, scan):
        token = match.group(0)
        if match.group(2) is None:
            terminator = _SKIP_TO.get(token)
            if terminator is None:
                raise XmlForbiddenFeature("the XML declares a DTD or entities, which are not allowed")
            scan = _after(data, terminator, match.end(), "a comment, CDATA section or instruction")
            continue
        tag_end = _tag_end(data, match.end())
        closing = match.group(1) == b"/"
        if match.group(2) == b"SetDTE":
            if depth == 0 and not closing:
                namespaces.update(_PREFIXED_DECLARATION.findall(data[match.start() : tag_end]))
        elif closing:
            if depth == 0:
                raise XmlError("the XML is not well-formed: a </DTE> closes no DTE")
            depth -= 1
            if depth == 0:
                pieces.append(prefix + _declare_prefixes(data[piece_start:tag_end], namespaces))
        elif data[tag_end - 2 : tag_end] == b"/>":
            if depth == 0:
                pieces.append(prefix + _declare_prefixes(data[match.start() : tag_end], namespaces))
        else:
            if depth == 0:
                piece_start = match.start()
            depth += 1
        scan = tag_end
    if depth:
        raise XmlError("the XML is not well-formed: a DTE element is not closed (is the file cut short?)")
    return pieces


def _after(data: bytes, terminator: bytes, position: int, what: str) -> int:
    end = data.find(terminator, position)
    if end < 0:
        raise XmlError(f"the XML is not well-formed: {what} is not closed (is the file cut short?)")
    return end + len(terminator)


def _root(data: bytes, position: int) -> tuple[int, bytes]:
    """Where the root element starts and its name, past comments and instructions."""
    while True:
        position = _SPACE.match(data, position).end()  # type: ignore[union-attr]  # always matches
        if data.startswith(b"<!--", position):
            position = _after(data, b"-->", position + 4, "a comment")
        elif data.startswith(b"<?", position):
            position = _after(data, b"?>", position + 2, "a processing instruction")
        elif data.startswith(b"<!", position):
            raise XmlForbiddenFeature("the XML declares a DTD or entities, which are not allowed")
        elif data.startswith(b"<", position) and (name := _NAME.match(data, position + 1)):
            return position, name.group(0)
        else:
            raise XmlError("the XML has no root element where one should start")


def _tag_end(data: bytes, position: int) -> int:
    """Just past the ``>`` that closes the tag whose attributes start at ``position``."""
    while stop := _TAG_STOP.search(data, position):
        if stop.group(0) == b">":
            return stop.end()
        position = _after(data, stop.group(0), stop.end(), "an attribute value")
    raise XmlError("the XML is not well-formed: a tag is not closed (is the file cut short?)")


def _declare_prefixes(piece: bytes, namespaces: dict[bytes, bytes]) -> bytes:
    """The piece with the envelope's declarations of prefixes it uses but does not declare itself."""
    wanted = [
        prefix
        for prefix in namespaces
        if prefix + b":" in piece and b"xmlns:" + prefix not in piece  # the cheap test, usually enough
    ]
    if not wanted:
        return piece
    used = _prefixes_used(piece)
    missing = [prefix for prefix in wanted if prefix in used]
    if not missing:
        return piece
    name_end = _NAME.match(piece, 1).end()  # type: ignore[union-attr]  # the piece starts with its tag
    declarations = b"".join(b" xmlns:" + prefix + b"=" + namespaces[prefix] for prefix in missing)
    return piece[:name_end] + declarations + piece[name_end:]


def _prefixes_used(piece: bytes) -> set[bytes]:
    """The namespace prefixes on the piece's element and attribute names (not in text or comments)."""
    used: set[bytes] = set()
    position = 0
    while match := _ANY_TAG.search(piece, position):
        terminator = _SKIP_TO.get(match.group(0))
        if match.group(1) is None:
            position = _after(piece, terminator or b">", match.end(), "markup")
            continue
        name = match.group(1)
        if b":" in name:
            used.add(name.partition(b":")[0])
        end = _tag_end(piece, match.end())
        for attribute in _ATTRIBUTE.finditer(piece, match.end(), end):
            attribute_name = attribute.group(1)
            if b":" in attribute_name and not attribute_name.startswith(b"xmlns:"):
                used.add(attribute_name.partition(b":")[0])
        position = end
    return used
