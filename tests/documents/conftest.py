"""Fixtures of the documents tests."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import Tenant
from tests.documents.listing import new_client, new_document


@pytest.fixture
async def client_id(tenant: Tenant) -> str:
    return str((await new_client(tenant, "99999999-9"))["id"])


@pytest.fixture
async def full_document(tenant: Tenant) -> dict[str, Any]:
    """A document with a contact on its client, two tags and a file."""
    client = await new_client(tenant, "99999999-9", "DELI SANDWICH")
    contact = await tenant.post(
        "/v1/createContact", {"clientId": client["id"], "email": "pagos@deli.cl", "name": "Ana"}
    )
    assert contact.status_code == 200, contact.text
    doc = await new_document(tenant, client["id"], "702", tags=["urgente", "retail"])
    file = await tenant.post(
        "/v1/createFile",
        {"documentId": doc["id"], "name": "orden.pdf", "content": base64.b64encode(b"%PDF-1.4 x").decode()},
    )
    assert file.status_code == 200, file.text
    return {"client": client, "contact": contact.json(), "document": doc, "file": file.json()}
