"""Storing DTEs when another writer got there first, between reading the keys and inserting."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from dtehub.dte.pipeline import CheckedDte
from dtehub.errors import DtehubError
from dtehub.ingest import repository as ingest_repository
from dtehub.ingest import service as ingest
from tests.conftest import LINKS, Tenant
from tests.notes import invoice_xml


def checked(content: bytes) -> CheckedDte:
    return ingest.read_single_dte(content, max_bytes=1024 * 1024)


def read_keys_too_early(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """From now on, the next lookup of documents' keys sees none of them, as when another writer inserts
    them right after it: the batch's insert then hits the natural key."""
    real = ingest_repository.digests_by_key
    calls = {"stale": 0}

    def stale_once(session: Any, tables: Any, *args: Any) -> Any:
        if calls["stale"] == 0 and tables is ingest_repository.DOCUMENTS:
            calls["stale"] += 1
            return {}
        return real(session, tables, *args)

    monkeypatch.setattr(ingest_repository, "digests_by_key", stale_once)
    return calls


async def test_a_batch_that_loses_a_race_gives_each_dte_its_own_outcome(
    tenant: Tenant, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest.store(session, tenant.company_id, checked(invoice_xml(tenant, 1)), LINKS)  # the other writer's
    same, other, new = (
        checked(invoice_xml(tenant, 1)),
        checked(invoice_xml(tenant, 2)),
        checked(invoice_xml(tenant, 1, total=2380)),
    )
    ingest.store(session, tenant.company_id, other, LINKS)
    calls = read_keys_too_early(monkeypatch)

    first, second, third = ingest.store_many(
        session,
        tenant.company_id,
        [ingest.Incoming(same), ingest.Incoming(other), ingest.Incoming(new)],
        LINKS,
    )

    assert isinstance(first, ingest.Stored)
    assert not first.created  # the very same XML: already there
    assert isinstance(second, ingest.Stored)
    assert not second.created
    assert isinstance(third, DtehubError)
    assert third.code == "already_exists"
    listing = (await tenant.get("/v1/getDocuments")).json()
    assert listing["records"]["totalRecords"] == 2
    assert calls["stale"] == 1  # the race did happen
