from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk, JsonColumn


class RunState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class SiiSyncRun(Base):
    """One sync of a company's documents with SII's Registro de Ventas, over a range of tax periods.

    ``periods`` is the plan (``YYYY-MM`` texts, oldest first) and ``periods_done`` the checkpoint: each
    period is recorded done in the transaction that stored its documents, so a run stopped at any moment
    has lost nothing it reported, and the next run of the company takes this one over and goes on with
    the periods not yet done. The counters grow in those same transactions.
    """

    __tablename__ = "sii_sync_runs"
    __table_args__ = (
        Index("ix_sii_sync_runs_company_id", "company_id", "id"),
        {"sqlite_autoincrement": True},  # ids are never reused
    )

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10), default=RunState.QUEUED.value)
    trigger: Mapped[str] = mapped_column(String(10), comment="api, cli or schedule: who asked for it")
    since: Mapped[str] = mapped_column(String(7), comment="First tax period, YYYY-MM")
    until: Mapped[str] = mapped_column(String(7), comment="Last tax period, YYYY-MM")
    periods: Mapped[list[str]] = mapped_column(JsonColumn, comment="The periods to sync, oldest first")
    periods_done: Mapped[list[str]] = mapped_column(
        JsonColumn, default=list, comment="The checkpoint: periods whose documents are stored"
    )
    documents_created: Mapped[int] = mapped_column(default=0)
    documents_updated: Mapped[int] = mapped_column(default=0)
    xmls_fetched: Mapped[int] = mapped_column(default=0)
    messages: Mapped[list[str]] = mapped_column(
        JsonColumn, default=list, comment="What a person should know or do, in words; never a secret"
    )
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    resumed: Mapped[int] = mapped_column(default=0, comment="Times the run was taken over after a stop")
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "since": self.since, "until": self.until}


class SiiSyncLease(Base):
    """Who runs the company's sync now: one row per company at most (its primary key), so at most one
    run of a company is active at a time, across processes and servers. The holder renews ``expires_at``
    while it works (its heartbeat); a holder that died stops renewing and the lease lapses."""

    __tablename__ = "sii_sync_leases"

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("sii_sync_runs.id", ondelete="CASCADE"))
    holder: Mapped[str] = mapped_column(String(64), comment="The process (executor) that holds it")
    expires_at: Mapped[datetime]


class SiiSyncPeriod(Base):
    """What the company's last sync of a tax period saw: SII's ``dcvFecModificacion`` of the period's
    register. A later sync asks SII's summary alone for a period whose register has not changed since."""

    __tablename__ = "sii_sync_periods"

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True, comment="YYYY-MM")
    modified_at: Mapped[datetime | None] = mapped_column(
        default=None, comment="When SII last changed the period's register, as the sync saw it"
    )
    synced_at: Mapped[datetime]
    claims_close_on: Mapped[date | None] = mapped_column(
        default=None,
        comment="The last Santiago day a document of the period could be claimed, as of the last read",
    )
