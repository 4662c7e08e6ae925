from __future__ import annotations

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
    created_at: str

    @classmethod
    def of(cls, company: Company) -> CompanyOut:
        return cls(
            id=str(company.id),
            rut=company.rut,
            name=company.name,
            payment_term=company.payment_term_days,
            xml_policy=XmlPolicy(company.xml_policy),
            created_at=format_datetime(company.created_at),
        )


class CompanyUpdate(ApiInput):
    name: str | None = Field(default=None, max_length=255)
    payment_term: int | None = Field(default=None, ge=0, le=3650)
    xml_policy: XmlPolicy | None = None
