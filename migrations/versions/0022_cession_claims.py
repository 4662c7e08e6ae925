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


def upgrade() -> None:
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
