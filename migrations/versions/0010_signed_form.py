"""documents.xml_signed_form, notes.xml_signed_form: the form of a DTE in which its signature held

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_COMMENT = "The declarations added to or removed from the DTE for its signature to hold"


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch copy of documents would drop its count triggers.
    # Rows checked before this revision keep null: which form held was not recorded then.
    for table in ("documents", "notes"):
        op.add_column(table, sa.Column("xml_signed_form", _JSON, nullable=True, comment=_COMMENT))


def downgrade() -> None:
    for table in ("notes", "documents"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN xml_signed_form")
