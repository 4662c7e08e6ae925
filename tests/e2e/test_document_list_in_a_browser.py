"""``/app/documents``' filter form in Debian's Chromium (the fixtures of
:mod:`tests.e2e.test_app_in_a_browser`: the real app served in this process): a person fills the form,
submits it, sees the filtered rows, exports them and the page passes axe-core. The test creates
nothing: the other tests' figures stay as they are."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e import test_app_in_a_browser as app_e2e
from tests.e2e.test_app_in_a_browser import World, check_accessibility, sign_in
from tests.e2e.test_portal_in_a_browser import PHONE, Watched

# The app's browser tests' fixtures: the same served app, browser and signed-in owner.
world, browser, desktop, phone = app_e2e.world, app_e2e.browser, app_e2e.desktop, app_e2e.phone


def test_fill_the_filter_form_then_export_what_it_lists(desktop: Watched, world: World) -> None:
    page = desktop.page
    sign_in(page, world.server.base)
    page.goto(world.server.base + "/app/documents")
    check_accessibility(page)

    page.get_by_label("Folio, nombre o RUT del cliente").fill("alfa")
    page.get_by_label("Estado", exact=True).select_option(label="Vencida")
    page.get_by_label("Ordenar por").select_option(label="Folio")
    page.get_by_label("Sentido").select_option(label="Ascendente")
    page.get_by_role("button", name="Filtrar").click()

    assert "q=alfa" in page.url
    assert "status=overdue" in page.url
    rows = page.locator("#tabla-documentos tbody th").all_inner_texts()
    assert [re.sub(r".* N° ", "", row) for row in rows] == ["1", "2", "3"]
    assert page.locator("#documentos").inner_text() == "3 documentos"
    desktop.assert_clean()
    check_accessibility(page)
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV").click()
    lines = Path(csv_download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(";")[3] for line in lines[1:]] == ["1", "2", "3"]
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Excel (XLSX)").click()
    assert Path(xlsx_download.value.path()).read_bytes()[:2] == b"PK"


def test_on_a_phone_the_filter_form_fits_the_screen(phone: Watched, world: World) -> None:
    page = phone.page
    sign_in(page, world.server.base)
    page.goto(world.server.base + "/app/documents?status=all")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.assert_clean()
    check_accessibility(page)
