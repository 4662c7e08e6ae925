from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from dtehub.dependencies import AuthDep, SessionDep, SettingsDep, transactional
from dtehub.errors_http import error_responses
from dtehub.factoring import cedibility
from dtehub.factoring.schemas import CedibilityOut
from dtehub.kit.schema import MAX_ID, respond_json

router = APIRouter(prefix="/v1", tags=["factoring"])


def _certificate_loader(request: Request) -> cedibility.CertificateLoader | None:
    loader: cedibility.CertificateLoader | None = getattr(request.app.state, "sii_certificate_loader", None)
    return loader


LoaderDep = Annotated[cedibility.CertificateLoader | None, Depends(_certificate_loader)]


@router.get("/getDocumentCedibility", response_model=CedibilityOut, responses=error_responses(404))
@transactional
def get_document_cedibility(
    auth: AuthDep,
    session: SessionDep,
    settings: SettingsDep,
    loader: LoaderDep,
    id: Annotated[int, Query(ge=1, le=MAX_ID, description="The document's id")],
) -> Response:
    """Can this document be financed? Every check at once: the DTE's XML, its type, what SII's
    acceptance/claim service says now (reception, cedibility code, claims, cancelling credit notes; asked
    with the company's SII certificate and stored beside the document), the credit notes and payments
    dtehub holds, the 8-day window and the RTC. Each reason names its source and what to do."""
    access = cedibility.SiiAccess(settings, loader)
    return respond_json(cedibility.check_document(session, auth.company_id, id, access).as_json())
