"""What a checked DTE writes into the verdict columns that documents and notes share."""

from __future__ import annotations

from dtehub.dte.pipeline import XmlChecks, problems_as_json


def verdict_columns(checks: XmlChecks) -> dict[str, object]:
    return {
        "xml_schema": checks.schema.value,
        "xml_signature": checks.signature.value,
        "xml_ted": checks.ted.value,
        "xml_signer": checks.signer,
        "xml_signed_at": checks.signed_at,
        "xml_problems": problems_as_json(checks.problems),
        "xml_signed_form": checks.signed_form.as_json() if checks.signed_form else None,
    }
