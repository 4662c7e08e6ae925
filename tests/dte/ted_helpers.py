"""Shared material for the timbre tests: the real fixtures, byte-level edits, stamped invoices."""

from __future__ import annotations

import base64
import functools
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from dtehub.dte.checks import Verdict
from dtehub.dte.stamping import TestCaf, make_test_caf, stamp_ted
from dtehub.dte.ted import TedCheck
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES, parse_untrusted

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BARE_33 = "DTE--76399752-9--33--25568.xml"
CLEANED_33 = "DTE--76399752-9--33--25568--cleaned.xml"
BARE_61 = "DTE--96670340-7--61--110616.xml"
CLEANED_61 = "DTE--96670340-7--61--110616--cleaned.xml"
REAL_DTES = (BARE_33, CLEANED_33, BARE_61, CLEANED_61)
UNSTAMPED = "seed-duemint-example-33-696.xml"
SII_NS = "http://www.sii.cl/SiiDte"

ISSUER = "76453707-6"
STAMPED_AT = datetime(2024, 5, 6, 10, 11, 12)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(data: bytes) -> etree._Element:
    return parse_untrusted(data, max_bytes=DEFAULT_MAX_XML_BYTES)


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    """``data`` with the single occurrence of ``old`` replaced: a test edit must hit exactly its target."""
    assert data.count(old) == 1, f"{old!r} occurs {data.count(old)} times"
    return data.replace(old, new)


def remove_between(data: bytes, start: bytes, end: bytes) -> bytes:
    """``data`` without the span from ``start`` to ``end`` inclusive (each occurring once)."""
    assert data.count(start) == 1
    assert data.count(end) == 1
    i = data.index(start)
    j = data.index(end, i) + len(end)
    return data[:i] + data[j:]


def codes(check: TedCheck) -> list[str]:
    return [problem.code for problem in check.problems]


def assert_valid(check: TedCheck) -> None:
    assert check.verdict == Verdict.VALID, check.problems
    assert check.problems == ()


@functools.cache
def sample_caf() -> TestCaf:
    """One CAF for the tests' invoices (key generation is the slow part, so it is made once)."""
    return make_test_caf(ISSUER, "DUEMINT SPA", 33, 1, 1000, authorized_on=date(2024, 5, 1))


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def invoice(
    *,
    receiver_name: str = "CLIENTE EJEMPLO",
    item: str = "SERVICIOS VARIOS",
    folio: int = 696,
    total: str = "96272",
    issuer: str = ISSUER,
    code: int = 33,
    namespace: bool = False,
    with_tmst: bool = True,
    reference: bool = True,
) -> bytes:
    """An unsigned, unstamped invoice in ISO-8859-1, shaped like the ones issuers send."""
    xmlns = f' xmlns="{SII_NS}"' if namespace else ""
    referencia = (
        "    <Referencia>\n      <NroLinRef>1</NroLinRef>\n      <TpoDocRef>801</TpoDocRef>\n"
        "      <FolioRef>12</FolioRef>\n      <FchRef>2024-05-01</FchRef>\n    </Referencia>\n"
        if reference
        else ""
    )
    tmst = "    <TmstFirma>2024-05-06T10:11:12</TmstFirma>\n" if with_tmst else ""
    text = f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<DTE{xmlns} version="1.0">
  <Documento ID="T{code}F{folio}">
    <Encabezado>
      <IdDoc>
        <TipoDTE>{code}</TipoDTE>
        <Folio>{folio}</Folio>
        <FchEmis>2024-05-06</FchEmis>
      </IdDoc>
      <Emisor>
        <RUTEmisor>{issuer}</RUTEmisor>
        <RznSoc>DUEMINT SPA</RznSoc>
        <GiroEmis>SOFTWARE</GiroEmis>
        <Acteco>724000</Acteco>
      </Emisor>
      <Receptor>
        <RUTRecep>96874030-K</RUTRecep>
        <RznSocRecep>{escape(receiver_name)}</RznSocRecep>
      </Receptor>
      <Totales>
        <MntNeto>80901</MntNeto>
        <TasaIVA>19</TasaIVA>
        <IVA>15371</IVA>
        <MntTotal>{total}</MntTotal>
      </Totales>
    </Encabezado>
    <Detalle>
      <NroLinDet>1</NroLinDet>
      <NmbItem>{escape(item)}</NmbItem>
      <MontoItem>80901</MontoItem>
    </Detalle>
    <Detalle>
      <NroLinDet>2</NroLinDet>
      <NmbItem>SEGUNDO ITEM</NmbItem>
      <MontoItem>0</MontoItem>
    </Detalle>
{referencia}{tmst}  </Documento>
</DTE>
"""
    return text.encode("iso-8859-1", errors="xmlcharrefreplace")


def stamped_invoice(**fields: Any) -> bytes:
    return stamp_ted(invoice(**fields), sample_caf(), stamped_at=STAMPED_AT)


def caf_signature(signed: bytes, caf: TestCaf | None = None) -> bytes:
    """FRMT's text for ``signed`` made with the CAF's key: for issuers that signed other bytes."""
    key = (caf or sample_caf()).private_key
    return base64.b64encode(key.sign(signed, padding.PKCS1v15(), hashes.SHA1()))  # noqa: S303 - SII's algorithm


def with_frmt(data: bytes, frmt_text: bytes) -> bytes:
    """``data`` with the TED's FRMT text replaced."""
    return _FRMT.sub(lambda m: m.group(1) + frmt_text + m.group(2), data, count=1)


_FRMT = re.compile(rb"(<FRMT[^>]*>)[^<]*(</FRMT>)")
