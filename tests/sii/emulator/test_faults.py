"""Faults a test switches on: slow answers, SII down, failing handshakes, the download's folio ignored."""

from __future__ import annotations

import time

import httpx

from dtehub.sii.emulator import Emulator
from tests.sii.emulator.browser import LISTING, Browser, contribuyente_code, login_code, page, title
from tests.sii.emulator.conftest import MIPYME, PEDRO, Certificates


def test_every_answer_can_be_delayed(emulator: Emulator) -> None:
    emulator.faults.delay_seconds = 0.3
    with Browser(emulator) as browser:
        started = time.monotonic()
        response = browser.client.get(LISTING)

        assert time.monotonic() - started >= 0.3
        assert login_code(response) == "28"


def test_sii_can_be_unavailable(emulator: Emulator, certificates: Certificates) -> None:
    emulator.faults.unavailable = True
    with Browser(emulator, certificates.pem(PEDRO)) as browser:
        response = browser.login()

        assert response.status_code == 503
        assert title(response) == "Servicio no disponible"
        assert "set-cookie" not in response.headers

        emulator.faults.unavailable = False
        assert title(browser.login()) == "Autenticación"


def test_the_next_handshakes_can_fail(emulator: Emulator, certificates: Certificates) -> None:
    emulator.faults.handshake_failures = 2
    with Browser(emulator, certificates.pem(PEDRO)) as browser:
        for _ in range(2):
            try:
                browser.login()
            except httpx.ConnectError:
                continue
            raise AssertionError("the handshake should have failed")

        assert title(browser.login()) == "Autenticación"
    assert emulator.faults.handshake_failures == 0


def test_the_download_can_ignore_the_folio_range(emulator: Emulator, certificates: Certificates) -> None:
    with Browser(emulator, certificates.pem(PEDRO)) as browser:
        browser.login()
        one = browser.download(MIPYME, code="34", folio="3", folio_to="3")
        assert one.content.startswith(b"<?xml")

        emulator.faults.download_ignores_folio = True
        refused = browser.download(MIPYME, code="34", folio="3", folio_to="3")

        assert contribuyente_code(refused) == "02.35.209"
        assert "20" in page(refused).text_content()
