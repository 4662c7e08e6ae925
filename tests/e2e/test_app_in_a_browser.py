"""The web app for a company's staff in a real browser: Debian's Chromium driven by Playwright against
the real app (real argon2id, its own SQLite file) served in this process, whose clock the tests move.

Signing in (and a wrong password), the dashboard's figures against the API's sums, the lists behind
them, CSRF refused, a session's expiry, throttled sign-in, the second factor, switching company, the
portfolio, a phone's screen, the clients (search, a client's reminder switches), the outbox, the
documents list exported to CSV and XLSX, and an axe-core check (vendored, version pinned) of every
page: no serious or critical violation. Screenshots go to a temporary directory and to
``DTEHUB_SCREENSHOTS_DIR``. A document page's reminder and the documents list's filter form have
files of their own with these fixtures.
"""

from __future__ import annotations

import hashlib
import re
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import update
from sqlalchemy.orm import Session

from dtehub.companies.service import create_company
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.dte.factory import build_dte
from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.models import Document, Role
from dtehub.users import service as users
from dtehub.users.totp import totp_box
from dtehub.webapp.pages import money
from tests.e2e.app_server import AppServer, app_server
from tests.e2e.test_portal_in_a_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    Watched,
    _browser_available,
)
from tests.e2e.test_portal_in_a_browser import _screenshot as screenshot

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
PASSWORD = "una frase larga para el navegador"
OWNER = "ana@example.cl"
THROTTLED = "lenta@example.cl"
WITH_TOTP = "doble@example.cl"
TOTP_SECRET = pyotp.random_base32()


@dataclass
class World:
    server: AppServer
    token_a: str
    company_a: int
    company_b: int


def _seed_documents(server: AppServer, token: str) -> None:
    today = today_in_santiago()
    with server.api(token) as api:
        client = api.post("/v1/createClient", json={"name": "ALFA LTDA", "taxId": "96874030-K"})
        assert client.status_code == 200, client.text
        client_id = client.json()["id"]
        for number, (total, days) in enumerate(
            [(1_000_000, -120), (250_000, -40), (123_456, -5), (70_000, 3), (900_000, 45)], start=1
        ):
            due = today + timedelta(days=days)
            body = {
                "clientId": client_id, "number": str(number), "code": 33, "total": str(total), "taxes": "0",
                "issueDate": (due - timedelta(days=30)).isoformat(), "dueDate": due.isoformat(),
            }  # fmt: skip
            assert api.post("/v1/createDocument", json=body).status_code == 200


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    _browser_available()
    with app_server(tmp_path_factory.mktemp("app-e2e")) as server:
        engine = create_engine(server.settings.database_url, pool_size=1)
        with unit_of_work(create_sessionmaker(engine)) as session:
            a = create_company(session, rut="76453707-6", name="DUEMINT SPA", payment_term_days=30)
            b = create_company(
                session, rut="76399752-9", name="COMERCIALIZADORA INNOVA MOBEL SPA", payment_term_days=30
            )
            now = utcnow()
            _person(session, OWNER, a.company.id, Role.OWNER, now)
            _person(session, OWNER, b.company.id, Role.VIEWER, now)
            _person(session, THROTTLED, a.company.id, Role.VIEWER, now)
            doubled = _person(session, WITH_TOTP, a.company.id, Role.COLLECTOR, now)
            doubled.totp_secret = totp_box(server.settings).seal(TOTP_SECRET, doubled.id)
            doubled.totp_enabled_at = now
            token_a, company_a, company_b = a.token, a.company.id, b.company.id
        engine.dispose()
        _seed_documents(server, token_a)
        yield World(server, token_a, company_a, company_b)


def _person(session: Session, email: str, company_id: int, role: Role, now: Any) -> Any:
    found = users.repository.user_by_email(session, email)
    user = found or users.create_user(session, email)
    users.grant(session, user, company_id, role)
    if found is None:
        users.set_password(session, user, PASSWORD, now)
    return user


@pytest.fixture(scope="module")
def browser(world: World) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    import os

    places = [tmp_path_factory.mktemp("app-screenshots")]
    if os.environ.get("DTEHUB_SCREENSHOTS_DIR"):
        places.append(Path(os.environ["DTEHUB_SCREENSHOTS_DIR"]))
    for place in places:
        place.mkdir(parents=True, exist_ok=True)
    return places


class _Base:
    def __init__(self, base: str) -> None:
        self.base = base


@pytest.fixture
def desktop(browser: Browser, world: World) -> Iterator[Watched]:
    world.server.clock.now = utcnow()
    context = browser.new_context(viewport=DESKTOP, locale="es-CL")
    watched = Watched(context, _Base(world.server.base))  # type: ignore[arg-type]
    yield watched
    context.close()


@pytest.fixture
def phone(browser: Browser, world: World) -> Iterator[Watched]:
    world.server.clock.now = utcnow()
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="es-CL"
    )
    watched = Watched(context, _Base(world.server.base))  # type: ignore[arg-type]
    yield watched
    context.close()


def check_accessibility(page: Page) -> None:
    """axe-core on the page as shown: no violation of serious or critical impact."""
    source = AXE.read_text(encoding="utf-8")
    assert hashlib.sha256(source.encode("utf-8")).hexdigest() == AXE_SHA256
    page.evaluate(source + "\n;undefined")  # through the DevTools protocol: the page's CSP allows no script
    assert page.evaluate("axe.version") == AXE_VERSION
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{page.url}:\n" + "\n".join(serious)


def sign_in(page: Page, base: str, email: str = OWNER, password: str = PASSWORD) -> None:
    page.goto(base + "/app/login")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()


def _text(page: Page) -> str:
    return re.sub(r"\s+", " ", page.locator("body").inner_text())


def _api_due(world: World, **filters: Any) -> int:
    with world.server.api(world.token_a) as api:
        items = api.get("/v1/getDocuments", params={"resultsPerPage": 100, **filters}).json()["items"]
    return int(sum(Decimal(item["amountDue"]) for item in items))


# --- signing in -----------------------------------------------------------------------------------


def test_sign_in_shows_the_dashboard_with_the_apis_sums(
    desktop: Watched, world: World, screenshots: list[Path]
) -> None:
    page = desktop.page
    page.goto(world.server.base + "/app/")
    assert page.url.startswith(world.server.base + "/app/login")
    check_accessibility(page)

    sign_in(page, world.server.base)

    assert page.get_by_role("heading", level=1).inner_text() == "Panel de cobranza"
    overdue, pending = _api_due(world, status=3), _api_due(world, status=2)
    assert page.locator("#total-por-cobrar").inner_text() == money((overdue + pending) * 100)
    assert page.locator("#vencido").inner_text() == money(overdue * 100) == "$1.373.456"
    assert page.locator("#vence-7").inner_text() == "$70.000"
    rows = page.locator("#tabla-antiguedad tbody tr").all_inner_texts()
    assert [re.sub(r"\s+", " ", r) for r in rows] == [
        "Al día $970.000", "1 a 30 días $123.456", "31 a 60 días $250.000", "61 a 90 días $0",
        "Más de 90 días $1.000.000",
    ]  # fmt: skip
    assert page.locator("svg#antiguedad").is_visible()
    desktop.assert_clean()
    check_accessibility(page)
    screenshot(page, screenshots, "app-dashboard.png")

    page.locator("#vencido").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Documentos vencidos"
    assert page.locator("#saldo").inner_text() == "$1.373.456"
    assert page.locator("#tabla-documentos tbody tr").count() == 3
    check_accessibility(page)


def test_a_wrong_password_is_refused(desktop: Watched, world: World) -> None:
    page = desktop.page

    sign_in(page, world.server.base, password="no es la contraseña")

    assert page.get_by_role("alert").inner_text() == "Correo o contraseña incorrectos."
    assert page.get_by_label("Correo electrónico").input_value() == OWNER
    check_accessibility(page)


def test_a_form_without_its_csrf_token_is_refused(desktop: Watched, world: World) -> None:
    page = desktop.page
    sign_in(page, world.server.base)
    page.locator("form[action='/app/logout'] input[name=csrf_token]").evaluate("input => input.remove()")

    page.get_by_role("button", name="Cerrar sesión").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Formulario vencido"
    check_accessibility(page)
    page.goto(world.server.base + "/app/")
    assert page.get_by_role("heading", level=1).inner_text() == "Panel de cobranza"  # still signed in


def test_a_session_expires_after_30_idle_minutes(desktop: Watched, world: World) -> None:
    page = desktop.page
    sign_in(page, world.server.base)
    page.goto(world.server.base + "/app/settings")

    world.server.clock.advance(minutes=30, seconds=1)
    page.reload()

    assert page.get_by_role("heading", level=1).inner_text() == "Ingresar"
    assert "Su sesión expiró. Vuelva a ingresar." in _text(page)
    page.get_by_label("Correo electrónico").fill(OWNER)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Configuración"  # back where it was
    check_accessibility(page)


def test_sign_in_is_throttled(desktop: Watched, world: World, screenshots: list[Path]) -> None:
    page = desktop.page
    for _ in range(5):
        sign_in(page, world.server.base, THROTTLED, "mala clave de prueba")
        assert page.get_by_role("alert").inner_text() == "Correo o contraseña incorrectos."

    sign_in(page, world.server.base, THROTTLED)

    assert (
        page.get_by_role("alert").inner_text().startswith("Demasiados intentos fallidos. Espere 15 minutos")
    )
    world.server.clock.advance(minutes=15, seconds=1)
    sign_in(page, world.server.base, THROTTLED)
    assert page.get_by_role("heading", level=1).inner_text() == "Panel de cobranza"


def test_the_second_factor(desktop: Watched, world: World) -> None:
    page = desktop.page
    sign_in(page, world.server.base, WITH_TOTP)
    assert page.get_by_role("heading", level=1).inner_text() == "Código de verificación"
    check_accessibility(page)

    page.get_by_label("Código", exact=True).fill("000000")
    page.get_by_role("button", name="Verificar").click()
    assert "El código no es correcto" in page.get_by_role("alert").inner_text()
    page.get_by_label("Código", exact=True).fill(pyotp.TOTP(TOTP_SECRET).at(world.server.clock.now))
    page.get_by_role("button", name="Verificar").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Panel de cobranza"
    assert "Cobranza" in page.locator(".company").inner_text()


def test_switch_company_and_the_portfolio(desktop: Watched, world: World, screenshots: list[Path]) -> None:
    page = desktop.page
    sign_in(page, world.server.base)

    page.get_by_role("link", name="Cartera").click()
    rows = [re.sub(r"\s+", " ", r) for r in page.locator("#tabla-cartera tbody tr").all_inner_texts()]
    assert rows[0].startswith("COMERCIALIZADORA INNOVA MOBEL SPA RUT 76.399.752-9 Lectura 0 $0 $0")
    assert rows[1].startswith("DUEMINT SPA RUT 76.453.707-6 Administrador 5 $1.373.456 $2.343.456")
    desktop.assert_clean()
    check_accessibility(page)
    screenshot(page, screenshots, "app-portfolio.png")

    page.get_by_label("Empresa", exact=True).select_option(label="COMERCIALIZADORA INNOVA MOBEL SPA")
    page.get_by_role("button", name="Cambiar empresa").click()

    assert page.get_by_role("status").inner_text() == "Empresa cambiada."
    assert page.locator(".company").inner_text().startswith("COMERCIALIZADORA INNOVA MOBEL SPA")
    assert page.locator("#total-por-cobrar").inner_text() == "$0"
    page.get_by_role("link", name="Configuración").click()
    assert page.get_by_role("heading", name="Seguridad de la empresa").count() == 0  # a viewer here
    check_accessibility(page)


def test_the_settings_page_is_accessible(desktop: Watched, world: World) -> None:
    page = desktop.page
    sign_in(page, world.server.base)
    page.get_by_role("link", name="Configuración").click()
    assert page.get_by_role("heading", name="Usuarios").is_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Crear token").click()
    token = page.locator("#token-nuevo").inner_text()
    with world.server.api(token) as api:
        assert api.get("/v1/getCompany").status_code == 200
    check_accessibility(page)
    page.get_by_role("button", name=re.compile(r"^Revocar")).first.click()
    assert page.get_by_role("status").inner_text() == "Token revocado."
    page.get_by_role("link", name="Activar segundo factor").click()
    page.get_by_role("button", name="Generar clave").click()
    assert page.locator("#clave").is_visible()
    check_accessibility(page)
    page.goto(world.server.base + "/app/password-reset")
    check_accessibility(page)


def test_on_a_phone_the_dashboard_fits_the_screen(
    phone: Watched, world: World, screenshots: list[Path]
) -> None:
    page = phone.page
    sign_in(page, world.server.base)

    assert page.get_by_role("heading", level=1).inner_text() == "Panel de cobranza"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.assert_clean()
    check_accessibility(page)
    screenshot(page, screenshots, "app-dashboard-phone.png")


# --- a document's page ----------------------------------------------------------------------------


def test_a_document_page_registers_a_payment_and_the_status_changes(
    desktop: Watched, world: World, screenshots: list[Path]
) -> None:
    """A document of its own (paid in full at the end, so the other tests' figures stay as they are)."""
    due = today_in_santiago() - timedelta(days=12)
    with world.server.api(world.token_a) as api:
        client = api.get("/v1/getClients", params={"taxId": "96874030-K"}).json()["items"][0]
        body = {
            "clientId": client["id"], "number": "7001", "code": 33, "total": "595000", "taxes": "95000",
            "issueDate": (due - timedelta(days=30)).isoformat(), "dueDate": due.isoformat(),
            "gloss": "Arriendo de equipos",
        }  # fmt: skip
        created = api.post("/v1/createDocument", json=body)
        assert created.status_code == 200, created.text
        document_id = created.json()["id"]
    page = desktop.page
    sign_in(page, world.server.base)
    page.goto(f"{world.server.base}/app/documents?clientId={client['id']}&status=overdue")
    page.get_by_role("link", name="Factura electrónica N° 7001").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Factura electrónica N° 7001"
    assert page.locator("#estado").inner_text() == "Vencida"
    assert page.locator("#saldo").inner_text() == "$595.000"
    desktop.assert_clean()
    check_accessibility(page)

    page.get_by_label("Monto (CLP)").fill("95.000")
    page.get_by_label("Medio de pago").select_option(label="Transferencia")
    page.get_by_role("button", name="Registrar pago").click()

    assert page.get_by_role("status").inner_text() == "Pago registrado."
    assert page.locator("#saldo").inner_text() == "$500.000"
    assert page.locator("#estado").inner_text() == "Vencida"
    assert "$95.000 a este documento" in page.locator("#linea-de-tiempo").inner_text()
    check_accessibility(page)
    screenshot(page, screenshots, "app-document.png")

    page.get_by_role("button", name="Registrar pago").click()  # the form offers what is still owed

    assert page.locator("#estado").inner_text() == "Pagada"
    assert page.locator("#saldo").inner_text() == "$0"
    with world.server.api(world.token_a) as api:
        shown = api.get("/v1/getDocument", params={"id": document_id}).json()
    assert (shown["statusName"], shown["amountDue"]) == ("Pagada", "0.00")
    desktop.assert_clean()
    check_accessibility(page)


def test_on_a_phone_a_document_page_fits_the_screen(phone: Watched, world: World) -> None:
    page = phone.page
    sign_in(page, world.server.base)
    page.goto(world.server.base + "/app/documents")
    page.locator("#tabla-documentos tbody tr th a").first.click()

    assert page.get_by_role("heading", name="Línea de tiempo").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.assert_clean()
    check_accessibility(page)


# --- payments -------------------------------------------------------------------------------------


def test_a_payment_split_over_two_documents_then_discarded_and_reconciled(
    desktop: Watched, world: World, screenshots: list[Path]
) -> None:
    """A client and documents of its own, paid in full at the end (the other tests' figures stay)."""
    due = today_in_santiago() - timedelta(days=3)
    with world.server.api(world.token_a) as api:
        client = api.post("/v1/createClient", json={"name": "BETA SPA", "taxId": "77777777-7"})
        assert client.status_code == 200, client.text
        ids = []
        for number, total in (("8001", "100000"), ("8002", "50000")):
            body = {
                "clientId": client.json()["id"], "number": number, "code": 33, "total": total, "taxes": "0",
                "issueDate": (due - timedelta(days=30)).isoformat(), "dueDate": due.isoformat(),
            }  # fmt: skip
            created = api.post("/v1/createDocument", json=body)
            assert created.status_code == 200, created.text
            ids.append(created.json()["id"])

    def owed() -> list[str]:
        with world.server.api(world.token_a) as api:
            return [api.get("/v1/getDocument", params={"id": i}).json()["amountDue"] for i in ids]

    page = desktop.page
    sign_in(page, world.server.base)
    page.get_by_role("link", name="Pagos").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Pagos conciliados"
    check_accessibility(page)
    page.get_by_role("link", name="Registrar un pago").click()
    page.get_by_label("RUT del cliente").fill("77.777.777-7")
    page.get_by_role("button", name="Continuar").click()
    assert "BETA SPA" in page.locator("#cliente-elegido").inner_text()
    check_accessibility(page)

    page.get_by_label("Monto para Factura electrónica N° 8001").fill("100.000")
    page.get_by_label("Monto para Factura electrónica N° 8002").fill("50.000")
    page.get_by_label("Medio de pago").select_option(label="Transferencia")
    page.get_by_role("button", name="Registrar pago").click()

    assert page.get_by_role("status").inner_text() == "Pago registrado."
    assert page.locator("#asignado").inner_text() == "$150.000"
    assert page.locator("#estado").inner_text() == "Conciliado"
    assert owed() == ["0.00", "0.00"]
    desktop.assert_clean()
    check_accessibility(page)
    screenshot(page, screenshots, "app-payment.png")

    page.get_by_role("button", name="Descartar pago").click()
    assert page.locator("#estado").inner_text() == "Descartado"
    assert owed() == ["100000.00", "50000.00"]
    page.get_by_role("button", name="Conciliar pago").click()
    assert page.get_by_role("status").inner_text() == "Pago conciliado: sus documentos ya lo cuentan."
    assert owed() == ["0.00", "0.00"]

    page.get_by_role("link", name="Volver a los pagos").click()
    assert "BETA SPA" in page.locator("#tabla-pagos").inner_text()
    desktop.assert_clean()
    check_accessibility(page)


# --- imports --------------------------------------------------------------------------------------

IMPORTER = "importa@example.cl"


def test_an_import_of_a_zip_shows_its_progress_then_its_report(
    desktop: Watched, world: World, tmp_path: Path, screenshots: list[Path]
) -> None:
    """On a company of its own (the imported documents would move the other tests' figures). The
    runner's one thread is held until the page shows the import queued, so the page is seen to
    follow it live: its script polls, and the page turns into the report without a reload by hand."""
    rut = "96670340-7"
    engine = create_engine(world.server.settings.database_url, pool_size=1)
    with unit_of_work(create_sessionmaker(engine)) as session:
        company = create_company(session, rut=rut, name="IMPORTADORA SPA", payment_term_days=30)
        _person(session, IMPORTER, company.company.id, Role.COLLECTOR, utcnow())
    engine.dispose()
    zipped = tmp_path / "facturas.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for folio in (501, 502, 503):
            archive.writestr(
                f"F33-{folio}.xml",
                build_dte(33, folio, rut, "99999999-9", 11900, issue_date=today_in_santiago()),
            )
        archive.writestr("roto.xml", b"<DTE><Documento>")
    page = desktop.page
    sign_in(page, world.server.base, IMPORTER)
    page.get_by_role("link", name="Importar").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Importar DTE"
    check_accessibility(page)

    held = threading.Event()
    world.server.app.state.imports._pool.submit(held.wait, 60)  # the runner's thread, busy for now
    try:
        page.get_by_label("Archivos XML o zip").set_input_files(str(zipped))
        page.get_by_role("button", name="Importar").click()
        assert page.locator("#estado").inner_text() == "En cola"
        assert page.get_by_role("status").inner_text().startswith("Importación iniciada")
        check_accessibility(page)
    finally:
        held.set()

    report = page.get_by_role("heading", name="Creados (3)")
    report.wait_for(timeout=30_000)  # the script saw the end and reloaded the page
    assert page.locator("#estado").inner_text() == "Terminada"
    assert re.fullmatch(r".*/app/import/\d+", page.url)  # the report, the "started" message gone
    assert page.get_by_role("status").count() == 0
    assert page.locator("#cifra-documents").inner_text() == "3"
    refused = page.locator("#tabla-rechazados").inner_text()
    assert "facturas.zip!roto.xml" in refused
    assert "El XML está mal formado." in refused
    desktop.assert_clean()  # the script broke no policy and went nowhere else
    check_accessibility(page)
    screenshot(page, screenshots, "app-import.png")


def test_on_a_phone_the_payment_form_and_the_upload_fit_the_screen(phone: Watched, world: World) -> None:
    page = phone.page
    sign_in(page, world.server.base)

    for path in ("/app/payments/new?rut=96.874.030-K", "/app/payments", "/app/import"):
        page.goto(world.server.base + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        check_accessibility(page)
    phone.assert_clean()


def test_a_document_page_shows_where_sii_s_register_disagrees(desktop: Watched, world: World) -> None:
    """A document SII's register lists with another total: said under its SII card, accessibly (the
    document is deleted afterwards, so the other tests' figures stay as they are)."""
    issued = today_in_santiago() - timedelta(days=20)
    with world.server.api(world.token_a) as api:
        client = api.get("/v1/getClients", params={"taxId": "96874030-K"}).json()["items"][0]
        body = {
            "clientId": client["id"], "number": "7002", "code": 33, "total": "119000", "taxes": "19000",
            "issueDate": issued.isoformat(),
        }  # fmt: skip
        created = api.post("/v1/createDocument", json=body)
        assert created.status_code == 200, created.text
        document_id = int(created.json()["id"])
    engine = create_engine(world.server.settings.database_url)
    try:
        with unit_of_work(create_sessionmaker(engine)) as session:
            session.execute(
                update(Document)
                .where(Document.id == document_id)
                .values(
                    sii_received_at=utcnow() - timedelta(days=19),
                    sii_synced_at=utcnow(),
                    sii_total_cents=12_000_000,
                    sii_issue_date=issued,
                )
            )
    finally:
        engine.dispose()
    page = desktop.page
    try:
        sign_in(page, world.server.base)
        page.goto(f"{world.server.base}/app/documents/{document_id}")

        shown = page.locator("#diferencias-sii").inner_text()
        assert shown == "Total: $119.000 en dtehub, $120.000 en el Registro de Ventas del SII."
        assert page.get_by_role("heading", name="Diferencias con el Registro de Ventas").is_visible()
        desktop.assert_clean()
        check_accessibility(page)
    finally:
        with world.server.api(world.token_a) as api:
            gone = api.request(
                "DELETE", "/v1/deleteDocument", json={"clientTaxId": "96874030-K", "number": "7002"}
            )
            assert gone.status_code == 200, gone.text


# --- clients, the outbox, exports -----------------------------------------------------------------


def test_clients_search_a_clients_page_and_its_reminder_switches(
    desktop: Watched, world: World, screenshots: list[Path]
) -> None:
    page = desktop.page
    sign_in(page, world.server.base)
    page.get_by_role("link", name="Clientes", exact=True).click()
    check_accessibility(page)
    page.get_by_label("Buscar por nombre o RUT").fill("96.874.030-K")
    page.get_by_role("button", name="Buscar").click()
    row = _text(page)
    assert "ALFA LTDA 96.874.030-K" in row
    assert f"${_api_due(world):,}".replace(",", ".") in row  # what it owes: the API's sum
    page.get_by_role("link", name="ALFA LTDA").click()

    assert page.get_by_role("heading", level=1).inner_text() == "ALFA LTDA"
    assert (
        page.locator("#vencido").inner_text().startswith(f"${_api_due(world, status=3):,}".replace(",", "."))
    )
    desktop.assert_clean()
    check_accessibility(page)
    screenshot(page, screenshots, "app-client.png")
    switch = page.get_by_label("Resumen de deuda")
    assert switch.is_checked()
    switch.uncheck()
    page.get_by_role("button", name="Guardar recordatorios").click()

    assert page.get_by_role("status").inner_text() == "Recordatorios del cliente guardados."
    assert not page.get_by_label("Resumen de deuda").is_checked()
    with world.server.api(world.token_a) as api:
        shown = api.get("/v1/getClients", params={"taxId": "96874030-K"}).json()["items"][0]
    assert shown["sendReminders"]["debtSummary"] is False
    check_accessibility(page)
    page.get_by_label("Resumen de deuda").check()
    page.get_by_role("button", name="Guardar recordatorios").click()
    page.locator("#tabla-documentos tbody tr th a").first.click()
    assert page.get_by_role("heading", name="Línea de tiempo").is_visible()


def test_the_outbox_page_is_accessible(desktop: Watched, world: World, screenshots: list[Path]) -> None:
    page = desktop.page
    sign_in(page, world.server.base)
    page.get_by_role("link", name="Recordatorios", exact=True).click()

    assert page.get_by_role("heading", level=1).inner_text() == "Recordatorios"
    page.get_by_label("Estado").select_option(label="Falló")
    page.get_by_role("button", name="Filtrar").click()
    assert "status=failed" in page.url
    desktop.assert_clean()
    check_accessibility(page)
    page.goto(world.server.base + "/app/clients")
    screenshot(page, screenshots, "app-clients.png")


def test_filter_and_export_the_documents_list(desktop: Watched, world: World) -> None:
    page = desktop.page
    sign_in(page, world.server.base)
    page.goto(world.server.base + "/app/documents?status=overdue")
    shown = int(page.locator("#documentos").inner_text().replace(".", ""))
    check_accessibility(page)

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV").click()
    lines = Path(csv_download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Excel (XLSX)").click()

    assert csv_download.value.suggested_filename == f"documentos-{today_in_santiago()}.csv"
    assert len(lines) == 1 + shown
    assert sum(int(line.split(";")[-1]) for line in lines[1:]) == _api_due(world, status=3)
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    assert Path(xlsx_download.value.path()).read_bytes()[:2] == b"PK"


def test_on_a_phone_the_clients_page_fits_the_screen(phone: Watched, world: World) -> None:
    page = phone.page
    sign_in(page, world.server.base)
    page.goto(world.server.base + "/app/clients")
    page.get_by_role("link", name="ALFA LTDA").click()

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.assert_clean()
    check_accessibility(page)
