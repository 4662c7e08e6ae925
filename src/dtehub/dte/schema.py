"""Check a DTE against SII's XML schema (``DTE_v10.xsd`` and the files it includes, shipped in cl-sii).

What is validated is one ``DTE`` element, wherever it stands (bare, or inside ``SetDTE``/``EnvioDTE``);
the caller's tree is never changed and the line numbers in the problems are those of the caller's
document.

Decisions, each for a reason seen in real files:

- **A missing namespace is not a problem.** Many genuine DTEs are served without
  ``xmlns="http://www.sii.cl/SiiDte"`` (MIPYME portal downloads, files signed bare). A DTE in no
  namespace is validated against the same schema with its target namespace removed (built in memory
  from SII's files), which accepts exactly the documents that would be valid with the namespace set,
  without re-tagging a copy of the document. A DTE in any *other* namespace is invalid.
- **``DocPersonalizado`` after the signature is ignored**: reception platforms append it (outside what
  the issuer signed); cl-sii removes it before validating too. It is left out of a copy, never out of
  the caller's tree. A DTE inside an envelope is validated as a copy too (see :func:`_target`); a bare
  DTE, the common case, as it stands (libxml2 then records its Documento ``ID`` in that document's ID
  table, the only trace a validation leaves: the element tree is untouched).
- **Boletas (39, 41) are not judged**: their schema (``EnvioBOLETA_v11.xsd`` and its DTE definition,
  with ``RznSocEmisor``, ``IndServicio``… and types 39/41) is not shipped in cl-sii, and ``DTE_v10.xsd``
  admits only 33, 34, 43, 46, 52, 56, 61 and 110-112, so it would call every genuine boleta invalid.
  They get :attr:`~dtehub.dte.checks.Verdict.UNVERIFIABLE` with the problem ``xml_schema_unavailable``.
- The schemas are loaded once per process, lazily, through a resolver that serves only SII's own files
  from cl-sii's directory and refuses every other URL, so loading never touches the network or any other
  file. lxml's validator keeps its error log on the schema object, so validations are serialized by a
  lock (one takes tens of microseconds).
- libxml2's messages are rewritten for people (``line 12: element GiroRecep: value too long: 50
  characters, the maximum is 40``), at most :data:`MAX_PROBLEMS` of them. For a missing child the
  required elements that are absent are named from the schema itself: libxml2 only names what its
  automaton could accept next, which after a repeatable element is that element again.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

from lxml import etree

from dtehub.dte.checks import Check, Problem, Verdict

SII_NAMESPACE = "http://www.sii.cl/SiiDte"
_XS = "http://www.w3.org/2001/XMLSchema"
_DSIG = "http://www.w3.org/2000/09/xmldsig#"
MAX_PROBLEMS = 10
"""At most this many problems are reported; libxml2 goes on after the first, users fix a few at a time."""
BOLETA_CODES = frozenset({39, 41})
SCHEMA_CODE = "xml_schema_invalid"
UNAVAILABLE_CODE = "xml_schema_unavailable"

_MAIN = "DTE_v10.xsd"
_SCHEMA_FILES = frozenset({_MAIN, "SiiTypes_v10.xsd", "xmldsignature_v10.xsd"})
# Our own copies are compiled from SII's files; "bare" is the no-namespace variant (see the module doc).
_SII_FILES_WITH_TARGET_NAMESPACE = frozenset({_MAIN, "SiiTypes_v10.xsd"})


@dataclass(frozen=True)
class SchemaCheck:
    """The schema verdict of one DTE: ``valid``, ``invalid`` (with problems) or, for boletas,
    ``unverifiable``."""

    verdict: Verdict
    problems: tuple[Problem, ...] = ()


_VALID = SchemaCheck(Verdict.VALID)  # one frozen instance serves every valid document


def schema_directory() -> Path:
    """Where cl-sii keeps SII's XSD files."""
    return Path(str(resources.files("cl_sii"))) / "data" / "ref" / "factura_electronica" / "schemas-xml"


class SchemaRefused(Exception):
    """A schema tried to load something other than SII's own files."""


def _xsd_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, load_dtd=False, dtd_validation=False, no_network=True, huge_tree=False
    )


def _without_target_namespace(data: bytes) -> bytes:
    """The same schema for elements in no namespace: drop ``targetNamespace`` and the ``SiiDte:`` prefix
    of references to SII's own types (the files declare no default namespace, so an unprefixed reference
    names a no-namespace component)."""
    root = etree.fromstring(data, _xsd_parser())
    if "targetNamespace" in root.attrib:
        del root.attrib["targetNamespace"]
    for prefix in [f"{p}:" for p, uri in root.nsmap.items() if uri == SII_NAMESPACE and p]:
        for element in root.iter(f"{{{_XS}}}*"):
            for attribute in ("type", "base", "ref", "itemType"):
                value = element.get(attribute)
                if value is not None and value.startswith(prefix):
                    element.set(attribute, value[len(prefix) :])
    text = etree.tostring(root, xml_declaration=True, encoding="ISO-8859-1")
    assert isinstance(text, bytes)  # an explicit encoding always gives bytes
    return text


class _SiiFilesOnly(etree.Resolver):
    """Serves SII's schema files from cl-sii's directory and refuses everything else (network included)."""

    def __init__(self, directory: Path, *, bare: bool) -> None:
        super().__init__()
        self._directory = directory
        self._bare = bare

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        name = (system_url or "").replace("\\", "/").rsplit("/", 1)[-1]
        if name not in _SCHEMA_FILES:
            raise SchemaRefused(f"the DTE schema may only include SII's files, not {system_url!r}")
        path = self._directory / name
        data = path.read_bytes()
        if self._bare and name in _SII_FILES_WITH_TARGET_NAMESPACE:
            data = _without_target_namespace(data)
        return self.resolve_string(data, context, base_url=str(path))


def _compile(directory: Path, *, bare: bool) -> etree.XMLSchema:
    parser = _xsd_parser()
    parser.resolvers.add(_SiiFilesOnly(directory, bare=bare))
    path = directory / _MAIN
    data = path.read_bytes()
    if bare:
        data = _without_target_namespace(data)
    return etree.XMLSchema(etree.fromstring(data, parser, base_url=str(path)))


# What each element of the schema must contain, by path of local names from DTE: for each required
# particle, the names that satisfy it (one for an element, several for a required choice).
_ContentModels = dict[tuple[str, ...], tuple[frozenset[str], ...]]


def _content_models(directory: Path) -> _ContentModels:
    root = etree.parse(str(directory / _MAIN), _xsd_parser()).getroot()
    [dte_type] = root.iterfind(f"{{{_XS}}}complexType[@name='DTEDefType']")
    models: _ContentModels = {}

    def required(node: etree._Element) -> bool:
        return node.get("minOccurs", "1") != "0"

    def names(node: etree._Element) -> frozenset[str]:
        if etree.QName(node).localname == "element":
            return frozenset({(node.get("name") or node.get("ref") or "").rpartition(":")[2]})
        return frozenset().union(*(names(c) for c in node if isinstance(c.tag, str)))

    def visit(type_node: etree._Element, path: tuple[str, ...]) -> None:
        particles: list[frozenset[str]] = []

        def collect(node: etree._Element, enforced: bool) -> None:
            for child in node:
                if not isinstance(child.tag, str):
                    continue
                kind = etree.QName(child).localname
                if kind == "element":
                    if enforced and required(child):
                        particles.append(names(child))
                    if child.get("name") is not None:
                        inner = child.find(f"{{{_XS}}}complexType")
                        if inner is not None:
                            visit(inner, (*path, child.get("name", "")))
                elif kind == "sequence":
                    collect(child, enforced and required(child))
                elif kind == "choice":
                    if enforced and required(child):
                        particles.append(names(child))
                    collect(child, False)
                elif kind in ("complexContent", "extension", "restriction", "group", "all"):
                    collect(child, enforced)

        collect(type_node, True)
        models[path] = tuple(particles)

    visit(dte_type, ("DTE",))
    return models


class _Schemas:
    def __init__(self, directory: Path) -> None:
        self.qualified = _compile(directory, bare=False)
        self.bare = _compile(directory, bare=True)
        self.content_models = _content_models(directory)
        self.lock = threading.Lock()


_loaded: list[_Schemas] = []  # the once-per-process cache: empty until the first validation
_loading = threading.Lock()


def _schemas() -> _Schemas:
    if not _loaded:
        with _loading:
            if not _loaded:
                _loaded.append(_Schemas(schema_directory()))
    return _loaded[0]


def load_schemas() -> None:
    """Compile the schemas now (e.g. at start-up) instead of on the first validation."""
    _schemas()


def _local(element: etree._Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _line(element: etree._Element) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None


def _namespace(element: etree._Element) -> str:
    tag = element.tag
    return tag[1:].partition("}")[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _document_type(dte: etree._Element, q: str) -> str:
    """TipoDTE, read leniently (the schema has not spoken yet): "" when it cannot be found."""
    # A plain walk comparing whole tags: this runs before every validation and lxml's find() costs more.
    node: etree._Element | None = dte
    bodies = (f"{q}Documento", f"{q}Liquidacion", f"{q}Exportaciones")
    for names in (bodies, (f"{q}Encabezado",), (f"{q}IdDoc",), (f"{q}TipoDTE",)):
        node = next((c for c in node if c.tag in names), None) if node is not None else None
    return (node.text or "").strip() if node is not None else ""


def _problem(line: int | None, element: str, detail: str) -> Problem:
    where = f"line {line}: " if line else ""
    return Problem(check=Check.SCHEMA, code=SCHEMA_CODE, message=f"{where}element {element}: {detail}")


def validate_dte_schema(dte: etree._Element) -> SchemaCheck:
    """Validate one parsed ``DTE`` element against SII's schema (see the module docstring)."""
    name, namespace = _local(dte), _namespace(dte)
    if name != "DTE":
        return SchemaCheck(Verdict.INVALID, (_problem(_line(dte), name, "not a DTE element"),))
    if namespace not in ("", SII_NAMESPACE):
        detail = f"in namespace {_shorten(namespace)}; a DTE is in {SII_NAMESPACE} or in none"
        return SchemaCheck(Verdict.INVALID, (_problem(_line(dte), name, detail),))
    q = f"{{{namespace}}}" if namespace else ""
    schemas = _schemas()
    schema = schemas.qualified if namespace else schemas.bare
    target = _target(dte, q)
    with schemas.lock:
        valid = schema.validate(target)
        log = cast("Iterable[Any]", schema.error_log) if not valid else ()
        # In document order: libxml2 reports a missing child when its parent ends, after inner problems.
        errors = sorted((e.line, e.message) for e in log if e.level_name in ("ERROR", "FATAL"))
    if valid:
        return _VALID
    # DTE_v10.xsd admits no boleta type, so a boleta is never valid: looking for one only here keeps the
    # common path to the validation itself.
    code = _document_type(dte, q)
    if code.isascii() and code.isdigit() and int(code) in BOLETA_CODES:
        message = (
            f"boletas (type {int(code)}) follow SII's EnvioBOLETA schema, which dtehub does not have; "
            "the schema was not checked"
        )
        return SchemaCheck(Verdict.UNVERIFIABLE, (Problem(Check.SCHEMA, UNAVAILABLE_CODE, message),))
    problems: list[Problem] = []
    for line, message in errors:
        problem = _describe(line, message, target, schemas.content_models)
        if problem not in problems:
            problems.append(problem)
        if len(problems) == MAX_PROBLEMS:
            break
    if not problems:  # libxml2 said "invalid" without a single error entry: still say why, vaguely
        problems.append(_problem(_line(dte), "DTE", "does not follow SII's schema"))
    return SchemaCheck(Verdict.INVALID, tuple(problems))


def _target(dte: etree._Element, q: str) -> etree._Element:
    """What to validate: the DTE itself when it is its document's root; otherwise, and when a
    DocPersonalizado must be left out, a copy (deepcopy keeps each node's source line, so problems still
    point into the caller's document).

    libxml2 records every xs:ID it validates in the document being validated. A DTE inside an envelope
    is validated as a temporary document whose nodes are the caller's, so without a copy its Documento
    ID would stay behind in the caller's document, and the next DTE of the envelope with the same ID
    would be reported for it: a verdict must not depend on what was validated before. lxml also
    re-parents the caller's nodes for the duration, which another thread reading the tree would see.
    """
    children = [c for c in dte if isinstance(c.tag, str)]
    extras = [
        i
        for i, c in enumerate(children)
        if c.tag == f"{q}DocPersonalizado" and i > 0 and children[i - 1].tag == f"{{{_DSIG}}}Signature"
    ]
    if not extras and dte.getparent() is None:
        return dte
    clone = copy.deepcopy(dte)
    clone_children = [c for c in clone if isinstance(c.tag, str)]
    for index in extras:
        clone.remove(clone_children[index])
    return clone


# libxml2's messages, which name elements as 'Name' or '{namespace}Name'.
_ELEMENT = re.compile(r"^Element '(?:\{[^}]*\})?([^']*)'(?:, attribute '([^']*)')?: (.*)$", re.S)
_QNAME = re.compile(r"\{[^}]*\}")
_NOT_EXPECTED = re.compile(r"This element is not expected\.(?: Expected is (?:one of )?\( (.*) \)\.)?")
_MISSING = re.compile(r"Missing child element\(s\)\.(?: Expected is (?:one of )?\( (.*) \)\.)?")
_FACET = re.compile(r"\[facet '(\w+)'\] (.*)")
_ATOMIC = re.compile(
    r"'(.*)' is not a valid value of the (?:atomic|local atomic|list|union) type '([^']*)'\.?"
)
_NOT_ALLOWED_ATTRIBUTE = re.compile(r"The attribute '[^']*' is not allowed\.")
_REQUIRED_ATTRIBUTE = re.compile(r"The attribute '([^']*)' is required but missing\.")
_FIXED = re.compile(r"The value '(.*)' does not match the fixed value constraint '(.*)'\.")
_NUMBERS = re.compile(r"'(-?[0-9.]+)'")
_VALUE = re.compile(r"The value '(.*?)' ")

# What SII's simple types hold, for a value that is not one of them.
_TYPE_NAMES = {
    "FolioType": "a folio (a positive whole number of up to 10 digits)",
    "FolioRType": "a folio (up to 18 characters)",
    "FechaType": "a date from 2000-01-01 to 2050-12-31 (YYYY-MM-DD)",
    "FechaHoraType": "a date and time (YYYY-MM-DDThh:mm:ss)",
    "MontoType": "an amount (a whole number, 0 or more)",
    "MntImpType": "an amount (a whole number above 0)",
    "ValorType": "a whole number",
    "Dec16_2Type": "a number above 0 with at most 2 decimals",
    "Dec14_4Type": "a number above 0 with at most 4 decimals",
    "Dec12_6Type": "a number above 0 with at most 6 decimals",
    "Dec8_4Type": "a number above 0 with at most 4 decimals",
    "Dec6_4Type": "a number above 0 with at most 4 decimals",
    "PctType": "a percentage above 0 with at most 2 decimals",
    "RUTType": "a RUT with hyphen and check digit (e.g. 76399752-9)",
    "DTEType": "a DTE type code",
    "DOCType": "a document type code",
    "LIQType": "type 43",
    "EXPType": "an export type code (110, 111 or 112)",
    "ImpAdicDTEType": "a tax code SII defines",
    "TipMonType": "a currency name SII defines (e.g. DOLAR USA)",
    "MedioPagoType": "a payment method code (CH, LT, EF, PE, TC, CF or OT)",
    "xs:positiveInteger": "a whole number above 0",
    "xs:nonNegativeInteger": "a whole number, 0 or more",
    "xs:integer": "a whole number",
    "xs:decimal": "a number",
    "xs:date": "a date (YYYY-MM-DD)",
    "xs:dateTime": "a date and time (YYYY-MM-DDThh:mm:ss)",
    "xs:base64Binary": "base64 data",
    "xs:unsignedLong": "a whole number, 0 or more",
    "xs:long": "a whole number",
}


def _shorten(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _local_names(listing: str) -> str:
    return ", ".join(_QNAME.sub("", part.strip()) for part in listing.split(","))


def _expected(listing: str | None) -> str:
    if not listing:
        return ""
    names = _local_names(listing)
    return f"; expected {'one of ' if ',' in names else ''}{names}"


def _describe(line: int | None, message: str, root: etree._Element, models: _ContentModels) -> Problem:
    message = message.strip()
    match = _ELEMENT.match(message)
    if match is None:
        return _problem(line, "DTE", _shorten(_QNAME.sub("", message), 200))
    element, attribute, detail = match.groups()
    if attribute is not None:
        element = f"{element}, attribute {attribute}"
    return _problem(line, element, _detail(detail, element, line, root, models))


def _detail(detail: str, element: str, line: int | None, root: etree._Element, models: _ContentModels) -> str:
    if match := _NOT_EXPECTED.match(detail):
        return "not expected here" + _expected(match.group(1))
    if match := _MISSING.match(detail):
        missing = _missing_children(element, line, root, models)
        if missing:
            return f"missing {missing}"
        return "a required child element is missing" + _expected(match.group(1))
    if match := _FACET.match(detail):
        return _facet(match.group(1), match.group(2))
    if match := _ATOMIC.match(detail):
        value, type_name = match.groups()
        type_name = _QNAME.sub("", type_name)
        return f"{_shorten(value)!r} is not {_TYPE_NAMES.get(type_name, f'a valid {type_name}')}"
    if _NOT_ALLOWED_ATTRIBUTE.match(detail):
        return "not allowed"
    if match := _REQUIRED_ATTRIBUTE.match(detail):
        return f"the attribute {match.group(1)} is required"
    if match := _FIXED.match(detail):
        return f"must be {match.group(2)!r}, not {_shorten(match.group(1))!r}"
    if detail.startswith("Character content other than whitespace is not allowed"):
        return "text is not allowed here, only elements"
    if "No matching global declaration" in detail:
        return "not an element SII's DTE schema defines"
    return _shorten(_QNAME.sub("", detail), 200)


def _facet(facet: str, text: str) -> str:
    numbers = _NUMBERS.findall(text)
    value = _VALUE.search(text)
    shown = f"{_shorten(value.group(1))!r}" if value else "the value"
    if facet == "maxLength" and len(numbers) >= 2:
        return f"value too long: {numbers[0]} characters, the maximum is {numbers[-1]}"
    if facet == "minLength" and len(numbers) >= 2:
        return f"value too short: {numbers[0]} characters, the minimum is {numbers[-1]}"
    if facet == "length" and numbers:
        return f"value of the wrong length: it must be {numbers[-1]} characters"
    if facet == "enumeration":
        allowed = re.search(r"\{(.*)\}", text)
        options = allowed.group(1).replace("'", "") if allowed else ""
        return f"{shown} is not one of {_shorten(options, 120)}" if options else f"{shown} is not allowed"
    if facet == "pattern":
        pattern = re.search(r"pattern '(.*)'", text)
        return f"{shown} does not match the pattern {pattern.group(1) if pattern else 'required'}"
    if facet == "totalDigits" and numbers:
        return f"{shown} has too many digits (at most {numbers[-1]})"
    if facet == "fractionDigits" and numbers:
        return f"{shown} has too many decimals (at most {numbers[-1]})"
    if facet in ("minInclusive", "minExclusive") and numbers:
        return f"{shown} is below the minimum {numbers[-1]}"
    if facet in ("maxInclusive", "maxExclusive") and numbers:
        return f"{shown} is above the maximum {numbers[-1]}"
    return _shorten(_QNAME.sub("", text), 200)


def _missing_children(element: str, line: int | None, root: etree._Element, models: _ContentModels) -> str:
    """The required children absent from the element the error is about, named from the schema."""
    found = next(
        (el for el in root.iter() if isinstance(el.tag, str) and _line(el) == line and _local(el) == element),
        None,
    )
    if found is None:
        return ""
    path: list[str] = []
    node: etree._Element | None = found
    while node is not None:
        path.append(_local(node))
        node = None if node is root else node.getparent()
    if path[-1] != "DTE":
        return ""
    model = models.get(tuple(reversed(path)))
    if model is None:
        return ""
    present = {_local(c) for c in found if isinstance(c.tag, str)}
    absent = [" or ".join(sorted(names)) for names in model if not names & present]
    return ", ".join(absent)
