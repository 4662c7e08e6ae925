"""The names and limits of a DTE that dtehub's reader relies on (SII's DTE_v10.xsd and format document).

Element names are local names: a DTE is read with or without the SII namespace.
"""

from __future__ import annotations

ENVELOPES = ("SetDTE", "EnvioDTE", "EnvioBOLETA")
"""The envelopes a DTE may arrive in, besides a bare ``DTE``."""

BODY_NAMES = ("Documento", "Liquidacion", "Exportaciones")
"""The DTE's body: Documento for most types, Liquidacion for 43 and Exportaciones for 110-112."""

EXPORT_CODES = frozenset({110, 111, 112})
"""Export documents: factura de exportación and its debit and credit notes."""

PESO_CL = "PESO CL"
"""SII's name for the Chilean peso (``TpoMoneda``), the currency of every document but exports."""

LINE_ELEMENTS = frozenset(
    {
        "NroLinDet",
        "CdgItem",
        "TpoDocLiq",
        "IndExe",
        "Retenedor",
        "ItemEspectaculo",
        "RUTMandante",
        "NmbItem",
        "InfoTicket",
        "DscItem",
        "QtyRef",
        "UnmdRef",
        "PrcRef",
        "QtyItem",
        "Subcantidad",
        "FchElabor",
        "FchVencim",
        "UnmdItem",
        "PrcItem",
        "OtrMnda",
        "DescuentoPct",
        "DescuentoMonto",
        "SubDscto",
        "RecargoPct",
        "RecargoMonto",
        "SubRecargo",
        "CodImpAdic",
        "MontoItem",
    }
)
"""What a detail line may contain (DTE_v10.xsd, all bodies, and boletas): anything else is a misspelling."""

EXEMPT_INDICATORS = frozenset(range(1, 7))
"""IndExe of a detail line: 1 exempt or not taxed, 2 not billable, 3 packaging deposit, 4 not sold,
5 negative item, 6 not billable negative."""

DISCOUNT_EXEMPT_INDICATORS = frozenset({1, 2})
"""IndExeDR of a global discount or surcharge: 1 applies to exempt lines, 2 to non-billable ones."""

MOVEMENTS = ("D", "R")
"""TpoMov of a global discount or surcharge: D discount, R surcharge."""

VALUE_TYPES = ("%", "$")
"""TpoValor of a global discount or surcharge: a percentage of the lines, or an amount."""

REFERENCE_CODES = frozenset({1, 2, 3})
"""CodRef: 1 cancels the referenced document, 2 corrects its text, 3 corrects amounts."""

MAX_DIGITS = 18
"""Digits of a whole number: a folio has at most 10; more would not fit a 64-bit column."""

MAX_NUMBER_TEXT = 24
"""Characters of a decimal number: DTE numbers have at most 18 digits, so 24 leave room for signs and
zeros while keeping every value far inside Decimal's default precision."""

MAX_WARNINGS = 50
"""A hostile file could make thousands; the first ones say what is wrong."""
