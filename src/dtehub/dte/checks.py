"""The verdicts of the XML pipeline's checks (schema, XML signature, timbre) on one DTE: their one shape.

:class:`XmlChecks` is what the pipeline finds; the verdict columns documents and notes share keep it
(:class:`dtehub.models.xml_checks.XmlChecked`: :func:`xml_check_columns` writes them,
:func:`stored_xml_checks_json` reads them back); ``xmlChecks`` shows it, as :class:`XmlChecksOut`
publishes it in ``/openapi.json`` and :func:`xml_checks_json` builds it as plain data. Each check has its
own verdicts (a timbre is never ``unsigned``): :data:`SchemaVerdict`, :data:`SignatureVerdict`,
:data:`TedVerdict`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, get_args

from pydantic import Field

from dtehub.dte.signed_forms import SignedForm
from dtehub.kit.dates import SANTIAGO
from dtehub.kit.model import ApiModel, JsonObject


class Verdict(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNSIGNED = "unsigned"  # signature only: the DTE carries no ds:Signature
    UNVERIFIABLE = "unverifiable"  # a certificate that cannot be read; a boleta's schema, not shipped
    ABSENT = "absent"  # TED only: the DTE carries no timbre


class Check(enum.StrEnum):
    SCHEMA = "schema"
    SIGNATURE = "signature"
    TED = "ted"


SchemaVerdict = Literal["valid", "invalid", "unverifiable"]
SignatureVerdict = Literal["valid", "unsigned", "invalid", "unverifiable"]
TedVerdict = Literal["valid", "absent", "invalid"]
CheckName = Literal["schema", "signature", "ted", "sii_register"]
"""The checks a problem names: the pipeline's three, and ``sii_register``: a DTE whose amounts, date or
customer differ from SII's Registro de Ventas row its document was first created from (docs/sii-sync.md)."""

VERDICTS: dict[Check, tuple[str, ...]] = {
    Check.SCHEMA: get_args(SchemaVerdict),
    Check.SIGNATURE: get_args(SignatureVerdict),
    Check.TED: get_args(TedVerdict),
}
"""What each check can say."""


@dataclass(frozen=True)
class Problem:
    """Why a check did not say ``valid``: a stable ``code`` for programs and a ``message`` for people."""

    check: Check
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"check": self.check.value, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class XmlChecks:
    """Every verdict on one DTE."""

    schema: Verdict
    signature: Verdict
    ted: Verdict
    signer: str | None
    """The RUT of the person who signed the DTE."""
    signed_at: datetime | None
    """TmstFirma, aware."""
    problems: tuple[Problem, ...]
    signed_form: SignedForm | None = None
    """The form of the DTE in which its signature held (docs/xml.md), when it did."""

    def problems_json(self) -> list[dict[str, str]]:
        return [problem.as_json() for problem in self.problems]

    def as_json(self) -> JsonObject:
        """``xmlChecks``."""
        return xml_checks_json(
            schema=self.schema.value,
            signature=self.signature.value,
            ted=self.ted.value,
            signer=self.signer,
            signed_at=self.signed_at,
            signed_form=self.signed_form.as_json() if self.signed_form else None,
            problems=self.problems_json(),
        )


def xml_checks_json(
    *,
    schema: str,
    signature: str | None,
    ted: str | None,
    signer: str | None,
    signed_at: datetime | None,
    signed_form: dict[str, Any] | None,
    problems: list[dict[str, str]],
) -> JsonObject:
    """``xmlChecks`` (:class:`XmlChecksOut`) as plain data: a listing builds fifty of them per page."""
    return {
        "schema": schema,
        "signature": signature,
        "signer": signer,
        "signedAt": _signing_time(signed_at),
        "signedForm": signed_form,
        "ted": ted,
        "problems": problems,
    }


def _signing_time(moment: datetime | None) -> str | None:
    """TmstFirma in Chile's time, as the pipeline reported it: a database hands it back in UTC (or in
    its session's zone), and the same instant must not read differently after a reload."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(SANTIAGO).isoformat()


_COLUMNS = (
    "xml_schema",
    "xml_signature",
    "xml_ted",
    "xml_signer",
    "xml_signed_at",
    "xml_problems",
    "xml_signed_form",
)


def xml_check_columns(checks: XmlChecks | None) -> dict[str, object]:
    """The verdict columns of a new document or note row: those of ``checks``, or all null (a document
    created by fields: no XML was checked)."""
    if checks is None:
        return dict.fromkeys(_COLUMNS)
    return {
        "xml_schema": checks.schema.value,
        "xml_signature": checks.signature.value,
        "xml_ted": checks.ted.value,
        "xml_signer": checks.signer,
        "xml_signed_at": checks.signed_at,
        "xml_problems": checks.problems_json(),
        "xml_signed_form": checks.signed_form.as_json() if checks.signed_form else None,
    }


class StoredVerdicts(Protocol):
    """A document or note row, as the ORM or a plain-column read gives it."""

    @property
    def xml_schema(self) -> str | None: ...
    @property
    def xml_signature(self) -> str | None: ...
    @property
    def xml_ted(self) -> str | None: ...
    @property
    def xml_signer(self) -> str | None: ...
    @property
    def xml_signed_at(self) -> datetime | None: ...
    @property
    def xml_problems(self) -> list[dict[str, Any]] | None: ...
    @property
    def xml_signed_form(self) -> dict[str, Any] | None: ...


def stored_xml_checks_json(row: StoredVerdicts) -> JsonObject | None:
    """``xmlChecks`` of a stored document or note; None when it was created by fields, without XML."""
    if row.xml_schema is None:
        return None
    return xml_checks_json(
        schema=row.xml_schema,
        signature=row.xml_signature,
        ted=row.xml_ted,
        signer=row.xml_signer,
        signed_at=row.xml_signed_at,
        signed_form=row.xml_signed_form,
        problems=row.xml_problems or [],
    )


class XmlProblemOut(ApiModel):
    check: CheckName = Field(
        description="The check that did not say valid; sii_register: the document's XML disagrees with "
        "its row in SII's Registro de Ventas (read when the XML attached, or by a later SII sync)"
    )
    code: str = Field(description="A stable code for programs, e.g. signature_digest_mismatch")
    message: str = Field(description="What is wrong, for people")


class SignedFormOut(ApiModel):
    as_found: bool = Field(description="The signature holds over the DTE exactly as received")
    added: dict[str, str] = Field(
        description='Declarations the DTE element had when signed and lacks now, e.g. {"xmlns": '
        '"http://www.sii.cl/SiiDte"}'
    )
    removed: dict[str, str] = Field(
        description="Declarations the DTE element has now and did not have when signed, e.g. "
        '{"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance"}'
    )


class XmlChecksOut(ApiModel):
    """The XML pipeline's verdicts on a DTE (docs/xml.md)."""

    schema_: SchemaVerdict = Field(
        alias="schema", description="The XSD check: unverifiable for boletas, whose schema is not shipped"
    )
    signature: SignatureVerdict = Field(description="The XML signature (ds:Signature) check")
    signer: str | None = Field(description="RUT of the person who signed the DTE")
    signed_at: str | None = Field(description="TmstFirma, ISO 8601 in Santiago time")
    signed_form: SignedFormOut | None = Field(
        description="The form of the DTE in which its signature held: as found, or with declarations "
        "added to or removed from its DTE element (SII's namespace, an envelope's xmlns:xsi); null when "
        "the signature held in no form, or was not checked"
    )
    ted: TedVerdict = Field(description="The timbre (TED) check")
    problems: list[XmlProblemOut] = Field(description="Why each check that is not valid says what it says")
