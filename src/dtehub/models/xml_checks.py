"""The columns that keep the XML pipeline's verdicts on a DTE, shared by documents and notes (their shape,
what a checked DTE writes into them and xmlChecks read back from them: :mod:`dtehub.dte.checks`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import JsonColumn


class XmlChecked:
    """The XML pipeline's verdicts on a DTE (columns shared by documents and notes).

    All null for a document created by fields: there was no XML to check. ``xml_problems`` holds
    ``[{"check", "code", "message"}]`` for every verdict that is not ``valid``; ``xml_signed_form`` the
    form of the DTE in which its signature held (:meth:`dtehub.dte.signed_forms.SignedForm.as_json`).
    """

    xml_schema: Mapped[str | None] = mapped_column(
        String(12), default=None, comment="valid | invalid | unverifiable"
    )
    xml_signature: Mapped[str | None] = mapped_column(
        String(12), default=None, comment="valid | unsigned | invalid | unverifiable"
    )
    xml_ted: Mapped[str | None] = mapped_column(String(12), default=None, comment="valid | absent | invalid")
    xml_signer: Mapped[str | None] = mapped_column(String(12), default=None, comment="The signer's RUT")
    xml_signed_at: Mapped[datetime | None] = mapped_column(default=None, comment="TmstFirma")
    xml_problems: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonColumn, default=None)
    xml_signed_form: Mapped[dict[str, Any] | None] = mapped_column(
        JsonColumn,
        default=None,
        comment="The declarations added to or removed from the DTE for its signature to hold",
    )
