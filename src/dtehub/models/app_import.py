from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk, JsonColumn


class ImportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class AppImport(Base):
    """One import of DTE files uploaded in the web app (``/app/import``), run in the background.

    The counters grow in the transaction after each stored batch (as ``dtehub import`` writes its
    report), so a page polling the row never reads more than the database holds; ``heartbeat_at`` moves
    with them, and an import whose process stopped shows as interrupted once it stops moving.
    """

    __tablename__ = "app_imports"
    __table_args__ = (
        Index("ix_app_imports_company_id", "company_id", "id"),
        {"sqlite_autoincrement": True},  # ids are never reused
    )

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None, comment="Who uploaded the files"
    )
    state: Mapped[str] = mapped_column(String(10), default=ImportState.QUEUED.value)
    files: Mapped[list[dict[str, Any]]] = mapped_column(
        JsonColumn, default=list, comment="The uploaded files: name and size in bytes"
    )
    total: Mapped[int | None] = mapped_column(default=None, comment="Files (and zip entries) to read")
    read: Mapped[int] = mapped_column(default=0, comment="Files (and zip entries) read so far")
    documents: Mapped[int] = mapped_column(default=0)
    notes: Mapped[int] = mapped_column(default=0)
    already_present: Mapped[int] = mapped_column(default=0)
    attached: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)


class AppImportResult(Base):
    """What became of one DTE (or of a file that gave none) of a web import: a line of its report."""

    __tablename__ = "app_import_results"
    __table_args__ = (
        Index("ix_app_import_results_import_outcome", "import_id", "outcome", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IdPk]
    import_id: Mapped[int] = mapped_column(BigId, ForeignKey("app_imports.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text, comment="The uploaded file, or archive.zip!entry.xml")
    outcome: Mapped[str] = mapped_column(
        String(16), comment="imported | already_present | attached | refused | skipped"
    )
    note: Mapped[bool] = mapped_column(default=False, comment="Imported as a credit or debit note")
    code: Mapped[str | None] = mapped_column(String(64), default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    dte_type: Mapped[int | None] = mapped_column(default=None)
    folio: Mapped[int | None] = mapped_column(BigInteger, default=None)
