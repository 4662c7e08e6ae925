"""Read the fields dtehub keeps from a DTE, whatever envelope and namespace it arrives in.

Accepted roots: a bare ``DTE``, ``SetDTE``, ``EnvioDTE`` and ``EnvioBOLETA``, with or without the SII
namespace (``http://www.sii.cl/SiiDte``). A document that does not carry a usable type, folio, issue
date, issuer, receiver and total is not a DTE and is refused as unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lxml import etree

from dtehub.kit.money import InvalidAmount, to_cents
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.kit.xml import local_name

# The DTE's body is Documento for most types, Liquidacion for 43 and Exportaciones for 110-112.
_BODY_NAMES = ("Documento", "Liquidacion", "Exportaciones")
_ENVELOPES = ("SetDTE", "EnvioDTE", "EnvioBOLETA")
# The line fields copied into a document's notes, in document order (Duemint's format).
NOTE_LINE_FIELDS = frozenset(
    {
        "NroLinDet",
        "NmbItem",
        "DscItem",
        "QtyItem",
        "PrcItem",
        "DescuentoPct",
        "DescuentoMonto",
        "RecargoPct",
        "RecargoMonto",
        "MontoItem",
    }
)
NOTES_HEADER = "*** LINEAS DETALLE DTE *** "


class DteUnreadable(ValueError):
    """The XML is well-formed but is not a DTE dtehub can read."""

    code = "dte_unreadable"


@dataclass(frozen=True)
class DteParty:
    rut: str
    name: str
    activity: str = ""
    address: str = ""
    comuna: str = ""
    city: str = ""


@dataclass(frozen=True)
class DteFields:
    """What a DTE says, amounts in hundredths."""

    code: int
    folio: int
    issue_date: date
    due_date: date | None
    payment_form: int | None
    issuer: DteParty
    receiver: DteParty
    net_cents: int
    exempt_cents: int
    total_cents: int
    lines: tuple[tuple[tuple[str, str], ...], ...]

    @property
    def detail_notes(self) -> str:
        """The detail lines as Duemint writes them into ``notes``."""
        parts = [NOTES_HEADER]
        for line in self.lines:
            parts.extend(f"{name}: {value} " for name, value in line if name in NOTE_LINE_FIELDS)
        return "".join(parts)


def dte_elements(root: etree._Element) -> list[etree._Element]:
    """The DTE elements in a bare DTE or in one of the SII envelopes."""
    name = local_name(root)
    if name == "DTE":
        return [root]
    if name in _ENVELOPES:
        return [el for el in root.iter() if isinstance(el.tag, str) and local_name(el) == "DTE"]
    raise DteUnreadable(f"the root element is {name}; expected DTE, SetDTE, EnvioDTE or EnvioBOLETA")


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    if parent is None:
        return None
    for child in parent:
        if isinstance(child.tag, str) and local_name(child) == name:
            return child
    return None


def _children(parent: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str) and local_name(c) == name]


def _text(parent: etree._Element | None, name: str) -> str:
    element = _child(parent, name)
    return (element.text or "").strip() if element is not None else ""


def _required(parent: etree._Element | None, path: str, name: str) -> str:
    value = _text(parent, name)
    if not value:
        raise DteUnreadable(f"the DTE has no {path}/{name}")
    return value


def _int(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):  # str.isdigit() also takes "²", which int() refuses
        raise DteUnreadable(f"{what} is {text!r}, not a positive whole number")
    return int(text)


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DteUnreadable(f"{what} is {text!r}, not a date (YYYY-MM-DD)") from None


def _rut(text: str, what: str) -> str:
    try:
        return normalize_rut(text)
    except InvalidRut:
        raise DteUnreadable(f"{what} {text!r} is not a valid RUT") from None


def _amount(text: str, what: str) -> int:
    if not text:
        return 0
    try:
        return to_cents(text)
    except InvalidAmount as exc:
        raise DteUnreadable(f"{what}: {exc}") from None


def read_fields(dte: etree._Element) -> DteFields:
    body = next((c for name in _BODY_NAMES if (c := _child(dte, name)) is not None), None)
    if body is None:
        raise DteUnreadable("the DTE has no Documento")
    header = _child(body, "Encabezado")
    id_doc = _child(header, "IdDoc")
    issuer = _child(header, "Emisor")
    receiver = _child(header, "Receptor")
    totals = _child(header, "Totales")
    if header is None or id_doc is None or issuer is None or receiver is None or totals is None:
        raise DteUnreadable("the DTE's Encabezado lacks IdDoc, Emisor, Receptor or Totales")

    due_text = _text(id_doc, "FchVenc")
    payment_text = _text(id_doc, "FmaPago")
    lines = []
    for number, line in enumerate(_children(body, "Detalle"), start=1):
        fields = tuple(
            (local_name(c), (c.text or "").strip()) for c in line if isinstance(c.tag, str) and len(c) == 0
        )
        amount = dict(fields).get("MontoItem")
        if amount is None:
            raise DteUnreadable(f"Detalle line {number} has no MontoItem")
        _amount(amount, f"Detalle line {number} MontoItem")
        lines.append(fields)

    return DteFields(
        code=_int(_required(id_doc, "IdDoc", "TipoDTE"), "TipoDTE"),
        folio=_int(_required(id_doc, "IdDoc", "Folio"), "Folio"),
        issue_date=_date(_required(id_doc, "IdDoc", "FchEmis"), "FchEmis"),
        due_date=_date(due_text, "FchVenc") if due_text else None,
        payment_form=_int(payment_text, "FmaPago") if payment_text else None,
        issuer=DteParty(
            rut=_rut(_required(issuer, "Emisor", "RUTEmisor"), "RUTEmisor"),
            name=_text(issuer, "RznSoc") or _text(issuer, "RznSocEmisor"),
            activity=_text(issuer, "GiroEmis") or _text(issuer, "GiroEmisor"),
            address=_text(issuer, "DirOrigen"),
            comuna=_text(issuer, "CmnaOrigen"),
            city=_text(issuer, "CiudadOrigen"),
        ),
        receiver=DteParty(
            rut=_rut(_required(receiver, "Receptor", "RUTRecep"), "RUTRecep"),
            name=_text(receiver, "RznSocRecep"),
            activity=_text(receiver, "GiroRecep"),
            address=_text(receiver, "DirRecep"),
            comuna=_text(receiver, "CmnaRecep"),
            city=_text(receiver, "CiudadRecep"),
        ),
        net_cents=_amount(_text(totals, "MntNeto"), "MntNeto"),
        exempt_cents=_amount(_text(totals, "MntExe"), "MntExe"),
        total_cents=_amount(_required(totals, "Totales", "MntTotal"), "MntTotal"),
        lines=tuple(lines),
    )
