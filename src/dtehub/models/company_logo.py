from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.kit.dates import utcnow
from dtehub.models.base import Base, BigId


class CompanyLogo(Base):
    """The company's logo for printed documents and portal pages: a PNG that dtehub re-encoded itself
    from the upload (bounded size, no metadata), kept apart so that reading a company stays cheap."""

    __tablename__ = "company_logos"

    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary, comment="PNG")
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
