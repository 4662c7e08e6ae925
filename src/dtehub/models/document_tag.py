from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from dtehub.models.base import Base, BigId


class DocumentTag(Base):
    """A tag on a document. ``issue_date`` repeats the document's so that a tag's documents are read in
    getDocuments' default order straight from an index, however many documents carry the tag."""

    __tablename__ = "document_tags"
    __table_args__ = (Index("ix_document_tags_tag_issue", "tag_id", "issue_date", "document_id"),)

    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(BigId, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    issue_date: Mapped[date]
