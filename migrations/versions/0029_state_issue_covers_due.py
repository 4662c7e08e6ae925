"""ix_documents_company_state_issue holds due_date: overdue and pending pages by issue date from the index

getDocuments?status=3 (overdue: open and due before today) and status=2 (pending: open and due today
or later), in their default order by issue date, walk ix_documents_company_state_issue on SQLite and
read the table row of every open document they pass to test its due date: ~10,000 row reads for page
200 (bench/documents.py at 1,000,000 documents: 40 ms against 8-12 ms for every other listed query).
With due_date as the index's last column the walk reads the index alone (docs/performance.md).

On SQLite two more steps keep the web app's sums of open documents on ix_documents_open(_client):
- the new index is analyzed at once: a database analyzed before this migration otherwise has statistics
  for every index but this one, and SQLite then takes it for the open documents' sums (reading every
  open row from the table) until the next ANALYZE;
- the two open-document indexes are built again after it: without statistics (a new or small database)
  SQLite keeps, of equally costed indexes, the one created last, as it did before this migration.

Revision ID: 0029_state_issue_covers_due
Revises: 0028_claimed_balances
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_state_issue_covers_due"
down_revision: str | None = "0028_claimed_balances"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_documents_company_state_issue"
_OPEN = "state = 0"  # DocumentState.OPEN
_OPEN_INDEXES = {  # as migration 0026 made them
    "ix_documents_open": [
        "company_id", "currency", "due_date", "id", "client_id", "due_cents", "source", "issue_date"
    ],
    "ix_documents_open_client": [
        "company_id", "currency", "client_id", "due_cents", "due_date", "source", "issue_date"
    ],
}  # fmt: skip


def _state_issue(columns: list[str]) -> None:
    op.drop_index(_NAME, table_name="documents")
    op.create_index(_NAME, "documents", columns)
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("ANALYZE " + _NAME)
    for name, open_columns in _OPEN_INDEXES.items():
        op.drop_index(name, table_name="documents")
        op.create_index(name, "documents", open_columns, sqlite_where=sa.text(_OPEN))
        op.execute("ANALYZE " + name)


def upgrade() -> None:
    _state_issue(["company_id", "state", "issue_date", "id", "due_date"])


def downgrade() -> None:
    _state_issue(["company_id", "state", "issue_date", "id"])
