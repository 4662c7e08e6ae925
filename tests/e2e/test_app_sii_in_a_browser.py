"""``/app/sii`` and the settings' new parts in Debian's Chromium (the fixtures of
:mod:`tests.e2e.test_app_in_a_browser`: the real app served in this process): an owner uploads the
company's SII certificate through the file form, starts a sync and watches its progress move live (the
page's own script polling dtehub) until the page shows the finished run; axe-core on each state."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dtehub.kit.dates import today_in_santiago
from dtehub.sii.emulator import TestCertificateAuthority
from dtehub.sii_sync.periods import Period
from tests.e2e import test_app_in_a_browser as app_e2e
from tests.e2e.test_app_in_a_browser import World, check_accessibility, sign_in
from tests.e2e.test_portal_in_a_browser import Watched
from tests.sii_sync.sources import clients_source

# The app's browser tests' fixtures: the same served app, browser and signed-in owner.
world, browser, desktop = app_e2e.world, app_e2e.browser, app_e2e.desktop

PFX_PASSWORD = "clave-del-pfx-en-el-navegador-77"


@pytest.fixture
def sii_answers(world: World) -> Iterator[threading.Event]:
    """SII's side of the run, played by the test: the first period answers at once, the others once
    the test sets the event."""
    release = threading.Event()
    first: list[Period] = []

    async def gate(period: Period) -> None:
        if not first:
            first.append(period)
            return
        await asyncio.to_thread(release.wait, 60)  # the test's thread decides

    executor = world.server.app.state.sii_sync
    before = executor.sources
    executor.sources = clients_source(1, gate=gate)
    yield release
    release.set()
    executor.sources = before


def test_an_owner_uploads_the_certificate_and_watches_a_sync_run(
    desktop: Watched, world: World, sii_answers: threading.Event, tmp_path: Path
) -> None:
    ca = TestCertificateAuthority.load_or_create(tmp_path / "ca")
    pfx = tmp_path / "persona.pfx"
    pfx.write_bytes(
        ca.issue_person_certificate(rut="12345678-5", name="Juana Pérez", password=PFX_PASSWORD.encode())
    )
    page = desktop.page
    sign_in(page, world.server.base)
    page.get_by_role("link", name="SII", exact=True).click()
    expect(page.locator("#sin-certificado")).to_be_visible()
    check_accessibility(page)

    page.get_by_label("Archivo del certificado (.pfx o .p12)").set_input_files(str(pfx))
    page.get_by_label("Contraseña del certificado").fill(PFX_PASSWORD)
    page.get_by_role("button", name="Subir certificado").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("^Certificado guardado"))
    expect(page.locator("#datos-certificado")).to_contain_text("Juana Pérez")
    assert PFX_PASSWORD not in page.content()

    current = Period.of(today_in_santiago())
    page.get_by_label("Desde el mes (opcional)").fill(str(current.shifted(-2)))
    page.get_by_role("button", name="Sincronizar ahora").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("^Sincronización iniciada"))
    # The page's script follows the run: the first period is stored while SII holds the others.
    expect(page.locator("#cifra-periodsDone")).to_have_text("1", timeout=20_000)
    expect(page.locator("#cifra-periodsTotal")).to_have_text("3")
    expect(page.locator("#estado-en-curso")).to_have_text("En curso")
    check_accessibility(page)

    sii_answers.set()
    # Finished: the script reloads the page, which lists the run done with its figures and messages.
    expect(page.locator("#avance")).to_have_count(0, timeout=20_000)
    row = page.locator("#tabla-sincronizaciones tbody tr").first
    expect(row).to_contain_text("Terminada")
    expect(row).to_contain_text("3 de 3")
    expect(row).to_contain_text("boletas are monthly totals in SII's register: skipped")
    check_accessibility(page)


@pytest.fixture
def loopback_webhooks(world: World) -> Iterator[None]:
    """Webhooks to a loopback address allowed (as in the webhook tests' receivers): never delivered here,
    the server runs no background jobs."""
    app = world.server.app
    before = app.state.settings
    app.state.settings = before.model_copy(update={"webhooks_allow_private": True})
    yield
    app.state.settings = before


def test_an_owner_completes_the_companys_settings(
    desktop: Watched, world: World, loopback_webhooks: None
) -> None:
    page = desktop.page
    sign_in(page, world.server.base)
    page.get_by_role("link", name="Configuración").click()
    page.get_by_label("Aviso antes del vencimiento (días)").fill("4")
    page.get_by_label("Resumen de deuda a los clientes").select_option("weekly")
    page.get_by_label("Día del resumen").fill("2")
    page.get_by_role("button", name="Guardar recordatorios").click()
    expect(page.get_by_role("status")).to_have_text("Recordatorios guardados.")
    with world.server.api(world.token_a) as api:
        company = api.get("/v1/getCompany").json()
    assert (company["reminderDaysBefore"], company["debtSummaryPeriod"], company["debtSummaryDay"]) == (
        4,
        "weekly",
        2,
    )

    page.get_by_label("Dirección (https://…)").fill("http://127.0.0.1:9/dtehub")
    page.get_by_label(re.compile("^Pago registrado")).check()
    page.get_by_role("button", name="Crear webhook").click()
    expect(page.locator("#secreto-webhook")).to_be_visible()
    expect(page.locator("#tabla-webhooks")).to_contain_text("http://127.0.0.1:9/dtehub")
    check_accessibility(page)
    page.get_by_role("button", name="Eliminar el webhook http://127.0.0.1:9/dtehub").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("^Webhook eliminado"))
    check_accessibility(page)
