"""``dtehub factoring sync-cessions``: the RTC's period listing (the emulator over TLS) brings in the cessions
made to the factoring company that it holds no document for, as held documents known from SII with no AEC
yet; a second run adds nothing; an AEC received later completes the document instead of conflicting."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dtehub import cli, migrate
from dtehub.config import get_settings
from dtehub.db import create_engine, create_sessionmaker, unit_of_work
from dtehub.factoring.cedibility import SiiAccess
from dtehub.factoring.sync import SyncSummary, months_since, sync_cessions
from dtehub.models import Document, DocumentHolding
from dtehub.portal.links import Links
from dtehub.sii.emulator import Emulator
from dtehub.sii.errors import SiiError
from tests.conftest import Tenant
from tests.factoring.aecs import TOTAL, aec_to
from tests.factoring.conftest import BUYER, SELLER, next_folio
from tests.sii.ws.conftest import FACTOR, PASSWORD

T = TypeVar("T")


class SessionUnits:
    """The service's units of work on the test's session (its transaction is rolled back after the test)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __call__(self, work: Callable[[Session], T], *, writes: bool = True) -> T:
        return work(self.session)


def registered(sii: Emulator, folio: int, *, to: str = FACTOR, days_ago: int = 40, **details: Any) -> date:
    """A cession of the seller's invoice to ``to`` that SII's RTC registered ``days_ago`` days ago."""
    at = sii.acceptances.now().replace(microsecond=0) - timedelta(days=days_ago)
    values: dict[str, Any] = {
        "receiver": BUYER,
        "issued": date(2026, 11, 27),
        "total": TOTAL,
        "last_due": date(2027, 1, 15),
        "assignor_name": "VENDEDORA SPA",
        "assignor_email": "cobranza@vendedora.cl",
        "assignee_name": "FACTORING CAPITAL SPA",
        "assignee_email": "ops@factoring.cl",
        "debtor_email": "pagos@compradora.cl",
    }
    values.update(details)
    sii.rtc.record((SELLER, 33, folio), to, TOTAL, at=at, **values)
    return at.date()


def sync(session: Session, sii_access: SiiAccess, since: date) -> SyncSummary:
    return sync_cessions(SessionUnits(session), FACTOR, since, sii_access, Links("http://testserver"))


async def held_numbers(tenant: Tenant) -> dict[str, dict[str, Any]]:
    response = await tenant.get("/v1/getDocuments", held=1)
    assert response.status_code == 200, response.text
    return {item["number"]: item for item in response.json()["items"]}


async def test_the_rtc_s_listing_brings_in_the_cessions_to_the_company_once(
    factor: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess
) -> None:
    mine, others, earlier = next_folio(), next_folio(), next_folio()
    day = registered(sii, mine)
    registered(sii, others, to="96790240-3")  # a cession to another company
    registered(sii, earlier, days_ago=200)  # before the month asked from

    first = sync(session, sii_access, day)

    assert first.months[0] == f"{day:%Y-%m}"
    held = await held_numbers(factor)
    assert str(mine) in held
    assert str(others) not in held
    assert str(earlier) not in held
    document = (await factor.get("/v1/getDocument", id=held[str(mine)]["id"])).json()
    assert (document["held"], document["source"]) == (True, "rtc")
    assert document["issuer"] == {"taxId": SELLER, "name": "VENDEDORA SPA"}
    assert (document["clientTaxId"], document["total"], document["amountDue"]) == (
        BUYER,
        f"{TOTAL}.00",
        f"{TOTAL}.00",
    )
    assert (document["issueDate"], document["dueDate"]) == ("2026-11-27", "2027-01-15")
    assert document["xmlChecks"] is None  # no XML: known from SII only
    holding = session.get(DocumentHolding, int(document["id"]))
    assert holding is not None
    assert (holding.aec, holding.assignor_rut, holding.amount_cents) == (b"", SELLER, TOTAL * 100)

    again = sync(session, sii_access, day)
    assert again.added == []
    assert again.known >= 1
    assert await held_numbers(factor) == held

    cede = await factor.post(
        "/v1/createCesion",
        {"documentId": document["id"], "assignee": {"rut": "96790240-3", "name": "OTRO FONDO SA",
                                                    "address": "Av. Vitacura 1", "email": "o@f.cl"}},
    )  # fmt: skip
    assert cede.status_code == 422, cede.text
    assert cede.json()["error"]["code"] == "document_not_cedible"
    assert "no AEC" in cede.json()["error"]["message"]


async def test_an_aec_received_later_completes_the_document(
    factor: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess
) -> None:
    folio = next_folio()
    day = registered(sii, folio)
    sync(session, sii_access, day)
    known = (await held_numbers(factor))[str(folio)]
    payment = await factor.post(
        "/v1/createPayment",
        {"date": "2026-12-10", "amount": 190_000, "clientId": known["client"]["id"],
         "documents": [{"id": known["id"], "amount": 190_000}]},
    )  # fmt: skip
    assert payment.status_code == 200, payment.text

    data = aec_to(FACTOR, folio)
    response = await factor.post("/v1/createCesionFromXml", {"xml": base64.b64encode(data).decode()})

    assert response.status_code == 200, response.text
    document = response.json()["document"]
    assert document["id"] == known["id"]
    assert (document["held"], document["source"]) == (True, "api")
    assert document["xmlChecks"]["signature"] == "valid"
    assert document["paidAmount"] == "190000.00"  # its payment stays
    assert document["issuer"]["name"] == "EMPRESA EMISORA SPA"  # the DTE's own
    client = (await factor.get("/v1/getClient", id=document["client"]["id"])).json()
    assert client["name"] == "COMPRADORA DEUDORA SA"
    holding = session.get(DocumentHolding, int(document["id"]))
    assert holding is not None
    assert holding.aec == data
    assert holding.sequence == 1
    same = await factor.post("/v1/createCesionFromXml", {"xml": base64.b64encode(data).decode()})
    assert same.status_code == 200  # the very same file again answers what is stored
    assert [n for n in await held_numbers(factor) if n == str(folio)] == [str(folio)]
    # A later sync finds it held.
    assert sync(session, sii_access, day).added == []


async def test_where_the_listing_and_the_aec_disagree_the_signed_dte_wins_and_it_is_said(
    factor: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess
) -> None:
    folio = next_folio()
    day = registered(sii, folio, total=1_000_000, issued=date(2026, 11, 20))
    sync(session, sii_access, day)

    data = aec_to(FACTOR, folio)
    response = await factor.post("/v1/createCesionFromXml", {"xml": base64.b64encode(data).decode()})

    assert response.status_code == 200, response.text
    document = response.json()["document"]
    assert (document["total"], document["issueDate"]) == (f"{TOTAL}.00", "2026-11-27")
    said = [p["message"] for p in document["xmlChecks"]["problems"] if p.get("check") == "sii_register"]
    assert len(said) == 2
    assert "SII's RTC (its cession listing) says $ 1.000.000" in said[0]
    assert "SII's RTC (its cession listing) on 2026-11-20" in said[1]


async def test_a_document_bought_from_a_later_holder_is_shown_by_its_issuer_s_rut(
    factor: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess
) -> None:
    folio = next_folio()
    registered(sii, folio, to="96790240-3", days_ago=41)  # the seller ceded it to another fund first
    day = registered(sii, folio, assignor_name="OTRO FONDO SA")  # which ceded it to the company
    sync(session, sii_access, day)

    document = (await held_numbers(factor))[str(folio)]
    assert document["issuer"] == {"taxId": SELLER, "name": ""}  # the listing names the assignor only
    holding = session.get(DocumentHolding, int(document["id"]))
    assert holding is not None
    assert (holding.assignor_rut, holding.assignor_name) == ("96790240-3", "OTRO FONDO SA")
    page = await factor.http.get(document["url"].removeprefix("http://testserver"))
    assert page.status_code == 200, page.text
    assert "Factura emitida por RUT 76.399.752-9, cedida a FACTORING CAPITAL SPA" in page.text


async def test_a_person_who_does_not_act_for_the_company_is_refused_in_words(
    factor: Tenant, sii: Emulator, session: Session, sii_access: SiiAccess, seller_pfx: bytes
) -> None:
    # The seller's person's certificate, stored for the factoring company: SII knows no such authority.
    stored = await factor.post(
        "/v1/updateCompanySiiCertificate",
        {"certificate_pfx_base64": base64.b64encode(seller_pfx).decode(), "certificate_password": PASSWORD},
    )
    assert stored.status_code == 200, stored.text
    with pytest.raises(SiiError) as refused:
        sync(session, sii_access, sii.acceptances.now().date())
    assert refused.value.code == "sii_ws_not_authorized"
    assert "may not list the cessions of 77665544-9" in refused.value.message


def test_months_run_from_the_first_to_today() -> None:
    assert months_since(date(2026, 11, 20), date(2027, 1, 5)) == [
        (date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 12, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 1, 5)),
    ]


def test_the_command_says_what_is_wrong_with_its_options(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_month = runner.invoke(
        cli.app, ["factoring", "sync-cessions", "--company", FACTOR, "--since", "2026-13"]
    )
    assert bad_month.exit_code == 2
    assert "--since: '2026-13' is not a month as YYYY-MM" in bad_month.stderr
    bad_rut = runner.invoke(cli.app, ["factoring", "sync-cessions", "--company", "1-2", "--since", "2026-11"])
    assert bad_rut.exit_code == 2
    assert "--company" in bad_rut.stderr


def test_the_command_brings_the_cessions_in_and_says_how_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sii: Emulator, factor_pfx: bytes
) -> None:
    db = tmp_path / "sync-cessions.db"
    migrate.upgrade(f"sqlite:///{db}")
    for name in [k for k in os.environ if k.startswith("DTEHUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DTEHUB_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("DTEHUB_SII_WS_URL", sii.base_url)
    monkeypatch.setenv("DTEHUB_SII_RECLAMO_URL", sii.base_url)
    monkeypatch.setenv("DTEHUB_SII_CA_BUNDLE", str(sii.ca_bundle))
    monkeypatch.setenv("DTEHUB_PFX_PASSWORD", PASSWORD)
    monkeypatch.setenv("DTEHUB_SECRET_KEY", "una-clave-de-prueba-de-32-caracteres-o-mas")
    get_settings.cache_clear()
    pfx = tmp_path / "fernanda.pfx"
    pfx.write_bytes(factor_pfx)
    runner = CliRunner()
    created = runner.invoke(
        cli.app, ["companies", "create", "--rut", FACTOR, "--name", "FACTORING CAPITAL SPA"]
    )
    assert created.exit_code == 0, created.output
    stored = runner.invoke(cli.app, ["companies", "certificate", "--rut", FACTOR, "--pfx", str(pfx)])
    assert stored.exit_code == 0, stored.output
    folio = next_folio()
    day = registered(sii, folio)
    command = ["factoring", "sync-cessions", "--company", FACTOR, "--since", f"{day:%Y-%m}"]

    first = runner.invoke(cli.app, command)
    again = runner.invoke(cli.app, command)

    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f"{day:%Y-%m} to ")
    assert "new held document(s) (known from SII, no AEC yet)" in first.stdout
    assert again.exit_code == 0, again.output
    assert ": SII's RTC lists" in again.stdout
    assert " 0 new held document(s)" in again.stdout
    engine = create_engine(f"sqlite:///{db}", pool_size=1)
    try:
        with unit_of_work(create_sessionmaker(engine), writes=False) as session:
            rows = session.scalars(
                select(Document).where(Document.number == str(folio), Document.held.is_(True))
            ).all()
            assert [(row.source, row.issuer_rut) for row in rows] == [("rtc", SELLER)]
    finally:
        engine.dispose()
    assert PASSWORD not in first.output + first.stderr
    get_settings.cache_clear()
