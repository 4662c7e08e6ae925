"""Building an electronic cession file (AEC): schema-valid, every signature holding where it sits, read by
cl-sii as SII's files are, and the DTE inside byte for byte the one stored."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from cl_sii.libs.xml_utils import parse_untrusted_xml
from cl_sii.rtc.parse_aec import parse_aec_xml, validate_aec_xml
from lxml import etree

from dtehub.dte import aec as aec_module
from dtehub.dte.aec import (
    AecError,
    Contact,
    Party,
    Signer,
    Terms,
    build_aec,
    build_recession,
    ceded_dte,
    signatures,
    validate_aec,
)
from dtehub.dte.signature import verify_dte_signature
from dtehub.dte.signed_forms import canonicalize
from dtehub.kit.xml import parse_untrusted
from tests.dte_factory import _certificate, build_dte

SELLER = "76399752-9"
BUYER = "81675600-6"
PERSON = "12345678-5"
ASSIGNEE = Party("77665544-9", "FACTORING CAPITAL SPA", "Av. Apoquindo 4000, Las Condes", "ops@factoring.cl")
ASSIGNOR = Party(SELLER, "VENDEDORA SPA", "Calle Larga 123, Santiago", "cobranza@vendedora.cl")


def signer() -> Signer:
    key, certificate = _certificate(PERSON)
    return Signer(key, certificate, PERSON, "VERA VENDEDORA")


def terms(**changes: object) -> Terms:
    values: dict[str, object] = {
        "assignor": ASSIGNOR,
        "assignee": ASSIGNEE,
        "amount": 1_190_000,
        "last_due_date": date(2026, 12, 31),
        "signed_at": datetime(2026, 12, 7, 10, 15, 0),
        "contact": Contact("Vera Vendedora", "+56 2 2345 6789", "vera@vendedora.cl"),
        "debtor_email": "pagos@compradora.cl",
    }
    values.update(changes)
    return Terms(**values)  # type: ignore[arg-type]


def dte_bytes(folio: int = 1532, **options: object) -> bytes:
    return build_dte(
        33,
        folio,
        SELLER,
        BUYER,
        1_190_000,
        issue_date=date(2026, 11, 27),
        signed=True,
        **options,  # type: ignore[arg-type]
    )


def test_the_aec_is_schema_valid_signed_in_each_part_and_read_by_cl_sii() -> None:
    stored = dte_bytes()
    data = build_aec(ceded_dte(stored), terms(), signer())

    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    root = parse_untrusted(data, max_bytes=10_000_000)
    assert validate_aec(root) == []
    validate_aec_xml(parse_untrusted_xml(data))  # cl-sii's own schema check agrees

    verdicts = signatures(root)
    assert [part.split()[0] for part, _ in verdicts] == [
        "DocumentoDTECedido",
        "DocumentoCesion",
        "DocumentoAEC",
    ]
    assert all(verdict.problem is None for _, verdict in verdicts), verdicts

    parsed = parse_aec_xml(parse_untrusted_xml(data))
    assert parsed.dte.tipo_dte.value == 33
    assert parsed.dte.folio == 1532
    assert parsed.dte.monto_total == 1_190_000
    assert parsed.cedente_rut.canonical == SELLER
    assert parsed.cesionario_rut.canonical == ASSIGNEE.rut
    [cesion] = parsed.cesiones
    assert cesion.seq == 1
    assert cesion.monto_cesion == 1_190_000
    assert cesion.fecha_ultimo_vencimiento == date(2026, 12, 31)
    assert "Ley N°19.983" in (cesion.cedente_declaracion_jurada or "")
    assert cesion.cedente_persona_autorizada_rut.canonical == PERSON


def test_the_dte_inside_is_the_stored_one_byte_for_byte_and_its_signature_holds_there() -> None:
    stored = dte_bytes(1533)
    body = stored[stored.index(b"<DTE") :].rstrip()
    data = build_aec(ceded_dte(stored), terms(), signer())

    assert data.count(body) == 1
    root = parse_untrusted(data, max_bytes=10_000_000)
    [dte] = root.iter("{http://www.sii.cl/SiiDte}DTE")
    check = verify_dte_signature(etree.tostring(dte), parsed=dte)
    assert check.verdict.value == "valid"
    assert check.form is None or check.form.as_found


def test_a_changed_amount_breaks_the_cessions_and_the_covers_signatures() -> None:
    data = build_aec(ceded_dte(dte_bytes(1534)), terms(amount=1_000_000), signer())
    tampered = data.replace(b"<MontoCesion>1000000</MontoCesion>", b"<MontoCesion>1100000</MontoCesion>")
    verdicts = dict(signatures(parse_untrusted(tampered, max_bytes=10_000_000)))
    problems = {part.split()[0]: verdict.problem for part, verdict in verdicts.items()}
    assert problems["DocumentoDTECedido"] is None
    assert problems["DocumentoCesion"] is not None
    assert problems["DocumentoAEC"] is not None


def test_an_accented_utf8_dte_is_carried_with_the_same_characters() -> None:
    stored = dte_bytes(1535, encoding="UTF-8", receiver_name="COMPAÑÍA DE PRUEBA LTDA")
    data = build_aec(ceded_dte(stored), terms(), signer())
    root = parse_untrusted(data, max_bytes=10_000_000)
    assert all(v.problem is None for _, v in signatures(root))
    [dte] = root.iter("{http://www.sii.cl/SiiDte}DTE")
    assert verify_dte_signature(etree.tostring(dte), parsed=dte).verdict.value == "valid"
    assert "COMPAÑÍA DE PRUEBA LTDA" in data.decode("iso-8859-1")


def test_what_cannot_be_ceded_is_refused_before_anything_is_signed() -> None:
    with pytest.raises(AecError, match="at most the total"):
        build_aec(ceded_dte(dte_bytes(1536)), terms(amount=1_190_001), signer())
    note = build_dte(
        61, 77, SELLER, BUYER, 1000, issue_date=date(2026, 11, 27), references=[(33, 1, 1, "Anula")]
    )
    with pytest.raises(AecError, match="type 61 cannot be ceded"):
        ceded_dte(note)
    bare = build_dte(33, 78, SELLER, BUYER, 1000, issue_date=date(2026, 11, 27), namespace=False)
    with pytest.raises(AecError, match="namespace"):
        ceded_dte(bare)


def test_a_value_sii_would_refuse_never_leaves() -> None:
    short = Party(ASSIGNEE.rut, ASSIGNEE.name, "Av.", ASSIGNEE.email)  # Direccion: 5 characters at least
    with pytest.raises(AecError, match="schema"):
        build_aec(ceded_dte(dte_bytes(1537)), terms(assignee=short), signer())


SECOND = Party("96790240-3", "OTRO FONDO SA", "Av. Isidora Goyenechea 3000", "fondos@otro.cl")


def holder_signer() -> Signer:
    key, certificate = _certificate("11111111-1")
    return Signer(key, certificate, "11111111-1", "PERSONA DEL FACTORING")


def test_the_holder_cedes_onwards_keeping_the_earlier_parts_byte_for_byte() -> None:
    first = build_aec(ceded_dte(dte_bytes(1540)), terms(), signer())
    onwards = terms(assignor=ASSIGNEE, assignee=SECOND, amount=1_100_000, contact=None, debtor_email=None)

    data = build_recession(first, onwards, holder_signer())

    cesiones = first[first.index(b"<Cesiones>") + len(b"<Cesiones>") : first.rindex(b"</Cesiones>")]
    assert data.count(cesiones) == 1  # the DTECedido and the first cession, untouched
    root = parse_untrusted(data, max_bytes=10_000_000)
    assert validate_aec(root) == []
    verdicts = signatures(root)
    assert [part.split()[0] for part, _ in verdicts] == [
        "DocumentoDTECedido",
        "DocumentoCesion",
        "DocumentoCesion",
        "DocumentoAEC",
    ]
    assert all(verdict.problem is None for _, verdict in verdicts), verdicts
    parsed = parse_aec_xml(parse_untrusted_xml(data))
    assert [c.seq for c in parsed.cesiones] == [1, 2]
    assert parsed.cedente_rut.canonical == ASSIGNEE.rut
    assert parsed.cesionario_rut.canonical == SECOND.rut
    assert parsed.cesiones[1].cedente_persona_autorizada_rut.canonical == "11111111-1"


def test_only_the_holder_cedes_onwards() -> None:
    first = build_aec(ceded_dte(dte_bytes(1541)), terms(), signer())
    with pytest.raises(AecError, match="not the document's holder"):
        build_recession(first, terms(assignor=SECOND, assignee=ASSIGNEE), holder_signer())
    with pytest.raises(AecError, match="needs one too"):
        build_recession(first, terms(assignor=ASSIGNEE, assignee=SECOND, declaration=""), holder_signer())


def _built_and_its_parts(monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, object, list[object]]:
    """An AEC as built, with what the builder's self-check received (the file, the DTE, its parts)."""
    seen: list[tuple[bytes, object, list[object]]] = []
    check = aec_module._check_built

    def recording(data: bytes, dte: object, parts: list[object]) -> None:
        check(data, dte, parts)  # type: ignore[arg-type]
        seen.append((data, dte, parts))

    monkeypatch.setattr(aec_module, "_check_built", recording)
    build_aec(ceded_dte(dte_bytes()), terms(), signer())
    [found] = seen
    return found


def test_the_self_check_verifies_in_full_any_part_not_in_the_file_as_it_was_signed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The builder's self-check takes a part's signature as holding without computing it again only
    when the part is in the file byte for byte under the declarations it was signed under: a
    declaration more around the parts (what inclusive C14N renders) or a changed byte is judged in
    full, and refused."""
    data, dte, parts = _built_and_its_parts(monkeypatch)
    labels = ("DocumentoDTECedido", "DocumentoCesion", "DocumentoAEC")

    xsi = b'<AEC xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    declared = data.replace(b"<AEC ", xsi, 1)
    with pytest.raises(AecError) as raised:
        aec_module._check_built(declared, dte, parts)  # type: ignore[arg-type]
    assert all(label in str(raised.value) for label in labels), raised.value

    changed = data.replace(b"<MontoCesion>1190000<", b"<MontoCesion>1190001<", 1)
    assert changed != data
    with pytest.raises(AecError) as raised:
        aec_module._check_built(changed, dte, parts)  # type: ignore[arg-type]
    assert "DocumentoCesion" in str(raised.value)
    assert "DocumentoDTECedido" not in str(raised.value)  # untouched: still shown to hold

    aec_module._check_built(data, dte, [])  # type: ignore[arg-type]  # nothing shown: verified in full

    def not_called(*_: object, **__: object) -> None:
        raise AssertionError("a part as built is shown to hold, not verified again")

    monkeypatch.setattr(aec_module, "verify_reference", not_called)
    aec_module._check_built(data, dte, parts)  # type: ignore[arg-type]  # as built: holds


FIXTURES = Path(__file__).parent.parent / "fixtures"


def _parts_canonical_in_the_file(data: bytes) -> list[tuple[str, bytes, bool]]:
    """Each part's signed element as read in the finished file: its label, its canonical text there
    (computed the verifier's way, detached) and whether its signature holds there, verified in full."""
    root = parse_untrusted(data, max_bytes=10_000_000)
    verdicts = dict(signatures(root))
    found = []
    for label, signature in aec_module._part_signatures(root):
        signed = signature.getprevious()
        assert signed is not None
        found.append((label, canonicalize(signed), verdicts[label].problem is None))
    return found


@pytest.mark.parametrize("source", ["built", "real DTE with comments", "re-cession of SII's file"])
def test_each_part_is_signed_over_its_canonical_text_as_read_in_the_file(source: str) -> None:
    """The builder signs each part's element over the canonical text of its bytes read as a document of
    their own, under the part's declarations: the very text a verifier computes for it in the finished
    file, whatever the part holds (a DTE with comments and indentation, the namespaces and comments of a
    file SII registered, ceded onwards). Every signature made here holds there in full, and a byte changed
    in a part breaks that part's signature and the cover's."""
    if source == "re-cession of SII's file":
        previous = (FIXTURES / "aec" / "AEC--76399752-9--33--25568--SEQ-1.xml").read_bytes()
        holder = aec_module.last_assignee(previous)
        data = build_recession(previous, terms(assignor=holder, assignee=SECOND, amount=1), holder_signer())
    else:
        stored = (
            dte_bytes()
            if source == "built"
            else (FIXTURES / "DTE--76399752-9--33--25568--cleaned.xml").read_bytes()
        )
        data = build_aec(ceded_dte(stored), terms(amount=1), signer())
    new = slice(-2, None) if source == "re-cession of SII's file" else slice(None)  # what was signed here
    parts = _parts_canonical_in_the_file(data)[new]
    assert len(parts) in (2, 3)
    assert all(holds for _, _, holds in parts), parts
    if source == "real DTE with comments":
        assert b"<!--" in data
        assert all(b"<!--" not in text for _, text, _ in parts)

    changed = data.replace(b"<MontoCesion>1<", b"<MontoCesion>2<")
    assert changed.count(b"<MontoCesion>2<") == 1
    broken = [label for label, _, holds in _parts_canonical_in_the_file(changed)[new] if not holds]
    assert [label.split()[0] for label in broken] == ["DocumentoCesion", "DocumentoAEC"], broken


def test_a_character_xml_cannot_carry_is_refused_as_a_cession_error_never_sent() -> None:
    control = Party(ASSIGNEE.rut, "FACTORING\x01 SPA", ASSIGNEE.address, ASSIGNEE.email)
    with pytest.raises(AecError, match="cannot be read back"):
        build_aec(ceded_dte(dte_bytes(1545)), terms(assignee=control), signer())
