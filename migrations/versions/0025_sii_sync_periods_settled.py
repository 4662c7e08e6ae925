"""sii_sync_periods: the last day a document of the period could be claimed, as of its last read

A period older than the previous month whose last read came after that day is settled: a scheduled sync
reads it once a day, not on every run.

Revision ID: 0025_sii_sync_periods_settled
Revises: 0024_sii_register_amounts
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_sii_sync_periods_settled"
down_revision: str | None = "0024_sii_register_amounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "sii_sync_periods",
        sa.Column(
            "claims_close_on",
            sa.Date(),
            nullable=True,
            comment="The last Santiago day a document of the period could be claimed, as of the last read",
        ),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE sii_sync_periods DROP COLUMN claims_close_on")
