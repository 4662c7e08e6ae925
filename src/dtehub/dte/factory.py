"""Build DTE XML for tests, benchmarks and the SII emulator's generated companies: invoices, credit and
debit notes with references, as issuers write them.

The documents follow SII's element order (DTE_v10.xsd) so that they are schema-valid as far as an
unsigned document can be: ``TED``, ``TmstFirma`` and the signature are what the schema still misses,
unless ``signed=True`` (a test CAF's timbre and a test certificate's signature, made on the spot).
Amounts are whole pesos, as in the XML.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime, time

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from dtehub.dte.signing import make_test_certificate, sign_dte
from dtehub.dte.stamping import make_test_caf, stamp_ted

SII_NAMESPACE = "http://www.sii.cl/SiiDte"
EXPORT_CODES = frozenset({110, 111, 112})
EXEMPT_CODES = frozenset({34, 41})
VAT_RATE = 19

Reference = tuple[str | int, str | int, int | None, str | None]
"""(TpoDocRef, FolioRef, CodRef or None, RazonRef or None)"""
Line = tuple[str, int]
"""(NmbItem, MontoItem)"""


def build_dte(
    code: int,
    folio: int,
    issuer_rut: str,
    receiver_rut: str,
    total: int,
    *,
    issue_date: date,
    net: int | None = None,
    exempt: int | None = None,
    lines: Sequence[Line] | None = None,
    references: Sequence[Reference] = (),
    namespace: bool = True,
    encoding: str = "ISO-8859-1",
    issuer_name: str = "EMPRESA EMISORA SPA",
    receiver_name: str = "CLIENTE DE PRUEBA LIMITADA",
    due_date: date | None = None,
    signed: bool = False,
) -> bytes:
    """One ``DTE`` of type ``code``. Without ``net``/``exempt`` the total is split into net and 19% IVA
    (all exempt for 34 and 41); ``lines`` default to one line for the net (or exempt) amount."""
    if net is None and exempt is None:
        if code in EXEMPT_CODES or code in EXPORT_CODES:
            exempt = total
        else:
            net = round(total * 100 / (100 + VAT_RATE))
    taxes = total - (net or 0) - (exempt or 0)
    if taxes < 0:
        raise ValueError(f"net {net} and exempt {exempt} exceed the total {total}")

    ns = f"{{{SII_NAMESPACE}}}" if namespace else ""

    def sub(parent: etree._Element, name: str, text: object = None) -> etree._Element:
        element = etree.SubElement(parent, ns + name)
        if text is not None:
            element.text = str(text)
        return element

    # The default namespace is declared on the root, as issuers write it (lxml's stubs type the prefix str).
    nsmap = {None: SII_NAMESPACE} if namespace else None
    root = etree.Element(ns + "DTE", nsmap=nsmap, version="1.0")  # type: ignore[arg-type]
    body = sub(root, "Exportaciones" if code in EXPORT_CODES else "Documento")
    body.set("ID", f"T{code}F{folio}")
    header = sub(body, "Encabezado")

    id_doc = sub(header, "IdDoc")
    sub(id_doc, "TipoDTE", code)
    sub(id_doc, "Folio", folio)
    sub(id_doc, "FchEmis", issue_date.isoformat())
    if due_date is not None:
        sub(id_doc, "FmaPago", 2)  # crédito
        sub(id_doc, "FchVenc", due_date.isoformat())

    issuer = sub(header, "Emisor")
    sub(issuer, "RUTEmisor", issuer_rut)
    sub(issuer, "RznSoc", issuer_name)
    sub(issuer, "GiroEmis", "SERVICIOS INFORMATICOS")
    sub(issuer, "Acteco", "620200")
    sub(issuer, "DirOrigen", "AV. PROVIDENCIA 1234")
    sub(issuer, "CmnaOrigen", "PROVIDENCIA")
    sub(issuer, "CiudadOrigen", "SANTIAGO")

    receiver = sub(header, "Receptor")
    sub(receiver, "RUTRecep", receiver_rut)
    sub(receiver, "RznSocRecep", receiver_name)
    sub(receiver, "GiroRecep", "COMERCIO")
    sub(receiver, "DirRecep", "MONEDA 970")
    sub(receiver, "CmnaRecep", "SANTIAGO")
    sub(receiver, "CiudadRecep", "SANTIAGO")

    totals = sub(header, "Totales")
    if code in EXPORT_CODES:
        sub(totals, "TpoMoneda", "PESO CL")  # Aduana's name for CLP; export totals are in that currency
    if net is not None:
        sub(totals, "MntNeto", net)
    if exempt is not None:
        sub(totals, "MntExe", exempt)
    if net is not None:
        sub(totals, "TasaIVA", VAT_RATE)
        sub(totals, "IVA", taxes)
    sub(totals, "MntTotal", total)

    exempt_lines = net is None
    for number, (name, amount) in enumerate(lines or [("Servicio", net if net is not None else total)], 1):
        line = sub(body, "Detalle")
        sub(line, "NroLinDet", number)
        if exempt_lines:
            sub(line, "IndExe", 1)
        sub(line, "NmbItem", name)
        sub(line, "QtyItem", 1)
        sub(line, "PrcItem", amount)
        sub(line, "MontoItem", amount)

    for number, (ref_code, ref_folio, reason, reason_text) in enumerate(references, 1):
        reference = sub(body, "Referencia")
        sub(reference, "NroLinRef", number)
        sub(reference, "TpoDocRef", ref_code)
        sub(reference, "FolioRef", ref_folio)
        sub(reference, "FchRef", issue_date.isoformat())
        if reason is not None:
            sub(reference, "CodRef", reason)
        if reason_text is not None:
            sub(reference, "RazonRef", reason_text)

    content = etree.tostring(root, encoding=encoding, xml_declaration=True)
    assert isinstance(content, bytes)
    if signed:
        content = _stamp_and_sign(content, code, folio, issuer_rut, issuer_name, issue_date)
    return content


def _stamp_and_sign(
    content: bytes, code: int, folio: int, issuer_rut: str, issuer_name: str, issue_date: date
) -> bytes:
    caf = make_test_caf(issuer_rut, issuer_name, code, folio, folio, authorized_on=issue_date)
    moment = datetime.combine(issue_date, time(10, 0))
    stamped = stamp_ted(content, caf, stamped_at=moment)
    key, certificate = _certificate(issuer_rut)
    return sign_dte(stamped, key, certificate, signed_at=moment)


@functools.cache
def _certificate(rut: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    # Key generation is the slow part: one per signer for the whole run, valid for any test's dates.
    return make_test_certificate(
        rut, "FIRMANTE DE PRUEBA", not_before=datetime(2000, 1, 1), not_after=datetime(2100, 1, 1)
    )
