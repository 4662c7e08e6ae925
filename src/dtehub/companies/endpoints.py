"""/v1 company methods: the token's own company and its settings."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dtehub.audit import service as audit
from dtehub.audit.actions import Action
from dtehub.companies import service, sii_certificate
from dtehub.companies.logo import MAX_LOGO_BYTES
from dtehub.companies.schemas import CompanyLogoIn, CompanyOut, CompanyUpdate, SiiCertificateIn
from dtehub.dependencies import AuthDep, SessionDep, SettingsDep, transactional
from dtehub.errors import FileTooLarge
from dtehub.errors_http import error_responses
from dtehub.kit import base64
from dtehub.kit.schema import respond
from dtehub.models import Company

router = APIRouter(prefix="/v1", tags=["company"])


@router.get("/getCompany", response_model=CompanyOut, responses=error_responses())
@transactional
def get_company(auth: AuthDep, session: SessionDep) -> Response:
    """The company the token belongs to, with its settings."""
    return respond(_out(session, service.require(session, auth.company_id)))


@router.post("/updateCompany", response_model=CompanyOut, responses=error_responses())
@transactional(audit=Action.UPDATE_COMPANY)
def update_company(auth: AuthDep, session: SessionDep, body: CompanyUpdate) -> Response:
    """Change the company's name, default payment term, XML policy, the SII resolution and office
    its printed documents carry, or its reminder settings; omitted fields stay."""
    company = service.require(session, auth.company_id)
    changes = service.CompanySettings(
        name=body.name,
        payment_term_days=body.payment_term,
        xml_policy=body.xml_policy,
        sii_resolution_number=body.sii_resolution_number,
        sii_resolution_date=body.sii_resolution_date,
        sii_office=body.sii_office,
        reminder_days_before=body.reminder_days_before,
        reminder_overdue_every=body.reminder_overdue_every,
        debt_summary_period=body.debt_summary_period.value if body.debt_summary_period else None,
        debt_summary_day=body.debt_summary_day,
        reply_to=body.reply_to,
        sii_sync_from=body.sii_sync_from,
        collections_start_date=body.collections_start_date,
    )
    return respond(_out(session, service.update_settings(session, company, changes)))


@router.post("/updateCompanyLogo", response_model=CompanyOut, responses=error_responses(413))
@transactional(audit=Action.UPDATE_COMPANY_LOGO)
def update_company_logo(auth: AuthDep, session: SessionDep, body: CompanyLogoIn) -> Response:
    """Set the logo printed on the company's PDFs and shown on its portal pages (PNG or JPEG, base64,
    at most 1 MiB; dtehub keeps a re-encoded PNG of at most 600×300 pixels)."""
    company = service.require(session, auth.company_id)
    content = base64.decode_field(
        body.content,
        field="content",
        max_bytes=MAX_LOGO_BYTES,
        what="the logo",
        too_large=FileTooLarge,
    )
    service.set_logo(session, company, content)
    return respond(_out(session, company))


@router.delete("/deleteCompanyLogo", response_model=CompanyOut, responses=error_responses(404))
@transactional(audit=Action.DELETE_COMPANY_LOGO)
def delete_company_logo(auth: AuthDep, session: SessionDep) -> Response:
    """Remove the company's logo."""
    company = service.require(session, auth.company_id)
    service.remove_logo(session, company)
    return respond(_out(session, company))


@router.post("/updateCompanySiiCertificate", response_model=CompanyOut, responses=error_responses(413, 503))
@transactional(audit=Action.UPDATE_COMPANY_SII_CERTIFICATE)
def update_company_sii_certificate(
    auth: AuthDep, session: SessionDep, settings: SettingsDep, body: SiiCertificateIn
) -> Response:
    """Set the certificate (PKCS#12 and its password) of a person authorized for the company at SII,
    with which dtehub logs in to SII for it. It is checked at once (readable, naming its holder's RUT,
    valid now: 422 otherwise) and stored encrypted with a key derived from DTEHUB_SECRET_KEY (503
    without one); the password is not stored. Replaces any earlier certificate."""
    company = service.require(session, auth.company_id)
    pfx = sii_certificate.decode_pfx(body.certificate_pfx_base64.get_secret_value())
    stored = sii_certificate.store_certificate(
        session, company.id, pfx, body.certificate_password.get_secret_value(), settings
    )
    audit.annotate(
        session,
        summary={
            "holderRut": stored.holder_rut,
            "validUntil": stored.valid_until,
            "fingerprint": stored.fingerprint,
        },
    )
    return respond(_out(session, company))


@router.delete("/deleteCompanySiiCertificate", response_model=CompanyOut, responses=error_responses(404))
@transactional(audit=Action.DELETE_COMPANY_SII_CERTIFICATE)
def delete_company_sii_certificate(auth: AuthDep, session: SessionDep) -> Response:
    """Remove the company's SII certificate: dtehub no longer logs in to SII for it."""
    company = service.require(session, auth.company_id)
    sii_certificate.remove_certificate(session, company.id)
    return respond(_out(session, company))


def _out(session: Session, company: Company) -> CompanyOut:
    return CompanyOut.of(
        company,
        has_logo=service.has_logo(session, company.id),
        sii_certificate=sii_certificate.certificate_of(session, company.id),
    )
