"""ix_documents_open, ix_documents_open_client: the open documents' figures from indexes

The web app's dashboard, portfolio and lists of open documents add up the open documents of a company
(owed, overdue, aging, top debtors). At 1,000,000 documents those read ~80,000 table rows each; this
partial index holds only the open rows and every column those queries read, so they read the index
alone (bench/app.py, docs/performance.md); ix_documents_open_client has them in client order, for
the top debtors' grouping.

Revision ID: 0026_open_documents_index
Revises: 0025_sii_sync_periods_settled
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_open_documents_index"
down_revision: str | None = "0025_sii_sync_periods_settled"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "state = 0"  # DocumentState.OPEN


def upgrade() -> None:
    op.create_index(
        "ix_documents_open",
        "documents",
        ["company_id", "currency", "due_date", "id", "client_id", "due_cents", "source", "issue_date"],
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )
    op.create_index(
        "ix_documents_open_client",
        "documents",
        ["company_id", "currency", "client_id", "due_cents", "due_date", "source", "issue_date"],
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_documents_open_client", table_name="documents")
    op.drop_index("ix_documents_open", table_name="documents")
