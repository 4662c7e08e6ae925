"""Companies (tenants) are created from the CLI, each with a first API token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from dtehub.auth.service import issue_token
from dtehub.companies import repository
from dtehub.companies.logo import MAX_LOGO_BYTES, InvalidLogo, normalize_logo
from dtehub.dte.pdf.settings import IssuerPrintSettings
from dtehub.dte.pipeline import XmlPolicy
from dtehub.errors import BadRequest, Conflict, FileTooLarge, NotFound, Unprocessable
from dtehub.kit.dates import today_in_santiago
from dtehub.kit.email import EMAIL_OR_EMPTY_PATTERN, is_email
from dtehub.kit.rut import InvalidRut, normalize_rut
from dtehub.models import Company, CompanyLogo


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
    sii_resolution_number: int | None = None
    sii_resolution_date: date | None = None
    sii_office: str | None = None
    reminder_days_before: int | None = None
    reminder_overdue_every: int | None = None
    debt_summary_period: str | None = None
    debt_summary_day: int | None = None
    reply_to: str | None = None
    sii_sync_from: str | None = None
    """``YYYY-MM``: the first tax period SII syncs read."""
    collections_start_date: date | None = None


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
    if changes.sii_resolution_number is not None:
        if not 0 <= changes.sii_resolution_number <= 999_999:
            raise BadRequest(
                "the SII resolution number must be between 0 and 999999", field="siiResolutionNumber"
            )
        company.sii_resolution_number = changes.sii_resolution_number
    if changes.sii_resolution_date is not None:
        company.sii_resolution_date = changes.sii_resolution_date
    if changes.sii_office is not None:
        company.sii_office = " ".join(changes.sii_office.split()).upper()
    _update_reminder_settings(company, changes)
    if changes.sii_sync_from is not None:
        company.sii_sync_from = _tax_period(changes.sii_sync_from, today_in_santiago())
    if changes.collections_start_date is not None:
        company.collections_start_date = changes.collections_start_date
    session.flush()
    return company


SII_SYNC_MONTHS = 12
"""By default a sync reads the last 12 tax periods: the current month and the 11 before it."""
FIRST_RCV_PERIOD = date(2017, 8, 1)
"""SII's Registro de Compras y Ventas holds periods from August 2017 on."""
_PERIOD = re.compile(r"(\d{4})-(\d{2})")


SII_PERIOD_PATTERN = (
    r"^(?:2017-(?:0[89]|1[0-2])|(?:201[89]|20[2-9][0-9]|2[1-9][0-9]{2}|[3-9][0-9]{3})-(?:0[1-9]|1[0-2]))$"
)
"""A tax period from 2017-08 (SII's RCV starts there), as published; the current month's bound is not."""


def _tax_period(text: str, today: date) -> date:
    """``YYYY-MM`` as the first day of that month; a clear :class:`BadRequest` for anything else."""
    match = _PERIOD.fullmatch(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise BadRequest(
            f"siiSyncFrom {text!r} is not a tax period (YYYY-MM, e.g. 2025-01)", field="siiSyncFrom"
        )
    period = date(int(match.group(1)), int(match.group(2)), 1)
    if period < FIRST_RCV_PERIOD:
        raise BadRequest(
            "siiSyncFrom cannot be before 2017-08: SII's Registro de Compras y Ventas starts there",
            field="siiSyncFrom",
        )
    if period > today.replace(day=1):
        # Well-formed, as the document states, but not yet a period: 422.
        raise Unprocessable(f"siiSyncFrom {text} is a month that has not begun", field="siiSyncFrom")
    return period


def sii_sync_from(company: Company, today: date | None = None) -> date:
    """The first day of the first tax period a sync reads: the company's ``siiSyncFrom``, else the
    month 11 months before the current one (12 periods with it)."""
    if company.sii_sync_from is not None:
        return company.sii_sync_from
    today = today or today_in_santiago()
    months = today.year * 12 + today.month - 1 - (SII_SYNC_MONTHS - 1)
    return date(months // 12, months % 12 + 1, 1)


def _update_reminder_settings(company: Company, changes: CompanySettings) -> None:
    for value, field in (
        (changes.reminder_days_before, "reminderDaysBefore"),
        (changes.reminder_overdue_every, "reminderOverdueEvery"),
    ):
        if value is not None and not 0 <= value <= 365:
            raise BadRequest(f"{field} must be between 0 and 365 days", field=field)
    if changes.reminder_days_before is not None:
        company.reminder_days_before = changes.reminder_days_before
    if changes.reminder_overdue_every is not None:
        company.reminder_overdue_every = changes.reminder_overdue_every
    if changes.debt_summary_period is not None:
        if changes.debt_summary_period not in ("off", "weekly", "monthly"):
            raise BadRequest("debtSummaryPeriod is off, weekly or monthly", field="debtSummaryPeriod")
        company.debt_summary_period = changes.debt_summary_period
    if changes.debt_summary_day is not None:
        company.debt_summary_day = changes.debt_summary_day
    limit = 7 if company.debt_summary_period == "weekly" else 28
    if not 1 <= company.debt_summary_day <= limit:  # depends on the (stored) period: 422
        raise Unprocessable(
            f"debtSummaryDay must be between 1 and {limit} for a {company.debt_summary_period} summary",
            field="debtSummaryDay",
        )
    if changes.reply_to is not None:
        address = changes.reply_to  # stripped as published (a body's texts; the web app's form)
        if address and not is_email(address):
            raise BadRequest(f"{address!r} is not an e-mail address", field="replyTo")
        company.reply_to = address


REPLY_TO_PATTERN = EMAIL_OR_EMPTY_PATTERN
"""A reply-to address, or empty (to clear it), as published."""


def set_logo(session: Session, company: Company, data: bytes) -> CompanyLogo:
    """Replace the company's logo with ``data`` (PNG or JPEG, at most 1 MiB), re-encoded."""
    if len(data) > MAX_LOGO_BYTES:
        raise FileTooLarge("the logo is larger than 1 MiB", field="content")
    try:
        normalized = normalize_logo(data)
    except InvalidLogo as exc:  # base64 as the document says, but not an image dtehub can use
        raise Unprocessable(str(exc), field="content") from None
    logo = repository.get_logo(session, company.id)
    if logo is None:
        logo = CompanyLogo(company_id=company.id)
        session.add(logo)
    logo.content = normalized.png
    logo.width = normalized.width
    logo.height = normalized.height
    logo.sha256 = normalized.sha256
    session.flush()
    return logo


def remove_logo(session: Session, company: Company) -> None:
    if not repository.delete_logo(session, company.id):
        raise NotFound("the company has no logo", field="logo")


def has_logo(session: Session, company_id: int) -> bool:
    return repository.has_logo(session, company_id)


def print_settings(session: Session, company: Company) -> IssuerPrintSettings:
    """What the company's printed documents carry besides the DTE itself."""
    logo = repository.get_logo(session, company.id)
    return IssuerPrintSettings(
        resolution_number=company.sii_resolution_number,
        resolution_date=company.sii_resolution_date,
        sii_office=company.sii_office,
        logo_png=logo.content if logo is not None else None,
        logo_sha256=logo.sha256 if logo is not None else None,
    )
