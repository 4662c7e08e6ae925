# ruff: noqa: E501  (the spec example's base64 is one long line)
"""The spec page's createDocumentFromXml example, run as a test."""

from __future__ import annotations

import base64

from dtehub.kit.dates import today_in_santiago
from tests.conftest import Tenant

# The base64 exactly as it appears in Duemint's example request.
SPEC_XML_BASE64 = "PERURSB2ZXJzaW9uPSIxLjAiPgo8RG9jdW1lbnRvIElEPSJNaVBFNzY0NTM3MDctMiI+CiAgICA8RW5jYWJlemFkbz4KICAgICAgPElkRG9jPgogICAgICAgIDxUaXBvRFRFPjMzPC9UaXBvRFRFPgogICAgICAgIDxGb2xpbz42OTY8L0ZvbGlvPgogICAgICAgIDxGY2hFbWlzPjIwMTgtMDQtMDY8L0ZjaEVtaXM+CiAgICAgICAgPFRwb1RyYW5Db21wcmE+MTwvVHBvVHJhbkNvbXByYT4KICAgICAgICA8VHBvVHJhblZlbnRhPjE8L1Rwb1RyYW5WZW50YT4KICAgICAgICA8Rm1hUGFnbz4yPC9GbWFQYWdvPgogICAgICA8L0lkRG9jPgogICAgICA8RW1pc29yPgogICAgICAgIDxSVVRFbWlzb3I+NzY0NTM3MDctNjwvUlVURW1pc29yPgogICAgICAgIDxSem5Tb2M+RFVFTUlOVCBTUEE8L1J6blNvYz4KICAgICAgICA8R2lyb0VtaXM+REVTQVJST0xMTyBZIFZFTlRBIERFIFNPRlRXQVJFUywgU0lTVEVNQVMgWSBBUFBTPC9HaXJvRW1pcz4KICAgICAgICA8Q29ycmVvRW1pc29yPlBBQkxPQERVRU1JTlQuQ09NPC9Db3JyZW9FbWlzb3I+CiAgICAgICAgPEFjdGVjbz43MjQwMDA8L0FjdGVjbz4KICAgICAgICA8Q2RnU0lJU3VjdXI+MDgwNTYxOTU1PC9DZGdTSUlTdWN1cj4KICAgICAgICA8RGlyT3JpZ2VuPkFWLiBMT1MgRE9NSU5JQ09TIDg2MzAgIDMxMDwvRGlyT3JpZ2VuPgogICAgICAgIDxDbW5hT3JpZ2VuPkxBUyBDT05ERVM8L0NtbmFPcmlnZW4+CiAgICAgICAgPENpdWRhZE9yaWdlbj5TQU5USUFHTzwvQ2l1ZGFkT3JpZ2VuPgogICAgICA8L0VtaXNvcj4KICAgICAgPFJlY2VwdG9yPgogICAgICAgIDxSVVRSZWNlcD45OTk5OTk5OS05PC9SVVRSZWNlcD4KICAgICAgICA8UnpuU29jUmVjZXA+Q0xJRU5URSBFSkVNUExPPC9Sem5Tb2NSZWNlcD4KICAgICAgICA8R2lyb1JlY2VwPlZFTlRBIEFMIFBPUiBNQVlPUiBERSBIVUVWT1MsIExFQ0hFPC9HaXJvUmVjZXA+CiAgICAgICAgPERpclJlY2VwPkFWIExBUyBDT05ERVMgNjkwMzwvRGlyUmVjZXA+CiAgICAgICAgPENtbmFSZWNlcD5MQVMgQ09OREVTPC9DbW5hUmVjZXA+CiAgICAgICAgPENpdWRhZFJlY2VwPlNBTlRJQUdPPC9DaXVkYWRSZWNlcD4KICAgICAgPC9SZWNlcHRvcj4KICAgICAgPFRvdGFsZXM+CiAgICAgICAgPE1udE5ldG8+ODA5MDE8L01udE5ldG8+CiAgICAgICAgPFRhc2FJVkE+MTkuMDA8L1Rhc2FJVkE+CiAgICAgICAgPElWQT4xNTM3MTwvSVZBPgogICAgICAgIDxNbnRUb3RhbD45NjI3MjwvTW50VG90YWw+CiAgICAgIDwvVG90YWxlcz4KICAgIDwvRW5jYWJlemFkbz4KICAgIDxEZXRhbGxlPgogICAgICA8TnJvTGluRGV0PjE8L05yb0xpbkRldD4KICAgICAgPE5tYkl0ZW0+U0VSVklDSU9TIFZBUklPUzwvTm1iSXRlbT4KICAgICAgPERzY0l0ZW0+Q09OU1VMVE9SSUEgWSBBU0VTT1JJQTwvRHNjSXRlbT4KICAgICAgPFF0eUl0ZW0+MS4wMDwvUXR5SXRlbT4KICAgICAgPFVubWRJdGVtPnVuaTwvVW5tZEl0ZW0+CiAgICAgIDxQcmNJdGVtPjgwOTAwLjY3PC9QcmNJdGVtPgogICAgICA8TW9udG9JdGVtPjgwOTAxPC9Nb250b0l0ZW0+CiAgICA8L0RldGFsbGU+CiAgPC9Eb2N1bWVudG8+CjwvRFRFPg=="
EXPECTED_NOTES = (
    "*** LINEAS DETALLE DTE *** NroLinDet: 1 NmbItem: SERVICIOS VARIOS DscItem: CONSULTORIA Y ASESORIA "
    "QtyItem: 1.00 PrcItem: 80900.67 MontoItem: 80901 "
)


async def test_example_answers_the_fields_of_the_example_response(tenant: Tenant) -> None:
    response = await tenant.post("/v1/createDocumentFromXml", {"send": 1, "xml": SPEC_XML_BASE64})

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["number"] == "696"
    assert doc["issueDate"] == "2018-04-06"
    assert doc["dueDate"] == "2018-04-13"  # FmaPago 2 (credit): issue date + the company's 7 days
    assert doc["net"] == "80901.00"
    assert doc["taxes"] == "15371.00"
    assert doc["total"] == "96272.00"
    assert doc["amountDue"] == "96272.00"
    assert doc["paidAmount"] == "0.00"
    assert doc["paidDate"] is None
    assert doc["clientTaxId"] == "99999999-9"
    assert doc["code"] == 33
    assert doc["currency"] == "CLP"
    assert doc["notes"] == EXPECTED_NOTES
    # The status as of today: due 2018-04-13, so overdue on any day after it in Santiago.
    assert today_in_santiago().isoformat() > "2018-04-13"
    assert (doc["status"], doc["statusName"]) == (3, "Vencida")
    assert doc["tags"] == []
    assert doc["files"] == []
    for link in ("url", "xml", "pdf"):
        assert doc[link].startswith("https://dtehub.test/portal/")
        assert doc[link].rsplit("/", 2)[-2] == doc["id"]


async def test_example_creates_the_client_from_receptor(tenant: Tenant) -> None:
    doc = (await tenant.post("/v1/createDocumentFromXml", {"xml": SPEC_XML_BASE64})).json()

    client = (await tenant.get("/v1/getClient", id=doc["client"]["id"])).json()

    assert client["taxId"] == "99999999-9"
    assert client["name"] == "CLIENTE EJEMPLO"
    assert client["activity"] == "VENTA AL POR MAYOR DE HUEVOS, LECHE"
    assert client["address"] == "AV LAS CONDES 6903"
    assert client["comuna"] == "LAS CONDES"
    assert client["city"] == "SANTIAGO"


async def test_xml_link_serves_the_original_bytes(tenant: Tenant) -> None:
    doc = (await tenant.post("/v1/createDocumentFromXml", {"xml": SPEC_XML_BASE64})).json()

    response = await tenant.http.get(doc["xml"].removeprefix("https://dtehub.test"))

    assert response.status_code == 200
    assert response.content == base64.b64decode(SPEC_XML_BASE64)
    assert response.headers["content-type"].startswith("application/xml")
