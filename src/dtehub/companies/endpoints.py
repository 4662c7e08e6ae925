"""/v1 company methods: the token's own company and its settings."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from dtehub.companies import service
from dtehub.companies.schemas import CompanyOut, CompanyUpdate
from dtehub.dependencies import AuthDep, SessionDep, transactional
from dtehub.errors_http import error_responses
from dtehub.kit.schema import respond

router = APIRouter(prefix="/v1", tags=["company"])


@router.get("/getCompany", response_model=CompanyOut, responses=error_responses())
@transactional
def get_company(auth: AuthDep, session: SessionDep) -> Response:
    """The company the token belongs to, with its settings."""
    return respond(CompanyOut.of(service.require(session, auth.company_id)))


@router.post("/updateCompany", response_model=CompanyOut, responses=error_responses())
@transactional
def update_company(auth: AuthDep, session: SessionDep, body: CompanyUpdate) -> Response:
    """Change the company's name, default payment term or XML policy; omitted fields stay."""
    company = service.require(session, auth.company_id)
    changes = service.CompanySettings(
        name=body.name, payment_term_days=body.payment_term, xml_policy=body.xml_policy
    )
    return respond(CompanyOut.of(service.update_settings(session, company, changes)))
