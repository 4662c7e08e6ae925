"""The demo company `make run` creates on an empty database: Duemint's example issuer and invoice."""

from __future__ import annotations

import base64

from sqlalchemy.orm import Session

from dtehub.companies import service as companies_service
from dtehub.documents import service as documents_service
from dtehub.documents.schemas import DocumentFromXml
from dtehub.kit.xml import DEFAULT_MAX_XML_BYTES


def create_demo(session: Session, *, rut: str, xml: bytes) -> str:
    created = companies_service.create_company(
        session, rut=rut, name="DUEMINT SPA (demo)", payment_term_days=7
    )
    documents_service.create_from_xml(
        session,
        created.company.id,
        DocumentFromXml(xml=base64.b64encode(xml).decode("ascii")),
        max_bytes=DEFAULT_MAX_XML_BYTES,
    )
    return created.token
