"""The customer portal in a real browser, from a real server.

A ``dtehub serve`` process on its own SQLite database, a company created with ``dtehub companies
create``, documents uploaded through the API (the real signed invoice 33 N° 25568 among them), and
Debian's Chromium driven by Playwright: what a person sees on the invoice and customer pages, the
keyboard, the downloads (the PDF's barcode is the DTE's timbre, the XML is the stored file), a wrong
key, a phone's screen. Screenshots go to a temporary directory, and to ``DTEHUB_SCREENSHOTS_DIR``
when it is set (``DTEHUB_SCREENSHOTS_DIR=docs/screenshots`` refreshes the README's).

The browser is never downloaded: without /usr/bin/chromium these tests fail (``apt-get install
chromium``; ``make test`` installs it), unless ``DTEHUB_SKIP_BROWSER_TESTS=1`` skips them.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pypdfium2
import pytest
import zxingcpp
from lxml import etree
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from dtehub.dte.ted import ted_barcode_payload
from dtehub.kit.dates import today_in_santiago
from tests.dte_factory import build_dte
from tests.portal.helpers import FACTURA, logo_png
from tests.servers import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
DTEHUB = ROOT / ".venv" / "bin" / "dtehub"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ISSUER = "76399752-9"
ISSUER_NAME = "COMERCIALIZADORA INNOVA MOBEL SPA"
CUSTOMER = "96874030-K"
CUSTOMER_NAME = "EMPRESAS LA POLAR S.A."
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _browser_available() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("DTEHUB_SKIP_BROWSER_TESTS") == "1":
        pytest.skip("DTEHUB_SKIP_BROWSER_TESTS=1: the portal's browser tests are skipped")
    pytest.fail(
        f"{CHROMIUM} is missing: the portal's end-to-end tests run Debian's Chromium. Install it with "
        "`apt-get install -y chromium` (make test does), or set DTEHUB_SKIP_BROWSER_TESTS=1 to skip them.",
        pytrace=False,
    )


@dataclass
class Server:
    base: str
    token: str
    log: Path
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)


def _run(command: list[str], environment: dict[str, str]) -> str:
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _upload(api: httpx.Client, content: bytes) -> dict[str, Any]:
    response = api.post("/v1/createDocumentFromXml", json={"xml": base64.b64encode(content).decode()})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _note(folio: int, total: int, invoice: int, reason: int, text: str, issued: date) -> bytes:
    return build_dte(
        61, folio, ISSUER, CUSTOMER, total, issue_date=issued, references=[(33, invoice, reason, text)],
        issuer_name=ISSUER_NAME, receiver_name=CUSTOMER_NAME, signed=True,
    )  # fmt: skip


def _seed(server: Server) -> None:
    """The company's logo and SII settings, the real invoice with a credit note, and two documents
    created from fields for the same customer: one due next month, one voided by a credit note."""
    today = today_in_santiago()
    with server.api() as api:
        logo = api.post("/v1/updateCompanyLogo", json={"content": base64.b64encode(logo_png()).decode()})
        assert logo.status_code == 200, logo.text
        settings = {"siiResolutionNumber": 80, "siiResolutionDate": "2014-08-22", "siiOffice": "SANTIAGO SUR"}
        assert api.post("/v1/updateCompany", json=settings).status_code == 200
        server.documents["invoice"] = _upload(api, FACTURA)
        _upload(api, _note(1001, 30_992, 25568, 3, "Descuento por pronto pago", date(2019, 4, 2)))
        client_id = server.documents["invoice"]["client"]["id"]
        for number, total, issued, due in (
            ("25610", 476_000, today - timedelta(days=10), today + timedelta(days=20)),
            ("25575", 119_000, date(2019, 4, 15), date(2019, 5, 15)),
        ):
            body = {
                "clientId": client_id, "number": number, "code": 33, "issueDate": issued.isoformat(),
                "dueDate": due.isoformat(), "total": str(total), "taxes": str(total * 19 // 119),
            }  # fmt: skip
            response = api.post("/v1/createDocument", json=body)
            assert response.status_code == 200, response.text
            server.documents[number] = response.json()
        _upload(api, _note(1002, 119_000, 25575, 1, "Anula factura", date(2019, 4, 20)))
        client = api.get("/v1/getClient", params={"id": client_id})
        assert client.status_code == 200, client.text
        server.documents["client"] = client.json()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _browser_available()
    directory = tmp_path_factory.mktemp("portal-e2e")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DTEHUB_")}
    environment = {
        **clean,
        "DTEHUB_DATABASE_URL": f"sqlite:///{directory / 'dtehub.db'}",
        "DTEHUB_PUBLIC_URL": base,
        "NO_COLOR": "1",
    }
    _run([str(DTEHUB), "db", "upgrade"], environment)
    created = json.loads(
        _run([str(DTEHUB), "companies", "create", "--rut", ISSUER, "--name", ISSUER_NAME], environment)
    )
    log = directory / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(DTEHUB), "serve", "--port", str(port)], env=environment, stdout=output, stderr=output
        )
    try:
        wait_until_up(base, process, log)
        running = Server(base, created["token"], log)
        _seed(running)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Where screenshots go: a temporary directory, and DTEHUB_SCREENSHOTS_DIR when set."""
    places = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("DTEHUB_SCREENSHOTS_DIR"):
        places.append(Path(os.environ["DTEHUB_SCREENSHOTS_DIR"]))
    for place in places:
        place.mkdir(parents=True, exist_ok=True)
    return places


def _screenshot(page: Page, places: list[Path], name: str) -> None:
    first = places[0] / name
    page.screenshot(path=str(first), full_page=True, animations="disabled")
    for place in places[1:]:
        shutil.copyfile(first, place / name)


class Watched:
    """A browser context whose page reports what it asked for and what the console complained of (a
    Content-Security-Policy violation is a console error)."""

    def __init__(self, context: BrowserContext, server: Server) -> None:
        self.context = context
        self.server = server
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self._console(message.type, message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, kind: str, text: str) -> None:
        if kind in ("error", "warning"):
            self.errors.append(text)

    def assert_clean(self) -> None:
        assert self.errors == []
        outside = [url for url in self.requests if not url.startswith((self.server.base + "/", "data:"))]
        assert outside == []


@pytest.fixture
def desktop(browser: Browser, server: Server) -> Iterator[Watched]:
    context = browser.new_context(viewport=DESKTOP, locale="es-CL", accept_downloads=True)
    watched = Watched(context, server)
    yield watched
    context.close()


@pytest.fixture
def phone(browser: Browser, server: Server) -> Iterator[Watched]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="es-CL"
    )
    watched = Watched(context, server)
    yield watched
    context.close()


def _url(server: Server, key: str) -> str:
    url = server.documents[key]["url"]
    assert isinstance(url, str)
    assert url.startswith(server.base + "/portal/")
    return url


def _visible_text(page: Page) -> str:
    return re.sub(r"\s+", " ", page.locator("body").inner_text())


# --- the invoice page -----------------------------------------------------------------------------


def test_the_invoice_page_shows_what_is_owed(
    desktop: Watched, server: Server, screenshots: list[Path]
) -> None:
    page = desktop.page

    response = page.goto(_url(server, "invoice"))

    assert response is not None
    assert response.status == 200
    assert page.title() == f"Factura electrónica N° 25568 · {ISSUER_NAME}"
    assert page.get_by_role("heading", level=1).inner_text() == "Factura electrónica N° 25568"
    badge = page.locator(".title-row .badge")
    assert badge.inner_text() == "Vencida"
    assert badge.is_visible()
    shown = _visible_text(page)
    for expected in (
        "RUT 76.399.752-9",
        f"{CUSTOMER_NAME} RUT 96.874.030-K",
        "Total $ 230.992",
        "Saldo por pagar $ 200.000",
        "Fecha de emisión 29-03-2019",
        "Fecha de vencimiento 28-04-2019",
        "Notas de crédito −$ 30.992",
        "Aún no hay pagos registrados.",
    ):
        assert expected in shown, expected
    note_row = page.get_by_role("row", name=re.compile("Nota de crédito electrónica N° 1001"))
    assert "−$ 30.992" in note_row.inner_text()
    assert "Corrige montos" in note_row.inner_text()
    assert page.locator("header img").evaluate("img => img.naturalWidth") > 0  # the logo, inline
    desktop.assert_clean()
    _screenshot(page, screenshots, "invoice.png")


def test_tab_reaches_the_downloads_with_a_visible_focus(desktop: Watched, server: Server) -> None:
    page = desktop.page
    page.goto(_url(server, "invoice"))

    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Saltar al contenido"
    box = skip.bounding_box()
    assert box is not None
    assert box["y"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenido"

    reached = []
    for _ in range(10):
        page.keyboard.press("Tab")
        reached.append(page.locator(":focus").inner_text().split("\n")[0])
        if reached[-1] == "Descargar PDF":
            break
    assert reached[-1] == "Descargar PDF", reached
    outline = page.locator(":focus").evaluate(
        "el => { const s = getComputedStyle(el); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] == "solid"
    assert outline[1] >= 2
    page.keyboard.press("Tab")
    assert page.locator(":focus").inner_text().startswith("Descargar PDF 80 mm")


def test_the_pdf_download_carries_the_dtes_timbre(desktop: Watched, server: Server) -> None:
    page = desktop.page
    page.goto(_url(server, "invoice"))

    with page.expect_download() as started:
        page.get_by_role("link", name=re.compile(r"^Descargar PDF tamaño carta")).click()
    download = started.value
    path = download.path()

    assert download.suggested_filename == "DTE-33-25568.pdf"
    content = path.read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(content))
    assert len(reader.pages) >= 1
    assert "25568" in reader.pages[0].extract_text()
    document = pypdfium2.PdfDocument(content)
    try:
        image = document[0].render(scale=300 / 72).to_pil()
    finally:
        document.close()
    barcodes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.PDF417)
    assert len(barcodes) == 1
    assert barcodes[0].bytes == ted_barcode_payload(etree.fromstring(FACTURA))


def test_the_xml_download_is_the_uploaded_file(desktop: Watched, server: Server) -> None:
    page = desktop.page
    page.goto(_url(server, "invoice"))

    with page.expect_download() as started:
        page.get_by_role("link", name=re.compile(r"^Descargar XML")).click()
    download = started.value

    assert download.suggested_filename == "DTE-33-25568.xml"
    assert download.path().read_bytes() == FACTURA


def test_the_cedible_copy_and_the_note_download(desktop: Watched, server: Server) -> None:
    page = desktop.page
    page.goto(_url(server, "invoice"))

    with page.expect_download() as cedible:
        page.get_by_role("link", name=re.compile(r"^Descargar Copia CEDIBLE")).click()
    with page.expect_download() as note:
        page.get_by_role("link", name="PDF de la nota de crédito electrónica N° 1001").click()

    assert cedible.value.suggested_filename == "DTE-33-25568-CEDIBLE.pdf"
    assert "CEDIBLE" in pypdf.PdfReader(cedible.value.path()).pages[0].extract_text()
    assert note.value.suggested_filename == "DTE-61-1001.pdf"
    assert pypdf.PdfReader(note.value.path()).pages[0].extract_text()


def test_on_a_phone_the_invoice_page_fits_the_screen(
    phone: Watched, server: Server, screenshots: list[Path]
) -> None:
    page = phone.page

    page.goto(_url(server, "invoice"))

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.get_by_role("link", name=re.compile(r"^Descargar PDF tamaño carta")).is_visible()
    phone.assert_clean()
    _screenshot(page, screenshots, "invoice-phone.png")


# --- the customer page ----------------------------------------------------------------------------


def test_the_customer_page_lists_pending_documents_first(
    desktop: Watched, server: Server, screenshots: list[Path]
) -> None:
    page = desktop.page
    page.goto(_url(server, "client"))

    assert page.get_by_role("heading", level=1).inner_text() == CUSTOMER_NAME
    shown = _visible_text(page)
    assert "Total adeudado $ 676.000" in shown  # 200.000 + 476.000
    assert "Vencido $ 200.000" in shown
    rows = page.locator("tbody tr th a").all_inner_texts()
    assert rows == [
        "Factura electrónica N° 25568",
        "Factura electrónica N° 25610",
        "Factura electrónica N° 25575",
    ]
    assert page.locator("tbody tr .badge").all_inner_texts() == ["Vencida", "Por vencer", "Anulada"]
    desktop.assert_clean()
    _screenshot(page, screenshots, "customer.png")

    page.get_by_role("link", name="Factura electrónica N° 25610").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Factura electrónica N° 25610"
    assert page.locator(".title-row .badge").inner_text() == "Por vencer"


def test_on_a_phone_the_customer_page_fits_the_screen(
    phone: Watched, server: Server, screenshots: list[Path]
) -> None:
    page = phone.page

    page.goto(_url(server, "client"))

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.get_by_role("link", name="Factura electrónica N° 25568").is_visible()
    phone.assert_clean()
    _screenshot(page, screenshots, "customer-phone.png")


# --- a wrong key ----------------------------------------------------------------------------------


def test_a_wrong_key_shows_the_not_found_page(
    desktop: Watched, server: Server, screenshots: list[Path]
) -> None:
    page = desktop.page
    url = _url(server, "invoice")
    wrong = url[:-1] + ("A" if url[-1] != "A" else "B")
    missing = url.rsplit("/", 2)[0] + "/999999/" + url.rsplit("/", 1)[1]

    response = page.goto(wrong)

    assert response is not None
    assert response.status == 404
    assert response.headers["cache-control"] == "private, no-store"
    assert page.get_by_role("heading", level=1).inner_text() == "Página no encontrada"
    shown = _visible_text(page)
    assert "25568" not in shown
    assert ISSUER_NAME not in shown
    wrong_html = page.content()
    page.goto(missing)
    assert page.content() == wrong_html
    _screenshot(page, screenshots, "not-found.png")
