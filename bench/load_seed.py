"""bench/load.py's companies: seeded with bench/documents.py's loader, and what the client knows of each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine, text

from documents import Tenant, load  # (bench/documents.py)
from dtehub.db import database_url
from dtehub.kit.secrets import new_api_token


@dataclass
class Company:
    """What the client knows of one seeded company."""

    id: int
    rut: str
    name: str
    token: str
    documents: list[tuple[int, str]]  # (id, portal key) of a sample of the seeded documents
    clients: list[tuple[int, str, str]]  # (id, tax id, portal key)
    tag_ids: tuple[int, ...]


def seed(url: str, companies: int, documents: int, clients: int) -> list[Company]:
    seeded: list[Company] = []
    engine = create_engine(database_url(url))
    for n in range(companies):
        tenant = Tenant(company_id=0, token=new_api_token(), documents=documents, clients=clients)
        load(url, tenant, seed=n + 1)
        with engine.connect() as conn:
            rut, name = conn.execute(
                text("SELECT rut, name FROM companies WHERE id = :c"), {"c": tenant.company_id}
            ).one()
            sample = conn.execute(
                text("SELECT id, portal_key FROM documents WHERE company_id = :c ORDER BY id"),
                {"c": tenant.company_id},
            ).all()
            rows = conn.execute(
                text("SELECT id, tax_id, portal_key FROM clients WHERE company_id = :c ORDER BY id"),
                {"c": tenant.company_id},
            ).all()
        seeded.append(
            Company(
                id=tenant.company_id,
                rut=rut,
                name=name,
                token=tenant.token,
                documents=[(row[0], row[1]) for row in sample[:: max(1, len(sample) // 5000)]],
                clients=[(row[0], row[1], row[2]) for row in rows],
                tag_ids=tenant.tag_ids,
            )
        )
    engine.dispose()
    return seeded
