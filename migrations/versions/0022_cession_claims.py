"""document_cessions: at most one standing cession (uploading, pending, accepted) per document

createCesion claims the document with an ``uploading`` row before it asks SII, so that two requests at once
cannot both upload a file; this partial unique index is what makes the claim exclusive.

Revision ID: 0022_cession_claims
Revises: 0021_webhook_events_document
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_cession_claims"
down_revision: str | None = "0021_webhook_events_document"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STANDING = "sii_state IN ('uploading', 'pending', 'accepted')"
_STATES_BEFORE = "pending | accepted | rejected"
_STATES = "uploading | pending | accepted | rejected"


def _comment_states(comment: str, existing: str) -> None:
    # Only PostgreSQL keeps column comments (on SQLite the change would rebuild the table for nothing).
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "document_cessions",
            "sii_state",
            comment=comment,
            existing_comment=existing,
            existing_type=sa.String(10),
            existing_nullable=False,
        )


def upgrade() -> None:
    _comment_states(_STATES, _STATES_BEFORE)
    op.create_index(
        "ux_document_cessions_standing",
        "document_cessions",
        ["document_id"],
        unique=True,
        sqlite_where=sa.text(_STANDING),
        postgresql_where=sa.text(_STANDING),
    )


def downgrade() -> None:
    op.drop_index("ux_document_cessions_standing", table_name="document_cessions")
    _comment_states(_STATES_BEFORE, _STATES)
