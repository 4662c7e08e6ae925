"""Companies (tenants) are created from the CLI, each with a first API token."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from dtehub.auth.service import issue_token
from dtehub.companies import repository
from dtehub.dte.pipeline import XmlPolicy
from dtehub.errors import BadRequest, Conflict, NotFound
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.models import Company


@dataclass(frozen=True)
class NewCompany:
    company: Company
    token: str


def _rut(value: str) -> str:
    try:
        return normalize_rut(value)
    except InvalidRut as exc:
        raise BadRequest(str(exc), field="rut") from None


def create_company(session: Session, *, rut: str, name: str, payment_term_days: int) -> NewCompany:
    canonical = _rut(rut)
    if not name.strip():
        raise BadRequest("a company name is required", field="name")
    if not 0 <= payment_term_days <= 3650:
        raise BadRequest("the payment term must be between 0 and 3650 days", field="payment_term")
    if repository.get_by_rut(session, canonical) is not None:
        raise Conflict(f"a company with RUT {canonical} already exists", field="rut")
    company = Company(rut=canonical, name=name.strip(), payment_term_days=payment_term_days)
    session.add(company)
    session.flush()
    return NewCompany(company=company, token=issue_token(session, company.id))


def company_by_rut(session: Session, rut: str) -> Company:
    company = repository.get_by_rut(session, _rut(rut))
    if company is None:
        raise NotFound(f"no company with RUT {rut}", field="company")
    return company


def require(session: Session, company_id: int) -> Company:
    company = repository.get(session, company_id)
    if company is None:  # the token outlived its company: treat like an unknown token
        raise NotFound("company not found")
    return company


@dataclass(frozen=True)
class CompanySettings:
    """The settings a company may change; None leaves a setting as it is."""

    name: str | None = None
    payment_term_days: int | None = None
    xml_policy: XmlPolicy | None = None


def update_settings(session: Session, company: Company, changes: CompanySettings) -> Company:
    if changes.name is not None:
        if not changes.name.strip():
            raise BadRequest("a company name cannot be empty", field="name")
        company.name = changes.name.strip()
    if changes.payment_term_days is not None:
        if not 0 <= changes.payment_term_days <= 3650:
            raise BadRequest("the payment term must be between 0 and 3650 days", field="paymentTerm")
        company.payment_term_days = changes.payment_term_days
    if changes.xml_policy is not None:
        company.xml_policy = changes.xml_policy.value
    session.flush()
    return company
