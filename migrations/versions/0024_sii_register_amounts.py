"""documents and notes: the total and issue date SII's Registro de Ventas lists for each

A document's disagreement with the register is computed when it is read, from these and the document's
own amounts, so it shows on the document (getDocument's ``sii.disagreements``) and clears when they agree.
Null until a sync reads the document's row again.

Revision ID: 0024_sii_register_amounts
Revises: 0023_app_imports
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_sii_register_amounts"
down_revision: str | None = "0023_app_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("sii_total_cents", sa.BigInteger(), "The total the register lists (detMntTotal), hundredths"),
    ("sii_issue_date", sa.Date(), "The issue date the register lists (detFchDoc)"),
)


def upgrade() -> None:
    for table in ("documents", "notes"):
        for name, kind, comment in _COLUMNS:
            op.add_column(table, sa.Column(name, kind, nullable=True, comment=comment))


def downgrade() -> None:
    for table in ("notes", "documents"):
        for name, _, _ in reversed(_COLUMNS):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
