"""SII's document types and the names printed for them (formato DTE v2.2, TipoDTE and TpoDocRef)."""

from __future__ import annotations

DTE_TYPE_NAMES: dict[int, str] = {
    33: "FACTURA ELECTRÓNICA",
    34: "FACTURA NO AFECTA O EXENTA ELECTRÓNICA",
    39: "BOLETA ELECTRÓNICA",
    41: "BOLETA NO AFECTA O EXENTA ELECTRÓNICA",
    43: "LIQUIDACIÓN FACTURA ELECTRÓNICA",
    46: "FACTURA DE COMPRA ELECTRÓNICA",
    52: "GUÍA DE DESPACHO ELECTRÓNICA",
    56: "NOTA DE DÉBITO ELECTRÓNICA",
    61: "NOTA DE CRÉDITO ELECTRÓNICA",
    110: "FACTURA DE EXPORTACIÓN ELECTRÓNICA",
    111: "NOTA DE DÉBITO DE EXPORTACIÓN ELECTRÓNICA",
    112: "NOTA DE CRÉDITO DE EXPORTACIÓN ELECTRÓNICA",
}

# Paper and other documents a Referencia may name (TpoDocRef), beyond the DTE types above.
_REFERENCE_NAMES: dict[str, str] = {
    "29": "Factura de inicio",
    "30": "Factura",
    "32": "Factura de venta de bienes y servicios no afectos o exentos de IVA",
    "35": "Boleta",
    "38": "Boleta exenta",
    "40": "Liquidación factura",
    "45": "Factura de compra",
    "50": "Guía de despacho",
    "55": "Nota de débito",
    "60": "Nota de crédito",
    "101": "Factura de exportación",
    "104": "Nota de débito de exportación",
    "106": "Nota de crédito de exportación",
    "801": "Orden de compra",
    "802": "Nota de pedido",
    "803": "Contrato",
    "804": "Resolución",
    "805": "Proceso ChileCompra",
    "806": "Ficha ChileCompra",
    "807": "DUS",
    "808": "B/L (conocimiento de embarque)",
    "809": "AWB (Airway Bill)",
    "810": "MIC/DTA",
    "811": "Carta de porte",
    "812": "Resolución del SNA",
    "813": "Pasaporte",
    "814": "Certificado de depósito bolsa prod. Chile",
    "815": "Vale de prenda bolsa prod. Chile",
    "HES": "Hoja de entrada de servicios",
    "HEM": "Hoja de entrada de materiales",
    "MLE": "Modalidad libre elección",
    "RES": "Resolución",
    "EM": "Entrada de mercadería",
    "RDM": "Recepción de material",
    "SET": "Set de pruebas",
    "CONTRATO": "Contrato",
}

# Documents a factoring company can be assigned (cedido, Ley 19.983) and so are printed in a CEDIBLE
# copy; a guía's copy goes with its invoice ("CEDIBLE CON SU FACTURA").
CEDIBLE_CODES = frozenset({33, 34, 43, 46, 52})
GUIA_DE_DESPACHO = 52


def dte_type_name(code: int | None) -> str:
    """``33`` → ``FACTURA ELECTRÓNICA``; an unknown code reads ``DOCUMENTO TIPO <code>``."""
    if code is None:
        return "DOCUMENTO"
    return DTE_TYPE_NAMES.get(code, f"DOCUMENTO TIPO {code}")


def reference_type_name(code: str) -> str:
    """The name of a TpoDocRef (``801`` → ``Orden de compra``, ``33`` → ``Factura electrónica``)."""
    text = code.strip()
    if text.isdigit() and int(text) in DTE_TYPE_NAMES:
        return DTE_TYPE_NAMES[int(text)].capitalize()
    return _REFERENCE_NAMES.get(text.upper(), f"Documento {text}" if text else "Documento")
