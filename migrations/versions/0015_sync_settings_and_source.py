"""companies.sii_sync_from, companies.collections_start_date; documents.source, notes.source

Revision ID: 0015_sync_settings
Revises: 0014_staff_users
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_sync_settings"
down_revision: str | None = "0014_staff_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SOURCE_COMMENT = "How it came in (Origin: api, import, mipyme, sii, demo); null: before 0015"


def upgrade() -> None:
    # Plain ADD COLUMN on both databases (nullable, no default): a batch copy of documents would drop
    # its count triggers. Rows stored before this revision keep a null source: it was not recorded then.
    op.add_column(
        "companies",
        sa.Column(
            "sii_sync_from",
            sa.Date(),
            nullable=True,
            comment="First tax period (its 1st day) SII syncs read; null: the last 12 months",
        ),
    )
    op.add_column(
        "companies",
        sa.Column(
            "collections_start_date",
            sa.Date(),
            nullable=True,
            comment="Documents issued before it are history: never reminded or overdue; null: none are",
        ),
    )
    for table in ("documents", "notes"):
        op.add_column(table, sa.Column("source", sa.String(length=8), nullable=True, comment=_SOURCE_COMMENT))


def downgrade() -> None:
    for table in ("notes", "documents"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN source")
    op.execute("ALTER TABLE companies DROP COLUMN collections_start_date")
    op.execute("ALTER TABLE companies DROP COLUMN sii_sync_from")
