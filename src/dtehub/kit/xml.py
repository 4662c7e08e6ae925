"""A hardened XML reader for documents that arrive from outside.

lxml is told not to load DTDs, resolve entities, touch the network or build huge trees; on top of
that any ``<!DOCTYPE``/``<!ENTITY`` declaration is refused before the parser sees the bytes, so
billion-laughs, quadratic blow-up and external-entity documents fail fast and in bounded memory.

Real DTEs lie about their encoding: a file may declare ISO-8859-1 and hold UTF-8. Bytes that are
valid UTF-8 with multi-byte sequences are read as UTF-8 whatever the declaration says (such
sequences essentially never occur in genuine Latin-1 text); otherwise the declaration, or UTF-8
when there is none, is believed.
"""

from __future__ import annotations

import re

from lxml import etree

MAX_DEPTH = 64
DEFAULT_MAX_XML_BYTES = 5 * 1024 * 1024

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_LATIN1_NAMES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}
# Only encodings in which markup is plain ASCII: in others (UTF-7…) a DOCTYPE escapes _FORBIDDEN.
_ASCII_MARKUP = _LATIN1_NAMES | {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-15", "iso8859-15"}
_BOMS = (b"\xef\xbb\xbf",)


class XmlError(ValueError):
    """The bytes cannot be read safely as XML."""

    code = "xml_malformed"


class XmlForbiddenFeature(XmlError):
    """DTDs, entity declarations and external references are never accepted."""

    code = "xml_forbidden_feature"


class XmlTooLarge(XmlError):
    code = "xml_too_large"


def _encoding_to_use(data: bytes) -> str:
    body = data[3:] if data.startswith(_BOMS) else data
    match = _DECLARATION.match(body)
    declared = match.group(1).decode("ascii").lower() if match else None
    if declared in _LATIN1_NAMES or declared is None:
        try:
            decoded = body.decode("utf-8")
        except UnicodeDecodeError:
            return "windows-1252" if declared in {"windows-1252", "cp1252"} else "iso-8859-1"
        return "utf-8" if not decoded.isascii() or declared is None else declared
    if declared not in _ASCII_MARKUP:
        raise XmlError(f"the XML declares encoding {declared!r}; DTEs are ISO-8859-1 or UTF-8")
    return declared


def encoding_of(data: bytes) -> str:
    """The encoding the XML bytes are read in (as :func:`parse_untrusted` reads them), lower case."""
    return _encoding_to_use(data)


def _parser(encoding: str) -> etree.XMLParser:
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def parse_untrusted(data: bytes, *, max_bytes: int) -> etree._Element:
    """Parse untrusted XML bytes into an element tree, or raise an :class:`XmlError`."""
    if len(data) > max_bytes:
        raise XmlTooLarge(f"the XML is {len(data)} bytes; the limit is {max_bytes}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4]:
        raise XmlError("the XML is UTF-16 or binary; DTEs are ISO-8859-1 or UTF-8")
    if _FORBIDDEN.search(data):
        raise XmlForbiddenFeature("the XML declares a DTD or entities, which are not allowed")
    encoding = _encoding_to_use(data)
    body = data[3:] if data.startswith(_BOMS) else data
    try:
        root = etree.fromstring(body, parser=_parser(encoding))
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"the XML is not well-formed: {exc.msg}") from None
    except LookupError:
        raise XmlError(f"unknown XML encoding {encoding!r}") from None
    if root is None:
        raise XmlError("the XML is empty")
    _check_tree(root)
    return root


# True when some element lies deeper than MAX_DEPTH. Evaluated by libxml2 level by level, it costs a
# tenth of walking the tree in Python, and the check runs for every DTE that comes in.
_TOO_DEEP = etree.XPath("boolean(" + "/*" * (MAX_DEPTH + 1) + ")")


def _check_tree(root: etree._Element) -> None:
    # Entity nodes cannot occur: declarations are refused above and an undeclared entity reference
    # is a syntax error, so only the depth is left to check.
    if _TOO_DEEP(root):
        raise XmlError(f"the XML nests deeper than {MAX_DEPTH} levels")


def local_name(element: etree._Element) -> str:
    """The tag without its namespace: DTEs come with and without ``http://www.sii.cl/SiiDte``."""
    return etree.QName(element).localname
