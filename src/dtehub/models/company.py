from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, IdPk


class Company(Base):
    """A company (the tenant): it issues documents and owns everything else."""

    __tablename__ = "companies"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused

    id: Mapped[IdPk]
    rut: Mapped[str] = mapped_column(String(12), unique=True, comment="Canonical RUT, e.g. 76453707-6")
    name: Mapped[str] = mapped_column(String(255))
    payment_term_days: Mapped[int] = mapped_column(
        default=30, comment="Days from issue to due date when neither the DTE nor the client says"
    )
    xml_policy: Mapped[str] = mapped_column(
        String(10),
        default="lenient",
        server_default="lenient",
        comment="lenient: refuse only unsafe or unreadable XML; strict: also any check not valid",
    )
    sii_resolution_number: Mapped[int | None] = mapped_column(
        default=None, comment="Número de la resolución de SII that authorized the company to issue DTEs"
    )
    sii_resolution_date: Mapped[date | None] = mapped_column(
        default=None, comment="Fecha of that resolution (its year prints under the timbre)"
    )
    sii_office: Mapped[str] = mapped_column(
        String(64),
        default="",
        server_default="",
        comment="SII office (unidad) of the company, printed as S.I.I. - <office> under the red box",
    )
    reminder_days_before: Mapped[int] = mapped_column(
        default=3,
        server_default="3",
        comment="Days before the due date of the soon-to-expire reminder; 0: none",
    )
    reminder_overdue_every: Mapped[int] = mapped_column(
        default=7, server_default="7", comment="Days between overdue reminders after the first; 0: only one"
    )
    debt_summary_period: Mapped[str] = mapped_column(
        String(8), default="monthly", server_default="monthly", comment="off, weekly or monthly"
    )
    debt_summary_day: Mapped[int] = mapped_column(
        default=1, server_default="1", comment="Weekday (1 Monday … 7) or day of the month (1 … 28)"
    )
    reply_to: Mapped[str] = mapped_column(
        String(254), default="", server_default="", comment="Reply-To of the company's reminders"
    )
    require_totp: Mapped[bool] = mapped_column(
        default=False,
        server_default=sa_false(),
        comment="Members must sign in to the web app with a TOTP code as well",
    )
    # No Python defaults below: a company written without them leaves them out of its INSERT.
    sii_sync_from: Mapped[date | None] = mapped_column(
        comment="First tax period (its 1st day) SII syncs read; null: the last 12 months"
    )
    collections_start_date: Mapped[date | None] = mapped_column(
        comment="Documents issued before it are history: never reminded or overdue; null: none are",
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
