from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId, JsonColumn


class DocumentSource(Base):
    """The DTE XML a document came from, byte for byte (signatures cover the exact bytes), and every
    field read from it, structurally (lines, references, discounts, other taxes, other currency).

    Kept apart from ``documents`` so that listing documents never drags kilobytes of XML along.
    """

    __tablename__ = "document_sources"

    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    fields: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn, default=None)
