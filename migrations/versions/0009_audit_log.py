"""audit_events: the per-company log of changes (who, which token, what, when)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "actor",
            sa.String(length=16),
            nullable=False,
            comment="api_token, cli, portal, job, sii_retrieval",
        ),
        sa.Column("token_id", sa.BigInteger(), nullable=True, comment="The API token's id"),
        sa.Column("action", sa.String(length=64), nullable=False, comment="The API operation or CLI command"),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.BigInteger(), nullable=True),
        sa.Column("summary", _JSON, nullable=False, comment="What changed; never a secret"),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_audit_events_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sqlite_autoincrement=True,  # ids are never reused
    )
    op.create_index("ix_audit_events_company_id", "audit_events", ["company_id", "id"], unique=False)
    op.create_index(
        "ix_audit_events_object",
        "audit_events",
        ["company_id", "object_type", "object_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("audit_events")
