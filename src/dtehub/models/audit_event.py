from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk, JsonColumn


class Actor(enum.StrEnum):
    """Who made a change: through which door it came in."""

    API_TOKEN = "api_token"  # noqa: S105 (a kind of caller, not a secret)
    USER = "user"  # a person signed in to the web app
    CLI = "cli"
    PORTAL = "portal"
    JOB = "job"
    SII_RETRIEVAL = "sii_retrieval"


class AuditEvent(Base):
    """One change to a company's data, written in the transaction of the change (append-only).

    ``summary`` is a small JSON object of what the change said (the request's fields, file contents
    as a hash and size); it never holds a secret: tokens, webhook secrets, passwords, certificates and
    link keys are left out.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_company_id", "company_id", "id"),
        Index("ix_audit_events_object", "company_id", "object_type", "object_id", "id"),
        {"sqlite_autoincrement": True},  # ids are never reused
    )

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(16), comment="api_token, cli, portal, job, sii_retrieval")
    # No foreign key: the event outlives the token's row, whatever happens to it.
    token_id: Mapped[int | None] = mapped_column(BigInteger, default=None, comment="The API token's id")
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, default=None, comment="The signed-in user's id (web app)"
    )
    action: Mapped[str] = mapped_column(String(64), comment="The API operation or CLI command")
    object_type: Mapped[str | None] = mapped_column(String(32), default=None)
    object_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    summary: Mapped[dict[str, Any]] = mapped_column(JsonColumn, comment="What changed; never a secret")
