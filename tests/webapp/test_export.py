"""Export of the documents page's list (``/app/documents.csv``, ``/app/documents.xlsx``): the same
documents as the page for the same filter, in the same order, read in batches through the company's
own queries; amounts as plain numbers, dates and RUTs as people and programs in Chile read them."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago, utcnow
from dtehub.models import Client, Document, DocumentState, Role
from dtehub.reports import service as reports
from dtehub.users import service as users
from dtehub.users.service import SessionEnded
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of
from tests.webapp.test_clients import client_with


def rows_of_csv(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


async def test_the_csv_is_the_pages_list_in_chilean_formats_with_plain_amounts(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    alfa = await client_with(tenant, "ALFA; LTDA «Ñuñoa»", "96874030-K", (1_190_000, -10), (500_000, 5))
    await client_with(tenant, "BETA SPA", "77777777-7", (300_000, -40))
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")
    today = today_in_santiago()

    page = await web.get("/app/documents", status="overdue")
    assert 'href="/app/documents.csv?status=overdue"' in page.text
    assert 'href="/app/documents.xlsx?status=overdue"' in page.text
    answer = await web.get("/app/documents.csv", status="overdue")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == f'attachment; filename="documentos-{today}.csv"'
    assert answer.headers["cache-control"] == "private, no-store"
    header, *rows = rows_of_csv(answer.content)
    assert header[4:] == [
        "RUT cliente",
        "Cliente",
        "Emisión",
        "Vencimiento",
        "Estado",
        "Moneda",
        "Total",
        "Saldo",
    ]
    due = (today - timedelta(days=40)).strftime("%d-%m-%Y")
    assert rows[0][1:] == [
        "Factura electrónica", "33", "77771", "77777777-7", "BETA SPA",
        (today - timedelta(days=70)).strftime("%d-%m-%Y"), due, "Vencida", "CLP", "300000", "300000",
    ]  # fmt: skip
    assert rows[1][4:] == [
        "96874030-K",
        "ALFA; LTDA «Ñuñoa»",
        (today - timedelta(days=40)).strftime("%d-%m-%Y"),
        (today - timedelta(days=10)).strftime("%d-%m-%Y"),
        "Vencida",
        "CLP",
        "1190000",
        "1190000",
    ]
    assert len(rows) == 2  # the page's two overdue documents; the one not due is not in this filter
    listed = text_of(page)
    assert "Documentos 2" in listed
    assert "Saldo por cobrar $1.490.000" in listed

    by_client = rows_of_csv((await web.get("/app/documents.csv", clientId=alfa)).content)
    assert [r[5] for r in by_client[1:]] == ["ALFA; LTDA «Ñuñoa»"] * 2


async def test_the_xlsx_holds_real_dates_and_numbers(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await client_with(tenant, "ALFA LTDA", "96874030-K", (1_190_000, -10), (500_000, 5))
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")
    today = today_in_santiago()

    answer = await web.get("/app/documents.xlsx")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-2:] == ("Total", "Saldo")
    assert [r[8] for r in rows[1:]] == ["Vencida", "Por vencer"]
    first = rows[1]
    assert first[7].date() == today - timedelta(days=10)  # type: ignore[union-attr]
    assert (first[10], first[11]) == (1_190_000, 1_190_000)
    cells = next(iter(sheet.iter_rows(min_row=2, max_row=2)))
    assert cells[7].number_format == "DD-MM-YYYY"
    assert cells[10].number_format == "#,##0"


async def test_a_long_list_is_read_in_batches_and_nothing_is_lost(
    web: WebBrowser, tenant: Tenant, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "EXPORT_BATCH", 7)
    client = Client(company_id=tenant.company_id, tax_id="96874030-K", name="ALFA LTDA")
    session.add(client)
    session.flush()
    today = today_in_santiago()
    session.add_all(
        Document(
            company_id=tenant.company_id,
            client_id=client.id,
            code=33,
            number=str(n),
            currency="CLP",
            issue_date=today - timedelta(days=60),
            due_date=today - timedelta(days=n % 5),
            state=DocumentState.OPEN,
            total_cents=n * 100,
            due_cents=n * 100,
        )
        for n in range(1, 31)
    )
    session.commit()
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")

    rows = rows_of_csv((await web.get("/app/documents.csv")).content)[1:]
    workbook = load_workbook(io.BytesIO((await web.get("/app/documents.xlsx")).content))
    sheet_rows = list(workbook.active.iter_rows(min_row=2, values_only=True))  # type: ignore[union-attr]

    assert sorted(int(r[3]) for r in rows) == list(range(1, 31))
    assert [int(r[3]) for r in rows] == [int(r[3]) for r in sheet_rows]  # the same order
    dues = [date.fromisoformat("-".join(reversed(r[7].split("-")))) for r in rows]
    assert dues == sorted(dues)
    assert sum(int(r[11]) for r in rows) == sum(range(1, 31))


async def test_an_export_asks_for_a_session_and_a_good_filter(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    signed_out = await web.get("/app/documents.csv")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/app/login?siguiente=%2Fapp%2Fdocuments.csv")
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")
    for params in ({"status": "lost"}, {"dueSince": "ayer"}, {"clientId": "x"}):
        answer = await web.get("/app/documents.xlsx", **params)
        assert answer.status_code == 400, params
        assert "Solicitud no válida" in text_of(answer)


async def test_a_name_that_looks_like_a_formula_stays_text(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await client_with(tenant, '=HYPERLINK("http://evil.example","Pagar")', "96874030-K", (1_000, -3))
    await client_with(tenant, "@SUMA", "77777777-7", (2_000, -2))
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")

    rows = rows_of_csv((await web.get("/app/documents.csv")).content)[1:]
    assert [r[5] for r in rows] == ['\'=HYPERLINK("http://evil.example","Pagar")', "'@SUMA"]
    answer = await web.get("/app/documents.xlsx")
    workbook = load_workbook(io.BytesIO(answer.content))
    cells = [row[5] for row in workbook.active.iter_rows(min_row=2)]  # type: ignore[union-attr]
    assert [(c.value, c.data_type) for c in cells] == [
        ('=HYPERLINK("http://evil.example","Pagar")', "s"),
        ("@SUMA", "s"),
    ]


async def test_other_currencies_keep_two_decimals(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    client = Client(company_id=tenant.company_id, tax_id="96874030-K", name="ALFA LTDA")
    session.add(client)
    session.flush()
    today = today_in_santiago()
    for number, (total, due) in enumerate(((123_456, 100_000), (100_000, 0)), 1):
        session.add(
            Document(
                company_id=tenant.company_id, client_id=client.id, code=110, number=str(number),
                currency="USD", issue_date=today, due_date=today + timedelta(days=number),
                state=DocumentState.OPEN, total_cents=total, due_cents=due or total,
            )
        )  # fmt: skip
    session.commit()
    add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")

    rows = rows_of_csv((await web.get("/app/documents.csv", currency="usd")).content)[1:]
    assert [(r[9], r[10], r[11]) for r in rows] == [
        ("USD", "1234.56", "1000.00"),
        ("USD", "1000.00", "1000.00"),
    ]
    sheet = load_workbook(io.BytesIO((await web.get("/app/documents.xlsx", currency="USD")).content)).active
    cells = next(iter(sheet.iter_rows(min_row=2, max_row=2)))  # type: ignore[union-attr]
    assert (cells[10].value, cells[10].number_format) == (1234.56, "#,##0.00")


async def test_a_user_disabled_mid_download_gets_no_more_rows(
    web: WebBrowser, tenant: Tenant, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "EXPORT_BATCH", 2)
    await client_with(tenant, "ALFA LTDA", "96874030-K", *((1_000 * n, -n) for n in range(1, 6)))
    user = add_user(session, tenant.company_id, Role.VIEWER, email="vera@example.cl")
    await web.signed_in("vera@example.cl")
    assert len(rows_of_csv((await web.get("/app/documents.csv")).content)) == 6  # header and 5 rows
    read = reports.open_batch
    batches: list[int] = []

    def disabled_after_the_first_batch(*arguments: Any) -> list[Any]:
        rows = read(*arguments)
        batches.append(len(rows))
        users.disable(session, user, utcnow())  # as `dtehub users disable` would, between two batches
        session.commit()
        return rows

    monkeypatch.setattr(reports, "open_batch", disabled_after_the_first_batch)
    with pytest.raises(SessionEnded):
        await web.get("/app/documents.csv")
    assert batches == [2]
