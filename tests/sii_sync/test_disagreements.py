"""A document dtehub has that SII's Registro de Ventas lists with other figures: the disagreement shows on the
document itself (getDocument's ``sii.disagreements``), end to end over real TLS against the emulator, the
document's amounts untouched; and it clears once they agree again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from dtehub.app import create_app
from dtehub.config import Settings
from dtehub.sii.config import SiiConfig
from dtehub.sii.emulator import Emulator
from dtehub.sii.emulator.register import Entry
from tests.conftest import served
from tests.sii.rcv.conftest import COMPANY, People
from tests.sii_sync import test_e2e as e2e
from tests.sii_sync.conftest import Committed

company = e2e.company


@pytest.fixture
def invoice(sii: Emulator) -> Iterator[Entry]:
    """A factura of the emulator's September, its amounts as they were afterwards (the emulator serves
    every test)."""
    entry = next(e for e in sii.register.visible(COMPANY, "202609", sii.register.now()) if e.type_code == 33)
    net, vat, total = entry.net, entry.vat, entry.total
    yield entry
    entry.net, entry.vat, entry.total = net, vat, total


def pesos(amount: int) -> str:
    return "$ " + f"{amount:,}".replace(",", ".")


def call(settings: Settings, committed: Committed, *requests: tuple[str, str, dict[str, Any]]) -> list[Any]:
    """The API's answers (their JSON) to ``requests`` (method, path, body or query), in order."""
    headers = {"Authorization": f"Bearer {committed.token}"}

    async def run() -> list[Any]:
        app = create_app(settings)
        answers = []
        try:
            async with served(app) as http:
                for method, path, data in requests:
                    if method == "GET":
                        answer = await http.get(path, params=data, headers=headers)
                    elif method == "DELETE":
                        answer = await http.request("DELETE", path, json=data, headers=headers)
                    else:
                        answer = await http.post(path, json=data, headers=headers)
                    assert answer.status_code == 200, answer.text
                    answers.append(answer.json())
        finally:
            app.state.engine.dispose()
        return answers

    return asyncio.run(run())


def test_a_total_sii_lists_otherwise_shows_on_the_document_until_they_agree(
    settings: Settings, company: Committed, config: SiiConfig, people: People, sii: Emulator, invoice: Entry
) -> None:
    ours = invoice.total + 1000
    customer = {"name": "CLIENTE SPA", "taxId": invoice.customer_rut}
    [client] = call(settings, company, ("POST", "/v1/createClient", customer))
    [created] = call(
        settings,
        company,
        (
            "POST",
            "/v1/createDocument",
            {"clientId": client["id"], "number": str(invoice.folio), "code": 33,
             "issueDate": invoice.issue_date.isoformat(), "total": ours, "taxes": 0},
        ),
    )  # fmt: skip
    assert created["sii"] is None

    first = e2e.sync(company, config, people.holder)

    assert first.state == "done", first.error_message
    [document] = call(settings, company, ("GET", "/v1/getDocument", {"id": created["id"]}))
    assert document["total"] == f"{ours}.00"  # never overwritten by SII's row
    assert document["xmlChecks"] is None
    words = (
        f"dtehub has a total of {pesos(ours)}, SII's register {pesos(invoice.total)}; dtehub's amount was "
        "kept, check which one is right"
    )
    assert document["sii"]["disagreements"] == [
        {"field": "total", "dtehub": f"{ours}.00", "sii": f"{invoice.total}.00", "message": words}
    ]
    assert f"Factura electrónica {invoice.folio}: {words}" in first.messages
    assert first.documents_updated >= 1  # its sii object appeared

    # SII's register is corrected: its row now says what dtehub has.
    later = sii.register.now() + timedelta(hours=1)
    sii.register.set_clock(lambda: later)
    sii.register.amend(
        COMPANY, 33, invoice.folio, net=invoice.net, vat=invoice.vat + 1000, total=ours, at=later
    )

    second = e2e.sync(company, config, people.holder, e2e.NOW + timedelta(hours=1))

    assert second.state == "done", second.error_message
    [document] = call(settings, company, ("GET", "/v1/getDocument", {"id": created["id"]}))
    assert document["sii"]["disagreements"] == []
    assert document["total"] == f"{ours}.00"
    assert not any(str(invoice.folio) in message for message in second.messages)
    assert second.documents_updated >= 1  # the disagreement cleared: its sii object changed


def test_a_document_typed_again_after_its_period_was_read_is_matched_by_the_next_sync(
    settings: Settings, company: Committed, config: SiiConfig, people: People, sii: Emulator, invoice: Entry
) -> None:
    """SII's register has not changed since the last sync, but a person deleted the invoice the sync had
    created and typed it again with other figures: the next sync reads that period's rows to match it."""
    first = e2e.sync(company, config, people.holder)
    assert first.state == "done", first.error_message
    number = str(invoice.folio)
    [clients] = call(settings, company, ("GET", "/v1/getClients", {"taxId": invoice.customer_rut}))
    [client] = clients["items"]
    ours = invoice.total + 500
    [_, typed] = call(
        settings,
        company,
        ("DELETE", "/v1/deleteDocument", {"clientTaxId": client["taxId"], "number": number, "code": 33}),
        ("POST", "/v1/createDocument",
         {"clientId": client["id"], "number": number, "code": 33,
          "issueDate": invoice.issue_date.isoformat(), "total": ours, "taxes": 0}),
    )  # fmt: skip
    assert typed["sii"] is None

    before = sii.rcv_requests
    second = e2e.sync(company, config, people.holder, e2e.NOW + timedelta(hours=1))
    asked = sii.rcv_requests - before

    assert second.state == "done", second.error_message
    [document] = call(settings, company, ("GET", "/v1/getDocument", {"id": typed["id"]}))
    assert [d["field"] for d in document["sii"]["disagreements"]] == ["total"]
    assert document["total"] == f"{ours}.00"
    # Only September's rows were read (one request per electronic type in it), not July's or August's.
    september = {e.type_code for e in sii.register.visible(COMPANY, "202609", sii.register.now())} - {39, 41}
    assert asked["getResumen"] == 3
    assert 0 < asked["getDetalleVenta"] <= len(september)

    before = sii.rcv_requests
    third = e2e.sync(company, config, people.holder, e2e.NOW + timedelta(hours=2))
    assert third.state == "done", third.error_message
    assert (sii.rcv_requests - before)["getDetalleVenta"] == 0  # matched: nothing to read again
