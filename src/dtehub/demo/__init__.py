"""The demo company `make run` creates on an empty database: Duemint's example issuer and invoice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dtehub.companies import service as companies_service
from dtehub.ingest import service as ingest
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES


def create_demo(session: Session, *, rut: str, xml: bytes) -> str:
    created = companies_service.create_company(
        session, rut=rut, name="DUEMINT SPA (demo)", payment_term_days=7
    )
    checked = ingest.read_single_dte(xml, max_bytes=DEFAULT_MAX_XML_BYTES)
    ingest.store(session, created.company.id, checked)
    return created.token
