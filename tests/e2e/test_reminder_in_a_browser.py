"""A document page's reminder action in Debian's Chromium (the fixtures of
:mod:`tests.e2e.test_app_in_a_browser`: the real app served in this process): a collector sends the
reminder now and sees it in the page, the timeline and the outbox; the contact gets one e-mail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dtehub.kit.dates import today_in_santiago
from tests.e2e import test_app_in_a_browser as app_e2e
from tests.e2e.test_app_in_a_browser import World, check_accessibility, sign_in
from tests.e2e.test_portal_in_a_browser import Watched

# The app's browser tests' fixtures: the same served app, browser and signed-in owner.
world, browser, desktop = app_e2e.world, app_e2e.browser, app_e2e.desktop


def test_send_a_reminder_from_a_document_page(desktop: Watched, world: World) -> None:
    """A collector sends the overdue reminder now: the page says so, the timeline and the outbox show it
    sent, and the client's contact gets the e-mail, once (the document is deleted afterwards, so the
    other tests' figures stay as they are)."""
    due = today_in_santiago() - timedelta(days=8)
    mail_folder = Path(world.server.settings.mail_folder)
    with world.server.api(world.token_a) as api:
        client = api.post("/v1/createClient", json={"name": "RECORDATORIOS SPA", "taxId": "76086428-5"})
        assert client.status_code == 200, client.text
        contact = {"clientId": client.json()["id"], "email": "cobranza@recordatorios.example.cl"}
        assert api.post("/v1/createContact", json=contact).status_code == 200
        body = {
            "clientId": client.json()["id"], "number": "7003", "code": 33, "total": "238000",
            "taxes": "38000", "issueDate": (due - timedelta(days=30)).isoformat(), "dueDate": due.isoformat(),
        }  # fmt: skip
        created = api.post("/v1/createDocument", json=body)
        assert created.status_code == 200, created.text
        document_id = created.json()["id"]
    before = set(mail_folder.glob("*.eml")) if mail_folder.exists() else set()
    page = desktop.page
    try:
        sign_in(page, world.server.base)
        page.goto(f"{world.server.base}/app/documents/{document_id}")
        page.get_by_role("button", name="Enviar recordatorio ahora").click()

        said = page.get_by_role("status").inner_text()
        assert said.startswith("Recordatorio enviado a la bandeja de salida")
        timeline = page.locator("#linea-de-tiempo").inner_text()
        assert "Recordatorio «Vencido» enviado" in timeline
        assert "cobranza@recordatorios.example.cl" in timeline
        [sent] = set(mail_folder.glob("*.eml")) - before
        assert "To: cobranza@recordatorios.example.cl" in sent.read_text()
        desktop.assert_clean()
        check_accessibility(page)

        page.get_by_role("button", name="Enviar recordatorio ahora").click()
        assert page.get_by_role("status").inner_text() == (
            "Este documento ya tenía un recordatorio de hoy: no se envió otro."
        )
        assert set(mail_folder.glob("*.eml")) - before == {sent}

        page.get_by_role("link", name="Sus recordatorios en la bandeja de salida").click()
        outbox = page.locator("main").inner_text()
        assert "cobranza@recordatorios.example.cl" in outbox
        assert "Enviado" in outbox
        check_accessibility(page)
    finally:
        with world.server.api(world.token_a) as api:
            gone = api.request(
                "DELETE", "/v1/deleteDocument", json={"clientTaxId": "76086428-5", "number": "7003"}
            )
            assert gone.status_code == 200, gone.text
