from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dtehub.dependencies import AuthDep, SessionDep, SettingsDep, transactional
from dtehub.errors_http import error_responses
from dtehub.factoring import cedibility
from dtehub.factoring.schemas import CedibilityOut
from dtehub.kit.schema import MAX_ID, respond_json

router = APIRouter(prefix="/v1", tags=["factoring"])


@router.get("/getDocumentCedibility", response_model=CedibilityOut, responses=error_responses(404))
@transactional
def get_document_cedibility(
    auth: AuthDep,
    session: SessionDep,
    settings: SettingsDep,
    id: Annotated[int, Query(ge=1, le=MAX_ID, description="The document's id")],
) -> Response:
    """Can this document be financed? Every check at once: the DTE's XML, its type, what SII's
    acceptance/claim service says now (reception, cedibility code, claims, cancelling credit notes; asked
    with the company's SII certificate and stored beside the document), the credit notes and payments
    dtehub holds, the 8-day window and the RTC. Each reason names its source and what to do."""
    access = cedibility.SiiAccess(settings)
    return respond_json(cedibility.check_document(session, auth.company_id, id, access).as_json())
