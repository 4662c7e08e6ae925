"""The demo company `make run` creates on an empty database: Duemint's example issuer and invoice."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from dtehub.companies import service as companies_service
from dtehub.ingest import service as ingest
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES
from dtehub.models import Document, Origin
from dtehub.portal.links import Links


@dataclass(frozen=True)
class Demo:
    token: str
    invoice: Document


def create_demo(session: Session, *, rut: str, xml: bytes, links: Links) -> Demo:
    created = companies_service.create_company(
        session, rut=rut, name="DUEMINT SPA (demo)", payment_term_days=7
    )
    checked = ingest.read_single_dte(xml, max_bytes=DEFAULT_MAX_XML_BYTES)
    stored = ingest.store(session, created.company.id, checked, links, source=Origin.DEMO)
    invoice = session.get(Document, stored.id)
    assert invoice is not None  # just stored, in this unit of work
    return Demo(token=created.token, invoice=invoice)
