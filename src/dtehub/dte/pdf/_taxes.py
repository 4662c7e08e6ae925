"""The names printed for additional taxes and withholdings (``ImptoReten/TipoImp``).

From section 4 of SII's format document (v2.2, "Codificación tipos de impuestos y recargos"); the
three-digit codes ending in 1 are the same withholdings under "cambio de sujeto" (total withholding).
"""

from __future__ import annotations

_NAMES: dict[str, str] = {
    "14": "IVA de margen de comercialización",
    "15": "IVA retenido total",
    "17": "IVA anticipado faenamiento carne",
    "18": "IVA anticipado carne",
    "19": "IVA anticipado harina",
    "23": "Impuesto adicional Art. 37 letras a, b, c",
    "24": "Impuesto licores, piscos, whisky (Art. 42 b)",
    "25": "Impuesto vinos (Art. 42 c)",
    "26": "Impuesto cervezas y bebidas alcohólicas (Art. 42 c)",
    "27": "Impuesto bebidas analcohólicas y minerales (Art. 42 a)",
    "271": "Impuesto bebidas azucaradas (Art. 42 a, inc. 2°)",
    "28": "Impuesto específico diésel",
    "30": "IVA retenido legumbres",
    "301": "IVA retenido legumbres (cambio de sujeto)",
    "31": "IVA retenido silvestres",
    "32": "IVA retenido ganado",
    "321": "IVA retenido ganado (cambio de sujeto)",
    "33": "IVA retenido madera",
    "331": "IVA retenido madera (cambio de sujeto)",
    "34": "IVA retenido trigo",
    "341": "IVA retenido trigo (cambio de sujeto)",
    "35": "Impuesto específico gasolina",
    "36": "IVA retenido arroz",
    "361": "IVA retenido arroz (cambio de sujeto)",
    "37": "IVA retenido hidrobiológicas",
    "371": "IVA retenido hidrobiológicas (cambio de sujeto)",
    "38": "IVA retenido chatarra",
    "39": "IVA retenido PPA",
    "41": "IVA retenido construcción",
    "44": "Impuesto adicional Art. 37 letras e, h, i, l",
    "45": "Impuesto adicional Art. 37 letra j",
    "46": "IVA retenido oro",
    "47": "IVA retenido cartones",
    "48": "IVA retenido frambuesas",
    "481": "IVA retenido frambuesas (cambio de sujeto)",
    "49": "Factura de compra sin retención",
    "50": "IVA de margen de comercialización de instrumentos de prepago",
    "51": "Impuesto gas natural comprimido",
    "52": "Impuesto gas licuado de petróleo",
    "53": "Impuesto retenido suplementeros",
}


def tax_name(code: str) -> str:
    """``15`` → ``IVA retenido total``; a code SII's table lacks reads ``Impuesto código <code>``."""
    text = code.strip()
    # Issuers sometimes pad codes ("015"); the table's keys have no leading zeros.
    key = text.lstrip("0") if text.isdigit() else text
    return _NAMES.get(key, f"Impuesto código {text}" if text else "Impuesto adicional")
