from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId, IdPk


class Contact(Base):
    """A person at a client who receives the company's documents and reminders."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_company_id_client_id", "company_id", "client_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(BigId, ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str] = mapped_column(String(254))
    position: Mapped[str] = mapped_column(String(128), default="")
    contact_type_id: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
