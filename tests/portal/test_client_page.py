"""The customer page a client's ``url`` opens: all of that customer's documents of that company,
pending first, with what is owed and overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago
from dtehub.portal import service as portal_service
from tests.conftest import Tenant
from tests.notes import CLIENT_RUT, credit_xml, invoice_xml
from tests.portal.helpers import (
    Page,
    create_document,
    get_client,
    local,
    mark_paid,
    open_page,
    upload,
)

HEADERS = ["Documento", "Emisión", "Vencimiento", "Estado", "Total", "Saldo"]


@dataclass
class Customer:
    url: str
    ids: dict[str, str]
    """Each document's id by its folio."""
    urls: dict[str, str]


async def four_documents(tenant: Tenant, session: Session) -> Customer:
    """One document in each status for CLIENT_RUT, issued in folio order."""
    today = today_in_santiago()
    stored = {}
    for folio, total, issued, due in (
        (501, 11_900, date(2024, 1, 5), today + timedelta(days=20)),  # Por vencer
        (502, 23_800, date(2024, 1, 6), today - timedelta(days=3)),  # Vencida
        (503, 35_700, date(2024, 1, 7), today - timedelta(days=40)),  # Pagada
        (504, 47_600, date(2024, 1, 8), today + timedelta(days=5)),  # Anulada
    ):
        stored[str(folio)] = await upload(
            tenant, invoice_xml(tenant, folio, total, issue_date=issued, due_date=due)
        )
    mark_paid(session, stored["503"]["id"], date(2024, 2, 1))
    await upload(tenant, credit_xml(tenant, 90, 47_600, 504, reason=1, reason_text="Anula"))
    client = await get_client(tenant, stored["501"]["client"]["id"])
    return Customer(
        client["url"],
        {k: v["id"] for k, v in stored.items()},
        {k: local(v["url"]) for k, v in stored.items()},
    )


def folios(page: Page, caption: str) -> list[str]:
    return [row[0].rsplit(" ", 1)[1] for row in page.table(caption)]


async def test_pending_documents_come_first_with_totals_owed_and_overdue(
    tenant: Tenant, session: Session
) -> None:
    customer = await four_documents(tenant, session)
    today = today_in_santiago()

    page = await open_page(tenant.http, local(customer.url))

    assert page.one("//h1") == "CLIENTE DE PRUEBA LIMITADA"
    assert page.one('//p[@class="lead"]') == "RUT 99.999.999-9 · documentos emitidos por DUEMINT SPA"
    assert page.one('//*[@class="brand-name"]') == "DUEMINT SPA"
    assert page.texts('//dl[@class="figures"]/div') == ["Total adeudado $ 35.700", "Vencido $ 23.800"]
    assert page.texts("//h2") == ["Pendientes de pago", "Pagados y anulados"]
    assert page.texts("(//table)[1]/thead//th") == HEADERS
    day = "%d-%m-%Y"
    assert page.table("Documentos vencidos y por vencer") == [
        ["Factura electrónica N° 502", "06-01-2024", (today - timedelta(days=3)).strftime(day), "Vencida",
         "$ 23.800", "$ 23.800"],
        ["Factura electrónica N° 501", "05-01-2024", (today + timedelta(days=20)).strftime(day), "Por vencer",
         "$ 11.900", "$ 11.900"],
    ]  # fmt: skip
    assert page.table("Documentos pagados y anulados") == [
        ["Factura electrónica N° 504", "08-01-2024", (today + timedelta(days=5)).strftime(day), "Anulada",
         "$ 47.600", "$ 0"],
        ["Factura electrónica N° 503", "07-01-2024", (today - timedelta(days=40)).strftime(day), "Pagada",
         "$ 35.700", "$ 0"],
    ]  # fmt: skip


async def test_each_row_opens_that_documents_own_page(tenant: Tenant, session: Session) -> None:
    customer = await four_documents(tenant, session)

    page = await open_page(tenant.http, local(customer.url))

    links = page.links()
    for folio, url in customer.urls.items():
        assert links[f"Factura electrónica N° {folio}"] == url
        opened = await open_page(tenant.http, links[f"Factura electrónica N° {folio}"])
        assert opened.one("//h1") == f"Factura electrónica N° {folio}"


async def test_no_other_customers_or_companys_documents_appear(
    tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    customer = await four_documents(tenant, session)
    await upload(tenant, invoice_xml(tenant, 601, 99_000, receiver="11111111-1"))  # another customer
    # The same customer (same RUT) of another company.
    await upload(other_tenant, invoice_xml(other_tenant, 602, 88_000, receiver=CLIENT_RUT))

    page = await open_page(tenant.http, local(customer.url))

    shown = folios(page, "Documentos vencidos") + folios(page, "Documentos pagados")
    assert sorted(shown) == ["501", "502", "503", "504"]
    assert "601" not in page.body
    assert "602" not in page.body
    assert "99.000" not in page.body
    assert "88.000" not in page.body
    assert "COMERCIALIZADORA" not in page.body


async def test_the_other_companys_customer_page_shows_only_its_own(
    tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    await four_documents(tenant, session)
    theirs = await upload(other_tenant, invoice_xml(other_tenant, 602, 88_000, receiver=CLIENT_RUT))
    client = await get_client(other_tenant, theirs["client"]["id"])

    page = await open_page(other_tenant.http, local(client["url"]))

    assert folios(page, "Documentos vencidos") == ["602"]
    assert "No hay documentos pagados ni anulados." in page.body
    assert page.texts('//dl[@class="figures"]/div') == ["Total adeudado $ 88.000", "Vencido $ 0"]
    assert "DUEMINT" not in page.body


async def test_totals_are_per_currency(tenant: Tenant) -> None:
    first = await upload(tenant, invoice_xml(tenant, 801, 10_000, due_date=date(2020, 1, 1)))
    client_id = first["client"]["id"]
    await create_document(
        tenant,
        client_id,
        "E-1",
        currency="USD",
        total="1500.50",
        taxes="0",
        issueDate="2019-12-01",
        dueDate="2099-01-01",
    )
    await create_document(
        tenant,
        client_id,
        "E-2",
        currency="USD",
        total="100",
        taxes="0",
        issueDate="2019-12-01",
        dueDate="2020-01-01",
    )
    client = await get_client(tenant, client_id)

    page = await open_page(tenant.http, local(client["url"]))

    assert page.texts('//dl[@class="figures"]/div') == [
        "Total adeudado (CLP) $ 10.000",
        "Vencido (CLP) $ 10.000",
        "Total adeudado (USD) US$ 1.600,50",
        "Vencido (USD) US$ 100,00",
    ]


async def test_a_customer_without_documents_owes_nothing(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createClient", {"name": "NUEVO CLIENTE SPA", "taxId": "12.345.678-5"})
    client = response.json()

    page = await open_page(tenant.http, local(client["url"]))

    assert page.texts('//dl[@class="figures"]/div') == ["Total adeudado $ 0", "Vencido $ 0"]
    assert "No hay documentos pendientes de pago." in page.body
    assert "No hay documentos pagados ni anulados." in page.body
    assert page.tree.xpath("//table") == []


async def test_long_lists_are_capped_and_say_so_while_totals_count_everything(
    tenant: Tenant, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await four_documents(tenant, session)
    for folio in (505, 506):
        await upload(tenant, invoice_xml(tenant, folio, 1_190, due_date=date(2030, 1, 1)))
    monkeypatch.setattr(portal_service, "PENDING_LIMIT", 2)
    monkeypatch.setattr(portal_service, "OTHERS_LIMIT", 1)

    page = await open_page(tenant.http, local(customer.url))

    assert folios(page, "Documentos vencidos") == ["502", "501"]
    assert folios(page, "Documentos pagados") == ["504"]
    assert page.texts('//p[@class="capped"]') == [
        "Se muestran los 2 documentos pendientes que vencen primero, de 4 en total. "
        "Los totales consideran todos.",
        "Se muestra el documento más reciente, de 2 en total.",
    ]
    assert page.texts('//dl[@class="figures"]/div')[0] == "Total adeudado $ 38.080"


async def test_a_list_within_its_limits_says_nothing_about_limits(tenant: Tenant, session: Session) -> None:
    customer = await four_documents(tenant, session)

    page = await open_page(tenant.http, local(customer.url))

    assert page.texts('//p[@class="capped"]') == []
