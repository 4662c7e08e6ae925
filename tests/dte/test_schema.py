"""SII's schema: real documents as they come (bare, namespaced, in envelopes), broken variants of them,
boletas, and the promises around loading (once, SII's files only) and the caller's tree."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree

from dtehub.dte import schema
from dtehub.dte.checks import Check, Verdict
from dtehub.dte.reader import dte_elements
from dtehub.dte.schema import MAX_PROBLEMS, SII_NAMESPACE, SchemaCheck, validate_dte_schema
from dtehub.kit.xml import parse_untrusted

FIXTURES = Path(__file__).parents[1] / "fixtures"
POLAR = FIXTURES / "DTE--76399752-9--33--25568.xml"  # MIPYME: signed with the namespace, served without
POLAR_CLEANED = FIXTURES / "DTE--76399752-9--33--25568--cleaned.xml"
CREDIT_NOTE = FIXTURES / "DTE--96670340-7--61--110616.xml"  # signed bare; a DocPersonalizado after it
CREDIT_NOTE_CLEANED = FIXTURES / "DTE--96670340-7--61--110616--cleaned.xml"
SEED = FIXTURES / "seed-duemint-example-33-696.xml"  # Duemint's example: never signed, no TED
NAMESPACED_DTE = f'<DTE xmlns="{SII_NAMESPACE}" version="1.0">'


def parse(data: bytes | str) -> etree._Element:
    return parse_untrusted(data.encode("latin-1") if isinstance(data, str) else data, max_bytes=1 << 22)


def check(data: bytes | str) -> SchemaCheck:
    [dte] = dte_elements(parse(data))
    return validate_dte_schema(dte)


def messages(result: SchemaCheck) -> list[str]:
    return [p.message for p in result.problems]


def text_of(path: Path) -> str:
    return path.read_bytes().decode("latin-1")  # byte for byte; the XML declaration still says ISO-8859-1


def bare(text: str) -> str:
    return text.replace(NAMESPACED_DTE, '<DTE version="1.0">')


def namespaced(text: str) -> str:
    return text.replace('<DTE version="1.0">', NAMESPACED_DTE)


def line_of(text: str, snippet: str) -> int:
    """The line where ``snippet`` first starts in ``text``."""
    return text[: text.index(snippet)].count("\n") + 1


# --- real documents -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [POLAR, POLAR_CLEANED, CREDIT_NOTE, CREDIT_NOTE_CLEANED], ids=lambda p: p.name
)
def test_genuine_documents_are_valid_as_they_come(path: Path) -> None:
    result = check(path.read_bytes())

    assert result == SchemaCheck(Verdict.VALID, ())


@pytest.mark.parametrize(
    "path", [POLAR, POLAR_CLEANED, CREDIT_NOTE, CREDIT_NOTE_CLEANED], ids=lambda p: p.name
)
@pytest.mark.parametrize("form", [bare, namespaced], ids=["without-namespace", "with-namespace"])
def test_the_namespace_alone_never_decides(path: Path, form: Callable[[str], str]) -> None:
    text = form(text_of(path))

    assert check(text).verdict == Verdict.VALID


def test_the_unsigned_seed_lacks_its_timbre_and_signature() -> None:
    result = check(SEED.read_bytes())

    assert result.verdict == Verdict.INVALID
    assert messages(result) == [
        "line 1: element DTE: missing Signature",
        "line 2: element Documento: missing TED, TmstFirma",
    ]
    assert {(p.check, p.code) for p in result.problems} == {(Check.SCHEMA, "xml_schema_invalid")}


FOLIO_MESSAGE = "element Folio: '25A68' is not a folio (a positive whole number of up to 10 digits)"


def envelope(*dtes: str, namespace: bool) -> str:
    body = "<Caratula>\n</Caratula>\n" + "\n".join(dtes)
    declaration = '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    if namespace:
        opening = f'<EnvioDTE xmlns="{SII_NAMESPACE}" version="1.0">\n<SetDTE ID="S">'
        return f"{declaration}{opening}\n{body}\n</SetDTE>\n</EnvioDTE>"
    return f'{declaration}<SetDTE ID="S">\n{body}\n</SetDTE>'


@pytest.mark.parametrize("namespace", [True, False], ids=["EnvioDTE-namespaced", "SetDTE-bare"])
def test_a_dte_inside_an_envelope_is_validated_with_the_files_own_lines(namespace: bool) -> None:
    dte = text_of(POLAR)
    dte = dte[dte.index("<DTE") :]
    text = envelope(dte, dte.replace("<Folio>25568</Folio>", "<Folio>25A68</Folio>"), namespace=namespace)
    first, second = dte_elements(parse(text))

    assert validate_dte_schema(first).verdict == Verdict.VALID
    # The same Documento ID twice in one envelope: each DTE is judged on its own, whatever came before.
    for _ in range(2):
        assert messages(validate_dte_schema(second)) == [
            f"line {line_of(text, '<Folio>25A68')}: {FOLIO_MESSAGE}"
        ]
        assert validate_dte_schema(first).verdict == Verdict.VALID


@pytest.mark.parametrize("path", [POLAR, CREDIT_NOTE, SEED], ids=lambda p: p.name)
def test_the_callers_tree_is_left_as_it_was(path: Path) -> None:
    root = parse(path.read_bytes())
    before = etree.tostring(root)

    tags = [el.tag for el in root.iter()]

    validate_dte_schema(root)

    assert etree.tostring(root) == before
    assert [el.tag for el in root.iter()] == tags


# --- what is wrong, where ------------------------------------------------------------------------------

POLAR_TEXT = text_of(POLAR)


def variant(change: Callable[[str], str]) -> str:
    changed = change(POLAR_TEXT)
    assert changed != POLAR_TEXT
    return changed


def remove(name: str) -> Callable[[str], str]:
    return lambda text: re.sub(rf"\s*<{name}>[^<]*</{name}>", "", text, count=1)


def replace(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, 1)


FOLIO_LINE = line_of(POLAR_TEXT, "<Folio>")
FCH_EMIS_LINE = line_of(POLAR_TEXT, "<FchEmis>")
GIRO_RECEP_LINE = line_of(POLAR_TEXT, "<GiroRecep>")
TOTALES_LINE = line_of(POLAR_TEXT, "<Totales>")
QTY_LINE = line_of(POLAR_TEXT, "<QtyItem>")
MONTO_LINE = line_of(POLAR_TEXT, "<MontoItem>")
RUT_RECEP_LINE = line_of(POLAR_TEXT, "<RUTRecep>")

BROKEN = {
    "folio-removed": (  # FchEmis moves up to Folio's line
        remove("Folio"),
        [f"line {FOLIO_LINE}: element FchEmis: not expected here; expected Folio"],
    ),
    "mnt-total-removed": (remove("MntTotal"), [f"line {TOTALES_LINE}: element Totales: missing MntTotal"]),
    "signature-removed": (
        lambda text: re.sub(r"<Signature.*</Signature>", "", text, flags=re.S),
        ["line 2: element DTE: missing Signature"],
    ),
    "giro-recep-too-long": (
        replace("COMERCIOS DE VESTU<", "COMERCIOS DE VESTUARIO Y CALZADO<"),
        [f"line {GIRO_RECEP_LINE}: element GiroRecep: value too long: 54 characters, the maximum is 40"],
    ),
    "folio-after-fch-emis": (
        replace(
            "<Folio>25568</Folio>\n        <FchEmis>2019-03-29</FchEmis>",
            "<FchEmis>2019-03-29</FchEmis>\n        <Folio>25568</Folio>",
        ),
        [f"line {FOLIO_LINE}: element FchEmis: not expected here; expected Folio"],
    ),
    "folio-not-a-number": (
        replace("<Folio>25568<", "<Folio>N25568<"),
        [f"line {FOLIO_LINE}: {FOLIO_MESSAGE.replace('25A68', 'N25568')}"],
    ),
    "qty-with-a-comma": (
        replace("<QtyItem>1.00<", "<QtyItem>1,00<"),
        [f"line {QTY_LINE}: element QtyItem: '1,00' is not a number above 0 with at most 6 decimals"],
    ),
    "negative-monto-item": (
        replace("<MontoItem>194111<", "<MontoItem>-194111<"),
        [f"line {MONTO_LINE}: element MontoItem: '-194111' is not an amount (a whole number, 0 or more)"],
    ),
    "misspelt-monto-item": (
        replace("<MontoItem>194111</MontoItem>", "<MtoItem>194111</MtoItem>"),
        [
            f"line {MONTO_LINE}: element MtoItem: not expected here; expected one of OtrMnda, DescuentoPct, "
            "DescuentoMonto, SubDscto, RecargoPct, RecargoMonto, SubRecargo, CodImpAdic, MontoItem"
        ],
    ),
    "rut-without-hyphen": (
        replace("<RUTRecep>96874030-K<", "<RUTRecep>96874030K<"),
        [f"line {RUT_RECEP_LINE}: element RUTRecep: '96874030K' does not match the pattern [0-9]+-([0-9]|K)"],
    ),
    "not-a-date": (
        replace("<FchEmis>2019-03-29<", "<FchEmis>2019-02-30<"),
        [
            f"line {FCH_EMIS_LINE}: element FchEmis: '2019-02-30' is not a date "
            "from 2000-01-01 to 2050-12-31 (YYYY-MM-DD)"
        ],
    ),
    "unknown-type": (
        replace("<TipoDTE>33<", "<TipoDTE>35<"),
        [f"line {FOLIO_LINE - 1}: element TipoDTE: '35' is not one of 33, 34, 46, 52, 56, 61"],
    ),
    "version-missing": (
        replace('<DTE version="1.0">', "<DTE>"),
        ["line 2: element DTE: the attribute version is required"],
    ),
    "version-wrong": (
        replace('<DTE version="1.0">', '<DTE version="2.0">'),
        ["line 2: element DTE, attribute version: must be '1.0', not '2.0'"],
    ),
    "unknown-attribute": (
        replace("<IdDoc>", '<IdDoc tipo="x">'),
        [f"line {FOLIO_LINE - 2}: element IdDoc, attribute tipo: not allowed"],
    ),
    "text-among-elements": (
        replace("<IdDoc>", "<IdDoc>factura"),
        [f"line {FOLIO_LINE - 2}: element IdDoc: text is not allowed here, only elements"],
    ),
    "several-problems": (
        lambda text: replace("<Folio>25568<", "<Folio>N25568<")(
            replace("<QtyItem>1.00<", "<QtyItem>1,00<")(text)
        ),
        [
            f"line {FOLIO_LINE}: {FOLIO_MESSAGE.replace('25A68', 'N25568')}",
            f"line {QTY_LINE}: element QtyItem: '1,00' is not a number above 0 with at most 6 decimals",
        ],
    ),
}


@pytest.mark.parametrize(("change", "expected"), BROKEN.values(), ids=BROKEN.keys())
@pytest.mark.parametrize("form", [bare, namespaced], ids=["without-namespace", "with-namespace"])
def test_broken_documents_are_invalid_with_line_and_element(
    change: Callable[[str], str], expected: list[str], form: Callable[[str], str]
) -> None:
    result = check(form(variant(change)))

    assert result.verdict == Verdict.INVALID
    assert messages(result) == expected
    assert all((p.check, p.code) == (Check.SCHEMA, "xml_schema_invalid") for p in result.problems)


def test_problems_are_capped() -> None:
    line = re.search(r"<Detalle>.*?</Detalle>", POLAR_TEXT, flags=re.S)
    assert line is not None
    bad = line.group(0).replace("<QtyItem>1.00<", "<QtyItem>uno<")
    text = POLAR_TEXT.replace(line.group(0), "\n".join([bad] * 15))

    result = check(text)

    assert result.verdict == Verdict.INVALID
    assert len(result.problems) == MAX_PROBLEMS
    assert all("element QtyItem: 'uno' is not a number" in m for m in messages(result))


def test_doc_personalizado_is_ignored_only_after_the_signature() -> None:
    text = text_of(CREDIT_NOTE)
    extra = text[
        text.index("<DocPersonalizado") : text.index("</DocPersonalizado>") + len("</DocPersonalizado>")
    ]
    inside = text.replace(extra, "").replace("<TmstFirma>", extra + "<TmstFirma>")

    result = check(inside)

    assert result.verdict == Verdict.INVALID
    assert messages(result) == [
        f"line {line_of(inside, '<DocPersonalizado')}: element DocPersonalizado: not expected here; "
        "expected TmstFirma"
    ]


def test_a_dte_in_another_namespace_is_invalid() -> None:
    text = POLAR_TEXT.replace('<DTE version="1.0">', '<DTE xmlns="urn:example" version="1.0">')

    result = check(text)

    assert messages(result) == [
        "line 2: element DTE: in namespace urn:example; a DTE is in " + SII_NAMESPACE + " or in none"
    ]


def test_an_element_that_is_not_a_dte_is_invalid() -> None:
    documento = parse(POLAR.read_bytes())[0]  # skips the comment: Documento is the first element
    while not isinstance(documento.tag, str):
        documento = documento.getnext()

    result = validate_dte_schema(documento)

    assert result.verdict == Verdict.INVALID
    assert messages(result) == ["line 4: element Documento: not a DTE element"]


@pytest.mark.parametrize("code", ["39", "41"])
@pytest.mark.parametrize("form", [bare, namespaced], ids=["without-namespace", "with-namespace"])
def test_boletas_are_not_judged_by_a_schema_dtehub_lacks(code: str, form: Callable[[str], str]) -> None:
    text = form(variant(replace("<TipoDTE>33<", f"<TipoDTE>{code}<")))

    result = check(text)

    assert result.verdict == Verdict.UNVERIFIABLE
    [problem] = result.problems
    assert (problem.check, problem.code) == (Check.SCHEMA, "xml_schema_unavailable")
    assert f"type {code}" in problem.message


# --- loading ------------------------------------------------------------------------------------------


def test_the_schemas_are_compiled_once_per_process() -> None:
    assert schema._schemas() is schema._schemas()


def test_the_shipped_schemas_only_include_each_other() -> None:
    directory = schema.schema_directory()
    for name in ("DTE_v10.xsd", "SiiTypes_v10.xsd", "xmldsignature_v10.xsd"):
        root = etree.parse(str(directory / name)).getroot()
        locations = {el.get("schemaLocation") for el in root.iter() if el.get("schemaLocation") is not None}
        assert locations <= {"SiiTypes_v10.xsd", "xmldsignature_v10.xsd"}, name


def _schema_with_include(tmp_path: Path, location: str) -> Path:
    (tmp_path / "DTE_v10.xsd").write_text(
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{SII_NAMESPACE}" '
        f'xmlns:SiiDte="{SII_NAMESPACE}"><xs:include schemaLocation="{location}"/>'
        '<xs:element name="DTE" type="SiiDte:T"/></xs:schema>'
    )
    (tmp_path / "SiiTypes_v10.xsd").write_text(
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{SII_NAMESPACE}" '
        f'xmlns:SiiDte="{SII_NAMESPACE}">'
        '<xs:simpleType name="T"><xs:restriction base="xs:string"/></xs:simpleType></xs:schema>'
    )
    return tmp_path


@pytest.mark.parametrize(
    "location", ["http://example.invalid/types.xsd", "../../etc/types.xsd", "file:///etc/passwd"]
)
def test_loading_refuses_anything_but_sii_files(tmp_path: Path, location: str) -> None:
    directory = _schema_with_include(tmp_path, location)

    with pytest.raises(etree.XMLSchemaParseError):
        schema._compile(directory, bare=False)


@pytest.mark.parametrize("bare_form", [False, True])
def test_an_sii_file_is_always_read_from_the_schema_directory(tmp_path: Path, bare_form: bool) -> None:
    # Even named by a URL, SiiTypes_v10.xsd comes from the directory: nothing is ever fetched.
    directory = _schema_with_include(tmp_path, "http://example.invalid/schemas/SiiTypes_v10.xsd")

    compiled = schema._compile(directory, bare=bare_form)

    element = "<DTE>x</DTE>" if bare_form else f'<DTE xmlns="{SII_NAMESPACE}">x</DTE>'
    assert compiled.validate(etree.fromstring(element))


def test_concurrent_validations_keep_their_own_problems() -> None:
    documents = [
        POLAR.read_bytes(),
        variant(replace("<Folio>25568<", "<Folio>N25568<")).encode("latin-1"),
        SEED.read_bytes(),
        variant(remove("MntTotal")).encode("latin-1"),
    ] * 25
    roots = [dte_elements(parse(d))[0] for d in documents]
    expected = [validate_dte_schema(root) for root in roots]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(validate_dte_schema, roots))

    assert results == expected
