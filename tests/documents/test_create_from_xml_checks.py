"""POST /v1/createDocumentFromXml: the XML checks' verdicts, the company's XML policy, and the signed
forms kept and served."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.orm import Session

from dtehub.dte.checks import Verdict
from dtehub.dte.signature import verify_dte_signature
from tests.conftest import Tenant, error_of, make_tenant
from tests.documents.from_xml import POLAR, SEED, SII_NS, counts, post_xml


async def test_a_real_signed_invoice_answers_its_verdicts_and_fields(other_tenant: Tenant) -> None:
    """The MIPYME invoice: signed with the SII namespace, served without it; schema, signature and
    timbre all check out, and every field is kept structurally."""
    response = await post_xml(other_tenant, POLAR.read_bytes())

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["xmlChecks"]["signature"] == "valid"
    assert doc["xmlChecks"]["ted"] == "valid"
    assert re.fullmatch(r"\d{7,8}-[\dK]", doc["xmlChecks"]["signer"])
    assert doc["xmlChecks"]["signedAt"].startswith("2019-")
    # SII's MIPYME portal signed it with its namespace and serves it without: that form is reported.
    assert doc["xmlChecks"]["signedForm"] == {"asFound": False, "added": {"xmlns": SII_NS}, "removed": {}}
    assert doc["dte"]["lines"], doc["dte"]
    again = (await other_tenant.get("/v1/getDocument", id=doc["id"])).json()
    assert again == doc
    listed = (await other_tenant.get("/v1/getDocuments", xmlSignature="valid", xmlTed="valid")).json()
    assert [item["id"] for item in listed["items"]] == [doc["id"]]
    assert listed["items"][0]["xmlChecks"] == doc["xmlChecks"]
    assert (await other_tenant.get("/v1/getDocuments", xmlSignature="invalid")).json()["items"] == []


async def test_the_unsigned_seed_is_kept_with_its_verdicts(tenant: Tenant) -> None:
    response = await post_xml(tenant, SEED.encode())

    assert response.status_code == 200, response.text
    checks = response.json()["xmlChecks"]
    assert (checks["signature"], checks["ted"], checks["signer"]) == ("unsigned", "absent", None)
    assert {problem["check"] for problem in checks["problems"]} >= {"signature", "ted"}
    unsigned = (await tenant.get("/v1/getDocuments", xmlSignature="unsigned")).json()
    assert unsigned["records"]["totalRecords"] == 1


@pytest.mark.parametrize(
    ("name", "value"), [("xmlTed", "unsigned"), ("xmlSchema", "absent"), ("xmlSignature", "x")]
)
async def test_a_verdict_filter_that_cannot_exist_is_a_clear_400(
    tenant: Tenant, name: str, value: str
) -> None:
    response = await tenant.get("/v1/getDocuments", **{name: value})

    assert response.status_code == 400, response.text
    assert error_of(response)["field"] == name


async def test_strict_policy_refuses_an_unsigned_dte_and_stores_nothing(tenant: Tenant) -> None:
    assert (await tenant.post("/v1/updateCompany", {"xmlPolicy": "strict"})).status_code == 200

    response = await post_xml(tenant, SEED.encode())

    assert response.status_code == 422, response.text
    error = error_of(response)
    # Unsigned and without a timbre it also breaks the schema (both are required): the first check says.
    assert (error["code"], error["field"]) == ("xml_schema_invalid", "xml")
    assert "strict" in error["message"]
    assert await counts(tenant) == (0, 0)


async def test_strict_policy_refuses_a_tampered_signed_invoice(
    session: Session, client: httpx.AsyncClient
) -> None:
    polar = make_tenant(session, client, "76399752-9", "POLAR")
    assert (await polar.post("/v1/updateCompany", {"xmlPolicy": "strict"})).status_code == 200
    original = POLAR.read_bytes()
    tampered = original.replace(b"<MntTotal>", b"<MntTotal>1", 1)
    assert tampered != original

    refused = await post_xml(polar, tampered)
    stored = await post_xml(polar, original)

    assert refused.status_code == 422, refused.text
    assert error_of(refused)["code"] in {"xml_schema_invalid", "signature_invalid", "ted_invalid"}
    assert stored.status_code == 200, stored.text
    assert stored.json()["xmlChecks"]["problems"] == []


async def test_lenient_policy_stores_a_tampered_invoice_with_its_verdicts(other_tenant: Tenant) -> None:
    tampered = POLAR.read_bytes().replace(b"<MntTotal>", b"<MntTotal>1", 1)

    response = await post_xml(other_tenant, tampered)

    assert response.status_code == 200, response.text
    checks = response.json()["xmlChecks"]
    assert checks["signature"] == "invalid"
    assert checks["ted"] == "invalid"
    codes = {problem["code"] for problem in checks["problems"]}
    assert {"signature_digest_mismatch", "ted_mismatch"} <= codes


async def test_a_dte_sent_in_an_envelope_is_served_as_its_own_bytes_and_still_verifies(
    other_tenant: Tenant,
) -> None:
    """An EnvioDTE declares the SII namespace for the DTE inside; what is kept and served is the DTE's
    own bytes cut out of it, whose signature checks out on its own."""
    dte = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", POLAR.read_bytes())
    envelope = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<EnvioDTE xmlns="http://www.sii.cl/SiiDte" '
        b'version="1.0"><SetDTE ID="SetDoc"><Caratula version="1.0"/>' + dte + b"</SetDTE></EnvioDTE>"
    )

    response = await post_xml(other_tenant, envelope)

    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["xmlChecks"]["signature"] == "valid"
    served = await other_tenant.http.get(doc["xml"].removeprefix("https://dtehub.test"))
    assert served.status_code == 200
    assert dte.strip() in served.content
    assert b"EnvioDTE" not in served.content
    assert verify_dte_signature(served.content).verdict == Verdict.VALID


async def test_an_invoice_given_an_envelopes_declarations_is_intact_and_says_how(
    other_tenant: Tenant,
) -> None:
    """The MIPYME invoice as a program that cut it out of an EnvioDTE leaves it: SII's namespace and the
    envelope's xmlns:xsi on its DTE element. Its content is the signed content: valid, in a form shown
    to the caller and kept (tests/dte/test_signed_forms.py shows a changed amount fails in every form)."""
    declarations = f' xmlns="{SII_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'.encode()
    moved = POLAR.read_bytes().replace(b'<DTE version="1.0">', b"<DTE" + declarations + b' version="1.0">', 1)
    assert declarations in moved

    response = await post_xml(other_tenant, moved)

    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["xmlChecks"]["signature"], doc["xmlChecks"]["problems"]) == ("valid", [])
    assert doc["xmlChecks"]["signedForm"] == {
        "asFound": False,
        "added": {},
        "removed": {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance"},
    }
    assert (await other_tenant.get("/v1/getDocument", id=doc["id"])).json()["xmlChecks"] == doc["xmlChecks"]
    served = await other_tenant.http.get(doc["xml"].removeprefix("https://dtehub.test"))
    assert served.content == moved  # kept as received, not rewritten into the form that verified
