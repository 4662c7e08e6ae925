"""/app/documents with the filter form: getDocuments' own filters, orders and pages, and the search by
folio, client name or RUT; the figures' lists stay as they were."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session

from dtehub.kit.dates import today_in_santiago
from dtehub.models import Document
from tests.conftest import Tenant
from tests.webapp.helpers import WebBrowser, add_user, text_of
from tests.webapp.test_dashboard import furnish
from tests.webapp.test_dashboard_sii import _claim


def numbers(page: str) -> list[int]:
    return [int(n) for n in re.findall(r"N° (\d+)</a>", page)]


async def _signed_in(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    await furnish(tenant)
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")


async def test_the_form_is_on_the_figures_list_and_keeps_it(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await _signed_in(web, tenant, session)

    page = (await web.get("/app/documents", status="overdue")).text

    assert '<label for="q">Folio, nombre o RUT del cliente</label>' in page
    assert "<legend>Fechas</legend>" in page
    assert '<option value="overdue" selected>Vencida</option>' in page
    assert numbers(page) == [100, 101, 102, 103]  # the figure's list: the oldest due first
    assert 'id="saldo"' in page
    untouched = {name: "" for name in ("q", "code", "tagId", "currency", "dateBy", "since", "until")}
    submitted = (await web.get("/app/documents", status="open", orderBy="", order="", **untouched)).text
    assert 'id="saldo"' in submitted  # the untouched form is still the figure's list


async def test_each_status(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    await _signed_in(web, tenant, session)

    async def listed(**asked: str) -> list[int]:
        answer = await web.get("/app/documents", **asked)
        assert answer.status_code == 200, answer.text
        return sorted(numbers(answer.text))

    assert await listed(status="paid", currency="CLP", code="33") == [200]
    assert await listed(status="all", currency="USD", code="33") == [300]
    assert await listed(status="open", code="33", currency="CLP") == list(range(100, 108))
    assert await listed(status="pending", code="33", currency="CLP") == [104, 105, 106, 107]
    assert await listed(status="overdue", code="33", currency="CLP") == [100, 101, 102, 103]
    assert await listed(status="voided", code="33") == []
    assert await listed(status="all", code="34") == []


async def test_search_by_folio_name_and_rut(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    await _signed_in(web, tenant, session)

    by_folio = await web.get("/app/documents", q="105")
    by_rut = await web.get("/app/documents", q="76.399.752-9", status="all")
    by_name = await web.get("/app/documents", q="alfa", status="all")
    several = await web.get("/app/documents", q="a", status="all")
    none = await web.get("/app/documents", q="gamma", status="all")
    beta_id = (await tenant.get("/v1/getClients", taxId="76399752-9")).json()["items"][0]["id"]
    renamed = await web.get("/app/documents", q="alfa", clientId=str(beta_id), status="all")

    assert numbers(by_folio.text) == [105]
    assert sorted(numbers(by_rut.text)) == [102, 103, 105, 107]
    assert sorted(numbers(by_name.text)) == [100, 101, 104, 106, 200, 300]
    assert "Cliente ALFA LTDA · RUT 96.874.030-K" in text_of(by_name)
    assert "Varios clientes coinciden: elija uno" in text_of(several)
    assert numbers(several.text) == []
    assert "ALFA LTDA (RUT 96.874.030-K)" in text_of(several)
    assert "No hay documentos." in text_of(none)
    assert sorted(numbers(renamed.text)) == [100, 101, 104, 106, 200, 300]  # the name searched wins


async def test_order_and_dates(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    await _signed_in(web, tenant, session)
    today = today_in_santiago()

    by_total = numbers((await web.get("/app/documents", status="all", currency="CLP", orderBy="5")).text)
    by_folio = numbers((await web.get("/app/documents", status="all", orderBy="4", order="ASC")).text)
    since = (today - timedelta(days=30)).isoformat()
    dated = numbers(
        (await web.get("/app/documents", status="all", since=since, until=today.isoformat())).text
    )

    assert by_total == [100, 107, 102, 101, 106, 103, 200, 105, 104]
    assert by_folio == [100, 101, 102, 103, 104, 105, 106, 107, 200, 300]
    assert sorted(dated) == [104, 105, 106]  # issued 30 days before their due date


async def test_a_tag_and_another_companys_tag(
    web: WebBrowser, tenant: Tenant, other_tenant: Tenant, session: Session
) -> None:
    await _signed_in(web, tenant, session)
    client = (await tenant.get("/v1/getClients")).json()["items"][0]["id"]
    today = today_in_santiago()
    body = {
        "clientId": client, "number": "900", "code": 33, "issueDate": today.isoformat(),
        "dueDate": today.isoformat(), "total": "1000", "taxes": "0", "tags": ["urgente"],
    }  # fmt: skip
    assert (await tenant.post("/v1/createDocument", body)).status_code == 200
    theirs = await other_tenant.post("/v1/createTag", {"name": "ajena"})
    tags = (await tenant.get("/v1/getTags")).json()["items"]
    tag_id = next(t["id"] for t in tags if t["name"] == "urgente")

    page = await web.get("/app/documents", tagId=str(tag_id))
    foreign = await web.get("/app/documents", tagId=str(theirs.json()["id"]), status="all")

    assert numbers(page.text) == [900]
    assert f'<option value="{tag_id}" selected>urgente</option>' in page.text
    assert foreign.status_code == 200
    assert numbers(foreign.text) == []
    assert "ajena" not in foreign.text


async def test_bad_values_are_clear_errors(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")

    for asked, message in [
        ({"code": "factura"}, "code: debe ser un número"),
        ({"orderBy": "9"}, "orderBy: uno de 1, 2, 3, 4, 5"),
        ({"status": "cobrada"}, "status: open, pending, overdue, paid, voided o all"),
        ({"since": "31-12-2026"}, "since: la fecha debe ser AAAA-MM-DD"),
        ({"xmlTed": "ok"}, "xmlTed: uno de valid, invalid"),
        ({"q": "76.399.752-0"}, "Búsqueda: el RUT no es válido"),
        ({"code": "33", "dueSince": "2026-01-01"}, "dueSince y dueUntil solo filtran las listas del tablero"),
    ]:
        answer = await web.get("/app/documents", **asked)
        assert answer.status_code == 400, asked
        assert message in text_of(answer), asked


async def test_paging_keeps_the_filter(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    created = await tenant.post("/v1/createClient", {"name": "ALFA LTDA", "taxId": "96874030-K"})
    day = today_in_santiago().isoformat()
    for number in range(1, 54):
        body = {
            "clientId": created.json()["id"], "number": str(number), "code": 33, "issueDate": day,
            "dueDate": day, "total": "1000", "taxes": "0",
        }  # fmt: skip
        assert (await tenant.post("/v1/createDocument", body)).status_code == 200
    add_user(session, tenant.company_id, email="ana@example.cl")
    await web.signed_in("ana@example.cl")

    first = await web.get("/app/documents", code="33", orderBy="4", order="ASC")
    second = await web.get("/app/documents", code="33", orderBy="4", order="ASC", page="2")

    assert numbers(first.text) == list(range(1, 51))
    assert "Página 1 de 2" in text_of(first)
    assert 'href="/app/documents?code=33&amp;orderBy=4&amp;order=ASC&amp;page=2"' in first.text
    assert numbers(second.text) == [51, 52, 53]


async def test_the_export_of_a_filter(web: WebBrowser, tenant: Tenant, session: Session) -> None:
    await _signed_in(web, tenant, session)
    asked = {"q": "alfa", "status": "all", "orderBy": "4", "order": "ASC"}

    page = (await web.get("/app/documents", **asked)).text
    csv = await web.get("/app/documents.csv", **asked)
    xlsx = await web.get("/app/documents.xlsx", **asked)

    assert 'href="/app/documents.csv?status=all&amp;q=alfa&amp;orderBy=4&amp;order=ASC"' in page
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert [line.split(";")[3] for line in lines[1:]] == ["100", "101", "104", "106", "200", "300"]
    assert lines[5].split(";")[8:] == ["Pagada", "CLP", "80000", "0"]
    assert lines[6].split(";")[9:] == ["USD", "5000.00", "5000.00"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[3] for row in rows[1:]] == ["100", "101", "104", "106", "200", "300"]
    assert rows[6][9:] == ("USD", 5000, 5000)


async def test_sii_state_xml_verdicts_and_creation_dates_as_the_api_lists_them(
    web: WebBrowser, tenant: Tenant, session: Session
) -> None:
    await _signed_in(web, tenant, session)
    await _claim(tenant, session)
    listed = (await tenant.get("/v1/getDocuments", resultsPerPage=100)).json()["items"]
    invalid = next(int(item["id"]) for item in listed if item["number"] == "105")
    session.execute(update(Document).where(Document.id == invalid).values(xml_schema="invalid"))
    session.commit()
    today = today_in_santiago()

    async def both(**asked: str) -> list[int]:
        page = sorted(numbers((await web.get("/app/documents", status="all", **asked)).text))
        api = (await tenant.get("/v1/getDocuments", resultsPerPage=100, **asked)).json()["items"]
        assert page == sorted(int(item["number"]) for item in api), asked
        return page

    assert await both(siiState="accepted") == [101]
    assert await both(siiState="claimed") == [100, 103, 106, 200, 300]
    assert await both(siiState="never_synced") == [102, 104, 105, 107]
    assert await both(xmlSchema="invalid") == [105]
    assert await both(dateBy="2", since=today.isoformat()) == [*range(100, 108), 200, 300]
    assert await both(dateBy="2", until=(today - timedelta(days=1)).isoformat()) == []
