"""sii_sync_periods: what the last sync of each tax period saw of SII's register (its last change)

Revision ID: 0016_sii_sync_periods
Revises: 0015_sync_settings
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_sii_sync_periods"
down_revision: str | None = "0015_sync_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sii_sync_periods",
        sa.Column("company_id", _ID, autoincrement=False, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False, comment="YYYY-MM"),
        sa.Column(
            "modified_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When SII last changed the period's register, as the sync saw it",
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_sii_sync_periods_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", "period", name=op.f("pk_sii_sync_periods")),
    )


def downgrade() -> None:
    op.drop_table("sii_sync_periods")
