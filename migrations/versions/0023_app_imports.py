"""app_imports, app_import_results: DTE files uploaded in the web app, imported in the background

Revision ID: 0023_app_imports
Revises: 0022_cession_claims
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023_app_imports"
down_revision: str | None = "0022_cession_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "app_imports",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=True, comment="Who uploaded the files"),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("files", _JSON, nullable=False, comment="The uploaded files: name and size in bytes"),
        sa.Column("total", sa.Integer(), nullable=True, comment="Files (and zip entries) to read"),
        sa.Column("read", sa.Integer(), nullable=False, comment="Files (and zip entries) read so far"),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Integer(), nullable=False),
        sa.Column("already_present", sa.Integer(), nullable=False),
        sa.Column("attached", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("started_at", _WHEN, nullable=True),
        sa.Column("finished_at", _WHEN, nullable=True),
        sa.Column("heartbeat_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_app_imports_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_app_imports_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_imports")),
        sqlite_autoincrement=True,  # ids are never reused
    )
    op.create_index("ix_app_imports_company_id", "app_imports", ["company_id", "id"], unique=False)
    op.create_table(
        "app_import_results",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("import_id", _ID, nullable=False),
        sa.Column("company_id", _ID, nullable=False),
        sa.Column("path", sa.Text(), nullable=False, comment="The uploaded file, or archive.zip!entry.xml"),
        sa.Column(
            "outcome",
            sa.String(length=16),
            nullable=False,
            comment="imported | already_present | attached | refused | skipped",
        ),
        sa.Column("note", sa.Boolean(), nullable=False, comment="Imported as a credit or debit note"),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("dte_type", sa.Integer(), nullable=True),
        sa.Column("folio", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["app_imports.id"],
            name=op.f("fk_app_import_results_import_id_app_imports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_app_import_results_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_import_results")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_app_import_results_import_outcome",
        "app_import_results",
        ["import_id", "outcome", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_app_import_results_import_outcome", table_name="app_import_results")
    op.drop_table("app_import_results")
    op.drop_index("ix_app_imports_company_id", table_name="app_imports")
    op.drop_table("app_imports")
