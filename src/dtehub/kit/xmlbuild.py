"""Build XML elements with lxml in one expression, typed (lxml's ``ElementMaker`` has no type stubs).

``element("{ns}Name", child, "text", Attr="v")``: children are elements, strings are text (after the last
child, as its tail); ``nsmap`` declares prefixes. Every character is escaped by lxml: no XML is written by
hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree


def element(
    tag: str | etree.QName,
    *content: etree._Element | str | None,
    nsmap: Mapping[Any, str] | None = None,
    attributes: Mapping[Any, str] | None = None,
) -> etree._Element:
    made = etree.Element(tag, nsmap=dict(nsmap) if nsmap else None)
    for name, value in (attributes or {}).items():
        made.set(name, value)
    for part in content:
        if part is None:
            continue
        if isinstance(part, str):
            last = made[-1] if len(made) else None
            if last is None:
                made.text = (made.text or "") + part
            else:
                last.tail = (last.tail or "") + part
        else:
            made.append(part)
    return made


def namespaced(namespace: str | None, name: str) -> str:
    """``{namespace}name``, or ``name`` without a namespace."""
    return f"{{{namespace}}}{name}" if namespace else name
