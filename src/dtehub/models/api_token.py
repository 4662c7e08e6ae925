from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk


class ApiToken(Base):
    """A bearer token of one company. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
