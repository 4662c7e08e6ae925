"""The XML pipeline's verdicts as documents and notes store them (:mod:`dtehub.dte.checks` is their
shape): the columns, the values a checked DTE writes into them, and ``xmlChecks`` read back from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.dte.checks import VERDICTS, Check, XmlChecks, xml_checks_json
from dtehub.kit.schema import JsonObject
from dtehub.models.base import JsonColumn


def _choices(check: Check) -> str:
    return " | ".join(VERDICTS[check])


class XmlChecked:
    """The XML pipeline's verdicts on a DTE (columns shared by documents and notes).

    All null for a document created by fields: there was no XML to check. ``xml_problems`` holds
    ``[{"check", "code", "message"}]`` for every verdict that is not ``valid``.
    """

    xml_schema: Mapped[str | None] = mapped_column(String(12), default=None, comment=_choices(Check.SCHEMA))
    xml_signature: Mapped[str | None] = mapped_column(
        String(12), default=None, comment=_choices(Check.SIGNATURE)
    )
    xml_ted: Mapped[str | None] = mapped_column(String(12), default=None, comment=_choices(Check.TED))
    xml_signer: Mapped[str | None] = mapped_column(String(12), default=None, comment="The signer's RUT")
    xml_signed_at: Mapped[datetime | None] = mapped_column(default=None, comment="TmstFirma")
    xml_problems: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonColumn, default=None)


def xml_check_columns(checks: XmlChecks | None) -> dict[str, object]:
    """The verdict columns of a new row: those of ``checks``, or all null (no XML was checked)."""
    if checks is None:
        return dict.fromkeys(_COLUMNS)
    return {
        "xml_schema": checks.schema.value,
        "xml_signature": checks.signature.value,
        "xml_ted": checks.ted.value,
        "xml_signer": checks.signer,
        "xml_signed_at": checks.signed_at,
        "xml_problems": checks.problems_json(),
    }


_COLUMNS = ("xml_schema", "xml_signature", "xml_ted", "xml_signer", "xml_signed_at", "xml_problems")


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
        problems=row.xml_problems or [],
    )
