from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.kit.secrets import new_link_key
from dtehub.models.base import Base, BigId, IdPk


class File(Base):
    """An attachment on a document (a purchase order, a dispatch guide, a signed receipt…)."""

    __tablename__ = "files"
    __table_args__ = {"sqlite_autoincrement": True}  # ids are never reused

    id: Mapped[IdPk]
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("companies.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    download_key: Mapped[str] = mapped_column(String(43), default=new_link_key)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
