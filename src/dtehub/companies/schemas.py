from __future__ import annotations

from datetime import date

from pydantic import Field

from dtehub.dte.pipeline import XmlPolicy
from dtehub.kit.dates import format_datetime
from dtehub.kit.schema import ApiInput, ApiModel
from dtehub.models import Company


class CompanyOut(ApiModel):
    id: str
    rut: str
    name: str
    payment_term: int = Field(description="Default days from issue to due date")
    xml_policy: XmlPolicy = Field(
        description="lenient: refuse only unsafe or unreadable XML; strict: also any schema, signature "
        "or timbre verdict other than valid (unsigned included)"
    )
    sii_resolution_number: int | None = Field(
        description="Number of SII's resolution authorizing the company (printed under the timbre)"
    )
    sii_resolution_date: date | None = Field(description="Date of that resolution (its year is printed)")
    sii_office: str = Field(description="SII office (unidad), printed as S.I.I. - <office> under the red box")
    has_logo: bool = Field(description="Whether a logo is set (updateCompanyLogo) for PDFs and the portal")
    created_at: str

    @classmethod
    def of(cls, company: Company, *, has_logo: bool) -> CompanyOut:
        return cls(
            id=str(company.id),
            rut=company.rut,
            name=company.name,
            payment_term=company.payment_term_days,
            xml_policy=XmlPolicy(company.xml_policy),
            sii_resolution_number=company.sii_resolution_number,
            sii_resolution_date=company.sii_resolution_date,
            sii_office=company.sii_office,
            has_logo=has_logo,
            created_at=format_datetime(company.created_at),
        )


class CompanyUpdate(ApiInput):
    name: str | None = Field(default=None, max_length=255)
    payment_term: int | None = Field(default=None, ge=0, le=3650)
    xml_policy: XmlPolicy | None = None
    sii_resolution_number: int | None = Field(default=None, ge=0, le=999_999)
    sii_resolution_date: date | None = None
    sii_office: str | None = Field(default=None, max_length=64)


class CompanyLogoIn(ApiInput):
    content: str = Field(description="The logo, a PNG or JPEG of at most 1 MiB, base64-encoded")
