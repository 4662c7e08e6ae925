"""documents: an index by company and SII's reception (the daily sweep's tacit acceptances, siiState)

Revision ID: 0018_sii_received_index
Revises: 0017_sii_states
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_sii_received_index"
down_revision: str | None = "0017_sii_states"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_documents_company_sii_received", "documents", ["company_id", "sii_received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_documents_company_sii_received", table_name="documents")
