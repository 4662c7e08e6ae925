"""A link's key is its only credential: a wrong key, another object's key, another company's object
and a malformed id all answer the very same 404 page; every portal answer carries the security
headers and stays out of shared caches."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import Tenant
from tests.notes import credit_xml, invoice_xml
from tests.portal.helpers import (
    FACTURA,
    Page,
    assert_portal_headers,
    get_client,
    key_of,
    local,
    open_page,
    upload,
    wrong,
)


def assert_not_found(response: httpx.Response) -> Page:
    assert response.status_code == 404, response.text
    assert_portal_headers(response)
    page = Page(response)
    assert page.one("//h1") == "Página no encontrada"
    return page


async def links_of_each_kind(tenant: Tenant) -> dict[str, str]:
    """A live link of every kind the portal serves, by kind."""
    invoice = await upload(tenant, invoice_xml(tenant, 100, 1190))
    note = await upload(tenant, credit_xml(tenant, 7, 190, 100))
    client = await get_client(tenant, invoice["client"]["id"])
    return {
        "invoice": local(invoice["url"]),
        "pdf": local(invoice["pdf"]),
        "xml": local(invoice["xml"]),
        "client": local(client["url"]),
        "note_pdf": local(note["pdf"]),
        "note_xml": local(note["xml"]),
    }


async def test_every_kind_of_link_opens_with_its_key(tenant: Tenant) -> None:
    links = await links_of_each_kind(tenant)

    for path in links.values():
        response = await tenant.http.get(path)
        assert response.status_code == 200, (path, response.text)
        assert_portal_headers(response)


async def test_a_wrong_key_a_missing_object_and_a_malformed_id_are_the_same_page(tenant: Tenant) -> None:
    links = await links_of_each_kind(tenant)
    reference = assert_not_found(await tenant.http.get("/portal/invoice/99999999/nokey"))

    for path in links.values():
        prefix, key = path.rsplit("/", 1)
        object_id = prefix.rsplit("/", 1)[1]
        route = prefix.rsplit("/", 1)[0]
        for variant in (
            f"{prefix}/{wrong(key)}",  # one character off
            f"{prefix}/{key[:-1]}",  # truncated
            f"{prefix}/{key}x",  # too long
            f"{prefix}/{key.upper() if key.upper() != key else key.lower()}",  # case matters
            f"{route}/{int(object_id) + 100_000}/{key}",  # no such object
            f"{route}/0{object_id}x/{key}",  # malformed id
            f"{route}/{object_id}",  # no key at all
        ):
            response = await tenant.http.get(variant)
            assert_not_found(response)
            assert response.text == reference.response.text, variant
            assert dict(response.headers) == dict(reference.response.headers), variant


async def test_one_objects_key_opens_no_other_object(tenant: Tenant) -> None:
    first = await upload(tenant, invoice_xml(tenant, 100, 1190))
    second = await upload(tenant, invoice_xml(tenant, 101, 2380))
    note = await upload(tenant, credit_xml(tenant, 7, 190, 100))
    client = await get_client(tenant, first["client"]["id"])

    for path in (
        f"/portal/invoice/{second['id']}/{key_of(first['url'])}",
        f"/portal/showPdf/{second['id']}/{key_of(first['pdf'])}",
        f"/portal/client/{client['id']}/{key_of(first['url'])}",  # a document's key on its client
        f"/portal/invoice/{first['id']}/{key_of(client['url'])}",  # a client's key on its document
        f"/portal/showNotePdf/{note['id']}/{key_of(first['url'])}",  # the invoice's key on its note
        f"/portal/invoice/{note['id']}/{key_of(note['pdf'])}",  # a note's id and key as a document's
    ):
        assert_not_found(await tenant.http.get(path))


async def test_another_companys_objects_are_missing_ones(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = await upload(tenant, invoice_xml(tenant, 100, 1190))
    theirs = await upload(other_tenant, FACTURA)
    their_client = await get_client(other_tenant, theirs["client"]["id"])

    for path in (
        f"/portal/invoice/{theirs['id']}/{key_of(mine['url'])}",
        f"/portal/showPdf/{theirs['id']}/{key_of(mine['url'])}",
        f"/portal/downloadInvoiceXml/{theirs['id']}/{key_of(mine['url'])}",
        f"/portal/client/{their_client['id']}/{key_of(mine['url'])}",
    ):
        page = assert_not_found(await tenant.http.get(path))
        assert "COMERCIALIZADORA" not in page.body
        assert "25568" not in page.body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("format=a4", "El formato «a4» no existe: use letter o 80mm."),
        ("format=", "El formato «» no existe: use letter o 80mm."),
        ("cedible=2", "El parámetro cedible acepta 0 (copia normal) o 1 (copia CEDIBLE)."),
        ("cedible=yes", "El parámetro cedible acepta 0 (copia normal) o 1 (copia CEDIBLE)."),
    ],
)
async def test_a_bad_print_option_is_a_400_page_that_says_what_to_use(
    tenant: Tenant, query: str, message: str
) -> None:
    invoice = await upload(tenant, invoice_xml(tenant, 100, 1190))

    response = await tenant.http.get(f"{local(invoice['pdf'])}?{query}")

    assert response.status_code == 400
    assert_portal_headers(response)
    page = Page(response)
    assert page.one("//h1") == "Solicitud no válida"
    assert page.one('//p[@class="lead"]') == message


async def test_a_bad_print_option_on_a_wrong_key_is_still_the_404(tenant: Tenant) -> None:
    invoice = await upload(tenant, invoice_xml(tenant, 100, 1190))
    path = local(invoice["pdf"])
    wrong_path = f"{path.rsplit('/', 1)[0]}/{wrong(key_of(path))}"

    assert (await tenant.http.get(f"{path}?format=a4")).status_code == 400
    assert_not_found(await tenant.http.get(f"{wrong_path}?format=a4"))
    assert_not_found(await tenant.http.get(f"{wrong_path}?cedible=yes"))
    assert_not_found(await tenant.http.get("/portal/showPdf/999999999/" + key_of(path) + "?format=a4"))


async def test_the_stylesheet_is_public_and_cached_long(tenant: Tenant) -> None:
    invoice = await upload(tenant, invoice_xml(tenant, 100, 1190))
    page = await open_page(tenant.http, local(invoice["url"]))
    (href,) = page.tree.xpath('//link[@rel="stylesheet"]/@href')

    response = await tenant.http.get(href)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert_portal_headers(response, cache="public, max-age=31536000, immutable")
    assert "url(" not in response.text
    assert "@import" not in response.text
    assert re.search(r":focus-visible\s*{[^}]*outline", response.text)  # a visible focus


@pytest.mark.parametrize("path", ["/portal/nothing-here", "/portal/static/other.css", "/portal/invoice"])
async def test_unknown_portal_paths_are_the_same_404_page(client: httpx.AsyncClient, path: str) -> None:
    reference = await client.get("/portal/invoice/1/nokey")

    response = await client.get(path)

    assert_not_found(response)
    assert response.text == reference.text


async def test_posting_to_a_portal_page_is_refused_in_html(tenant: Tenant) -> None:
    invoice = await upload(tenant, invoice_xml(tenant, 100, 1190))

    response = await tenant.http.post(local(invoice["url"]))

    assert response.status_code == 405
    assert_portal_headers(response)
    assert Page(response).one("//h1") == "Operación no permitida"


async def test_answers_the_framework_gives_by_itself_carry_the_headers(tenant: Tenant) -> None:
    invoice = await upload(tenant, invoice_xml(tenant, 100, 1190))
    headers = {"Content-Length": str(100 * 1024 * 1024)}

    too_large = await tenant.http.request("GET", local(invoice["url"]), headers=headers, content=b"")
    trailing_slash = await tenant.http.get(local(invoice["url"]) + "/")

    assert too_large.status_code == 413
    assert_portal_headers(too_large)
    assert trailing_slash.status_code in (307, 404)
    assert_portal_headers(trailing_slash)
