"""PDF benchmark: milliseconds per page of `render_dte_pdf`, against a bare reportlab page and the target.

Documents: the fixture DTEs (tests/fixtures/*.xml: a real invoice 33 and credit note 61, their
"-cleaned" variants, an unsigned invoice without TED) and generated, signed invoices of 10 and 60 lines
(tests/dte_factory.py; 60 lines span three letter pages). Each is printed on letter and on the 80 mm roll,
and, when its type can be ceded, as a CEDIBLE copy; the real invoice also with a 600 × 300 logo.
Every case runs ``--runs`` times after warming up; a render's time is divided by its pages.

References, measured in the same run for the two real timbres: a bare reportlab page drawing only the
same PDF417 barcode (pdf417gen, same columns and error correction level), saved:
- "plain rects": one ``canvas.rect`` per run of dark modules, the obvious way to draw it;
- "as dtehub draws it": the same path operators dtehub writes, i.e. what the timbre alone costs (most of
  it pdf417gen's error correction, in pure Python). ours/floor near 1 means the rest of the page is cheap.

Target (docs/performance.md): median <= 30 ms per page on this 2-core machine, on each paper.

Usage:
    python bench/pdf.py
    python bench/pdf.py --runs 100
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pdf417gen
from lxml import etree
from PIL import Image, ImageDraw
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.dte_factory import build_dte  # noqa: E402

from dtehub.dte.document_types import CEDIBLE_CODES  # noqa: E402
from dtehub.dte.pdf import IssuerPrintSettings, Paper, render_dte_pdf  # noqa: E402
from dtehub.dte.pdf._barcode import SECURITY_LEVEL, layout  # noqa: E402
from dtehub.dte.pdf._letter import BARCODE_MAX  # noqa: E402
from dtehub.dte.reader import dte_elements, read_fields  # noqa: E402
from dtehub.dte.ted import ted_barcode_payload  # noqa: E402
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES, parse_untrusted  # noqa: E402

TARGET_MS = 30.0
FIXTURES = ROOT / "tests" / "fixtures"
SETTINGS = IssuerPrintSettings(
    resolution_number=80, resolution_date=date(2014, 8, 22), sii_office="Santiago Centro"
)


@dataclass(frozen=True)
class Case:
    document: str
    paper: Paper
    cedible: bool
    settings: IssuerPrintSettings
    content: bytes

    @property
    def name(self) -> str:
        extras = (" cedible" if self.cedible else "") + (" logo" if self.settings.logo_png else "")
        return f"{self.document} {self.paper.value}{extras}"


def documents() -> dict[str, bytes]:
    found = {path.name.removesuffix(".xml"): path.read_bytes() for path in sorted(FIXTURES.glob("*.xml"))}
    for count in (10, 60):
        lines = [(f"Producto número {n}", 1000 * n) for n in range(1, count + 1)]
        net = sum(amount for _, amount in lines)
        found[f"generated-33-{count}-lines"] = build_dte(
            33,
            5000 + count,
            "76453707-6",
            "96874030-K",
            net + round(net * 0.19),
            net=net,
            lines=lines,
            issue_date=date(2024, 5, 6),
            signed=True,
        )
    return found


def dte_element(content: bytes) -> etree._Element:
    return dte_elements(parse_untrusted(content, max_bytes=DEFAULT_MAX_XML_BYTES))[0]


def logo_png() -> bytes:
    image = Image.new("RGBA", (600, 300), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    for x in range(0, 600, 9):
        draw.ellipse((x, (x * 3) % 250, x + 40, (x * 3) % 250 + 40), fill=(x % 255, 80, 200, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def cases() -> list[Case]:
    png = logo_png()
    with_logo = replace(SETTINGS, logo_png=png, logo_sha256=hashlib.sha256(png).hexdigest())
    found: list[Case] = []
    for name, content in documents().items():
        code = read_fields(dte_element(content)).code
        for paper in Paper:
            for cedible in (False, True) if code in CEDIBLE_CODES else (False,):
                found.append(Case(name, paper, cedible, SETTINGS, content))
            if name == "DTE--76399752-9--33--25568":
                found.append(Case(name, paper, False, with_logo, content))
    return found


def timed(render: Callable[[], bytes], runs: int) -> tuple[list[float], bytes]:
    pdf = b""
    for _ in range(3):  # warm up: imports, font metrics, the logo cache
        pdf = render()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        pdf = render()
        times.append((time.perf_counter() - start) * 1000)
    return times, pdf


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def plain_reference(payload: bytes) -> bytes:
    """A bare reportlab letter page with only the timbre's PDF417, drawn the obvious way: one
    ``canvas.rect`` per run of dark modules."""
    columns = layout(payload, *BARCODE_MAX).columns
    codes = pdf417gen.encode(payload, columns=columns, security_level=SECURITY_LEVEL)
    module = 0.8
    out = io.BytesIO()
    canvas = Canvas(out, invariant=1)
    top = 700.0
    for row_number, row in enumerate(codes):
        bits = "".join(format(word, "b") for word in row)
        y = top - (row_number + 1) * 3 * module
        start = None
        for x, bit in enumerate(bits + "0"):
            if bit == "1" and start is None:
                start = x
            elif bit == "0" and start is not None:
                canvas.rect(50 + start * module, y, (x - start) * module, 3 * module, stroke=0, fill=1)
                start = None
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def floor_reference(payload: bytes) -> bytes:
    """A bare reportlab letter page with only the timbre's PDF417, encoded and drawn as dtehub draws it
    (the same symbol and path operators): what the barcode alone costs."""
    barcode = layout(payload, *BARCODE_MAX)
    out = io.BytesIO()
    canvas = Canvas(out, invariant=1)
    canvas.addLiteral(barcode.placed(50, 600))
    canvas.showPage()
    canvas.save()
    return out.getvalue()


REFERENCES = {"plain rects": plain_reference, "as dtehub draws it": floor_reference}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30, help="timed renders per case (default 30)")
    runs = parser.parse_args().runs
    print(
        f"# dtehub PDF benchmark, {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d}, {runs} runs per case"
    )

    per_paper: dict[Paper, list[float]] = {paper: [] for paper in Paper}
    print("\n## ms per page of render_dte_pdf")
    print(f"{'case':<58} {'pages':>5} {'median':>8} {'p90':>8} {'KB':>6}")
    for case in cases():
        times, pdf = timed(
            lambda case=case: render_dte_pdf(
                case.content, case.settings, paper=case.paper, cedible=case.cedible
            ),
            runs,
        )
        count = len(PdfReader(io.BytesIO(pdf)).pages)
        per_page = [t / count for t in times]
        per_paper[case.paper].extend(per_page)
        print(
            f"{case.name:<58} {count:>5} {statistics.median(per_page):>8.1f} {p90(per_page):>8.1f} "
            f"{len(pdf) / 1024:>6.1f}"
        )

    print("\n## references: a bare reportlab page with only the same PDF417 (ms)")
    reference_medians: dict[str, float] = {}
    for label, draw in REFERENCES.items():
        reference_times: list[float] = []
        for name in ("DTE--76399752-9--33--25568", "DTE--96670340-7--61--110616"):
            content = (FIXTURES / f"{name}.xml").read_bytes()
            payload = ted_barcode_payload(dte_element(content))
            times, _ = timed(lambda payload=payload, draw=draw: draw(payload), runs)
            reference_times.extend(times)
            print(f"{name + ', ' + label:<58} {1:>5} {statistics.median(times):>8.1f} {p90(times):>8.1f}")
        reference_medians[label] = statistics.median(reference_times)

    print("\n## summary (ms per page, all cases of each paper)")
    plain, floor = reference_medians["plain rects"], reference_medians["as dtehub draws it"]
    print(f"{'paper':<10} {'median':>8} {'p90':>8} {'ours/plain':>11} {'ours/floor':>11} {'ours/target':>12}")
    missed = []
    for paper, values in per_paper.items():
        median = statistics.median(values)
        print(
            f"{paper.value:<10} {median:>8.1f} {p90(values):>8.1f} {median / plain:>11.2f} "
            f"{median / floor:>11.2f} {median / TARGET_MS:>12.2f}"
        )
        if median > TARGET_MS:
            missed.append(f"{paper.value}: median {median:.1f} ms per page > {TARGET_MS:.0f} ms")
    print(
        f"references (median): plain rects {plain:.1f} ms, as dtehub draws it {floor:.1f} ms; "
        f"target {TARGET_MS:.0f} ms per page (median)"
    )
    print("\nall targets met" if not missed else "\ntargets missed:\n  " + "\n  ".join(missed))


if __name__ == "__main__":
    main()
