"""The company's printing settings through the API and the CLI: SII resolution and office, the logo."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from dtehub.companies.logo import InvalidLogo, normalize_logo
from tests.conftest import Tenant, assert_error


def image_bytes(
    size: tuple[int, int], image_format: str, color: tuple[int, int, int] = (20, 60, 160)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=image_format)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def test_the_sii_resolution_and_office_are_settings(tenant: Tenant) -> None:
    before = (await tenant.get("/v1/getCompany")).json()
    assert before["siiResolutionNumber"] is None
    assert before["siiResolutionDate"] is None
    assert before["siiOffice"] == ""
    assert before["hasLogo"] is False

    response = await tenant.post(
        "/v1/updateCompany",
        {"siiResolutionNumber": 80, "siiResolutionDate": "2014-08-22", "siiOffice": " santiago   oriente "},
    )

    assert response.status_code == 200, response.text
    after = (await tenant.get("/v1/getCompany")).json()
    assert after["siiResolutionNumber"] == 80
    assert after["siiResolutionDate"] == "2014-08-22"
    assert after["siiOffice"] == "SANTIAGO ORIENTE"
    assert after["name"] == before["name"]  # omitted fields stay


async def test_an_empty_name_in_update_company_keeps_the_name(tenant: Tenant) -> None:
    # Duemint's rule for a field it cannot use: absent, with a warning (it was a 400, which the API
    # document, where an optional field takes an empty text, did not say).
    before = (await tenant.get("/v1/getCompany")).json()

    response = await tenant.post("/v1/updateCompany", {"name": "\t \t", "siiOffice": "Talca"})

    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["siiOffice"]) == (before["name"], "TALCA")
    assert response.json()["warnings"] == [{"parameter": "name", "value": "\t \t", "used": None}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"siiResolutionNumber": -1}, "siiResolutionNumber"),
        ({"siiResolutionNumber": 10**7}, "siiResolutionNumber"),
        ({"siiResolutionDate": "2014-13-01"}, "siiResolutionDate"),
        ({"siiOffice": "X" * 65}, "siiOffice"),
    ],
)
async def test_bad_sii_settings_are_refused_and_change_nothing(
    tenant: Tenant, body: dict[str, object], field: str
) -> None:
    await tenant.post("/v1/updateCompany", {"siiResolutionNumber": 80, "siiOffice": "TEMUCO"})

    response = await tenant.post("/v1/updateCompany", body)

    assert_error(response, 400, field=field)
    company = (await tenant.get("/v1/getCompany")).json()
    assert (company["siiResolutionNumber"], company["siiOffice"]) == (80, "TEMUCO")


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
async def test_a_logo_is_kept_as_a_small_png(tenant: Tenant, image_format: str) -> None:
    response = await tenant.post(
        "/v1/updateCompanyLogo", {"content": b64(image_bytes((1800, 400), image_format))}
    )

    assert response.status_code == 200, response.text
    assert response.json()["hasLogo"] is True
    assert (await tenant.get("/v1/getCompany")).json()["hasLogo"] is True


def test_a_logo_is_reencoded_within_600_by_300_keeping_its_shape() -> None:
    logo = normalize_logo(image_bytes((1800, 400), "JPEG"))

    with Image.open(io.BytesIO(logo.png)) as stored:
        assert stored.format == "PNG"
        assert stored.size == (logo.width, logo.height) == (600, 133)
    assert not logo.png.count(b"Exif")


@pytest.mark.parametrize(
    "content",
    [
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",  # a real format, not an accepted one
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # a PNG signature with nothing behind it
    ],
)
def test_what_is_not_a_png_or_jpeg_is_not_a_logo(content: bytes) -> None:
    with pytest.raises(InvalidLogo, match="PNG or JPEG"):
        normalize_logo(content)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels and holds none: what a decompression bomb's
    header says, without the bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("width", "height"), [(6_000, 6_000), (10_000, 10_000), (60_000, 60_000)])
def test_a_huge_image_is_refused_before_it_is_decoded(width: int, height: int) -> None:
    with pytest.raises(InvalidLogo, match="more than 25 megapixels"):
        normalize_logo(png_header_only(width, height))


async def test_a_bad_logo_is_refused_and_keeps_the_old_one(tenant: Tenant) -> None:
    await tenant.post("/v1/updateCompanyLogo", {"content": b64(image_bytes((100, 50), "PNG"))})

    not_an_image = await tenant.post("/v1/updateCompanyLogo", {"content": b64(b"hello")})
    not_base64 = await tenant.post("/v1/updateCompanyLogo", {"content": "@@@"})
    too_large = await tenant.post("/v1/updateCompanyLogo", {"content": b64(b"\0" * (1024 * 1024 + 1))})

    assert_error(not_an_image, 422, "unprocessable", "content")
    assert_error(not_base64, 400, "invalid_parameter", "content")
    assert_error(too_large, 413, "file_too_large", "content")
    assert (await tenant.get("/v1/getCompany")).json()["hasLogo"] is True


async def test_a_logo_can_be_removed(tenant: Tenant) -> None:
    await tenant.post("/v1/updateCompanyLogo", {"content": b64(image_bytes((100, 50), "PNG"))})

    removed = await tenant.delete("/v1/deleteCompanyLogo", None)
    again = await tenant.delete("/v1/deleteCompanyLogo", None)

    assert removed.status_code == 200, removed.text
    assert removed.json()["hasLogo"] is False
    assert_error(again, 404, "not_found", "logo")


async def test_one_companys_logo_is_not_anothers(tenant: Tenant, other_tenant: Tenant) -> None:
    await tenant.post("/v1/updateCompanyLogo", {"content": b64(image_bytes((100, 50), "PNG"))})

    assert (await other_tenant.get("/v1/getCompany")).json()["hasLogo"] is False
    assert_error(await other_tenant.delete("/v1/deleteCompanyLogo", None), 404)


def dtehub(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DTEHUB_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "dtehub", *args]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60, check=False)


def test_the_cli_sets_the_resolution_office_and_logo(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert dtehub(database_url, "db", "upgrade").returncode == 0
    rut = "76453707-6"
    assert dtehub(database_url, "companies", "create", "--rut", rut, "--name", "DUEMINT SPA").returncode == 0
    logo = tmp_path / "logo.jpg"
    logo.write_bytes(image_bytes((300, 100), "JPEG"))
    not_an_image = tmp_path / "logo.png"
    not_an_image.write_text("not an image")

    updated = dtehub(
        database_url, "companies", "update", "--rut", rut, "--sii-resolution-number", "80",
        "--sii-resolution-date", "2014-08-22", "--sii-office", "Santiago Oriente",
    )  # fmt: skip
    with_logo = dtehub(database_url, "companies", "logo", "--rut", rut, str(logo))
    refused = dtehub(database_url, "companies", "logo", "--rut", rut, str(not_an_image))
    without_logo = dtehub(database_url, "companies", "logo", "--rut", rut, "--remove")

    assert updated.returncode == 0, updated.stderr
    shown = json.loads(updated.stdout)
    assert (shown["siiResolutionNumber"], shown["siiResolutionDate"], shown["siiOffice"]) == (
        "80",
        "2014-08-22",
        "SANTIAGO ORIENTE",
    )
    assert json.loads(with_logo.stdout)["hasLogo"] == "true"
    assert refused.returncode == 1
    assert "PNG or JPEG" in refused.stderr
    assert refused.stdout == ""
    assert json.loads(without_logo.stdout)["hasLogo"] == "false"
