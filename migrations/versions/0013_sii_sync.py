"""sii_sync_runs, sii_sync_leases: a company's syncs with SII's RCV and the lease of its active one

Revision ID: 0013_sii_sync
Revises: 0012_document_sii_acceptance
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_sii_sync"
down_revision: str | None = "0012_document_sii_acceptance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sii_sync_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column(
            "trigger", sa.String(length=10), nullable=False, comment="api, cli or schedule: who asked for it"
        ),
        sa.Column("since", sa.String(length=7), nullable=False, comment="First tax period, YYYY-MM"),
        sa.Column("until", sa.String(length=7), nullable=False, comment="Last tax period, YYYY-MM"),
        sa.Column("periods", _JSON, nullable=False, comment="The periods to sync, oldest first"),
        sa.Column(
            "periods_done",
            _JSON,
            nullable=False,
            comment="The checkpoint: periods whose documents are stored",
        ),
        sa.Column("documents_created", sa.Integer(), nullable=False),
        sa.Column("documents_updated", sa.Integer(), nullable=False),
        sa.Column("xmls_fetched", sa.Integer(), nullable=False),
        sa.Column(
            "messages",
            _JSON,
            nullable=False,
            comment="What a person should know or do, in words; never a secret",
        ),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "resumed", sa.Integer(), nullable=False, comment="Times the run was taken over after a stop"
        ),
        sa.Column("queued_at", _WHEN, nullable=False),
        sa.Column("started_at", _WHEN, nullable=True),
        sa.Column("finished_at", _WHEN, nullable=True),
        sa.Column("heartbeat_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_sii_sync_runs_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sii_sync_runs")),
        sqlite_autoincrement=True,  # ids are never reused
    )
    op.create_index("ix_sii_sync_runs_company_id", "sii_sync_runs", ["company_id", "id"], unique=False)
    op.create_table(
        "sii_sync_leases",
        sa.Column("company_id", _ID, autoincrement=False, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column(
            "holder", sa.String(length=64), nullable=False, comment="The process (executor) that holds it"
        ),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_sii_sync_leases_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sii_sync_runs.id"],
            name=op.f("fk_sii_sync_leases_run_id_sii_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_sii_sync_leases")),
    )


def downgrade() -> None:
    op.drop_table("sii_sync_leases")
    op.drop_index("ix_sii_sync_runs_company_id", table_name="sii_sync_runs")
    op.drop_table("sii_sync_runs")
