"""Reading values out of a DTE's elements: the strict ones a stored document is made of, and the lenient
reading of everything else.

**Strict** values (:func:`whole_number`, :func:`strict_date`, :func:`strict_rut`, :func:`strict_cents`,
:func:`pesos`) raise :class:`~dtehub.dte.errors.DteUnreadable` with a message that names the element.
**Lenient** ones (:class:`LenientValues`) turn a malformed value into ``None`` and a warning, because
genuine files are messy: a QtyItem of ``1,5`` must not cost the document.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from dtehub.dte.constants import MAX_DIGITS, MAX_NUMBER_TEXT, MAX_WARNINGS
from dtehub.dte.errors import DteUnreadable
from dtehub.kit.money import InvalidAmount, to_cents
from dtehub.kit.rut import InvalidRut, normalize_rut

# xs:decimal's lexical form, ASCII digits only.
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CENT = Decimal("0.01")


class Node:
    """An element's element children by local name: one pass, then lookups by name."""

    __slots__ = ("_children",)

    def __init__(self, element: etree._Element) -> None:
        children: dict[str, list[etree._Element]] = {}
        for child in element:
            tag = child.tag
            if isinstance(tag, str):  # not a comment or processing instruction
                children.setdefault(tag.rpartition("}")[2], []).append(child)
        self._children = children

    def names(self) -> list[str]:
        return list(self._children)

    def has(self, name: str) -> bool:
        return name in self._children

    def all(self, name: str) -> list[etree._Element]:
        return self._children.get(name, [])

    def node(self, name: str) -> Node | None:
        found = self._children.get(name)
        return Node(found[0]) if found else None

    def nodes(self, name: str) -> list[Node]:
        return [Node(element) for element in self._children.get(name, [])]

    def text(self, name: str) -> str:
        found = self._children.get(name)
        return (found[0].text or "").strip() if found else ""

    def texts(self, name: str) -> tuple[str, ...]:
        return tuple(t for element in self._children.get(name, []) if (t := (element.text or "").strip()))


# --- strict values: the fields a document is made of ---------------------------------------------------


def required(parent: Node, path: str, name: str) -> str:
    value = parent.text(name)
    if not value:
        raise DteUnreadable(f"the DTE has no {path}/{name}")
    return value


def whole_number(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):  # str.isdigit() also takes "²", which int() refuses
        raise DteUnreadable(f"{what} is {text[:40]!r}, not a positive whole number")
    if len(text.lstrip("0")) > MAX_DIGITS:
        raise DteUnreadable(f"{what} has {len(text)} digits; at most {MAX_DIGITS} are accepted")
    return int(text)


def as_date(text: str) -> date | None:
    # date.fromisoformat also takes "20190329" and week dates since 3.11; a DTE date is YYYY-MM-DD.
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def strict_date(text: str, what: str) -> date:
    value = as_date(text)
    if value is None:
        raise DteUnreadable(f"{what} is {text!r}, not a date (YYYY-MM-DD)")
    return value


def as_rut(text: str) -> str | None:
    # The schema's RUTType has the hyphen: without it "76399752" would silently read as 7639975-2.
    if "-" not in text:
        return None
    try:
        return normalize_rut(text)
    except InvalidRut:
        return None


def strict_rut(text: str, what: str) -> str:
    value = as_rut(text)
    if value is None:
        raise DteUnreadable(f"{what} {text!r} is not a valid RUT (digits, hyphen and check digit)")
    return value


def strict_cents(text: str, what: str, *, negative: bool = False) -> int:
    if not text:
        return 0
    try:
        return to_cents(text, allow_negative=negative)
    except InvalidAmount as exc:
        raise DteUnreadable(f"{what}: {exc}") from None


def as_decimal(text: str) -> Decimal | None:
    if len(text) > MAX_NUMBER_TEXT or not _DECIMAL.match(text):
        return None
    return Decimal(text)


def pesos(value: Decimal, what: str) -> int:
    """A peso amount given with up to four decimals (OtraMoneda), in hundredths, rounded half up."""
    try:
        return to_cents(value.quantize(_CENT, rounding=ROUND_HALF_UP))
    except InvalidAmount as exc:
        raise DteUnreadable(f"{what}: {exc}") from None


# --- lenient values: everything else -----------------------------------------------------------------


class LenientValues:
    """Reads optional values: a malformed one becomes None and a warning."""

    def __init__(self, *, negative: bool) -> None:
        self.negative = negative  # Liquidaciones-factura may carry negative amounts
        self.warnings: list[str] = []

    def warn(self, where: str, name: str, text: str, expected: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            shown = text if len(text) <= 40 else text[:39] + "…"
            self.warnings.append(f"{where}{name} {shown!r} is not {expected}; left out")

    def opt_text(self, node: Node | None, name: str) -> str | None:
        value = node.text(name) if node is not None else ""
        return value or None

    def opt_int(self, node: Node | None, name: str, where: str = "") -> int | None:
        text = node.text(name) if node is not None else ""
        if not text:
            return None
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return int(text)
        self.warn(where, name, text, "a whole number")
        return None

    def opt_decimal(self, node: Node | None, name: str, where: str = "") -> Decimal | None:
        text = node.text(name) if node is not None else ""
        if not text:
            return None
        value = as_decimal(text)
        if value is None:
            self.warn(where, name, text, "a number")
        return value

    def opt_cents(
        self, node: Node | None, name: str, where: str = "", *, negative: bool = False
    ) -> int | None:
        text = node.text(name) if node is not None else ""
        if not text:
            return None
        negative = negative or self.negative
        try:
            return to_cents(text, allow_negative=negative)
        except InvalidAmount:
            self.warn(where, name, text, "an amount" if negative else "an amount of 0 or more")
            return None

    def opt_date(self, node: Node | None, name: str, where: str = "") -> date | None:
        text = node.text(name) if node is not None else ""
        if not text:
            return None
        value = as_date(text)
        if value is None:
            self.warn(where, name, text, "a date (YYYY-MM-DD)")
        return value

    def opt_rut(self, node: Node | None, name: str, where: str = "") -> str | None:
        text = node.text(name) if node is not None else ""
        if not text:
            return None
        value = as_rut(text)
        if value is None:
            self.warn(where, name, text, "a valid RUT")
        return value

    def flag(self, node: Node | None, name: str, where: str = "") -> bool:
        """An indicator that is either absent or 1."""
        text = node.text(name) if node is not None else ""
        if text in ("", "0"):
            return False
        if text == "1":
            return True
        self.warn(where, name, text, "1")
        return False

    def choice(self, node: Node | None, name: str, allowed: frozenset[int], where: str = "") -> int | None:
        value = self.opt_int(node, name, where)
        if value is not None and value not in allowed:
            self.warn(where, name, str(value), "one of " + ", ".join(map(str, sorted(allowed))))
            return None
        return value
