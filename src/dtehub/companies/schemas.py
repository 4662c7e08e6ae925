from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from pydantic import ConfigDict, Field, SecretStr, WithJsonSchema

from dtehub.companies.service import REPLY_TO_PATTERN, SII_PERIOD_PATTERN, sii_sync_from
from dtehub.companies.sii_certificate import expiry_warning
from dtehub.dte.pipeline import XmlPolicy
from dtehub.kit.base64 import base64_schema
from dtehub.kit.dates import Day, format_datetime
from dtehub.kit.schema import ApiInput, ApiModel
from dtehub.models import Company, CompanySiiCertificate


class DebtSummaryPeriod(enum.StrEnum):
    OFF = "off"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class SiiCertificateOut(ApiModel):
    """What dtehub shows of the company's SII certificate: never the file, the key or the password."""

    holder_rut: str = Field(description="RUT of the person the certificate belongs to")
    holder_name: str = Field(description="The certificate's holder, as it names them")
    valid_until: str = Field(description="When the certificate ends (Santiago time, YYYY-MM-DD HH:MM:SS)")
    added_at: str = Field(description="When it was stored (Santiago time)")
    warning: str | None = Field(
        description="Set when the certificate ends within 30 days (or has ended): what to do about it"
    )

    @classmethod
    def of(cls, row: CompanySiiCertificate, *, now: datetime | None = None) -> SiiCertificateOut:
        warning = expiry_warning(row.valid_until, now=now)
        return cls(
            holder_rut=row.holder_rut,
            holder_name=row.holder_name,
            valid_until=format_datetime(row.valid_until),
            added_at=format_datetime(row.added_at),
            warning=warning.message if warning else None,
        )


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
    reminder_days_before: int = Field(
        description="Days before the due date of the soon-to-expire reminder; 0: none"
    )
    reminder_overdue_every: int = Field(
        description="Days between overdue reminders after the first; 0: only one"
    )
    debt_summary_period: DebtSummaryPeriod = Field(description="How often clients get their debt summary")
    debt_summary_day: int = Field(description="Weekday (1 Monday … 7 Sunday) or day of the month (1 … 28)")
    reply_to: str = Field(description="Reply-To address of the company's reminders (empty: none)")
    sii_certificate: SiiCertificateOut | None = Field(
        description="The certificate dtehub logs in to SII with (updateCompanySiiCertificate); null: none"
    )
    sii_sync_from: str = Field(
        description="YYYY-MM: the first tax period SII syncs read (by default the last 12 months, the "
        "current one included)"
    )
    collections_start_date: date | None = Field(
        description="Documents the SII sync brings in that were issued before this day are history: "
        "shown (history: true), never reminded, never in a debt summary. Set to the day the first SII "
        "certificate is added; null: none are"
    )
    created_at: str

    @classmethod
    def of(
        cls, company: Company, *, has_logo: bool, sii_certificate: CompanySiiCertificate | None
    ) -> CompanyOut:
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
            reminder_days_before=company.reminder_days_before,
            reminder_overdue_every=company.reminder_overdue_every,
            debt_summary_period=DebtSummaryPeriod(company.debt_summary_period),
            debt_summary_day=company.debt_summary_day,
            reply_to=company.reply_to,
            sii_certificate=SiiCertificateOut.of(sii_certificate) if sii_certificate is not None else None,
            sii_sync_from=f"{sii_sync_from(company):%Y-%m}",
            collections_start_date=company.collections_start_date,
            created_at=format_datetime(company.created_at),
        )


class CompanyUpdate(ApiInput):
    name: str | None = Field(
        default=None, min_length=1, max_length=255, description="Empty or null leaves it as it is"
    )
    payment_term: int | None = Field(default=None, ge=0, le=3650)
    xml_policy: XmlPolicy | None = None
    sii_resolution_number: int | None = Field(default=None, ge=0, le=999_999)
    sii_resolution_date: Day | None = None
    sii_office: str | None = Field(default=None, max_length=64)
    reminder_days_before: int | None = Field(default=None, ge=0, le=365)
    reminder_overdue_every: int | None = Field(default=None, ge=0, le=365)
    debt_summary_period: DebtSummaryPeriod | None = None
    debt_summary_day: int | None = Field(default=None, ge=1, le=28)
    reply_to: str | None = Field(
        default=None,
        max_length=254,
        description="An e-mail address, or empty",
        json_schema_extra={"pattern": REPLY_TO_PATTERN},
    )
    sii_sync_from: str | None = Field(
        default=None,
        pattern=SII_PERIOD_PATTERN,
        description="YYYY-MM, from 2017-08 to the current month: the first tax period SII syncs read "
        "(a month that has not begun: 422)",
    )
    collections_start_date: Day | None = Field(
        default=None,
        description="Documents the SII sync brings in that were issued before this day are history "
        "(never reminded, never in a debt summary); a change applies to every synced document at once",
    )


class CompanyLogoIn(ApiInput):
    content: Annotated[
        str, WithJsonSchema(base64_schema("The logo, a PNG or JPEG of at most 1 MiB, base64-encoded"))
    ]


class SiiCertificateIn(ApiInput):
    """A person's certificate for SII (the names are those of mipyme_get_document). Neither value is
    ever shown, logged or stored as sent: the file is kept only sealed, the password not at all."""

    model_config = ConfigDict(hide_input_in_errors=True)

    certificate_pfx_base64: Annotated[
        SecretStr,
        WithJsonSchema(base64_schema("The person's PKCS#12 (.pfx or .p12) file, base64 (at most 256 KiB)")),
    ] = Field(alias="certificate_pfx_base64")
    certificate_password: SecretStr = Field(
        alias="certificate_password", description="The PKCS#12 file's password (may be empty)"
    )
