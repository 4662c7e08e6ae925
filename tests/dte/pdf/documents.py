"""DTEs for the printing tests: the real fixtures, and generated ones with what the fixtures lack."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

from lxml import etree
from PIL import Image, ImageDraw

from dtehub.dte.pdf import IssuerPrintSettings
from dtehub.dte.stamping import make_test_caf, stamp_ted
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES, parse_untrusted
from tests.dte_factory import build_dte

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
INVOICE = "DTE--76399752-9--33--25568.xml"
INVOICE_CLEANED = "DTE--76399752-9--33--25568--cleaned.xml"
CREDIT_NOTE = "DTE--96670340-7--61--110616.xml"
CREDIT_NOTE_CLEANED = "DTE--96670340-7--61--110616--cleaned.xml"
UNSTAMPED = "seed-duemint-example-33-696.xml"
REAL_DTES = (INVOICE, INVOICE_CLEANED, CREDIT_NOTE, CREDIT_NOTE_CLEANED)

ISSUER = "76453707-6"
RECEIVER = "96874030-K"
SETTINGS = IssuerPrintSettings(
    resolution_number=80, resolution_date=date(2014, 8, 22), sii_office="Santiago Centro"
)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def many_lines(count: int = 60, *, code: int = 33, folio: int = 4101) -> bytes:
    """A signed, stamped invoice of ``count`` lines (SII allows 60), which spans letter pages."""
    lines = [(f"Producto número {n}", 1000 * n) for n in range(1, count + 1)]
    net = sum(amount for _, amount in lines)
    total = net + round(net * 0.19)
    return build_dte(
        code, folio, ISSUER, RECEIVER, total, net=net, lines=lines, issue_date=date(2024, 5, 6), signed=True
    )


def rich_invoice(*, code: int = 33, folio: int = 777, namespace: bool = True) -> bytes:
    """A stamped document with what printing must show beyond the fixtures: codes, descriptions,
    quantities with units, line discounts and surcharges, a global discount, an additional tax, due
    date, references, and text that windows-1252 cannot print."""
    base = build_dte(
        code,
        folio,
        ISSUER,
        RECEIVER,
        1,  # the totals are written below
        net=1,
        issue_date=date(2024, 3, 15),
        due_date=date(2024, 4, 14),
        references=[("801", "OC-99", None, None), ("33", "1200", 3, "Corrige montos de la factura")],
        namespace=namespace,
        receiver_name="CLIENTE ÑANDÚ 漢字 LIMITADA",
    )
    root = parse_untrusted(base, max_bytes=DEFAULT_MAX_XML_BYTES)
    ns = root.nsmap.get(None)

    def tag(name: str) -> str:
        return f"{{{ns}}}{name}" if ns else name

    def sub(parent: etree._Element, name: str, text: object) -> etree._Element:
        element = etree.SubElement(parent, tag(name))
        element.text = str(text)
        return element

    body = root[0]
    for line in body.findall(tag("Detalle")):
        body.remove(line)
    anchor = body.find(tag("Referencia"))
    assert anchor is not None
    details = [
        # (code, name, description, quantity, unit, price, discount %, surcharge amount, amount)
        (
            "SKU-1",
            "Silla ergonómica",
            "Respaldo de malla, ruedas de goma " * 6,
            "2",
            "UN",
            "50000",
            "10",
            None,
            90000,
        ),
        ("SKU-2", "Escritorio", "", "1", "UN", "120000", None, "5000", 125000),
    ]
    for number, (item_code, name, description, quantity, unit, price, pct, surcharge, amount) in enumerate(
        details, 1
    ):
        line = etree.Element(tag("Detalle"))
        sub(line, "NroLinDet", number)
        cdg = etree.SubElement(line, tag("CdgItem"))
        sub(cdg, "TpoCodigo", "INT1")
        sub(cdg, "VlrCodigo", item_code)
        sub(line, "NmbItem", name)
        if description:
            sub(line, "DscItem", description)
        sub(line, "QtyItem", quantity)
        sub(line, "UnmdItem", unit)
        sub(line, "PrcItem", price)
        if pct is not None:
            sub(line, "DescuentoPct", pct)
            sub(line, "DescuentoMonto", 10000)
        if surcharge is not None:
            sub(line, "RecargoMonto", surcharge)
        sub(line, "MontoItem", amount)
        anchor.addprevious(line)
    discount = etree.Element(tag("DscRcgGlobal"))
    sub(discount, "NroLinDR", 1)
    sub(discount, "TpoMov", "D")
    sub(discount, "GlosaDR", "Cliente frecuente")
    sub(discount, "TpoValor", "%")
    sub(discount, "ValorDR", 10)
    anchor.addprevious(discount)

    net = 215000 - 21500
    vat = round(net * 0.19)
    withheld = 1000
    totals = body.find(f"{tag('Encabezado')}/{tag('Totales')}")
    assert totals is not None
    for child in list(totals):
        totals.remove(child)
    sub(totals, "MntNeto", net)
    sub(totals, "TasaIVA", 19)
    sub(totals, "IVA", vat)
    tax = etree.SubElement(totals, tag("ImptoReten"))
    sub(tax, "TipoImp", 15)
    sub(tax, "TasaImp", 19)
    sub(tax, "MontoImp", withheld)
    sub(totals, "MntTotal", net + vat - withheld)

    content = etree.tostring(root, encoding="ISO-8859-1", xml_declaration=True)
    caf = make_test_caf(ISSUER, "EMPRESA EMISORA SPA", code, folio, folio, authorized_on=date(2024, 3, 1))
    return stamp_ted(content, caf, stamped_at=datetime(2024, 3, 15, 10, 0))


def logo_png(size: tuple[int, int] = (600, 300)) -> bytes:
    """A transparent PNG logo of ``size`` pixels."""
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((0, 0, w // 2, h - 1), fill=(20, 90, 200, 255))
    draw.rectangle((w // 2, h // 3, w - 1, h // 2), fill=(200, 40, 40, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
