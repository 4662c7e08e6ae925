from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId, JsonColumn


class NoteSource(Base):
    """The DTE XML a note came from, byte for byte, and the fields read from it (as document_sources)."""

    __tablename__ = "note_sources"

    note_id: Mapped[int] = mapped_column(BigId, ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    fields: Mapped[dict[str, Any] | None] = mapped_column(JsonColumn, default=None)
