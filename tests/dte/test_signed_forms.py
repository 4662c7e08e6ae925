"""Intact DTEs in the forms they travel in: SII's namespace and an envelope's xmlns:xsi added or removed.

A real DTE is signed in one context (bare, with SII's namespace, inside an envelope that declares
``xmlns:xsi``) and served in another. SII signs with inclusive C14N, which writes every declaration in
scope on the signed element, so such a document verifies only in the form it was signed in. Every variant
here is made from the real fixtures; a changed amount must fail in all of them.
"""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from dtehub.dte.checks import Verdict
from dtehub.dte.pipeline import CheckedDte, read_dte_file
from dtehub.dte.signature import DSIG_NS, verify_dte_signature
from dtehub.dte.signed_forms import SII_NS, XSI_NS, C14nMethod, SignedForm, SignedParts, canonicalize
from dtehub.dte.signing import sign_dte
from tests.dte.conftest import Resign, Signer, read_fixture

MIPYME = "DTE--76399752-9--33--25568.xml"  # signed with SII's namespace, served without it
NOTA = "DTE--96670340-7--61--110616.xml"  # signed bare
# Each fixture and the form its signer saw: SII's namespace on DTE or not (no fixture had xmlns:xsi).
SIGNED_WITH_NAMESPACE = {
    MIPYME: True,
    MIPYME.replace(".xml", "--cleaned.xml"): True,
    NOTA: False,
    NOTA.replace(".xml", "--cleaned.xml"): False,
}
SII = f' xmlns="{SII_NS}"'.encode()
XSI = f' xmlns:xsi="{XSI_NS}"'.encode()
_DTE_START = re.compile(rb"<DTE\b[^>]*>")
_DECLARATION = re.compile(rb'\s+xmlns(?::xsi)?="[^"]*"')
_INCLUSIVE = C14nMethod(exclusive=False, with_comments=False, inclusive_prefixes=None)


def with_declarations(data: bytes, *, namespace: bool, xsi: bool) -> bytes:
    """``data`` with its DTE start tag declaring SII's namespace and ``xmlns:xsi``, or not."""
    start = _DTE_START.search(data)
    assert start
    attributes = _DECLARATION.sub(b"", start.group(0)[len(b"<DTE") : -1])
    tag = b"<DTE" + (SII if namespace else b"") + (XSI if xsi else b"") + attributes + b">"
    return data[: start.start()] + tag + data[start.end() :]


def declarations_of(namespace: bool, xsi: bool) -> dict[str, str]:
    return ({"xmlns": SII_NS} if namespace else {}) | ({"xmlns:xsi": XSI_NS} if xsi else {})


def expected_form(signed: tuple[bool, bool], found: tuple[bool, bool]) -> dict[str, object]:
    """What ``signedForm`` says of a document signed with one set of declarations and found with another."""
    had, has = declarations_of(*signed), declarations_of(*found)
    return {
        "asFound": had == has,
        "added": {name: uri for name, uri in had.items() if name not in has},
        "removed": {name: uri for name, uri in has.items() if name not in had},
    }


def changed_amount(data: bytes) -> bytes:
    total = re.search(rb"<MntTotal>(\d+)</MntTotal>", data)
    assert total
    return data.replace(
        total.group(0), b"<MntTotal>" + str(int(total.group(1)) + 1).encode() + b"</MntTotal>"
    )


VARIANTS = [(namespace, xsi) for namespace in (True, False) for xsi in (True, False)]
VARIANT_IDS = [f"{'sii' if n else 'bare'}{'+xsi' if x else ''}" for n, x in VARIANTS]


@pytest.mark.parametrize(("namespace", "xsi"), VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("name", sorted(SIGNED_WITH_NAMESPACE))
def test_a_real_document_verifies_in_every_form_it_travels_in(name: str, namespace: bool, xsi: bool) -> None:
    variant = with_declarations(read_fixture(name), namespace=namespace, xsi=xsi)

    result = verify_dte_signature(variant)

    assert (result.verdict, result.problems) == (Verdict.VALID, ())
    assert result.form is not None
    assert result.form.as_json() == expected_form((SIGNED_WITH_NAMESPACE[name], False), (namespace, xsi))


@pytest.mark.parametrize(("namespace", "xsi"), VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("name", sorted(SIGNED_WITH_NAMESPACE))
def test_a_changed_amount_fails_in_every_form(name: str, namespace: bool, xsi: bool) -> None:
    variant = with_declarations(changed_amount(read_fixture(name)), namespace=namespace, xsi=xsi)

    result = verify_dte_signature(variant)

    assert result.verdict is Verdict.INVALID
    assert [p.code for p in result.problems] == ["signature_digest_mismatch"]  # SignedInfo itself holds
    assert result.form is None


def test_a_document_as_signed_says_so() -> None:
    result = verify_dte_signature(read_fixture(NOTA))

    assert result.form == SignedForm()
    assert result.form.as_json() == {"asFound": True, "added": {}, "removed": {}}


@pytest.mark.parametrize(("namespace", "xsi"), VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("signed_namespace", [True, False], ids=["signed-sii", "signed-bare"])
def test_a_document_signed_with_xsi_in_scope_verifies_without_it(
    signed_namespace: bool, namespace: bool, xsi: bool, signer: Signer
) -> None:
    # Signed inside a context that declares xmlns:xsi (an envelope, or a DTE that declares it itself).
    signed = sign_dte(
        with_declarations(read_fixture(NOTA), namespace=signed_namespace, xsi=True),
        signer.key,
        signer.certificate,
    )
    assert XSI in signed

    result = verify_dte_signature(with_declarations(signed, namespace=namespace, xsi=xsi))

    assert result.verdict is Verdict.VALID
    assert result.form is not None
    assert result.form.as_json() == expected_form((signed_namespace, True), (namespace, xsi))
    tampered = with_declarations(changed_amount(signed), namespace=namespace, xsi=xsi)
    assert [p.code for p in verify_dte_signature(tampered).problems] == ["signature_digest_mismatch"]


def test_a_dte_signed_inside_its_envelope_verifies_once_cut_out(signer: Signer) -> None:
    # The signer canonicalized Documento where it sat in EnvioDTE, with the envelope's SII namespace and
    # xmlns:xsi in scope; the piece cut out of the envelope declares neither.
    signed = sign_dte(
        with_declarations(read_fixture(NOTA), namespace=True, xsi=True), signer.key, signer.certificate
    )
    dte = with_declarations(signed[signed.index(b"<DTE") :], namespace=False, xsi=False)
    envelope = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<EnvioDTE' + SII + XSI + b' version="1.0"'
        b' xsi:schemaLocation="http://www.sii.cl/SiiDte EnvioDTE_v10.xsd">\n<SetDTE ID="SetDoc">\n'
        + dte
        + b"\n</SetDTE>\n</EnvioDTE>\n"
    )

    [checked] = read_dte_file(envelope, max_bytes=len(envelope))

    assert isinstance(checked, CheckedDte)
    assert b"xmlns" not in checked.content[: checked.content.index(b">", checked.content.index(b"<DTE"))]
    assert checked.checks.signature is Verdict.VALID
    assert checked.checks.as_json()["signedForm"] == {
        "asFound": False,
        "added": {"xmlns": SII_NS, "xmlns:xsi": XSI_NS},
        "removed": {},
    }


def test_an_exclusive_reference_with_an_inclusive_signed_info_finds_its_form(
    signer: Signer, resign: Resign
) -> None:
    # Exclusive C14N leaves the unused xmlns:xsi out of Documento's text, so every declaration form
    # gives the same body text; SignedInfo, canonicalized inclusively, still differs between them.
    signed = sign_dte(
        with_declarations(read_fixture(NOTA), namespace=True, xsi=True), signer.key, signer.certificate
    )
    exclusive = b"http://www.w3.org/2001/10/xml-exc-c14n#"
    data = resign(signed.replace(b"http://www.w3.org/2000/09/xmldsig#enveloped-signature", exclusive), signer)
    assert exclusive in data
    assert b"REC-xml-c14n-20010315" in data  # SignedInfo's CanonicalizationMethod stays inclusive

    result = verify_dte_signature(with_declarations(data, namespace=True, xsi=False))

    assert result.verdict is Verdict.VALID
    assert result.form is not None
    assert result.form.as_json() == expected_form((True, True), (True, False))


def test_signed_info_must_hold_in_the_form_the_digest_held_in(signer: Signer, resign: Resign) -> None:
    # With a ds: prefix, SignedInfo inherits the DTE's default namespace as Documento does. A signature
    # whose digest was computed with SII's namespace in scope and whose value over SignedInfo without it
    # was never made by a signer in any one form: no form holds both.
    with_sii = ds_prefixed(
        sign_dte(
            with_declarations(read_fixture(NOTA), namespace=True, xsi=False), signer.key, signer.certificate
        ),
        signer,
        resign,
    )
    assert verify_dte_signature(with_sii).verdict is Verdict.VALID
    bare_signed_info = etree.fromstring(with_declarations(with_sii, namespace=False, xsi=False)).find(
        f"{{{DSIG_NS}}}Signature/{{{DSIG_NS}}}SignedInfo"
    )
    assert bare_signed_info is not None
    value = signer.key.sign(canonicalize(bare_signed_info), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    mixed = re.sub(
        rb"(<ds:SignatureValue>).*?(</ds:SignatureValue>)",
        rb"\g<1>" + base64.b64encode(value) + rb"\g<2>",
        with_sii,
        flags=re.S,
    )

    result = verify_dte_signature(mixed)

    assert result.verdict is Verdict.INVALID
    assert [p.code for p in result.problems] == ["signature_value_invalid"]
    assert result.form is None


def ds_prefixed(signed: bytes, signer: Signer, resign: Resign) -> bytes:
    head, _, rest = signed.partition(b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">')
    signature, _, tail = rest.partition(b"</Signature>")
    prefixed = re.sub(rb"<(/?)(\w+)", rb"<\1ds:\2", signature)
    return resign(
        head
        + b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        + prefixed
        + b"</ds:Signature>"
        + tail,
        signer,
    )


# --- each form's text is the canonical text of the document in that form ---------------------------


def in_form(data: bytes, form: SignedForm) -> bytes:
    """``data`` with its DTE start tag changed as ``form`` says."""
    start = _DTE_START.search(data)
    assert start
    tag = start.group(0)
    for prefix, uri in form.removed:
        name = b"xmlns" if prefix is None else b"xmlns:" + prefix.encode()
        declaration = b" " + name + b'="' + uri.encode() + b'"'
        assert declaration in tag
        tag = tag.replace(declaration, b"")
    for prefix, uri in form.added:
        name = b"xmlns" if prefix is None else b"xmlns:" + prefix.encode()
        tag = tag.replace(b"<DTE", b"<DTE " + name + b'="' + uri.encode() + b'"', 1)
    return data[: start.start()] + tag + data[start.end() :]


def signed_parts(data: bytes) -> SignedParts:
    root = etree.fromstring(data)
    body = root.find("{*}Documento")
    assert body is not None
    return SignedParts(
        root, body, root.find(f"{{{DSIG_NS}}}Signature/{{{DSIG_NS}}}SignedInfo"), _INCLUSIVE, _INCLUSIVE
    )


def redundant_xsi_in_ted(data: bytes) -> bytes:
    # A redeclaration C14N omits while the DTE declares the same: the form must be re-parsed, not derived.
    return with_declarations(data, namespace=True, xsi=True).replace(b"<TED ", b"<TED" + XSI + b" ", 1)


def xsi_used_by_the_dte(data: bytes) -> bytes:
    return with_declarations(data, namespace=False, xsi=True).replace(
        b"<DTE ", b'<DTE xsi:schemaLocation="http://www.sii.cl/SiiDte DTE_v10.xsd" ', 1
    )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda d, n=n, x=x: with_declarations(d, namespace=n, xsi=x), id=i)
        for (n, x), i in zip(VARIANTS, VARIANT_IDS, strict=True)
    ]
    + [
        pytest.param(redundant_xsi_in_ted, id="xsi-redeclared-in-ted"),
        pytest.param(xsi_used_by_the_dte, id="xsi-used"),
    ],
)
@pytest.mark.parametrize("name", [MIPYME, NOTA])
def test_each_form_is_the_canonical_text_of_the_document_in_that_form(name: str, make: object) -> None:
    assert callable(make)
    data = make(read_fixture(name))
    parts = signed_parts(data)
    forms = list(parts.forms())

    assert forms[0] == SignedForm()
    assert len(set(forms)) == len(forms)
    for form in forms:
        root = etree.fromstring(in_form(data, form))
        body, signed_info = (
            root.find("{*}Documento"),
            root.find(f"{{{DSIG_NS}}}Signature/{{{DSIG_NS}}}SignedInfo"),
        )
        assert body is not None
        assert signed_info is not None
        assert parts.body.canonical(form) == canonicalize(body), form
        assert parts.signed_info_canonical(form) == canonicalize(signed_info), form


def test_a_declaration_the_dte_uses_is_never_removed() -> None:
    forms = list(signed_parts(xsi_used_by_the_dte(read_fixture(NOTA))).forms())

    assert all(prefix != "xsi" for form in forms for prefix, _ in form.removed)
    assert len(forms) == 2  # as found, and with SII's namespace


# --- the other verdicts over the same variants -------------------------------------------------------


@pytest.mark.parametrize(("namespace", "xsi"), VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("name", [MIPYME, NOTA])
def test_schema_and_timbre_judge_every_form_alike(name: str, namespace: bool, xsi: bool) -> None:
    # The schema is checked as if the SII namespace were set, and the timbre over DD without any
    # declaration: neither depends on the form, so an intact document is valid and a changed one not.
    for data, verdict in (
        (read_fixture(name), Verdict.VALID),
        (changed_amount(read_fixture(name)), Verdict.INVALID),
    ):
        variant = with_declarations(data, namespace=namespace, xsi=xsi)
        [checked] = read_dte_file(variant, max_bytes=len(variant))

        assert isinstance(checked, CheckedDte)
        assert checked.content == variant
        assert checked.checks.schema is Verdict.VALID
        assert (checked.checks.signature, checked.checks.ted) == (verdict, verdict)
