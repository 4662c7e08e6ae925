"""Verify an electronic cession file (AEC) received by its assignee, the way SII judges it.

The factoring company that bought an invoice receives the AEC the seller (or the previous holder) sent to
SII's RTC. :func:`verify_aec` reads it without any database and says, check by check, whether it holds:

- ``xml``: the bytes are safe, well-formed XML whose root is SII's ``AEC``.
- ``schema``: the file follows ``AEC_v10.xsd`` (and the schemas it includes; cl-sii ships them).
- ``signature``: each signature of the file's own parts (``DocumentoDTECedido``, each ``DocumentoCesion``,
  ``DocumentoAEC``), one finding each, judged **in the context it was made in**. A part is signed as a
  standalone document and pasted into the AEC afterwards; inclusive C14N renders every namespace in scope,
  so a ``Cesion`` signed with only SII's namespace and pasted under an ``<AEC>`` that also declares
  ``xmlns:xsi`` canonicalizes differently in place, and a naive verifier rejects a file SII registered.
  Each part is tried in the forms of :mod:`dtehub.dte.signed_forms` (as found first; then without the
  declarations it inherits and does not use, or with SII's namespace switched), digest and signature value
  in the *same* form; the finding says which form held. SII's profile only (``xmldsignature_v10.xsd``:
  C14N 1.0, SHA-1, RSA-SHA1); the certificate must have been valid when the part says it was signed
  (``TmstFirma``, ``TmstCesion``, ``TmstFirmaEnvio``), never judged at today's date.
- ``dte``: the DTE inside, cut out byte for byte (with the SII namespace it inherits in the file), through
  the one DTE pipeline (:func:`dtehub.dte.pipeline.read_dte_file`): its signature (the issuer's, the
  AEC's first) and its timbre must be ``valid``; its schema verdict is shown, not judged.
- ``chain``: the cessions numbered 1..n in order; each one's ``IdDTE`` is the DTE's; the first assignor is
  the DTE's issuer and each later one the previous assignee; every amount above 0 and within the DTE's
  total; the cover's ``RutCedente``/``RutCesionario`` are the last cession's; and the last assignee is the
  company receiving the file (when one is given).

Every check runs whatever the others say (a file with a broken signature still has its chain judged), so
a refusal lists everything wrong at once. Nothing here raises for bad input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from dtehub.dte.aec import MAX_AEC_BYTES, SII_NS, validate_aec
from dtehub.dte.checks import Verdict
from dtehub.dte.envelope import split_dtes
from dtehub.dte.errors import DteUnreadable
from dtehub.dte.pipeline import CheckedDte, read_dte_file
from dtehub.dte.signature import DSIG_NS
from dtehub.dte.signed_forms import C14nMethod, SignedForm, SignedParts
from dtehub.dte.xmldsig import read_certificate
from dtehub.errors import DteRefused
from dtehub.kit.dates import SANTIAGO
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.kit.xml import XmlError, local_name, parse_untrusted

_S = f"{{{SII_NS}}}"
_DS = f"{{{DSIG_NS}}}"
_C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
_ENVELOPED = f"{DSIG_NS}enveloped-signature"
_INCLUSIVE = C14nMethod(exclusive=False, with_comments=False, inclusive_prefixes=None)
_SIGNING_TIMES = {"DocumentoDTECedido": "TmstFirma", "DocumentoCesion": "TmstCesion"}
_DTE_START = re.compile(rb"<DTE(?=[\s/>])")
_DEFAULT_DECLARATION = re.compile(rb"""\sxmlns\s*=""")


@dataclass(frozen=True)
class Finding:
    """One check's verdict: which check, on which part, whether it passed and why, in words."""

    check: str
    """``xml``, ``schema``, ``signature``, ``dte`` or ``chain``."""
    passed: bool
    message: str
    part: str | None = None
    """The signed part (``DocumentoCesion 2``) or the chain's rule (``sequence``) the finding is about."""
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"check": self.check, "status": "passed" if self.passed else "failed"}
        if self.part is not None:
            shown["part"] = self.part
        shown["message"] = self.message
        shown.update(self.details)
        return shown


@dataclass(frozen=True)
class CessionParty:
    rut: str
    name: str
    address: str
    email: str


@dataclass(frozen=True)
class Cession:
    """One ``DocumentoCesion`` as read (values that cannot be read are None; the chain says so)."""

    sequence: int | None
    assignor: CessionParty | None
    assignee: CessionParty | None
    amount: int | None
    last_due_date: date | None
    signed_at: datetime | None
    debtor_email: str | None
    id_dte: dict[str, str]


@dataclass(frozen=True)
class AecVerification:
    findings: tuple[Finding, ...]
    dte: CheckedDte | None
    """The DTE inside as the pipeline read it; None when it could not be read."""
    cessions: tuple[Cession, ...]

    @property
    def valid(self) -> bool:
        return all(finding.passed for finding in self.findings)

    @property
    def failed(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if not finding.passed)

    @property
    def last_cession(self) -> Cession | None:
        return self.cessions[-1] if self.cessions else None


def verify_aec(
    data: bytes, *, holder_rut: str | None = None, max_bytes: int = MAX_AEC_BYTES
) -> AecVerification:
    """Every check of an AEC file; ``holder_rut`` (canonical) is the company receiving it, which must be
    the last assignee (None: not judged)."""
    try:
        root = parse_untrusted(data, max_bytes=max_bytes)
    except XmlError as error:
        return AecVerification(
            (Finding("xml", False, f"the file is not XML dtehub can read: {error}"),), None, ()
        )
    if root.tag != f"{_S}AEC":
        message = f"the file's root is {local_name(root)}, not SII's AEC (an electronic cession file)"
        return AecVerification((Finding("xml", False, message),), None, ())
    findings: list[Finding] = [_schema(root)]
    findings.extend(_signatures(root))
    dte, dte_findings = _dte(data)
    findings.extend(dte_findings)
    cessions = tuple(_cession(element) for element in root.iter(f"{_S}DocumentoCesion"))
    findings.extend(_chain(root, dte, cessions, holder_rut))
    return AecVerification(tuple(findings), dte, cessions)


# --- schema ----------------------------------------------------------------------------------------------


def _schema(root: etree._Element) -> Finding:
    problems = validate_aec(root)
    if not problems:
        return Finding("schema", True, "the file follows SII's schema AEC_v10.xsd")
    return Finding(
        "schema",
        False,
        "the file does not follow SII's schema AEC_v10.xsd: SII refuses it as it is",
        details={"problems": problems},
    )


# --- signatures ------------------------------------------------------------------------------------------


def _signatures(root: etree._Element) -> list[Finding]:
    findings: list[Finding] = []
    sequence = 0
    for signature in root.iter(f"{_DS}Signature"):
        container = signature.getparent()
        if container is None or container.tag == f"{_S}DTE":
            continue  # the DTE's own signature is the pipeline's (finding "dte")
        signed = _previous_element(signature)
        name = local_name(signed) if signed is not None else "?"
        if name == "DocumentoCesion":
            sequence += 1
            part = f"{name} {_child_text(signed, 'SeqCesion') or sequence}" if signed is not None else name
        else:
            part = name
        findings.append(_verify_part(part, container, signed, signature))
    if not findings:
        findings.append(Finding("signature", False, "the file carries no signature of its parts"))
    return findings


def _previous_element(element: etree._Element) -> etree._Element | None:
    previous = element.getprevious()
    while previous is not None and not isinstance(previous.tag, str):
        previous = previous.getprevious()
    return previous


def _verify_part(
    part: str,
    container: etree._Element,
    signed: etree._Element | None,
    signature: etree._Element,
) -> Finding:
    def failed(message: str, **details: Any) -> Finding:
        return Finding("signature", False, message, part, details)

    if signed is None or signed.get("ID") is None:
        return failed("the signature does not follow a signed part with an ID, as SII's format puts it")
    signed_info = signature.find(f"{_DS}SignedInfo")
    reference = signature.find(f"{_DS}SignedInfo/{_DS}Reference")
    if signed_info is None or reference is None:
        return failed("the signature has no SignedInfo/Reference: it is incomplete")
    if reference.get("URI") != f"#{signed.get('ID')}":
        return failed(
            f"the signature refers to {reference.get('URI')!r}, not to the part it follows "
            f"(#{signed.get('ID')}): it does not cover that part"
        )
    profile = _profile_problem(signed_info, reference)
    if profile is not None:
        return failed(profile)
    read = read_certificate(signature)
    if read is None:
        return failed("the signature's certificate (KeyInfo/X509Data) cannot be read")
    certificate, public_key, signer = read.certificate, read.public_key, read.holder_rut
    if public_key is None:
        return failed("the signature's certificate does not hold an RSA key (SII's profile)")
    details: dict[str, Any] = {"signer": signer}
    digest = _base64(_text(reference, f"{_DS}DigestValue"))
    value = _base64(_text(signature, f"{_DS}SignatureValue"))
    if digest is None or value is None:
        return failed("the signature's DigestValue or SignatureValue is missing or not base64", **details)
    form = _holding_form(
        SignedParts(container, signed, signed_info, _INCLUSIVE, _INCLUSIVE), digest, value, public_key
    )
    if form is None:
        return failed(
            "the signature does not hold in any context the part can have been signed in: the part changed "
            "after it was signed (an amount, a RUT, a date), or it was not signed with this certificate",
            **details,
        )
    details["signedForm"] = form.as_json()
    signed_at = _signing_time(signed, container)
    if signed_at is None:
        return failed(
            "the part has no signing time, so the certificate's validity cannot be judged", **details
        )
    details["signedAt"] = signed_at.strftime("%Y-%m-%d %H:%M:%S")
    if not certificate.not_valid_before_utc <= signed_at <= certificate.not_valid_after_utc:
        return failed(
            f"the signer's certificate was not valid when the part was signed ({details['signedAt']} Chile "
            f"time): valid from {certificate.not_valid_before_utc.astimezone(SANTIAGO):%Y-%m-%d} to "
            f"{certificate.not_valid_after_utc.astimezone(SANTIAGO):%Y-%m-%d}",
            **details,
        )
    where = (
        "where it sits"
        if form.as_found
        else "in the context it was signed in (" + _form_words(form) + "), as SII judges it"
    )
    return Finding("signature", True, f"the signature holds {where}", part, details)


def _profile_problem(signed_info: etree._Element, reference: etree._Element) -> str | None:
    method = signed_info.find(f"{_DS}CanonicalizationMethod")
    if method is None or method.get("Algorithm") != _C14N_10:
        return "the signature's canonicalization is not C14N 1.0 (SII's profile)"
    signature_method = signed_info.find(f"{_DS}SignatureMethod")
    if signature_method is None or signature_method.get("Algorithm") != f"{DSIG_NS}rsa-sha1":
        return "the signature's method is not RSA-SHA1 (SII's profile)"
    digest_method = reference.find(f"{_DS}DigestMethod")
    if digest_method is None or digest_method.get("Algorithm") != f"{DSIG_NS}sha1":
        return "the signature's digest is not SHA-1 (SII's profile)"
    for transform in reference.iterfind(f"{_DS}Transforms/{_DS}Transform"):
        if transform.get("Algorithm") not in (_C14N_10, _ENVELOPED):
            return f"the signature's transform {transform.get('Algorithm')!r} is not SII's profile"
    return None


def _holding_form(
    parts: SignedParts, digest: bytes, value: bytes, key: rsa.RSAPublicKey
) -> SignedForm | None:
    """The first form in which both the digest and the signature value hold."""
    refused: list[bytes | None] = []
    for form in parts.forms():
        body = parts.body.canonical(form)
        if body is None or hashlib.sha1(body).digest() != digest:  # noqa: S324 (SII's profile)
            continue
        signed_info = parts.signed_info_canonical(form)
        if signed_info is None or signed_info in refused:
            continue
        size = (key.key_size + 7) // 8
        try:
            key.verify(value.rjust(size, b"\0"), signed_info, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
        except (InvalidSignature, ValueError):
            refused.append(signed_info)
            continue
        return form
    return None


def _form_words(form: SignedForm) -> str:
    words = [f"without {name}, which the file declares around it" for name in form.as_json()["removed"]]
    words += [f"with {name}" for name in form.as_json()["added"]]
    return "; ".join(words)


def _signing_time(signed: etree._Element, container: etree._Element) -> datetime | None:
    name = _SIGNING_TIMES.get(local_name(signed))
    text = (
        _child_text(signed, name)
        if name is not None
        else _text(signed, f"{_S}Caratula/{_S}TmstFirmaEnvio")
        if container.tag == f"{_S}AEC"
        else None
    )
    try:
        return datetime.fromisoformat(text).replace(tzinfo=SANTIAGO) if text else None
    except ValueError:
        return None


def _base64(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True) or None
    except (binascii.Error, ValueError):
        return None


# --- the DTE inside --------------------------------------------------------------------------------------


def _dte(data: bytes) -> tuple[CheckedDte | None, list[Finding]]:
    try:
        pieces = split_dtes(data, roots=(b"AEC",))
    except (XmlError, DteUnreadable) as error:
        return None, [Finding("dte", False, f"the DTE inside cannot be cut out of the file: {error}")]
    if len(pieces) != 1:
        return None, [Finding("dte", False, f"the file carries {len(pieces)} DTEs; an AEC carries one")]
    try:
        [checked] = read_dte_file(_inherit_default_namespace(pieces[0]), max_bytes=len(data) + 64)
    except DteRefused as error:
        return None, [Finding("dte", False, f"the DTE inside cannot be read: {error.message}")]
    if isinstance(checked, DteRefused):
        return None, [Finding("dte", False, f"the DTE inside cannot be read: {checked.message}")]
    checks = checked.checks
    details: dict[str, Any] = {"xmlChecks": checks.as_json()}
    failing = [
        (name, verdict)
        for name, verdict in (("signature", checks.signature), ("ted", checks.ted))
        if verdict != Verdict.VALID
    ]
    if failing:
        said = ", ".join(f"its {name} is {verdict.value}" for name, verdict in failing)
        problems = "; ".join(
            problem.message for problem in checks.problems if problem.check.value != "schema"
        )
        message = f"the DTE inside does not hold: {said}" + (f" ({problems})" if problems else "")
        return checked, [Finding("dte", False, message, details=details)]
    fields = checked.fields
    return checked, [
        Finding(
            "dte",
            True,
            f"the DTE inside (type {fields.code}, folio {fields.folio}) is signed by its "
            "issuer and its timbre holds",
            details=details,
        )
    ]


def _inherit_default_namespace(piece: bytes) -> bytes:
    """The DTE cut out of the file, declaring SII's namespace when it only inherited it in the file (the
    namespace its elements are in there); the pipeline's signature check still tries it without."""
    start = _DTE_START.search(piece)
    if start is None:
        return piece
    end = piece.find(b">", start.end())
    if end < 0 or _DEFAULT_DECLARATION.search(piece, start.end(), end):
        return piece
    return piece[: start.end()] + b' xmlns="' + SII_NS.encode() + b'"' + piece[start.end() :]


# --- the chain of cessions -------------------------------------------------------------------------------


def _cession(element: etree._Element) -> Cession:
    id_dte = {
        local_name(child): (child.text or "").strip()
        for child in element.iterfind(f"{_S}IdDTE/*")
        if isinstance(child.tag, str)
    }
    signed_at_text = _child_text(element, "TmstCesion")
    due_text = _child_text(element, "UltimoVencimiento")
    return Cession(
        sequence=_int(_child_text(element, "SeqCesion")),
        assignor=_party(element.find(f"{_S}Cedente")),
        assignee=_party(element.find(f"{_S}Cesionario")),
        amount=_int(_child_text(element, "MontoCesion")),
        last_due_date=_date(due_text),
        signed_at=_datetime(signed_at_text),
        debtor_email=_child_text(element, "eMailDeudor"),
        id_dte=id_dte,
    )


def _party(element: etree._Element | None) -> CessionParty | None:
    if element is None:
        return None
    rut = _rut(_child_text(element, "RUT"))
    if rut is None:
        return None
    return CessionParty(
        rut=rut,
        name=_child_text(element, "RazonSocial") or "",
        address=_child_text(element, "Direccion") or "",
        email=_child_text(element, "eMail") or "",
    )


def _chain(
    root: etree._Element, dte: CheckedDte | None, cessions: tuple[Cession, ...], holder_rut: str | None
) -> list[Finding]:
    findings: list[Finding] = []

    def rule(part: str, problems: list[str], passed: str) -> None:
        if problems:
            findings.append(Finding("chain", False, "; ".join(problems), part))
        else:
            findings.append(Finding("chain", True, passed, part))

    if not cessions:
        return [Finding("chain", False, "the file carries no cession", "sequence")]
    numbers = [cession.sequence for cession in cessions]
    expected = list(range(1, len(cessions) + 1))
    rule(
        "sequence",
        []
        if numbers == expected
        else [f"the cessions are numbered {numbers}, not 1..{len(cessions)} in order"],
        f"the cessions are numbered 1..{len(cessions)} in order",
    )

    fields = dte.fields if dte is not None else None
    issuer = _rut(fields.issuer.rut) if fields is not None else None
    total = fields.total_cents // 100 if fields is not None else None
    if fields is not None:
        own = {
            "TipoDTE": str(fields.code),
            "RUTEmisor": issuer or "",
            "RUTReceptor": _rut(fields.receiver.rut) or "",
            "Folio": str(fields.folio),
            "FchEmis": fields.issue_date.isoformat(),
            "MntTotal": str(total),
        }
        problems = []
        for cession in cessions:
            differing = [
                name
                for name, value in own.items()
                if (_rut(cession.id_dte.get(name)) if name.startswith("RUT") else cession.id_dte.get(name))
                != value
            ]
            if differing:
                problems.append(
                    f"cession {cession.sequence}'s IdDTE differs from the DTE inside in "
                    + ", ".join(differing)
                )
        rule(
            "document",
            problems,
            "every cession names the DTE inside (type, issuer, receiver, folio, date, total)",
        )

    problems = []
    previous = issuer
    for position, cession in enumerate(cessions):
        who = cession.assignor.rut if cession.assignor is not None else None
        if who is None:
            problems.append(f"cession {cession.sequence}'s assignor has no readable RUT")
        elif previous is not None and who != previous:
            problems.append(
                f"cession {cession.sequence}'s assignor {who} is not "
                + (f"the DTE's issuer {previous}" if position == 0 else f"the previous assignee {previous}")
            )
        previous = cession.assignee.rut if cession.assignee is not None else None
        if previous is None:
            problems.append(f"cession {cession.sequence}'s assignee has no readable RUT")
    rule(
        "assignors",
        problems,
        "the first assignor is the DTE's issuer and each later one the previous assignee",
    )

    problems = []
    for cession in cessions:
        if cession.amount is None or cession.amount <= 0:
            problems.append(f"cession {cession.sequence}'s amount is not a positive whole number")
        elif total is not None and cession.amount > total:
            problems.append(
                f"cession {cession.sequence} cedes {cession.amount}, over the DTE's total {total}"
            )
    rule("amounts", problems, f"every amount ceded is within the DTE's total ({total})")

    last = cessions[-1]
    cover = {
        "RutCedente": _rut(_text(root, f"{_S}DocumentoAEC/{_S}Caratula/{_S}RutCedente")),
        "RutCesionario": _rut(_text(root, f"{_S}DocumentoAEC/{_S}Caratula/{_S}RutCesionario")),
    }
    problems = []
    if last.assignor is None or cover["RutCedente"] != last.assignor.rut:
        problems.append(f"the cover's RutCedente {cover['RutCedente']} is not the last cession's assignor")
    if last.assignee is None or cover["RutCesionario"] != last.assignee.rut:
        problems.append(
            f"the cover's RutCesionario {cover['RutCesionario']} is not the last cession's assignee"
        )
    rule("cover", problems, "the cover names the last cession's assignor and assignee")

    if holder_rut is not None:
        assignee = last.assignee.rut if last.assignee is not None else None
        rule(
            "holder",
            []
            if assignee == holder_rut
            else [
                f"the last assignee is {assignee}, not this company ({holder_rut}): the invoice is not yours"
            ],
            f"the last assignee is this company ({holder_rut})",
        )
    return findings


# --- small readings --------------------------------------------------------------------------------------


def _child_text(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    return _text(element, f"{_S}{name}")


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path)
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None and text.isdigit() else None
    except ValueError:
        return None


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _datetime(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _rut(text: str | None) -> str | None:
    return _canonical_rut(text) if text else None


@lru_cache(maxsize=1024)
def _canonical_rut(text: str) -> str | None:
    """``normalize_rut`` of a RUT as written in a file, or None (a file names the same few RUTs many
    times: its issuer, each party, the cover; a pure function, kept for the texts seen last)."""
    try:
        return normalize_rut(text)
    except InvalidRut:
        return None
