"""Verifying a received electronic cession file (AEC): schema, each signature in the context it was made in,
the DTE inside through the pipeline, the chain of cessions; AECs SII registered are accepted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from lxml import etree

from dtehub.dte.aec import Party, Signer, Terms, build_aec, ceded_dte, signatures
from dtehub.dte.aec_verify import AecVerification, verify_aec
from dtehub.dte.xmldsig import sign_element
from dtehub.kit.xml import parse_untrusted
from tests.dte_factory import _certificate, build_dte

FIXTURES = Path(__file__).parent.parent / "fixtures"
SELLER = "76399752-9"
BUYER = "81675600-6"
PERSON = "12345678-5"
FACTORING = Party("77665544-9", "FACTORING CAPITAL SPA", "Av. Apoquindo 4000, Las Condes", "ops@factoring.cl")
SELLER_PARTY = Party(SELLER, "VENDEDORA SPA", "Calle Larga 123, Santiago", "cobranza@vendedora.cl")
SII = "http://www.sii.cl/SiiDte"
DS = "http://www.w3.org/2000/09/xmldsig#"


def signer() -> Signer:
    key, certificate = _certificate(PERSON)
    return Signer(key, certificate, PERSON, "VERA VENDEDORA")


def aec(folio: int = 2001, amount: int = 1_000_000) -> bytes:
    stored = build_dte(33, folio, SELLER, BUYER, 1_190_000, issue_date=date(2026, 11, 27), signed=True)
    terms = Terms(
        assignor=SELLER_PARTY,
        assignee=FACTORING,
        amount=amount,
        last_due_date=date(2026, 12, 31),
        signed_at=datetime(2026, 12, 7, 10, 15, 0),
    )
    return build_aec(ceded_dte(stored), terms, signer())


def resigned(data: bytes, edit: Callable[[etree._Element], None]) -> bytes:
    """The AEC changed by ``edit`` and every part signed again where it sits by the same person (as a
    forger holding a certificate would): only the chain's rules can tell what is wrong."""
    root = parse_untrusted(data, max_bytes=10_000_000)
    edit(root)
    key, certificate = _certificate(PERSON)
    for name in ("DocumentoDTECedido", "DocumentoCesion", "DocumentoAEC"):
        for part in root.iter(f"{{{SII}}}{name}"):
            old = part.getnext()
            assert old is not None
            assert old.tag == f"{{{DS}}}Signature"
            old.getparent().remove(old)  # type: ignore[union-attr]
            sign_element(part, key, certificate)
    return etree.tostring(root, encoding="ISO-8859-1", xml_declaration=True)


def set_text(root: etree._Element, path: str, value: str) -> None:
    found = root.find(path, {"s": SII})
    assert found is not None, path
    found.text = value


def failed(verification: AecVerification) -> dict[str, str]:
    return {f"{f.check}:{f.part}": f.message for f in verification.failed}


def test_an_aec_built_by_dtehub_holds_in_every_check() -> None:
    verification = verify_aec(aec(), holder_rut=FACTORING.rut)

    assert verification.valid, failed(verification)
    shown = [(f.check, f.part) for f in verification.findings]
    assert shown == [
        ("schema", None),
        ("signature", "DocumentoDTECedido"),
        ("signature", "DocumentoCesion 1"),
        ("signature", "DocumentoAEC"),
        ("dte", None),
        ("chain", "sequence"),
        ("chain", "document"),
        ("chain", "assignors"),
        ("chain", "amounts"),
        ("chain", "cover"),
        ("chain", "holder"),
    ]
    signature = verification.findings[2].as_json()
    assert signature["status"] == "passed"
    assert signature["signer"] == PERSON
    assert signature["signedForm"]["asFound"] is True
    assert signature["signedAt"] == "2026-12-07 10:15:00"
    assert verification.dte is not None
    assert verification.dte.fields.folio == 2001
    [cession] = verification.cessions
    assert (cession.sequence, cession.amount) == (1, 1_000_000)
    assert cession.assignee is not None
    assert cession.assignee.name == FACTORING.name


def test_a_tampered_amount_fails_the_signatures_of_the_cession_and_the_cover() -> None:
    data = aec(2002).replace(b"<MontoCesion>1000000</MontoCesion>", b"<MontoCesion>1100000</MontoCesion>")
    verification = verify_aec(data, holder_rut=FACTORING.rut)

    assert not verification.valid
    assert set(failed(verification)) == {"signature:DocumentoCesion 1", "signature:DocumentoAEC"}
    assert "changed after it was signed" in failed(verification)["signature:DocumentoCesion 1"]


def test_a_tampered_dte_fails_its_own_signature_through_the_pipeline() -> None:
    data = aec(2003).replace(b"<MntTotal>1190000</MntTotal>", b"<MntTotal>1290000</MntTotal>", 1)
    verification = verify_aec(data)

    problems = failed(verification)
    assert "dte:None" in problems
    assert "signature is invalid" in problems["dte:None"]
    assert "signature:DocumentoDTECedido" in problems


def test_an_amount_over_the_total_is_refused_even_when_signed_again() -> None:
    data = resigned(aec(2004), lambda root: set_text(root, ".//s:MontoCesion", "1190001"))
    verification = verify_aec(data, holder_rut=FACTORING.rut)

    assert set(failed(verification)) == {"chain:amounts"}
    assert "cedes 1190001, over the DTE's total 1190000" in failed(verification)["chain:amounts"]


def test_a_broken_chain_is_refused() -> None:
    def another_assignor(root: etree._Element) -> None:
        set_text(root, ".//s:Cedente/s:RUT", "11111111-1")
        set_text(root, ".//s:RutCedente", "11111111-1")
        set_text(root, ".//s:SeqCesion", "2")

    verification = verify_aec(resigned(aec(2005), another_assignor), holder_rut=FACTORING.rut)

    problems = failed(verification)
    assert set(problems) == {"chain:sequence", "chain:assignors"}
    assert problems["chain:sequence"] == "the cessions are numbered [2], not 1..1 in order"
    assert problems["chain:assignors"] == f"cession 2's assignor 11111111-1 is not the DTE's issuer {SELLER}"


def test_an_aec_ceded_to_another_company_is_not_this_companys() -> None:
    verification = verify_aec(aec(2006), holder_rut="96790240-3")

    assert failed(verification) == {
        "chain:holder": f"the last assignee is {FACTORING.rut}, not this company (96790240-3): "
        "the invoice is not yours"
    }


def test_an_inner_signature_valid_only_in_its_original_context_is_judged_there() -> None:
    """The parts signed standalone, then pasted under an AEC that declares xmlns:xsi (as SII's own
    samples do) and whose cover is signed in that file: a naive verifier rejects the inner parts."""
    built = aec(2007)
    declared = built.replace(
        b'<AEC xmlns="http://www.sii.cl/SiiDte" version="1.0">',
        b'<AEC xmlns="http://www.sii.cl/SiiDte" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'version="1.0" xsi:schemaLocation="http://www.sii.cl/SiiDte AEC_v10.xsd">',
    )
    assert declared != built
    root = parse_untrusted(declared, max_bytes=10_000_000)
    cover = root.find(f"{{{SII}}}DocumentoAEC")
    assert cover is not None
    root.remove(cover.getnext())  # type: ignore[arg-type]
    key, certificate = _certificate(PERSON)
    sign_element(cover, key, certificate)
    data = etree.tostring(root, encoding="ISO-8859-1", xml_declaration=True)

    naive = {part.split()[0]: verdict.problem for part, verdict in signatures(root)}
    assert naive["DocumentoDTECedido"] is not None
    assert naive["DocumentoCesion"] is not None
    assert naive["DocumentoAEC"] is None

    verification = verify_aec(data, holder_rut=FACTORING.rut)
    assert verification.valid, failed(verification)
    inner = verification.findings[2].as_json()
    assert inner["part"] == "DocumentoCesion 1"
    assert inner["signedForm"]["removed"] == {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    assert "in the context it was signed in" in inner["message"]


def test_aecs_sii_registered_are_accepted_with_every_signature_reported() -> None:
    one = verify_aec(
        (FIXTURES / "aec" / "AEC--76399752-9--33--25568--SEQ-1.xml").read_bytes(), holder_rut="76389992-6"
    )
    assert one.valid, failed(one)
    assert [f.part for f in one.findings if f.check == "signature"] == [
        "DocumentoDTECedido",
        "DocumentoCesion 1",
        "DocumentoAEC",
    ]

    two = verify_aec((FIXTURES / "aec" / "AEC--76354771-K--33--170--SEQ-2.xml").read_bytes())
    assert two.valid, failed(two)
    verdicts = {f.part: f.details for f in two.findings if f.check == "signature"}
    assert list(verdicts) == ["DocumentoDTECedido", "DocumentoCesion 1", "DocumentoCesion 2", "DocumentoAEC"]
    assert verdicts["DocumentoCesion 2"]["signedForm"]["asFound"] is False
    assert verdicts["DocumentoAEC"]["signedForm"]["asFound"] is True
    assert [c.sequence for c in two.cessions] == [1, 2]
    first, second = two.cessions
    assert first.assignee is not None
    assert second.assignor is not None
    assert first.assignee.rut == second.assignor.rut


def test_a_changed_amount_in_any_part_of_a_registered_aec_is_refused() -> None:
    data = (FIXTURES / "aec" / "AEC--76354771-K--33--170--SEQ-2.xml").read_bytes()
    for amount in sorted({m.decode() for m in _amounts(data)}):
        changed = data.replace(f">{amount}<".encode(), f">{int(amount) - 1}<".encode(), 1)
        assert not verify_aec(changed).valid, amount


def _amounts(data: bytes) -> list[bytes]:
    import re

    return re.findall(rb"<(?:MontoCesion|MntTotal|MntNeto)>(\d+)<", data)


def test_what_is_not_an_aec_is_one_failed_check() -> None:
    verification = verify_aec(b"<DTE/>")
    assert [f.as_json()["check"] for f in verification.failed] == ["xml"]
    assert "not SII's AEC" in verification.failed[0].message
    assert not verify_aec(b"<AEC").valid
