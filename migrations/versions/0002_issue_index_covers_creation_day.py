"""the issue-date index covers the creation day

getDocuments?dateBy=2 pages in issue-date order: with created_on in the index, the filter is checked
on the index instead of on each row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index("ix_documents_company_issue")
        batch_op.create_index("ix_documents_company_issue", ["company_id", "issue_date", "id", "created_on"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index("ix_documents_company_issue")
        batch_op.create_index("ix_documents_company_issue", ["company_id", "issue_date", "id"])
