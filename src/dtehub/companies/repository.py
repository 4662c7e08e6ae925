"""Every query on companies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dtehub.models import Company, CompanyLogo, CompanySiiCertificate


def get(session: Session, company_id: int) -> Company | None:
    return session.get(Company, company_id)


def get_by_rut(session: Session, rut: str) -> Company | None:
    return session.scalars(select(Company).where(Company.rut == rut)).first()


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Company)).scalar_one()


def get_logo(session: Session, company_id: int) -> CompanyLogo | None:
    return session.get(CompanyLogo, company_id)


def has_logo(session: Session, company_id: int) -> bool:
    """Without reading the image itself."""
    query = select(CompanyLogo.company_id).where(CompanyLogo.company_id == company_id)
    return session.execute(query).first() is not None


def delete_logo(session: Session, company_id: int) -> bool:
    logo = session.get(CompanyLogo, company_id)
    if logo is None:
        return False
    session.delete(logo)
    session.flush()
    return True


def get_sii_certificate(session: Session, company_id: int) -> CompanySiiCertificate | None:
    return session.get(CompanySiiCertificate, company_id)


def delete_sii_certificate(session: Session, company_id: int) -> bool:
    row = session.get(CompanySiiCertificate, company_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
