"""The demo company `make run` creates on an empty database: Duemint's example issuer and invoice."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dtehub.companies import service as companies_service
from dtehub.ingest import service as ingest
from dtehub.kit.dates import utcnow
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES
from dtehub.models import Document, Origin, Role
from dtehub.portal.links import Links
from dtehub.users import service as users

DEMO_OWNER = "demo@dtehub.example"


@dataclass(frozen=True)
class Demo:
    token: str
    invoice: Document
    owner_id: int
    owner_email: str
    owner_password: str
    """Random, shown once by ``dtehub demo``; stored as its argon2id hash only."""


def create_demo(session: Session, *, rut: str, xml: bytes, links: Links) -> Demo:
    created = companies_service.create_company(
        session, rut=rut, name="DUEMINT SPA (demo)", payment_term_days=7
    )
    checked = ingest.read_single_dte(xml, max_bytes=DEFAULT_MAX_XML_BYTES)
    stored = ingest.store(session, created.company.id, checked, links, source=Origin.DEMO)
    invoice = session.get(Document, stored.id)
    assert invoice is not None  # just stored, in this unit of work
    owner = users.create_user(session, DEMO_OWNER, name="Demo")
    users.grant(session, owner, created.company.id, Role.OWNER)
    password = secrets.token_urlsafe(12)
    users.set_password(session, owner, password, utcnow())
    return Demo(created.token, invoice, owner.id, owner.email, password)
