from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk


class Tag(Base):
    """A label a company puts on documents; names are unique within the company."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("company_id", "name"), {"sqlite_autoincrement": True})

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
