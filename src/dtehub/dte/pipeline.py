"""The one way a DTE comes into dtehub: safe parsing, schema, XML signature, timbre, fields.

``createDocumentFromXml``, ``dtehub import`` and documents retrieved from SII all call :func:`read_dte_file`.
It does no database work, so the import runs it in worker processes. Each step has its own verdict;
only what is unsafe or cannot be read as a DTE is refused here (a :class:`~dtehub.errors.DteRefused`, by
its kind). Whether a verdict other than ``valid`` refuses the document is the company's ``xmlPolicy``
(:func:`policy_refusal`).
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from lxml import etree

from dtehub.dte.checks import Check, Verdict, XmlChecks
from dtehub.dte.envelope import split_dtes
from dtehub.dte.errors import DteUnreadable
from dtehub.dte.models import DteFields
from dtehub.dte.reader import dte_elements, read_fields
from dtehub.dte.schema import validate_dte_schema
from dtehub.dte.signature import verify_dte_signature
from dtehub.dte.ted import verify_ted
from dtehub.dte.views import dte_json
from dtehub.errors import (
    DteRefused,
    DteTooLarge,
    SchemaInvalid,
    SignatureInvalid,
    TedInvalid,
    TooManyDtes,
    XmlMalformed,
    XmlUnsafe,
)
from dtehub.kit.xml import XmlError, XmlForbiddenFeature, XmlTooLarge, parse_untrusted

MAX_DTES_PER_FILE = 2000
"""SII's own limit for an EnvioDTE."""


class XmlPolicy(enum.StrEnum):
    LENIENT = "lenient"  # refuse only what is unsafe or unreadable; store the rest with its verdicts
    STRICT = "strict"  # also refuse any schema, signature or timbre verdict other than valid


_XML_REFUSALS: dict[type[XmlError], type[DteRefused]] = {
    XmlTooLarge: DteTooLarge,
    XmlForbiddenFeature: XmlUnsafe,
}
"""What the safe parser's errors refuse; any other is :class:`~dtehub.errors.XmlMalformed`."""


@dataclass(frozen=True)
class CheckedDte:
    """One DTE that passed the pipeline: its own original bytes (and their SHA-256), its fields (also as
    the JSON text kept with it: encoded here, in the worker that read it, so that only text crosses to
    the process that stores it and nothing is encoded there) and its verdicts."""

    content: bytes
    fields: DteFields
    checks: XmlChecks
    sha256: str
    fields_text: str

    @property
    def fields_json(self) -> dict[str, Any]:
        """The fields' JSON (getDocument's ``dte``) as data."""
        loaded: dict[str, Any] = json.loads(self.fields_text)
        return loaded


def read_dte_file(
    data: bytes, *, max_bytes: int, max_dtes: int = MAX_DTES_PER_FILE
) -> list[CheckedDte | DteRefused]:
    """Every DTE in a file (bare DTE, SetDTE, EnvioDTE, EnvioBOLETA), each checked on its own bytes.

    Raises :class:`DteRefused` when the file as a whole cannot be read; a DTE inside it that cannot be
    read is returned as its own :class:`DteRefused`, so one bad DTE does not sink its envelope.
    Envelopes of more than ``max_dtes`` are refused before any DTE is checked: checking costs
    milliseconds per DTE, and a caller that takes one DTE should not pay for a thousand.
    """
    try:
        root = parse_untrusted(data, max_bytes=max_bytes)
    except XmlError as exc:
        raise _XML_REFUSALS.get(type(exc), XmlMalformed)(str(exc)) from None
    try:
        elements = dte_elements(root)
    except DteUnreadable as exc:
        raise DteRefused(str(exc)) from None
    if not elements:
        raise DteRefused("the envelope holds no DTE")
    if len(elements) > max_dtes:
        raise TooManyDtes(f"the envelope holds {len(elements)} DTEs; the limit is {max_dtes}")
    if len(elements) == 1 and elements[0] is root:  # a bare DTE: its bytes, and the tree read from them
        return [_check_one(root, data, parsed=True)]
    pieces = split_dtes(data)
    if len(pieces) != len(elements):  # cannot happen for well-formed XML; never pair the wrong bytes
        raise XmlMalformed("the DTEs in the envelope could not be cut out one by one")
    return [_check_one(element, piece, parsed=False) for element, piece in zip(elements, pieces, strict=True)]


def _check_one(element: etree._Element, content: bytes, *, parsed: bool) -> CheckedDte | DteRefused:
    try:
        fields = read_fields(element)
    except DteUnreadable as exc:
        return DteRefused(str(exc))
    schema = validate_dte_schema(element)
    signature = verify_dte_signature(content, parsed=element if parsed else None)
    ted = verify_ted(element, original=content)
    checks = XmlChecks(
        schema=schema.verdict,
        signature=signature.verdict,
        ted=ted.verdict,
        signer=signature.signer,
        signed_at=signature.signed_at,
        signed_form=signature.form,
        problems=(*schema.problems, *signature.problems, *ted.problems),
    )
    return CheckedDte(
        content=content,
        fields=fields,
        checks=checks,
        sha256=hashlib.sha256(content).hexdigest(),
        fields_text=json.dumps(dte_json(fields)),
    )


_STRICT_REFUSALS: dict[Check, type[DteRefused]] = {
    Check.SCHEMA: SchemaInvalid,
    Check.SIGNATURE: SignatureInvalid,
    Check.TED: TedInvalid,
}


def policy_refusal(checks: XmlChecks, policy: XmlPolicy) -> DteRefused | None:
    """Under ``strict``, the first check that is not ``valid`` refuses the DTE (unsigned included)."""
    if policy != XmlPolicy.STRICT:
        return None
    for check, verdict in (
        (Check.SCHEMA, checks.schema),
        (Check.SIGNATURE, checks.signature),
        (Check.TED, checks.ted),
    ):
        if verdict != Verdict.VALID:
            why = next((p.message for p in checks.problems if p.check == check), None)
            message = f"the company's xmlPolicy is strict and the {check.value} check says {verdict.value}"
            return _STRICT_REFUSALS[check](f"{message}: {why}" if why else message)
    return None
