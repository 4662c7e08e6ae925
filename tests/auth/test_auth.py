"""Bearer tokens: every /v1 call needs a valid, unrevoked token and sees only its company's data."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from dtehub import dependencies
from dtehub.auth.service import issue_token, revoke_token
from dtehub.errors import NotFound
from dtehub.kit.secrets import hash_token
from dtehub.models import ApiToken
from tests.conftest import Tenant

# Every method of the API; a route missing from the app or added without a line here fails a test.
V1_METHODS = {
    ("GET", "/v1/getDocuments"),
    ("GET", "/v1/getDocument"),
    ("POST", "/v1/createDocument"),
    ("POST", "/v1/createDocumentFromXml"),
    ("DELETE", "/v1/deleteDocument"),
    ("GET", "/v1/getClients"),
    ("GET", "/v1/getClient"),
    ("POST", "/v1/createClient"),
    ("POST", "/v1/updateClient"),
    ("GET", "/v1/getContacts"),
    ("GET", "/v1/getContact"),
    ("POST", "/v1/createContact"),
    ("GET", "/v1/getTags"),
    ("POST", "/v1/createTag"),
    ("POST", "/v1/createFile"),
    ("GET", "/v1/getEmails"),
    ("GET", "/v1/getEmail"),
    ("GET", "/v1/getPayments"),
    ("GET", "/v1/getPayment"),
    ("POST", "/v1/createPayment"),
    ("POST", "/v1/updatePayment"),
    ("GET", "/v1/getPaymentMethods"),
    ("POST", "/v1/createWebhook"),
    ("GET", "/v1/getWebhooks"),
    ("DELETE", "/v1/deleteWebhook"),
    ("GET", "/v1/getWebhookDeliveries"),
    ("GET", "/v1/getAuditLog"),
}


def v1_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every /v1 operation the app publishes."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    }


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert error["message"]
    assert set(error) == {"code", "message", "field"}


def test_the_app_serves_the_known_v1_methods(app: FastAPI) -> None:
    assert v1_routes(app) >= V1_METHODS


async def test_the_known_v1_methods_are_routed(tenant: Tenant) -> None:
    # Being in the schema is not enough: each method answers on its path (an empty body is a 400).
    for method, path in sorted(V1_METHODS):
        response = await tenant.http.request(method, path, json={}, headers=tenant.headers)
        assert response.status_code not in {404, 405}, (path, response.text)
        assert response.status_code < 500, (path, response.text)


async def test_every_v1_method_refuses_a_request_without_token(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    routes = v1_routes(app)
    assert len(routes) >= len(V1_METHODS)

    for method, path in sorted(routes):
        response = await client.request(method, path, json={})
        assert_401(response)


async def test_every_v1_method_refuses_an_unknown_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    headers = {"Authorization": "Bearer dth_this-token-was-never-issued"}

    for method, path in sorted(v1_routes(app)):
        assert_401(await client.request(method, path, json={}, headers=headers))


async def test_the_token_is_checked_before_the_parameters(client: httpx.AsyncClient) -> None:
    # Without a token, a bad parameter or body must not tell the caller anything about the API.
    assert_401(await client.get("/v1/getClients", params={"resultsPerPage": 1000}))
    assert_401(await client.post("/v1/createClient", json={"name": 5, "taxId": "99999999-8"}))
    assert_401(await client.get("/v1/getClient", params={"id": 1}))


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "bearer",
    ],
)
async def test_malformed_authorization_is_401(client: httpx.AsyncClient, authorization: str) -> None:
    assert_401(await client.get("/v1/getClients", headers={"Authorization": authorization}))


async def test_a_valid_token_is_accepted(tenant: Tenant) -> None:
    response = await tenant.get("/v1/getClients")

    assert response.status_code == 200


async def test_the_scheme_is_case_insensitive(tenant: Tenant) -> None:
    response = await tenant.http.get("/v1/getClients", headers={"Authorization": f"bearer {tenant.token}"})

    assert response.status_code == 200


async def test_a_token_with_a_changed_character_is_401(tenant: Tenant) -> None:
    token = tenant.token
    tampered = token[:-1] + ("a" if token[-1] != "a" else "b")

    assert_401(await tenant.http.get("/v1/getClients", headers={"Authorization": f"Bearer {tampered}"}))
    assert_401(await tenant.http.get("/v1/getClients", headers={"Authorization": f"Bearer {token[:-1]}"}))


async def test_a_token_hash_is_not_a_token(tenant: Tenant) -> None:
    headers = {"Authorization": f"Bearer {hash_token(tenant.token)}"}

    assert_401(await tenant.http.get("/v1/getClients", headers=headers))


async def test_a_revoked_token_is_401(tenant: Tenant, session: Session) -> None:
    assert (await tenant.get("/v1/getClients")).status_code == 200

    revoke_token(session, tenant.token)
    session.commit()

    assert_401(await tenant.get("/v1/getClients"))
    assert_401(await tenant.post("/v1/createTag", {"name": "x"}))


async def test_revoking_one_token_leaves_the_others(tenant: Tenant, session: Session) -> None:
    second = issue_token(session, tenant.company_id)
    session.commit()
    created = (await tenant.post("/v1/createTag", {"name": "VIP"})).json()

    revoke_token(session, tenant.token)
    session.commit()

    assert_401(await tenant.get("/v1/getTags"))
    response = await tenant.http.get("/v1/getTags", headers={"Authorization": f"Bearer {second}"})
    assert response.status_code == 200
    assert response.json()["items"] == [created]


async def test_revoking_twice_or_an_unknown_token_is_not_found(tenant: Tenant, session: Session) -> None:
    revoke_token(session, tenant.token)
    session.commit()

    with pytest.raises(NotFound):
        revoke_token(session, tenant.token)
    with pytest.raises(NotFound):
        revoke_token(session, "dth_never-issued")


async def test_only_the_hash_is_stored(tenant: Tenant, session: Session) -> None:
    rows = (session.scalars(select(ApiToken).where(ApiToken.company_id == tenant.company_id))).all()

    assert [row.token_hash for row in rows] == [hash_token(tenant.token)]
    assert all(tenant.token not in str(value) for row in rows for value in vars(row).values())


async def test_a_token_sees_only_its_company(tenant: Tenant, other_tenant: Tenant) -> None:
    await tenant.post("/v1/createClient", {"name": "DE A", "taxId": "99999999-9"})
    await other_tenant.post("/v1/createClient", {"name": "DE B", "taxId": "11111112-K"})

    mine = (await tenant.get("/v1/getClients")).json()["items"]
    theirs = (await other_tenant.get("/v1/getClients")).json()["items"]

    assert [c["name"] for c in mine] == ["DE A"]
    assert [c["name"] for c in theirs] == ["DE B"]


async def test_a_refused_request_whose_token_cannot_be_checked_is_503(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The database fails while the token of a request with a bad parameter is being checked.
    def database_down(session: object, token: str) -> None:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(dependencies, "authenticate", database_down)

    response = await tenant.get("/v1/getClients", resultsPerPage=1000)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


# getDocument checks the token in the same statement that reads the document: the answers must be the
# ones a separate lookup gives.
async def a_document_id(tenant: Tenant) -> str:
    client = (await tenant.post("/v1/createClient", {"name": "Cliente", "taxId": "99999999-9"})).json()
    body = {
        "clientId": client["id"],
        "number": "77",
        "issueDate": "2024-05-01",
        "total": "1190",
        "taxes": "190",
        "code": 33,
    }
    response = await tenant.post("/v1/createDocument", body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def test_get_document_refuses_a_bad_token_for_an_existing_document(
    tenant: Tenant, session: Session
) -> None:
    document_id = await a_document_id(tenant)
    second = issue_token(session, tenant.company_id)
    session.commit()

    for token in ("dth_this-token-was-never-issued", hash_token(tenant.token), tenant.token[:-1]):
        headers = {"Authorization": f"Bearer {token}"}
        assert_401(await tenant.http.get("/v1/getDocument", params={"id": document_id}, headers=headers))

    revoke_token(session, tenant.token)
    session.commit()

    assert_401(await tenant.get("/v1/getDocument", id=document_id, expandClient=1))
    response = await tenant.http.get(
        "/v1/getDocument", params={"id": document_id}, headers={"Authorization": f"Bearer {second}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == document_id


async def test_get_document_of_another_company_is_the_missing_documents_404(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    document_id = await a_document_id(tenant)
    missing = str(int(document_id) + 1000)

    theirs = await other_tenant.get("/v1/getDocument", id=document_id, expandClient=1)
    absent = await other_tenant.get("/v1/getDocument", id=missing, expandClient=1)

    assert theirs.status_code == absent.status_code == 404
    assert theirs.json()["error"]["code"] == absent.json()["error"]["code"] == "not_found"
    assert (await tenant.get("/v1/getDocument", id=document_id)).status_code == 200
